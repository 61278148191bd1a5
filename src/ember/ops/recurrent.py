"""Fused recurrent layers: one op runs a whole LSTM / GRU / Elman-RNN layer (one direction) over a sequence.

LSTM (``_recurrent_lstm.py``): the step's state is kept transposed (features first, one column per row) in
step blocks, so that each step is four small per-gate GEMMs of the block [h_prev; x_t; 1] (input projection and
biases included) plus seven NumPy calls on contiguous memory; backward walks the steps in reverse with four
GEMMs and twelve NumPy calls per step, then forms all weight gradients with one GEMM. GRU and RNN
(``_recurrent_gru.py``) project the inputs of all steps with one GEMM up front and run one GEMM per step.

Sequences are laid out as PackedSequence data: rows of step ``t`` are ``data[off[t]:off[t] + batch_sizes[t]]``
with non-increasing ``batch_sizes``; a padded ``(T, B, *)`` batch is the special case ``batch_sizes = (B,) * T``.
With ``reverse=True`` the steps run from last to first (the backward direction of a bidirectional layer).

When gradients are taken with ``create_graph=True``, backward is rebuilt from Tensor ops
(``_recurrent_graph.py``), so higher-order gradients work.
"""
import numpy as np

from ..autograd.function import Op
from ._recurrent_gru import GRULayer, RNNLayer
from ._recurrent_lstm import LSTMLayer

__all__ = ["lstm_layer", "gru_layer", "rnn_layer", "gather_rows", "scatter_rows"]


def _check_layer_args(x, h0, w_ih, w_hh, bias, batch_sizes, gate_mult, op):
    n, hidden = x._data.shape[0], w_hh._data.shape[1]
    if x._data.ndim != 2 or w_ih._data.shape != (gate_mult * hidden, x._data.shape[1]):
        raise RuntimeError(f"{op}: input {tuple(x.shape)} does not fit weight_ih {tuple(w_ih.shape)}")
    if w_hh._data.shape != (gate_mult * hidden, hidden):
        raise RuntimeError(f"{op}: weight_hh must be ({gate_mult * hidden}, {hidden}), got {tuple(w_hh.shape)}")
    if sum(batch_sizes) != n:
        raise RuntimeError(f"{op}: batch_sizes sum to {sum(batch_sizes)} but the input has {n} rows")
    if h0._data.shape != (batch_sizes[0] if batch_sizes else 0, hidden):
        raise RuntimeError(f"{op}: initial state must be ({batch_sizes[0]}, {hidden}), got {tuple(h0.shape)}")
    for b in bias:
        if b._data.shape != (gate_mult * hidden,):
            raise RuntimeError(f"{op}: bias must be ({gate_mult * hidden},), got {tuple(b.shape)}")


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    """One LSTM layer over packed rows ``x`` (N, input); returns (output (N, H), h_n (B, H), c_n (B, H))."""
    bias = () if b_ih is None else (b_ih, b_hh)
    batch_sizes = tuple(batch_sizes)
    _check_layer_args(x, h0, w_ih, w_hh, bias, batch_sizes, 4, "lstm")
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, *bias, batch_sizes=batch_sizes, reverse=bool(reverse))


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    """One GRU layer over packed rows ``x``; returns (output (N, H), h_n (B, H))."""
    bias = () if b_ih is None else (b_ih, b_hh)
    batch_sizes = tuple(batch_sizes)
    _check_layer_args(x, h0, w_ih, w_hh, bias, batch_sizes, 3, "gru")
    return GRULayer.apply(x, h0, w_ih, w_hh, *bias, batch_sizes=batch_sizes, reverse=bool(reverse))


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False, nonlinearity="tanh"):
    """One Elman RNN layer (tanh or relu) over packed rows ``x``; returns (output (N, H), h_n (B, H))."""
    bias = () if b_ih is None else (b_ih, b_hh)
    batch_sizes = tuple(batch_sizes)
    _check_layer_args(x, h0, w_ih, w_hh, bias, batch_sizes, 1, "rnn")
    return RNNLayer.apply(x, h0, w_ih, w_hh, *bias, batch_sizes=batch_sizes, reverse=bool(reverse),
                          relu=nonlinearity == "relu")


# ---- row gather / scatter (packing and padding of sequences) ---------------------------------------------
class GatherRows(Op):
    """x[index] for a 1-D integer ``index`` of distinct rows of ``x``."""

    def forward(ctx, x, index):
        ctx.index, ctx.n_rows = index, x.shape[0]
        return x[index]

    def backward(ctx, g):
        return ScatterRows.apply(g, index=ctx.index, n_rows=ctx.n_rows, fill=0)


class ScatterRows(Op):
    """A (n_rows, *rest) array filled with ``fill`` whose rows ``index`` (distinct) are ``data``."""

    def forward(ctx, data, index, n_rows, fill):
        ctx.index = index
        out = np.full((n_rows,) + data.shape[1:], fill, dtype=data.dtype)
        out[index] = data
        return out

    def backward(ctx, g):
        return GatherRows.apply(g, index=ctx.index)


def gather_rows(x, index):
    """Rows ``index`` (an int64 NumPy array of distinct row numbers) of ``x``."""
    return GatherRows.apply(x, index=np.asarray(index, dtype=np.int64))


def scatter_rows(data, index, n_rows, fill=0.0):
    """A new (n_rows, *rest) tensor filled with ``fill`` whose rows ``index`` are the rows of ``data``."""
    return ScatterRows.apply(data, index=np.asarray(index, dtype=np.int64), n_rows=int(n_rows), fill=fill)
