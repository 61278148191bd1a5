"""Shared pieces of the fused recurrent layers: the step schedule, state bookkeeping for packed sequences,
an in-place sigmoid, the weight-gradient GEMMs and the step-block layout.

Step blocks (used by the LSTM): a flat buffer holding ``f`` features for each of the ``n`` rows, where the rows
``[s, s + b)`` of one time step form one contiguous ``(f, b)`` block at offset ``f * s`` (features first,
transposed against the row layout). Per-step NumPy calls on such blocks run on contiguous memory (on strided
slices each call costs several microseconds more), and a step's GEMMs ``w (H, K) @ block (K, b)`` are small
enough for OpenBLAS's small-matrix kernels."""
import numpy as np

from ..autograd.function import Op
from .._tensor import _make


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


def _runs(batch_sizes):
    """(start row, steps, rows per step) for each run of consecutive steps with the same batch size."""
    runs, start = [], 0
    for b in batch_sizes:
        if runs and runs[-1][2] == b:
            runs[-1][1] += 1
        else:
            runs.append([start, 1, b])
        start += b
    return runs


def _block(flat, f, s, b):
    """The (f, b) block of the rows [s, s + b) in a step-block buffer with ``f`` features per row."""
    return flat[f * s:f * (s + b)].reshape(f, b)


def _run_blocks(flat, f, run):
    """The blocks of one run as a (steps, f, b) view."""
    s, count, b = run
    return flat[f * s:f * (s + count * b)].reshape(count, f, b)


def _rows_to_blocks(rows, runs, flat, f, first=0):
    """Write the (n, m) row-layout ``rows`` into features ``[first, first + m)`` of the step blocks."""
    m = rows.shape[1]
    for run in runs:
        s, count, b = run
        _run_blocks(flat, f, run)[:, first:first + m] = rows[s:s + count * b].reshape(count, b, m).transpose(0, 2, 1)


def _blocks_to_cols(flat, f, runs, cols):
    """Copy the step blocks into ``cols`` (f, n), one column per row."""
    for run in runs:
        s, count, b = run
        cols[:, s:s + count * b].reshape(f, count, b)[...] = _run_blocks(flat, f, run).transpose(1, 0, 2)


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


def _state_grad(grad, like):
    """A writable copy of an incoming state gradient (zeros when it received none)."""
    return np.zeros_like(like) if grad is None else np.array(grad._data, dtype=like.dtype, copy=True)
