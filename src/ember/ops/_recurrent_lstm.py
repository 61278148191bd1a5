"""The fused LSTM layer op (one direction over a whole, possibly packed, sequence)."""
import numpy as np

from ..autograd.grad_mode import _State
from .._tensor import _make
from ._recurrent_common import (_Background, _BlasThreads, _RecurrentLayer, _chunks, _gate_rows, _state_grad, _steps,
                                _use_background)

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


def _lstm_factors(gates, tanh_c, r0, r1, do_from_h, dc_from_h, ifg):
    """Backward factors of rows [r0, r1), from their forward values only: d(pre o)/dh, dc/dh and
    d(pre i, f, g)/dc."""
    o, i, f, g, c_prev = (a[r0:r1] for a in gates)
    tc = tanh_c[r0:r1]
    do = do_from_h[r0:r1]
    np.subtract(1, o, out=do)
    do *= o
    do *= tc
    dc = dc_from_h[r0:r1]
    np.multiply(tc, tc, out=dc)
    np.subtract(1, dc, out=dc)
    dc *= o
    block = ifg[r0:r1]
    np.subtract(1, i, out=block[:, 0])
    block[:, 0] *= i
    block[:, 0] *= g
    np.subtract(1, f, out=block[:, 1])
    block[:, 1] *= f
    block[:, 1] *= c_prev
    np.multiply(g, g, out=block[:, 2])
    np.subtract(1, block[:, 2], out=block[:, 2])
    block[:, 2] *= i


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


def _weight_grad_task(dgates, z, w_ih_int, dx, dw, r0, r1):
    """Accumulate rows [r0, r1) into the weight gradient (and fill their input gradient)."""
    rows = dgates[r0:r1]
    if dw is not None:
        dw += np.matmul(rows.T, z[r0:r1])
    if dx is not None:
        np.matmul(rows, w_ih_int, out=dx[r0:r1])


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
        record = ctx.next_edges is not None
        # backward factors are computed chunk by chunk on the worker while the recurrence goes on
        background = record and _use_background(steps, hidden)
        chunk_ends = {}
        if background:
            factors = (np.empty((n, hidden), dt), np.empty((n, hidden), dt), np.empty((n, 3, hidden), dt))
            chunk_ends = {k + len(group) - 1: (r0, r1) for k, group, r0, r1 in _chunks(steps)}
            futures = []
        last = len(steps) - 1
        blas = _BlasThreads.set_local(1)
        try:
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
                    if k in chunk_ends:
                        futures.append(_Background.submit(_lstm_factors, gates, tanh_c, *chunk_ends[k], *factors))
        finally:
            _BlasThreads.restore(blas)
        _copy_outputs(out, z, in_z, hidden)
        if record:
            ctx.batch_sizes, ctx.reverse, ctx.has_bias = batch_sizes, reverse, bool(bias)
            ctx.background = (factors, futures) if background else None
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
        if ctx.background is not None:
            (do_from_h, dc_from_h, ifg), futures = ctx.background
            ctx.background = None
            _Background.wait(futures)
        else:
            do_from_h, dc_from_h, ifg = np.empty((n, hidden), dt), np.empty((n, hidden), dt), \
                np.empty((n, 3, hidden), dt)
            _lstm_factors(gates, tanh_c, 0, n, do_from_h, dc_from_h, ifg)
        f = gates[2]
        dgates = np.empty((n, 4 * hidden), dt)  # internal gate order
        dgates3 = dgates.reshape(n, 4, hidden)
        w_hh_int = _gate_rows(w_hh, _LSTM_ORDER)
        w_ih_int = _gate_rows(w_ih, _LSTM_ORDER)
        dx = np.empty((n, n_in), dt) if need[0] else None
        dw = np.zeros((4 * hidden, z.shape[1]), dt) if any(need[3:]) else None
        background = _use_background(steps, hidden)
        chunk_ends = {k + len(group) - 1: (r0, r1) for k, group, r0, r1 in _chunks(steps[::-1])} \
            if background else {}
        futures = []
        dh = _state_grad(d_hn, h0)
        dc = _state_grad(d_cn, c0)
        dout = None if d_out is None else d_out._data
        dh_t = np.empty_like(dh)
        dc_t = np.empty_like(dc)
        blas = _BlasThreads.set_local(1)
        try:
            for k, (s, b) in enumerate(reversed(steps)):
                e = s + b
                dct = dc_t[:b]
                if dout is not None:
                    dht = np.add(dh[:b], dout[s:e], out=dh_t[:b])
                else:
                    dht = dh[:b]  # read before the matmul below overwrites it
                np.multiply(dht, dc_from_h[s:e], out=dct)
                dct += dc[:b]
                np.multiply(dct[:, None, :], ifg[s:e], out=dgates3[s:e, 1:])
                np.multiply(dht, do_from_h[s:e], out=dgates3[s:e, 0])
                np.multiply(dct, f[s:e], out=dc[:b])
                np.matmul(dgates[s:e], w_hh_int, out=dh[:b])
                if k in chunk_ends and k + 1 < len(steps):  # the last chunk runs here, beside the worker
                    r0, r1 = chunk_ends[k]
                    futures.append(_Background.submit(_weight_grad_task, dgates, z, w_ih_int, dx, dw, r0, r1))
        finally:
            _BlasThreads.restore(blas)
        if background:
            r0, r1 = chunk_ends[len(steps) - 1]
            last_dw = None if dw is None else np.zeros_like(dw)
            _weight_grad_task(dgates, z, w_ih_int, dx, last_dw, r0, r1)
            _Background.wait(futures)
            if dw is not None:
                dw += last_dw
        else:
            _weight_grad_task(dgates, z, w_ih_int, dx, dw, 0, n)
        grads = [_make(dx) if need[0] else None, _make(dh) if need[1] else None, _make(dc) if need[2] else None,
                 None, None]
        if ctx.has_bias:
            grads += [None, None]
        if dw is not None:
            dw = _gate_rows(dw, _LSTM_INVERSE)  # [dW_hh | dW_ih | db] in torch's gate order
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
