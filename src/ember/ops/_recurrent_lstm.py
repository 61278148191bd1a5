"""The fused LSTM layer op (one direction over a whole, possibly packed, sequence)."""
import numpy as np

from ..autograd.grad_mode import _State
from .._tensor import _make
from ._recurrent_common import _RecurrentLayer, _state_grad, _steps

# Internal gate order o, i, f, g (torch's chunks are i, f, g, o): the three sigmoid gates are contiguous
# (0:3) for the forward, and the three gates driven by dc (1:4) are contiguous for the backward.
_LSTM_ORDER = np.array([3, 0, 1, 2])
_LSTM_INVERSE = np.argsort(_LSTM_ORDER)


def _lstm_packed_weights(w_ih, w_hh, bias):
    """(4, K, H) matrices mapping one row [h_prev | x | 1] to each gate's pre-activations, gates in internal
    order, the sigmoid gates negated so that exp() directly gives exp(-z). One batched matmul of a (b, K) block
    with it writes the step's gates gate-major, each gate a contiguous (b, H) block."""
    hidden, n_in = w_hh.shape[1], w_ih.shape[1]
    k = hidden + n_in + (1 if bias else 0)
    w = np.empty((4, hidden, k), w_hh.dtype)  # torch's gate order
    w[:, :, :hidden] = w_hh.reshape(4, hidden, hidden)
    w[:, :, hidden:hidden + n_in] = w_ih.reshape(4, hidden, n_in)
    if bias:
        np.add(bias[0].reshape(4, hidden), bias[1].reshape(4, hidden), out=w[:, :, -1])
    wt = np.empty((4, k, hidden), w.dtype)
    for dst, src in enumerate(_LSTM_ORDER):
        if dst < 3:
            np.negative(w[src].T, out=wt[dst])
        else:
            wt[dst] = w[src].T
    return wt


def _lstm_factors(gates, tanh_c):
    """Backward factors from the forward values alone, for all rows at once: d(pre o)/dh, dc/dh and
    d(pre i, f, g)/dc."""
    o, i, f, g, c_prev = gates
    do_from_h = np.subtract(1, o)
    do_from_h *= o
    do_from_h *= tanh_c
    dc_from_h = np.multiply(tanh_c, tanh_c)
    np.subtract(1, dc_from_h, out=dc_from_h)
    dc_from_h *= o
    ifg = np.empty((3,) + o.shape, o.dtype)  # gate-major, like the gates
    np.subtract(1, i, out=ifg[0])
    ifg[0] *= i
    ifg[0] *= g
    np.subtract(1, f, out=ifg[1])
    ifg[1] *= f
    ifg[1] *= c_prev
    np.multiply(g, g, out=ifg[2])
    np.subtract(1, ifg[2], out=ifg[2])
    ifg[2] *= i
    return do_from_h, dc_from_h, ifg


def _copy_outputs(out, z, in_z, hidden):
    """Gather the outputs the steps in ``in_z`` wrote into the next step's rows of ``z``."""
    if not in_z:
        return
    b = in_z[0][1]
    s0, ns0 = in_z[0][0], in_z[0][2]
    first = min(s for s, _, _ in in_z)
    length = len(in_z) * b
    if max(s for s, _, _ in in_z) - first == length - b and all(rows == b and ns - s == ns0 - s0
                                                                 for s, rows, ns in in_z):
        # consecutive steps of equal size (an unpacked batch): one strided copy
        out[first:first + length] = z[first + ns0 - s0:first + ns0 - s0 + length, :hidden]
        return
    for s, rows, ns in in_z:
        out[s:s + rows] = z[ns:ns + rows, :hidden]


class LSTMLayer(_RecurrentLayer):
    """Inputs (x, h0, c0, w_ih, w_hh[, b_ih, b_hh]); outputs (h for every row, h_n, c_n)."""

    n_state = 2

    def forward(ctx, x, h0, c0, w_ih, w_hh, *bias, batch_sizes, reverse):
        n, n_in = x.shape
        hidden = w_hh.shape[1]
        dt = x.dtype
        wt = _lstm_packed_weights(w_ih, w_hh, bias)
        steps = _steps(batch_sizes, reverse)
        # z rows are [h_prev | x | 1] and gates[:, row] is (o, i, f, g, c_prev): a step writes its h and c
        # straight into the next step's slots when that step has the same rows (always, unless packed)
        z = np.empty((n, wt.shape[1]), dt)
        z[:, hidden:hidden + n_in] = x
        if bias:
            z[:, -1] = 1
        gates = np.empty((5, n, hidden), dt)
        prev_b = 0
        for s, b in steps:  # rows that start at this step take the initial state
            if b > prev_b:
                z[s + prev_b:s + b, :hidden] = h0[prev_b:b]
                gates[4, s + prev_b:s + b] = c0[prev_b:b]
            prev_b = b
        tanh_c = np.empty((n, hidden), dt)
        out = np.empty((n, hidden), dt)
        h_n, c_n = np.empty_like(h0), np.empty_like(c0)
        bsz = h0.shape[0]
        prod = np.empty((2, bsz, hidden), dt)
        h_tmp, c_tmp = np.empty((bsz, hidden), dt), np.empty((bsz, hidden), dt)
        in_z = []  # steps whose h went straight into z: (start, rows, next start)
        last = len(steps) - 1
        with np.errstate(over="ignore"):
            for k, (s, b) in enumerate(steps):
                e = s + b
                np.matmul(z[s:e], wt, out=gates[:4, s:e])
                sig = gates[:3, s:e]
                np.exp(sig, out=sig)
                sig += 1
                np.reciprocal(sig, out=sig)
                np.tanh(gates[3, s:e], out=gates[3, s:e])
                pr = np.multiply(gates[1:3, s:e], gates[3:5, s:e], out=prod[:, :b])  # i * g, f * c_prev
                ns, nb = steps[k + 1] if k < last else (0, 0)
                direct = nb == b
                c = np.add(pr[0], pr[1], out=gates[4, ns:ns + b] if direct else c_tmp[:b])
                tc = np.tanh(c, out=tanh_c[s:e])
                h = np.multiply(gates[0, s:e], tc, out=z[ns:ns + b, :hidden] if direct else h_tmp[:b])
                if direct:
                    in_z.append((s, b, ns))
                else:
                    out[s:e] = h
                    m = min(b, nb)
                    z[ns:ns + m, :hidden] = h[:m]
                    gates[4, ns:ns + m] = c[:m]
                    h_n[nb:b] = h[nb:]  # rows whose sequence ends here
                    c_n[nb:b] = c[nb:]
        _copy_outputs(out, z, in_z, hidden)
        if ctx.next_edges is not None:
            ctx.batch_sizes, ctx.reverse, ctx.has_bias = batch_sizes, reverse, bool(bias)
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, *bias, z, gates, tanh_c)
        return out, h_n, c_n

    def backward(ctx, d_out, d_hn, d_cn):
        if _State.enabled:
            from ._recurrent_graph import lstm_backward_graph

            return lstm_backward_graph(ctx, d_out, d_hn, d_cn)
        saved = ctx.saved_tensors
        x, h0, c0, w_ih, w_hh = (t._data for t in saved[:5])
        z, gates, tanh_c = (t._data for t in saved[-3:])
        n, hidden = tanh_c.shape
        n_in = w_ih.shape[1]
        dt = tanh_c.dtype
        steps = _steps(ctx.batch_sizes, ctx.reverse)
        need = ctx.needs_input_grad
        do_from_h, dc_from_h, ifg = _lstm_factors(gates, tanh_c)
        f = gates[2]
        dgates = np.empty((4, n, hidden), dt)  # gate-major, internal gate order
        w_hh4 = w_hh.reshape(4, hidden, hidden)[_LSTM_ORDER]  # dh = sum over gates of dgates[g] @ w_hh4[g]
        dh = _state_grad(d_hn, h0)
        dc = _state_grad(d_cn, c0)
        dout = None if d_out is None else d_out._data
        dh_t = np.empty_like(dh)
        dc_t = np.empty_like(dc)
        per_gate = np.empty((4,) + dh.shape, dt)
        for s, b in reversed(steps):
            e = s + b
            dct = dc_t[:b]
            if dout is not None:
                dht = np.add(dh[:b], dout[s:e], out=dh_t[:b])
            else:
                dht = dh[:b]  # read before it is overwritten below
            np.multiply(dht, dc_from_h[s:e], out=dct)
            dct += dc[:b]
            np.multiply(dct, ifg[:, s:e], out=dgates[1:, s:e])
            np.multiply(dht, do_from_h[s:e], out=dgates[0, s:e])
            np.multiply(dct, f[s:e], out=dc[:b])
            np.add.reduce(np.matmul(dgates[:, s:e], w_hh4, out=per_gate[:, :b]), axis=0, out=dh[:b])
        dx = None
        if need[0]:
            dx = np.add.reduce(np.matmul(dgates, w_ih.reshape(4, hidden, n_in)[_LSTM_ORDER]), axis=0)
        # [dW_hh | dW_ih | db] per gate, back in torch's gate order
        dw = np.matmul(dgates.transpose(0, 2, 1), z)[_LSTM_INVERSE].reshape(4 * hidden, -1) \
            if any(need[3:]) else None
        grads = [_make(dx) if need[0] else None, _make(dh) if need[1] else None, _make(dc) if need[2] else None,
                 None, None]
        if ctx.has_bias:
            grads += [None, None]
        if dw is not None:
            if need[3]:
                grads[3] = _make(np.ascontiguousarray(dw[:, hidden:hidden + n_in]))
            if need[4]:
                grads[4] = _make(np.ascontiguousarray(dw[:, :hidden]))
            if ctx.has_bias:
                if need[5]:
                    grads[5] = _make(dw[:, -1].copy())
                if need[6]:
                    grads[6] = _make(dw[:, -1].copy())
        return tuple(grads)
