"""`python -m ember.distributed.run` (torchrun's options) starting a 2-process script under mpiexec."""
import re
import shutil

import pytest
from mpi_helpers import WORKERS

_RESULT = re.compile(r"RESULT rank=(\d+) local=(\d+) world=(\d+) local_world=(\d+) addr=(\S+) port=(\d+) "
                     r"sum=(\S+) name=(\S+) argv=(\S*) mpi_rank=(\d+) END")


def results(proc):
    found = sorted(_RESULT.findall(proc.stdout), key=lambda r: int(r[0]))
    assert len(found) == 2, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return found


@pytest.mark.parametrize("options, port", [
    (["--nproc-per-node", "2"], "29500"),
    (["--nproc_per_node=2", "--master_port", "29601", "--standalone"], "29601"),
])
def test_two_processes(run_python, options, port):
    proc = run_python("-m", "ember.distributed.run", *options, f"{WORKERS}/launched.py", "--lr", "0.1", "x")
    assert proc.returncode == 0, proc.stderr
    for rank, row in enumerate(results(proc)):
        assert row == (str(rank), str(rank), "2", "2", "127.0.0.1", port, "3.0", "__main__", "--lr|0.1|x", str(rank))


def test_module_target(run_python, tmp_path):
    shutil.copy(f"{WORKERS}/launched.py", tmp_path / "launched_module.py")
    proc = run_python("-m", "ember.distributed.run", "--nproc-per-node", "2", "-m", "launched_module", "y",
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [row[8] for row in results(proc)] == ["y", "y"]


def test_exit_status_of_a_failing_rank(run_python):
    proc = run_python("-m", "ember.distributed.run", "--nproc-per-node", "2", f"{WORKERS}/launched.py", "--fail")
    assert proc.returncode == 3


def test_bad_arguments(run_python):
    proc = run_python("-m", "ember.distributed.run", "--nproc-per-node", "0", f"{WORKERS}/launched.py")
    assert proc.returncode == 2 and "at least 1" in proc.stderr
    proc = run_python("-m", "ember.distributed.run", "--nnodes", "2", f"{WORKERS}/launched.py")
    assert proc.returncode != 0 and "single-node" in proc.stderr
