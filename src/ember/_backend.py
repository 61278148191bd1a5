"""The array backend: the one module that knows ember runs on NumPy.

It also owns the process's memory behaviour. NumPy temporaries above glibc's mmap threshold (128 KiB by
default) are mapped and unmapped on every training step, and those page faults cost more than the arithmetic
of a small model. At import we raise the mmap and trim thresholds with ``mallopt`` so freed blocks are
reused. Set ``EMBER_NO_MALLOPT=1`` to leave the allocator alone.

And its floating-point warnings: torch computes inf and NaN silently (``log(0)``, ``0 / 0``, overflow), NumPy
warns (``RuntimeWarning: divide by zero encountered in log``). A warnings filter installed at import ignores
those NumPy warnings when they come from ember's own modules (the frame that called the ufunc), at no cost until
one is raised; NumPy calls in the user's code warn as before. (A ``np.errstate`` around every op would cost
~1.5 µs per op.)
"""
import os
import sys
import warnings

import numpy as np

xp = np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MALLOPT_APPLIED = False


def _tune_malloc() -> bool:
    if os.environ.get("EMBER_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    big = 1 << 30  # 1 GiB: blocks below this come from the heap and are kept for reuse
    ok = libc.mallopt(_M_MMAP_THRESHOLD, 512 * 1024 * 1024) == 1
    ok = libc.mallopt(_M_TRIM_THRESHOLD, big) == 1 and ok
    return ok


MALLOPT_APPLIED = _tune_malloc()

FLOAT_WARNINGS = r"(divide by zero|invalid value|overflow|underflow) encountered in "
warnings.filterwarnings("ignore", message=FLOAT_WARNINGS, category=RuntimeWarning, module=r"ember(\.|$)")


# -- threads ---------------------------------------------------------------------------------------------
# ember's own elementwise work runs on the calling thread (NumPy's loops are single-threaded); BLAS has its own
# pool. Spreading the optimizers' chunked updates over a second thread was measured slower here (Adam on 200k
# float32: 475 µs on one thread, 650-740 µs on two: the two vCPUs share caches), so only BLAS is threaded.
# Larger updates split in halves over two threads do gain on their own (SGD over 25M float32: 0.55-0.58x,
# Adam over 1M: 0.83x), but not inside a training step: after each GEMM OpenBLAS's threads keep spinning on
# the other CPU for a while, and SGD's 25M right after a 2-thread GEMM took 18.5 ms split against 17.9 whole
# (W5's optimizer step 13.9 against 14.3 ms, in process).

def _default_threads():
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    if n > 0:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_num_threads = _default_threads()


def get_num_threads() -> int:
    """The number of threads for intra-op parallelism (torch.get_num_threads): BLAS's thread count as set by
    ``set_num_threads``, else from OMP_NUM_THREADS, else the CPUs this process may use."""
    return _num_threads


def set_num_threads(n) -> None:
    """Run BLAS on ``n`` threads (through threadpoolctl, which must be installed: ``pip install threadpoolctl``
    or ember's ``tools`` extra)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as e:
        raise RuntimeError("set_num_threads: ember sets BLAS's thread count through threadpoolctl, which is not "
                           "installed (pip install threadpoolctl)") from e
    threadpool_limits(limits=n, user_api="blas")
    _num_threads = n
