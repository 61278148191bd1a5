"""Where ember's eager time goes, per workload: sampled with py-spy (native frames included) and counted with
cProfile.

    python benchmarks/profile_ember.py W2 [W3 ...] [--seconds 8] [--threads 2] [--size full]

For each workload a child process runs ember's eager training step (the same one ``ember bench`` times) in a
loop under ``py-spy record --native --idle`` (``pip install py-spy``). Each sample's stack is classified by
where its innermost frame is:

  BLAS          in OpenBLAS (GEMM kernels, and its thread hand-off/wait: ``exec_blas``, ``inner_thread``)
  NumPy C       in NumPy's C code (ufuncs, copies, reductions, indexing), or libc/libm called from it
  NumPy Python  in NumPy's own Python wrappers (``np.mean`` -> ``_methods._mean``, ``broadcast_to``, ...)
  Python        in any other Python frame: ember's own code (dispatch, checks, graph bookkeeping, engine)
  wait          the main thread waiting for one of ember's own helper threads (threading / futures)

and the innermost Python frame of each sample is charged with it, giving the functions whose own lines (or
the NumPy calls made directly from them) cost the most. Then cProfile counts the Python function calls and op
applications per step (its times include the profiler's own overhead, so only the counts are shown).
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOOP_FN = "_profiled_steps"
CATEGORIES = ("BLAS", "NumPy C", "NumPy Python", "Python", "wait")


def _set_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _runner(name, size):
    sys.path.insert(0, HERE)
    import ember
    from workloads import WORKLOADS, build_torch_like

    return build_torch_like(ember, WORKLOADS[name], size)


def _profiled_steps(runner, seconds):
    end, i = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        runner.step(i)
        i += 1
    return i


def child(name, size, seconds):
    runner = _runner(name, size)
    for i in range(20):
        runner.step(i)
    n = _profiled_steps(runner, seconds)
    print(f"{n} steps in {seconds} s", file=sys.stderr)


# ---- py-spy ----------------------------------------------------------------------------------------------------------
_FRAME = re.compile(r"^(?P<fn>.*) \((?P<where>[^()]*)\)$")


def _classify(frames):
    """(category, innermost Python frame) of one sampled stack (outermost first)."""
    last_py, native_after = None, []
    for f in frames:
        m = _FRAME.match(f)
        where = m.group("where") if m else ""
        if where.endswith(".py") or ".py:" in where or where.startswith("<frozen"):
            last_py, native_after = f, []
        else:
            native_after.append(where)
    if last_py is not None and re.search(r"[( /](threading\.py|concurrent/futures/)", last_py):
        return "wait", last_py
    in_numpy = last_py is not None and re.search(r"[( /]numpy/", last_py) is not None
    if not native_after or ("python" in native_after[0] and len(native_after) == 1):
        return ("NumPy Python" if in_numpy else "Python"), last_py
    if "openblas" in native_after[0]:
        return "BLAS", last_py
    return "NumPy C", last_py


def _short(frame):
    """``function (file)`` without the line number: samples of one function are summed."""
    m = _FRAME.match(frame or "")
    if not m:
        return frame or "?"
    where = re.sub(r"^.*/(src/ember|site-packages)/", "", m.group("where")).rsplit(":", 1)[0]
    return f"{m.group('fn')} ({where})"


def _phase(frames):
    """forward (with the loss), backward, optimizer or zero_grad: from the functions on the stack."""
    for f in frames:
        fn = f.split(" (", 1)[0]
        if fn in ("run_backward", "backward") and "autograd/engine.py" in f:
            return "backward"
        if "ember/optim/" in f:
            return "optimizer"
        if fn.endswith("zero_grad"):
            return "zero_grad"
    return "forward"


def pyspy_profile(name, size, seconds, threads, rate=400):
    """{category: samples}, {python function: Counter(category)}, total, from py-spy's raw stacks."""
    pyspy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(pyspy):
        raise SystemExit("py-spy is not installed (pip install py-spy)")
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "stacks.txt")
        cmd = [pyspy, "record", "--native", "--idle", "-r", str(rate), "-f", "raw", "-o", out, "--",
               sys.executable, os.path.abspath(__file__), "--child", name, "--size", size, "--seconds", str(seconds)]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if not os.path.exists(out):
            raise SystemExit(f"py-spy failed:\n{p.stderr}")
        with open(out) as f:
            lines = f.read().splitlines()
    cats, per_fn, total = collections.Counter(), collections.defaultdict(collections.Counter), 0
    phases = collections.defaultdict(collections.Counter)
    for line in lines:
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith(LOOP_FN + " ") for f in frames):
            continue  # imports, model building, warm-up
        n = int(count)
        cat, fn = _classify(frames)
        cats[cat] += n
        per_fn[_short(fn)][cat] += n
        phases[_phase(frames)][cat] += n
        total += n
    return cats, per_fn, phases, total


# ---- cProfile counts -------------------------------------------------------------------------------------------------
def call_counts(name, size, steps=20):
    """(Python function calls per step, op applications per step, top functions by calls per step)."""
    import cProfile
    import pstats

    runner = _runner(name, size)
    for i in range(5):
        runner.step(i)
    prof = cProfile.Profile()
    prof.enable()
    for i in range(steps):
        runner.step(i)
    prof.disable()
    st = pstats.Stats(prof)
    calls, applies, rows = 0, 0, []
    for (file, line, fn), (cc, nc, tt, ct, callers) in st.stats.items():
        calls += nc
        if fn == "apply" and file.endswith("function.py"):
            applies += nc
        rows.append((nc / steps, f"{fn} ({re.sub(r'^.*/(src/ember|site-packages)/', '', file)}:{line})"))
    rows.sort(reverse=True)
    return calls / steps, applies / steps, rows[:10]


def report(name, size, seconds, threads):
    cats, per_fn, phases, total = pyspy_profile(name, size, seconds, threads)
    lines = [f"#### {name}: {total} samples ({seconds} s of steps, {threads} threads)", "",
             "| phase | share | BLAS | NumPy C | NumPy Python | ember Python | wait |", "|---|---:|---:|---:|---:|---:|---:|"]
    for phase, c in sorted(phases.items(), key=lambda kv: -sum(kv[1].values())) + [("all", cats)]:
        n = max(sum(c.values()), 1)
        lines.append(f"| {phase} | {sum(c.values()) / max(total, 1):.0%} | "
                     + " | ".join(f"{c[k] / n:.0%}" for k in CATEGORIES) + " |")
    lines += ["", "| innermost Python function | share | of which " + " / ".join(CATEGORIES) + " |", "|---|---:|---|"]
    top = sorted(per_fn.items(), key=lambda kv: -sum(kv[1].values()))[:12]
    for fn, c in top:
        n = sum(c.values())
        split = " / ".join(f"{c[k] / n:.0%}" for k in CATEGORIES)
        lines.append(f"| `{fn}` | {n / max(total, 1):.1%} | {split} |")
    per_step_calls, per_step_applies, top_calls = call_counts(name, size)
    lines += ["", f"cProfile: {per_step_calls:.0f} Python function calls and {per_step_applies:.0f} op "
                  f"applications (`Op.apply`) per step; most called:", ""]
    lines += [f"- {n:.0f}/step `{fn}`" for n, fn in top_calls]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workloads", nargs="*", default=["W1", "W2", "W3", "W4", "W5", "W2i", "W3i"])
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", choices=("full", "tiny"), default="full")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.workloads[0], args.size, args.seconds)
        return 0
    _set_threads(args.threads)  # for the in-process cProfile run, before NumPy is imported
    for name in args.workloads:
        print(report(name, args.size, args.seconds, args.threads), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
