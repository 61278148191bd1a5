"""The fused LSTM layer op (one direction over a whole, possibly packed, sequence).

Forward: the input projection of all steps is one GEMM written into the gate buffer; each step adds one GEMM
``h_prev @ W_hh^T`` and runs the gate math as eight in-place NumPy calls on contiguous row blocks. Backward:
the step-independent factors for all rows at once, one GEMM and six NumPy calls per step in reverse, then
one GEMM each for dx, dW_ih and dW_hh over all steps.
"""
import numpy as np

from ..autograd.grad_mode import _State
from .._tensor import _make
from ._recurrent_common import _RecurrentLayer, _state_grad, _steps

# Forward gate order o, i, f, g (torch's chunks are i, f, g, o): the three sigmoid gates are contiguous (0:3H),
# and (i, f) sit next to (g, c_prev) so one multiply gives (i * g, f * c_prev). Backward keeps torch's order.
_LSTM_ORDER = (3, 0, 1, 2)


def _forward_weights(w_ih, w_hh, bias):
    """W_ih^T (n_in, 4H), W_hh^T (H, 4H) and the summed bias (4H,) in forward gate order, the sigmoid gates'
    columns halved: with s = tanh(z / 2), sigmoid(z) = s / 2 + 1 / 2, so one tanh serves all four gates."""
    hidden = w_hh.shape[1]
    wx = np.empty((w_ih.shape[1], 4 * hidden), w_ih.dtype)
    wh = np.empty((hidden, 4 * hidden), w_hh.dtype)
    b = None
    if bias:
        b = np.add(bias[0], bias[1]).reshape(4, hidden)[list(_LSTM_ORDER)]
        b[:3] *= 0.5
        b = b.reshape(-1)
    for dst, src in enumerate(_LSTM_ORDER):
        rows, cols = slice(src * hidden, (src + 1) * hidden), slice(dst * hidden, (dst + 1) * hidden)
        if dst < 3:  # multiplying by 0.5 is exact, so the GEMM gives exactly z / 2
            np.multiply(w_ih[rows].T, 0.5, out=wx[:, cols])
            np.multiply(w_hh[rows].T, 0.5, out=wh[:, cols])
        else:
            wx[:, cols] = w_ih[rows].T
            wh[:, cols] = w_hh[rows].T
    return wx, wh, b


def _lstm_factors(gates, tanh_c):
    """Backward factors from the forward values alone, for all rows at once: ``k`` (N, 4H), the derivative of
    each gate's pre-activation per unit of dc (i, f, g) or of dh (o), in torch's gate order, and ``dc_from_h``
    (N, H), dc per unit of dh."""
    n, hidden = tanh_c.shape
    h3 = 3 * hidden
    o = gates[:, :hidden]
    sig = gates[:, :h3]  # o, i, f
    dsig = np.subtract(1, sig)
    dsig *= sig  # sigmoid'(z) = s (1 - s)
    k = np.empty((n, 4 * hidden), tanh_c.dtype)
    np.multiply(dsig[:, hidden:], gates[:, h3:], out=k[:, :2 * hidden])  # i' * g, f' * c_prev
    gi = k[:, 2 * hidden:h3]
    np.multiply(gates[:, h3:4 * hidden], gates[:, h3:4 * hidden], out=gi)
    np.subtract(1, gi, out=gi)
    gi *= gates[:, hidden:2 * hidden]  # i * (1 - g^2)
    np.multiply(dsig[:, :hidden], tanh_c, out=k[:, h3:])  # o' * tanh(c)
    dc_from_h = np.multiply(tanh_c, tanh_c, out=dsig[:, :hidden])
    np.subtract(1, dc_from_h, out=dc_from_h)
    dc_from_h *= o
    return k, dc_from_h


class LSTMLayer(_RecurrentLayer):
    """Inputs (x, h0, c0, w_ih, w_hh[, b_ih, b_hh]); outputs (h for every row, h_n, c_n)."""

    n_state = 2

    def forward(ctx, x, h0, c0, w_ih, w_hh, *bias, batch_sizes, reverse):
        n = x.shape[0]
        hidden = w_hh.shape[1]
        h3, h4 = 3 * hidden, 4 * hidden
        dt = x.dtype
        wx, wh, b = _forward_weights(w_ih, w_hh, bias)
        steps = _steps(batch_sizes, reverse)
        # gates rows are (o, i, f, g, c_prev); hprev rows are h_prev. A step writes its h and c straight into
        # the next step's rows when that step has as many rows (always, unless packed)
        gates = np.empty((n, 5 * hidden), dt)
        np.matmul(x, wx, out=gates[:, :h4])
        if b is not None:
            gates[:, :h4] += b
        hprev = np.empty((n, hidden), dt)
        prev_b = 0
        for s, bs in steps:  # rows that start at this step take the initial state
            if bs > prev_b:
                hprev[s + prev_b:s + bs] = h0[prev_b:bs]
                gates[s + prev_b:s + bs, h4:] = c0[prev_b:bs]
            prev_b = bs
        tanh_c = np.empty((n, hidden), dt)
        h_n, c_n = np.empty_like(h0), np.empty_like(c0)
        bsz = h0.shape[0]
        rec = np.empty((bsz, h4), dt)
        prod = np.empty((bsz, 2 * hidden), dt)
        h_tmp, c_tmp = np.empty((bsz, hidden), dt), np.empty((bsz, hidden), dt)
        direct_steps = []  # steps whose h went straight into the next step's rows: (start, rows, next start)
        out = None
        last = len(steps) - 1
        for k, (s, bs) in enumerate(steps):
            e = s + bs
            g = gates[s:e]
            pre = g[:, :h4]
            np.add(pre, np.matmul(hprev[s:e], wh, out=rec[:bs]), out=pre)
            np.tanh(pre, out=pre)  # tanh(z / 2) for o, i, f; tanh(z) for g
            sig = g[:, :h3]
            np.multiply(sig, 0.5, out=sig)
            np.add(sig, 0.5, out=sig)
            pr = np.multiply(g[:, hidden:h3], g[:, h3:], out=prod[:bs])  # i * g, f * c_prev
            ns, nb = steps[k + 1] if k < last else (0, 0)
            direct = nb == bs
            c = np.add(pr[:, :hidden], pr[:, hidden:], out=gates[ns:ns + bs, h4:] if direct else c_tmp[:bs])
            tc = np.tanh(c, out=tanh_c[s:e])
            h = np.multiply(g[:, :hidden], tc, out=hprev[ns:ns + bs] if direct else h_tmp[:bs])
            if direct:
                direct_steps.append((s, bs, ns))
            else:
                if out is None:
                    out = np.empty((n, hidden), dt)
                out[s:e] = h
                m = min(bs, nb)
                hprev[ns:ns + m] = h[:m]
                gates[ns:ns + m, h4:] = c[:m]
                h_n[nb:bs] = h[nb:]  # rows whose sequence ends here
                c_n[nb:bs] = c[nb:]
        out = _gather_outputs(out, hprev, direct_steps, n)
        if ctx.next_edges is not None:
            ctx.batch_sizes, ctx.reverse, ctx.has_bias = batch_sizes, reverse, bool(bias)
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, *bias, hprev, gates, tanh_c)
        return out, h_n, c_n

    def backward(ctx, d_out, d_hn, d_cn):
        if _State.enabled:
            from ._recurrent_graph import lstm_backward_graph

            return lstm_backward_graph(ctx, d_out, d_hn, d_cn)
        saved = ctx.saved_tensors
        x, h0, c0, w_ih, w_hh = (t._data for t in saved[:5])
        hprev, gates, tanh_c = (t._data for t in saved[-3:])
        n, hidden = tanh_c.shape
        h3 = 3 * hidden
        steps = _steps(ctx.batch_sizes, ctx.reverse)
        need = ctx.needs_input_grad
        k, dc_from_h = _lstm_factors(gates, tanh_c)
        k3 = k.reshape(n, 4, hidden)[:, :3]  # i, f, g: per unit of dc
        f = gates[:, 2 * hidden:h3]
        dgates = np.empty((n, 4 * hidden), tanh_c.dtype)  # torch's gate order i, f, g, o
        dgates3 = dgates.reshape(n, 4, hidden)[:, :3]
        dh = _state_grad(d_hn, h0)
        dc = _state_grad(d_cn, c0)
        dout = None if d_out is None else d_out._data
        dh_t = np.empty_like(dh)
        dc_t = np.empty_like(dc)
        for s, b in reversed(steps):
            e = s + b
            dct = dc_t[:b]
            if dout is not None:
                dht = np.add(dh[:b], dout[s:e], out=dh_t[:b])
            else:
                dht = dh[:b]  # read before it is overwritten below
            np.multiply(dht, dc_from_h[s:e], out=dct)
            dct += dc[:b]
            np.multiply(dct[:, None], k3[s:e], out=dgates3[s:e])
            np.multiply(dht, k[s:e, h3:], out=dgates[s:e, h3:])
            np.multiply(dct, f[s:e], out=dc[:b])
            np.matmul(dgates[s:e], w_hh, out=dh[:b])
        grads = ctx._weight_grads(dgates, x, w_ih, hprev)
        return (grads[0], _make(dh) if need[1] else None, _make(dc) if need[2] else None, *grads[1:])


def _gather_outputs(out, hprev, direct_steps, n):
    """The output rows: the h of each step in ``direct_steps`` sits in the next step's rows of ``hprev``."""
    if not direct_steps:
        return out
    if out is None:
        out = np.empty((n, hprev.shape[1]), hprev.dtype)
    b = direct_steps[0][1]
    shift = direct_steps[0][2] - direct_steps[0][0]
    first = min(s for s, _, _ in direct_steps)
    length = len(direct_steps) * b
    if max(s for s, _, _ in direct_steps) - first == length - b and all(
            rows == b and ns - s == shift for s, rows, ns in direct_steps):
        # consecutive steps of equal size (an unpacked batch): one copy
        out[first:first + length] = hprev[first + shift:first + shift + length]
        return out
    for s, rows, ns in direct_steps:
        out[s:s + rows] = hprev[ns:ns + rows]
    return out
