"""Per-op time on small tensors (10x10 float32), ember against torch in the same process.

    python benchmarks/op_overhead.py [--rounds 101] [--calls 100] [--size 10]

At this size the arithmetic is negligible, so the numbers measure each framework's per-op overhead
(Python dispatch, graph recording, the backward engine). For every op and mode, ember and torch are timed
in alternation, round after round (so machine noise hits both alike); each round times ``--calls``
back-to-back calls, and the table shows the median per-call time over the rounds.

Both run single-threaded: ``torch.set_num_threads(1)``, and OMP/OpenBLAS/MKL threads set to 1 before NumPy
and torch are imported (threads only add overhead on tensors this small).

Modes:
  forward            inputs do not require grad: the op alone
  forward (grad)     inputs require grad: the op and the recording of its graph node
  forward+backward   as above, then ``out.backward(ones)`` and the inputs' ``.grad`` reset to None
"""
import argparse
import datetime
import gc
import os
import platform
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402

torch.set_num_threads(1)

OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b),
    "relu": (lambda a, b: ember.relu(a), lambda a, b: torch.relu(a)),
    "sum": (lambda a, b: a.sum(), lambda a, b: a.sum()),
    "softmax": (lambda a, b: ember.softmax(a, dim=1), lambda a, b: torch.softmax(a, dim=1)),
}
MODES = ("forward", "forward (grad)", "forward+backward")


def make_case(lib, fn, mode, a_np, b_np):
    """A zero-argument callable running one op call in ``mode`` with ``lib`` (ember or torch)."""
    grad = mode != "forward"
    a = lib.tensor(a_np, requires_grad=grad)
    b = lib.tensor(b_np, requires_grad=grad)
    if mode != "forward+backward":
        return lambda: fn(a, b)
    ones = lib.ones_like(fn(a, b).detach())

    def step():
        fn(a, b).backward(ones)
        a.grad = None
        b.grad = None

    return step


def time_batch(case, calls):
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(calls):
            case()
        return (time.perf_counter_ns() - start) / calls / 1000.0  # microseconds per call
    finally:
        gc.enable()


def measure(rounds, calls, size):
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((size, size)).astype(np.float32)
    b_np = rng.standard_normal((size, size)).astype(np.float32)
    cases = []
    for name, (ember_fn, torch_fn) in OPS.items():
        for mode in MODES:
            cases.append((name, mode, make_case(ember, ember_fn, mode, a_np, b_np),
                          make_case(torch, torch_fn, mode, a_np, b_np)))
    for _, _, e, t in cases:  # warm up caches and lazy imports
        time_batch(e, calls)
        time_batch(t, calls)
    samples = {(name, mode): ([], []) for name, mode, _, _ in cases}
    for r in range(rounds):
        for name, mode, e, t in cases:
            es, ts = samples[(name, mode)]
            if r % 2:  # alternate which framework goes first
                ts.append(time_batch(t, calls))
                es.append(time_batch(e, calls))
            else:
                es.append(time_batch(e, calls))
                ts.append(time_batch(t, calls))
    return [(name, mode, statistics.median(es), statistics.median(ts)) for (name, mode), (es, ts) in samples.items()]


def machine():
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()[:10]
    except (OSError, subprocess.SubprocessError):
        lscpu = [platform.processor() or platform.machine()]
    return lscpu


def report(rows, rounds, calls, size):
    lines = [
        f"Date: {datetime.date.today().isoformat()}  ",
        f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}, "
        f"ember {ember.__version__}  ",
        f"Shape {size}x{size} float32; median of {rounds} rounds of {calls} calls; one thread "
        f"(torch.set_num_threads(1), OMP/OpenBLAS/MKL_NUM_THREADS=1); ember malloc tuning applied: "
        f"{ember._backend.MALLOPT_APPLIED}",
        "",
        "```",
        "$ lscpu | head",
        *machine(),
        "```",
        "",
        "| op | mode | ember (µs) | torch (µs) | ember / torch |",
        "|---|---|---:|---:|---:|",
    ]
    for name, mode, e, t in rows:
        lines.append(f"| {name} | {mode} | {e:.1f} | {t:.1f} | {e / t:.2f} |")
    ratios = [e / t for _, _, e, t in rows]
    geo = float(np.exp(np.mean(np.log(ratios))))
    lines.append("")
    lines.append(f"Geometric mean of the ratios: {geo:.2f}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=101, help="timed rounds per case (median is reported)")
    p.add_argument("--calls", type=int, default=100, help="op calls per timed round")
    p.add_argument("--size", type=int, default=10, help="tensors are size x size")
    args = p.parse_args(argv)
    rows = measure(args.rounds, args.calls, args.size)
    print(report(rows, args.rounds, args.calls, args.size))


if __name__ == "__main__":
    sys.exit(main())
