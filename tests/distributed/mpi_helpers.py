"""Where the MPI workers are, and reading the PASS lines they print (mpiexec interleaves the ranks' output,
so lines may run together: match the pattern anywhere)."""
import os
import re

WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers")

_PASS = re.compile(r"PASS (\w+) rank (\d+)")


def passed(proc, case, ranks=2):
    """True when every rank printed "PASS <case> rank <r>"; else fails with the processes' output."""
    seen = set(_PASS.findall(proc.stdout))
    missing = [r for r in range(ranks) if (case, str(r)) not in seen]
    assert not missing, (f"{case}: no PASS from ranks {missing} (exit status {proc.returncode})\n"
                         f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return True


def pass_count(proc):
    return len(_PASS.findall(proc.stdout))
