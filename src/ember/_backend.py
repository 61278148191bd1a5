"""The array backend: the one module that knows ember runs on NumPy.

It also owns the process's memory behaviour. NumPy temporaries above glibc's mmap threshold (128 KiB by
default) are mapped and unmapped on every training step, and those page faults cost more than the arithmetic
of a small model. At import we raise the mmap and trim thresholds with ``mallopt`` so freed blocks are
reused. Set ``EMBER_NO_MALLOPT=1`` to leave the allocator alone.
"""
import os
import sys

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
