"""Shared pieces of the fused recurrent layers: the step schedule, state bookkeeping for packed sequences,
in-place sigmoid, and a background worker that runs BLAS-heavy side work (weight gradients, backward factors)
while the main thread runs the time recurrence (NumPy releases the GIL inside matmul and ufunc loops).
"""
import os
import threading

import numpy as np

from ..autograd.function import Op
from .._tensor import _make


# ---- BLAS threads ---------------------------------------------------------------------------------------------
class _BlasThreads:
    """Per-thread OpenBLAS thread count (``openblas_set_num_threads_local``, OpenBLAS >= 0.3.27).

    The recurrence runs one small GEMM per step; letting OpenBLAS split those across threads costs more in
    hand-offs than it saves, and collapses when another process holds a core. The fused layers run their loop
    on one BLAS thread and give the second core to the background worker instead. A no-op when the BLAS is not
    OpenBLAS or lacks the function.
    """

    setters = None

    @classmethod
    def _find(cls):
        import ctypes

        setters = []
        try:
            with open("/proc/self/maps") as maps:
                paths = sorted({line.split()[-1] for line in maps if "openblas" in line and ".so" in line})
        except OSError:
            paths = []
        for path in paths:
            try:
                fn = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local")
            except (OSError, AttributeError):
                continue
            fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
            setters.append(fn)
        cls.setters = setters

    @classmethod
    def set_local(cls, n):
        """Set this thread's BLAS thread count; returns the previous counts (for ``restore``)."""
        if cls.setters is None:
            cls._find()
        return [fn(n) for fn in cls.setters]

    @classmethod
    def restore(cls, previous):
        for fn, n in zip(cls.setters or (), previous):
            fn(n)


# ---- background worker ------------------------------------------------------------------------------------
class _Background:
    """A single lazily started worker thread, used when this process may run on two or more CPUs and the
    user has not asked for one thread (``OMP_NUM_THREADS=1`` or ``OPENBLAS_NUM_THREADS=1``).
    ``EMBER_RNN_THREADS=0`` turns it off, any other value turns it on; otherwise tasks run inline."""

    enabled = None  # decided on first use
    pool = None
    lock = threading.Lock()

    @staticmethod
    def _decide():
        forced = os.environ.get("EMBER_RNN_THREADS")
        if forced is not None:
            return forced != "0"
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 1
        if cpus < 2:
            return False
        return all(os.environ.get(var) != "1" for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))

    @classmethod
    def submit(cls, fn, *args):
        """Run ``fn(*args)`` on the worker; returns a future (or None when it already ran inline)."""
        if cls.enabled is None:
            cls.enabled = cls._decide()
        if not cls.enabled:
            fn(*args)
            return None
        if cls.pool is None:
            with cls.lock:
                if cls.pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    cls.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ember-rnn",
                                                  initializer=_BlasThreads.set_local, initargs=(1,))
        return cls.pool.submit(fn, *args)

    @staticmethod
    def wait(futures):
        for fut in futures:
            if fut is not None:
                fut.result()

    @classmethod
    def _before_fork(cls):
        """Let pending tasks finish, so that no BLAS call is half-way through when the process forks."""
        if cls.pool is not None:
            cls.pool.submit(int).result()

    @classmethod
    def _after_fork_in_child(cls):
        cls.pool = None  # the worker thread does not survive fork(); the child starts its own when needed


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_Background._before_fork, after_in_child=_Background._after_fork_in_child)

_CHUNK = 8  # time steps per background task


def _use_background(steps, width):
    """Background work pays off only for sequences long and wide enough to amortise the hand-offs."""
    return len(steps) >= 2 * _CHUNK and steps[0][1] * width >= 2048


def _chunks(steps):
    """Consecutive groups of steps (in run order) with the contiguous row range [r0, r1) they cover."""
    out = []
    for k in range(0, len(steps), _CHUNK):
        group = steps[k:k + _CHUNK]
        r0 = min(s for s, _ in group)
        r1 = max(s + b for s, b in group)
        out.append((k, group, r0, r1))
    return out


def _sigmoid_(x):
    """In place 1 / (1 + exp(-x)) (exp may overflow to inf for very negative x, giving the right 0)."""
    np.negative(x, out=x)
    with np.errstate(over="ignore"):
        np.exp(x, out=x)
    x += 1
    np.reciprocal(x, out=x)


def _steps(batch_sizes, reverse):
    """(start, rows) for each time step in the order the layer runs them."""
    steps, start = [], 0
    for b in batch_sizes:
        steps.append((start, b))
        start += b
    if reverse:
        steps.reverse()
    return steps


def _input_projection(x, w_ih, b_ih, b_hh):
    """x @ w_ih.T + b_ih (+ b_hh), one GEMM for all steps."""
    gates = np.matmul(x, w_ih.T)
    if b_ih is not None:
        gates += b_ih
    if b_hh is not None:
        gates += b_hh
    return gates


class _RecurrentLayer(Op):
    """Shared plumbing: inputs are (x, h0, [c0,] w_ih, w_hh, [b_ih, b_hh])."""

    materialize_grads = False
    n_state = 1

    def _weight_grads(ctx, dgates, x, w_ih, hprev, dgates_hh=None):
        """Gradients of x, w_ih, w_hh and the biases from the per-step gate gradients (one GEMM each)."""
        k = 1 + ctx.n_state  # index of w_ih among the inputs
        need = ctx.needs_input_grad
        dhh = dgates if dgates_hh is None else dgates_hh
        dx = _make(np.matmul(dgates, w_ih)) if need[0] else None
        dw_ih = _make(np.matmul(dgates.T, x)) if need[k] else None
        dw_hh = _make(np.matmul(dhh.T, hprev)) if need[k + 1] else None
        out = [dx, dw_ih, dw_hh]
        if ctx.has_bias:
            out.append(_make(dgates.sum(0)) if need[k + 2] else None)
            out.append(_make(dhh.sum(0)) if need[k + 3] else None)
        return out


def _gate_rows(w, order):
    """Rows of a (G * H, K) weight regrouped by gate ``order``."""
    n = len(order)
    return w.reshape(n, w.shape[0] // n, -1)[order].reshape(w.shape[0], -1)


def _prev_state(buf, prev, s, b, init, tmp):
    """The state rows feeding step (s, b): the previous step's rows, topped up from ``init`` for rows that
    start here (a reversed packed sequence grows as it runs)."""
    if prev is None:
        return init[:b]
    ps, pb = prev
    if pb >= b:
        return buf[ps:ps + b]
    tmp[:pb] = buf[ps:ps + pb]
    tmp[pb:b] = init[pb:b]
    return tmp[:b]


def _final_rows(steps, seq, out):
    """Copy into ``out`` (B, H) each row's state after the last step that contains it."""
    for k, (s, b) in enumerate(steps):
        nb = steps[k + 1][1] if k + 1 < len(steps) else 0
        if nb < b:
            out[nb:b] = seq[s + nb:s + b]
    return out


def _state_grad(grad, like):
    """A writable copy of an incoming state gradient (zeros when it received none)."""
    return np.zeros_like(like) if grad is None else np.array(grad._data, dtype=like.dtype, copy=True)


