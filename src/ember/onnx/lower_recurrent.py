"""Lowerings of the fused recurrent layer ops (one direction of one layer each) to ONNX LSTM, GRU and RNN.

ember's ops take the sequence time-major and flattened, x (T * B, I), with ``batch_sizes`` (B per step) and
torch's weight layout; ONNX takes X (T, B, I) and weights (1, G * H, I) with its own gate order: torch's LSTM
gates (i, f, g, o) become ONNX's (i, o, f, c), GRU's (r, z, n) become (z, r, h) with linear_before_reset=1
(torch applies the reset gate after the hidden projection). Packed sequences of different lengths (batch
sizes that shrink over time) are not supported.
"""
import numpy as np

from ..ops._recurrent_gru import GRULayer, RNNLayer
from ..ops._recurrent_lstm import LSTMLayer
from ..ops.shape import Reshape
from .registry import register

_LSTM_GATES = [0, 3, 1, 2]  # ONNX (i, o, f, c) from torch's (i, f, g, o)
_GRU_GATES = [1, 0, 2]  # ONNX (z, r, h) from torch's (r, z, n)


def _steps_and_batch(g, node, batch_sizes):
    if len(set(batch_sizes)) > 1:
        g.unsupported("a packed sequence whose lengths differ (ONNX export takes equal-length sequences)")
    return len(batch_sizes), batch_sizes[0]


def _sequence(g, node, x):
    """X (T, B, I) from the op's flattened (T * B, I) input: the tensor it was flattened from when there is one."""
    t, b = _steps_and_batch(g, node, node.params["batch_sizes"])
    src = x.producer
    if src is not None and src.op is Reshape and src.inputs[0].shape == (t, b, x.shape[1]):
        return g.name(src.inputs[0])
    twin = g.twins.get(id(node))
    tt, tb = _steps_and_batch(g, node, twin.params["batch_sizes"]) if twin is not None else (t, b)
    return g.op("Reshape", g.name(x), g.shape_tensor((t, b, x.shape[1]), (tt, tb, x.shape[1]), minus_one=True))


def _gates(g, w, order, hidden):
    """Weights or biases with their gate blocks reordered for ONNX and a leading direction axis."""
    arr = g.array(w)
    if arr is not None:
        blocks = [arr[k * hidden:(k + 1) * hidden] for k in order]
        return g.initializer(np.concatenate(blocks)[None], "rnn_gates")
    parts = g.op("Split", g.name(w), g.ints([hidden] * len(order)), axis=0, outputs=len(order))
    return g.unsqueeze(g.op("Concat", *[parts[k] for k in order], axis=0), [0])


def _bias(g, bias, order, hidden):
    if not bias:
        return ""
    b_ih, b_hh = bias
    if g.array(b_ih) is not None and g.array(b_hh) is not None:
        arrays = [np.concatenate([g.array(b)[k * hidden:(k + 1) * hidden] for k in order]) for b in bias]
        return g.initializer(np.concatenate(arrays)[None], "rnn_bias")
    return g.op("Concat", _gates(g, b_ih, order, hidden), _gates(g, b_hh, order, hidden), axis=1)


def _initial(g, state):
    """The initial state as (1, B, H), or "" (ONNX's default zeros) when it is known to be zero."""
    arr = g.array(state)
    if arr is not None and not arr.any():
        return ""
    return g.unsqueeze(g.name(state), [0])


def _run(g, node, kind, x, w_ih, w_hh, bias, states, order, **attrs):
    hidden = w_hh.shape[1]
    inputs = [_sequence(g, node, x), _gates(g, w_ih, order, hidden), _gates(g, w_hh, order, hidden),
              _bias(g, bias, order, hidden), ""] + [_initial(g, s) for s in states]
    while inputs[-1] == "":
        inputs.pop()
    direction = "reverse" if node.params["reverse"] else "forward"
    outs = g.op(kind, *inputs, outputs=1 + len(states), hidden_size=hidden, direction=direction, **attrs)
    y = g.op("Reshape", g.squeeze(outs[0], [1]), g.ints([-1, hidden]))  # (T, 1, B, H) -> (T * B, H)
    return (y,) + tuple(g.squeeze(o, [0]) for o in outs[1:])


@register(LSTMLayer, varying=("batch_sizes",))
def lstm(g, node):
    x, h0, c0, w_ih, w_hh, *bias = node.inputs
    return _run(g, node, "LSTM", x, w_ih, w_hh, bias, (h0, c0), _LSTM_GATES)


@register(GRULayer, varying=("batch_sizes",))
def gru(g, node):
    x, h0, w_ih, w_hh, *bias = node.inputs
    return _run(g, node, "GRU", x, w_ih, w_hh, bias, (h0,), _GRU_GATES, linear_before_reset=1)


@register(RNNLayer, varying=("batch_sizes",))
def rnn(g, node):
    x, h0, w_ih, w_hh, *bias = node.inputs
    act = "Relu" if node.params["relu"] else "Tanh"
    return _run(g, node, "RNN", x, w_ih, w_hh, bias, (h0,), [0], activations=[act])
