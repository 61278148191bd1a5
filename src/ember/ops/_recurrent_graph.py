"""Backward of the fused recurrent layers written with Tensor ops, used when gradients are taken with
``create_graph=True`` so that the gradients are themselves differentiable (double backward).

The forward is recomputed from the saved inputs with Tensor ops, then the same reverse-time recurrence as the
NumPy backward in ``recurrent.py`` runs on Tensors. Slow but exact; first-order training never comes here.
"""
import numpy as np

from .._tensor import _make
from .activation import relu
from .elementwise import sigmoid, tanh
from .linalg import matmul
from .reduction import sum_
from .shape import cat, t as _t


def _steps(batch_sizes, reverse):
    from ._recurrent_common import _steps as steps

    return steps(batch_sizes, reverse)


def _keep_tail(new, state):
    """``state`` (B, H) with its first rows replaced by ``new`` (rows past a step's batch keep their value: a
    finished sequence's last state, or the initial state of one that has not started yet)."""
    b = new.shape[0]
    if b == state.shape[0]:
        return new
    return cat([new, state[b:]], 0)


def _grad_or_zeros(g, like):
    return g if g is not None else _make(np.zeros(like.shape, dtype=like._data.dtype))


def _in_sequence_order(per_step, steps):
    """Concatenate per-step tensors (given in run order) in row order."""
    order = sorted(range(len(steps)), key=lambda k: steps[k][0])
    return cat([per_step[k] for k in order], 0)


def _input_grads(ctx, dgates, x, w_ih, hprevs, steps, dgates_hh=None):
    need = ctx.needs_input_grad
    k = 1 + ctx.n_state
    dhh = dgates if dgates_hh is None else dgates_hh
    dx = matmul(dgates, w_ih) if need[0] else None
    dw_ih = matmul(_t(dgates), x) if need[k] else None
    dw_hh = matmul(_t(dhh), _in_sequence_order(hprevs, steps)) if need[k + 1] else None
    out = [dx, dw_ih, dw_hh]
    if ctx.has_bias:
        out.append(sum_(dgates, 0) if need[k + 2] else None)
        out.append(sum_(dhh, 0) if need[k + 3] else None)
    return out


def lstm_backward_graph(ctx, d_out, d_hn, d_cn):
    saved = ctx.saved_tensors
    x, h0, c0, w_ih, w_hh = saved[:5]
    bias = saved[5:7] if ctx.has_bias else ()
    hidden = w_hh.shape[1]
    steps = _steps(ctx.batch_sizes, ctx.reverse)
    xg = matmul(x, _t(w_ih))
    if bias:
        xg = xg + bias[0] + bias[1]
    h_state, c_state = h0, c0
    record = []
    for s, b in steps:
        hp, cp = h_state[:b], c_state[:b]
        gates = xg[s:s + b] + matmul(hp, _t(w_hh))
        i = sigmoid(gates[:, :hidden])
        f = sigmoid(gates[:, hidden:2 * hidden])
        g = tanh(gates[:, 2 * hidden:3 * hidden])
        o = sigmoid(gates[:, 3 * hidden:])
        c = f * cp + i * g
        tc = tanh(c)
        record.append((i, f, g, o, tc, cp, hp))
        h_state = _keep_tail(o * tc, h_state)
        c_state = _keep_tail(c, c_state)
    dh = _grad_or_zeros(d_hn, h0)
    dc = _grad_or_zeros(d_cn, c0)
    dgates_steps = [None] * len(steps)
    for k in range(len(steps) - 1, -1, -1):
        s, b = steps[k]
        i, f, g, o, tc, cp, hp = record[k]
        dht = dh[:b] if d_out is None else dh[:b] + d_out[s:s + b]
        dct = dc[:b] + dht * o * (1 - tc * tc)
        dpre = cat([dct * g * i * (1 - i), dct * cp * f * (1 - f), dct * i * (1 - g * g),
                    dht * tc * o * (1 - o)], 1)
        dgates_steps[k] = dpre
        dh = _keep_tail(matmul(dpre, w_hh), dh)
        dc = _keep_tail(dct * f, dc)
    dgates = _in_sequence_order(dgates_steps, steps)
    grads = _input_grads(ctx, dgates, x, w_ih, [r[6] for r in record], steps)
    need = ctx.needs_input_grad
    return (grads[0], dh if need[1] else None, dc if need[2] else None, *grads[1:])


def gru_backward_graph(ctx, d_out, d_hn):
    saved = ctx.saved_tensors
    x, h0, w_ih, w_hh = saved[:4]
    bias = saved[4:6] if ctx.has_bias else ()
    hidden = w_hh.shape[1]
    h2 = 2 * hidden
    steps = _steps(ctx.batch_sizes, ctx.reverse)
    xg = matmul(x, _t(w_ih))
    if bias:
        xg = xg + bias[0]
    h_state = h0
    record = []
    for s, b in steps:
        hp = h_state[:b]
        hg = matmul(hp, _t(w_hh))
        if bias:
            hg = hg + bias[1]
        xs = xg[s:s + b]
        r = sigmoid(xs[:, :hidden] + hg[:, :hidden])
        z = sigmoid(xs[:, hidden:h2] + hg[:, hidden:h2])
        n = tanh(xs[:, h2:] + r * hg[:, h2:])
        record.append((r, z, n, hg[:, h2:], hp))
        h_state = _keep_tail((hp - n) * z + n, h_state)
    dh = _grad_or_zeros(d_hn, h0)
    dx_steps, dh_steps = [None] * len(steps), [None] * len(steps)
    for k in range(len(steps) - 1, -1, -1):
        s, b = steps[k]
        r, z, n, hn, hp = record[k]
        dht = dh[:b] if d_out is None else dh[:b] + d_out[s:s + b]
        dn = dht * (1 - z) * (1 - n * n)
        dz = dht * (hp - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        dx_steps[k] = cat([dr, dz, dn], 1)
        dhg = cat([dr, dz, dn * r], 1)
        dh_steps[k] = dhg
        dh = _keep_tail(matmul(dhg, w_hh) + dht * z, dh)
    dgates = _in_sequence_order(dx_steps, steps)
    dhgates = _in_sequence_order(dh_steps, steps)
    grads = _input_grads(ctx, dgates, x, w_ih, [r[4] for r in record], steps, dhgates)
    need = ctx.needs_input_grad
    return (grads[0], dh if need[1] else None, *grads[1:])


def rnn_backward_graph(ctx, d_out, d_hn):
    saved = ctx.saved_tensors
    x, h0, w_ih, w_hh = saved[:4]
    bias = saved[4:6] if ctx.has_bias else ()
    steps = _steps(ctx.batch_sizes, ctx.reverse)
    xg = matmul(x, _t(w_ih))
    if bias:
        xg = xg + bias[0] + bias[1]
    act = relu if ctx.relu else tanh
    h_state = h0
    record = []
    for s, b in steps:
        hp = h_state[:b]
        h = act(xg[s:s + b] + matmul(hp, _t(w_hh)))
        record.append((h, hp))
        h_state = _keep_tail(h, h_state)
    dh = _grad_or_zeros(d_hn, h0)
    dpre_steps = [None] * len(steps)
    for k in range(len(steps) - 1, -1, -1):
        s, b = steps[k]
        h, hp = record[k]
        dht = dh[:b] if d_out is None else dh[:b] + d_out[s:s + b]
        dpre = dht * (h > 0).to(h.dtype) if ctx.relu else dht * (1 - h * h)
        dpre_steps[k] = dpre
        dh = _keep_tail(matmul(dpre, w_hh), dh)
    dgates = _in_sequence_order(dpre_steps, steps)
    grads = _input_grads(ctx, dgates, x, w_ih, [r[1] for r in record], steps)
    need = ctx.needs_input_grad
    return (grads[0], dh if need[1] else None, *grads[1:])
