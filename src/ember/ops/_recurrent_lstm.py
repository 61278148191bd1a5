"""The fused LSTM layer op (one direction over a whole, possibly packed, sequence).

Per-step data lives in step blocks (``_recurrent_common``): features first, one column per row, so that
every per-step NumPy call runs on contiguous memory. Forward: a step is four GEMMs ``w_g (H, K) @ z (K, b)``,
one per gate (each small enough for OpenBLAS's small-matrix kernels, which skip packing), of the block
z = [h_prev; x; 1], which carries the input projection and the biases; then seven NumPy calls, h and c going
straight into the next step's blocks. Backward: per step in reverse, twelve NumPy calls on the saved gates,
four GEMMs and a sum; then one GEMM gives the weight and bias gradients of all steps.

With numba (``ember._fused``), one kernel per step does the same float operations in the same order as the
NumPy calls it replaces, so results are bitwise those of the NumPy path (tests/nn/test_rnn.py): forward, the
sigmoids and c between the two tanh calls (which stay NumPy's: numba's tanh differs in the last bit), h = o tanh(c)
staying one multiply; backward, all twelve calls plus the sum of the previous step's four GEMM outputs (added in
np.add.reduce's order as the kernel reads them, which saves a pass over them per step).

The steps run on one thread whatever ``ember.set_num_threads`` says; only the final weight-gradient GEMM uses
BLAS's threads. Measured on a 2-vCPU VM whose second vCPU is often busy with other work: one GEMM per step split
by OpenBLAS over two threads was at best even with the per-gate GEMMs and up to 14% slower (far slower under
oversubscription); a second Python thread working on finished steps beside the recurrence (their weight
gradients, or only the copies those need) gained ~11% on the op in quiet spells and lost 11-18% otherwise.
"""
import numpy as np

from .. import _fused
from ..autograd.grad_mode import _State
from .._tensor import _make
from ._recurrent_common import (
    _block,
    _blocks_to_cols,
    _RecurrentLayer,
    _rows_to_blocks,
    _run_blocks,
    _runs,
    _state_grad,
    _steps,
)

# Gate order inside the op: o, i, f, g (torch's chunks are i, f, g, o). The three sigmoid gates are contiguous,
# and (i, f) sit next to (g, c_prev), so one multiply gives (i g, f c_prev) and, in backward, (dc i g, dc f c_prev).
_LSTM_ORDER = [3, 0, 1, 2]
_TORCH_ORDER = [1, 2, 3, 0]


def _forward_weights(w_ih, w_hh, bias):
    """(4, H, K) gate matrices mapping a column [h_prev; x; 1] to the pre-activations, gates o, i, f, g, the
    sigmoid gates' rows halved: with t = tanh(z / 2), sigmoid(z) = t / 2 + 1 / 2, so one tanh call serves
    all four gates (halving is exact, so the GEMM gives exactly z / 2)."""
    hidden, n_in = w_hh.shape[1], w_ih.shape[1]
    w = np.empty((4, hidden, hidden + n_in + (1 if bias else 0)), w_hh.dtype)
    for dst, src in enumerate(_LSTM_ORDER):
        rows, scale = slice(src * hidden, (src + 1) * hidden), 0.5 if dst < 3 else 1.0
        np.multiply(w_hh[rows], scale, out=w[dst, :, :hidden])
        np.multiply(w_ih[rows], scale, out=w[dst, :, hidden:hidden + n_in])
        if bias:
            np.add(bias[0][rows], bias[1][rows], out=w[dst, :, -1])
            w[dst, :, -1] *= scale
    return w


class LSTMLayer(_RecurrentLayer):
    """Inputs (x, h0, c0, w_ih, w_hh[, b_ih, b_hh]); outputs (h for every row, h_n, c_n). Saved for backward,
    as step blocks: z and the gates (o, i, f, g, c_prev) and tanh(c) of every row."""

    n_state = 2

    def forward(ctx, x, h0, c0, w_ih, w_hh, *bias, batch_sizes, reverse):
        n = x.shape[0]
        hidden = w_hh.shape[1]
        h5 = 5 * hidden
        dt = x.dtype
        w = _forward_weights(w_ih, w_hh, bias)
        kz = w.shape[2]
        steps = _steps(batch_sizes, reverse)
        runs = _runs(batch_sizes)
        # step blocks: z is [h_prev; x; 1] per row, gates (o, i, f, g, c_prev). A step writes its h and c
        # straight into the next step's blocks when that step has as many rows (always, unless packed)
        z = np.empty(kz * n, dt)
        _rows_to_blocks(x, runs, z, kz, hidden)
        if bias:
            for run in runs:
                _run_blocks(z, kz, run)[:, -1] = 1
        gates = np.empty(h5 * n, dt)
        prev_b = 0
        for s, b in steps:  # rows that start at this step take the initial state
            if b > prev_b:
                _block(z, kz, s, b)[:hidden, prev_b:b] = h0[prev_b:b].T
                _block(gates, h5, s, b)[4 * hidden:, prev_b:b] = c0[prev_b:b].T
            prev_b = b
        tanh_c = np.empty(hidden * n, dt)
        out = np.empty((n, hidden), dt)
        h_n, c_n = np.empty_like(h0), np.empty_like(c0)
        bsz = h0.shape[0]
        prod = np.empty(2 * hidden * bsz, dt)
        h_tmp, c_tmp = np.empty(hidden * bsz, dt), np.empty(hidden * bsz, dt)
        kernels = _step_kernels(dt)
        half = dt.type(0.5)
        direct = []  # steps whose h went straight into the next step's z block: (start, rows, next start)
        last = len(steps) - 1
        cur_b = None
        for k, (s, b) in enumerate(steps):
            if b != cur_b:  # sizes and scratch views for this batch size
                cur_b, p = b, hidden * b  # p: one gate of one step (a plane)
                p3, p4, p5 = 3 * p, 4 * p, 5 * p
                pr = prod[:2 * p]
                pr_i, pr_f = pr[:p], pr[p:]
            e = s + b
            g = gates[h5 * s:h5 * e]  # o, i, f, g, c_prev
            np.matmul(w, z[kz * s:kz * e].reshape(kz, b), out=g[:p4].reshape(4, hidden, b))
            pre = g[:p4]
            np.tanh(pre, out=pre)  # tanh(z / 2) for o, i, f; tanh(z) for g
            ns, nb = steps[k + 1] if k < last else (0, 0)
            if nb == b:
                c = gates[h5 * ns + p4:h5 * ns + p5]
                h = z[kz * ns:kz * ns + p]
            else:
                c, h = c_tmp[:p], h_tmp[:p]
            if kernels is not None:  # the same float operations in one loop
                kernels.lstm_step_fwd(g, p, half, c)
            else:
                sig = g[:p3]
                np.multiply(sig, 0.5, out=sig)
                np.add(sig, 0.5, out=sig)
                np.multiply(g[p:p3], g[p3:], out=pr)  # i g, f c_prev
                np.add(pr_i, pr_f, out=c)
            tc = np.tanh(c, out=tanh_c[hidden * s:hidden * e])
            np.multiply(g[:p], tc, out=h)
            if nb == b:
                direct.append((s, b, ns))
                continue
            h, c = h.reshape(hidden, b), c.reshape(hidden, b)
            out[s:e] = h.T
            m = min(b, nb)
            if m:
                _block(z, kz, ns, nb)[:hidden, :m] = h[:, :m]
                _block(gates, h5, ns, nb)[4 * hidden:, :m] = c[:, :m]
            h_n[nb:b] = h[:, nb:].T  # rows whose sequence ends here
            c_n[nb:b] = c[:, nb:].T
        _gather_outputs(out, z, kz, hidden, direct)
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
        n, n_in = x.shape
        hidden = w_hh.shape[1]
        h4, h5 = 4 * hidden, 5 * hidden
        kz = z.size // n if n else hidden + n_in
        dt = x.dtype
        steps = _steps(ctx.batch_sizes, ctx.reverse)
        runs = _runs(ctx.batch_sizes)
        need = ctx.needs_input_grad
        # dh = sum over gates of w_g^T @ dgates_g, gates in forward order (o, i, f, g)
        w_t = w_hh.reshape(4, hidden, hidden)[_LSTM_ORDER].transpose(0, 2, 1)
        dout = None
        if d_out is not None:
            dout = np.empty(hidden * n, dt)
            _rows_to_blocks(d_out._data, runs, dout, hidden)
        # transposed states (H, B); a step works on the first b columns, kept contiguous in dh_act / dc_act
        dh_all = _state_grad(d_hn, h0).T.copy()
        dc_all = _state_grad(d_cn, c0).T.copy()
        bsz = h0.shape[0]
        act_b = dh_act = dc_act = part_b = None
        dblocks = np.empty(h4 * n, dt)  # per step, the gate gradients o, i, f, g
        part = np.empty(h4 * bsz, dt)
        dht_buf, dct_buf = np.empty(hidden * bsz, dt), np.empty(hidden * bsz, dt)
        q_buf = np.empty(3 * hidden * bsz, dt)
        w_buf, wt_buf, u_buf = np.empty(hidden * bsz, dt), np.empty(hidden * bsz, dt), np.empty(hidden * bsz, dt)
        ab_buf, agc_buf = np.empty(2 * hidden * bsz, dt), np.empty(2 * hidden * bsz, dt)
        kernels = _step_kernels(dt)
        one = dt.type(1)
        summed = True  # False: the state gradient is still the four planes of part_b (added up by the kernel)
        first_step = steps[0] if steps else None
        for s, b in reversed(steps):
            if b != act_b:  # park the state columns of the previous batch size, take this one's
                if not summed:
                    np.add.reduce(part_b, axis=0, out=dh_act.reshape(hidden, act_b))
                    summed = True
                if act_b is not None:
                    dh_all[:, :act_b] = dh_act.reshape(hidden, act_b)
                    dc_all[:, :act_b] = dc_act.reshape(hidden, act_b)
                dh_act, dc_act = dh_all[:, :b].reshape(-1), dc_all[:, :b].reshape(-1)  # (copies when b < B)
                if b == bsz:
                    dh_act, dc_act = dh_act.copy(), dc_act.copy()
                act_b, p = b, hidden * b
                p2, p3, p4 = 2 * p, 3 * p, 4 * p
                q, w, wt, u, dct = q_buf[:p3], w_buf[:p], wt_buf[:p], u_buf[:p], dct_buf[:p]
                q_o, q_if = q[:p], q[p:]
                ab, agc = ab_buf[:p2], agc_buf[:p2]
                ab2, a_, b_, ag = ab.reshape(2, p), ab[:p], ab[p:], agc[:p]
                part_b = part[:p4].reshape(4, hidden, b)
            e = s + b
            blk = dblocks[h4 * s:h4 * e]
            if kernels is not None:  # the same float operations in one loop; dc_act is updated in place
                kernels.lstm_step_bwd(dh_act if summed else part[:p4], not summed,
                                      dout[hidden * s:hidden * e] if dout is not None else dh_act,
                                      dout is not None, gates[h5 * s:h5 * e], tanh_c[hidden * s:hidden * e],
                                      dc_act, blk, p, one)
            else:
                if dout is not None:
                    dht = np.add(dh_act, dout[hidden * s:hidden * e], out=dht_buf[:p])
                else:
                    dht = dh_act  # read before it is overwritten below
                gb = gates[h5 * s:h5 * e]  # o, i, f, g, c_prev
                tc = tanh_c[hidden * s:hidden * e]
                np.subtract(1, gb[:p3], out=q)  # 1 - o, 1 - i, 1 - f
                np.multiply(dht, gb[:p], out=w)  # dh o
                np.multiply(w, tc, out=wt)  # dh o tanh(c)
                np.multiply(wt, tc, out=u)
                np.subtract(w, u, out=dct)
                np.add(dct, dc_act, out=dct)  # dc = dc_next + dh o (1 - tanh(c)^2)
                np.multiply(wt, q_o, out=blk[:p])  # do = dh o (1 - o) tanh(c)
                np.multiply(dct, gb[p:p3].reshape(2, p), out=ab2)  # dc i, dc f (= dc_prev)
                np.multiply(ab, gb[p3:], out=agc)  # dc i g, dc f c_prev
                np.multiply(agc, q_if, out=blk[p:p3])  # di = dc i (1 - i) g, df = dc f (1 - f) c_prev
                np.multiply(ag, gb[p3:p4], out=u)
                np.subtract(a_, u, out=blk[p3:])  # dg = dc i (1 - g^2)
                dc_act = b_
            if (s, b) == first_step and not need[1]:  # its state gradient would only be h0's
                summed = True  # (the planes left in part_b were this step's input)
                break
            np.matmul(w_t, blk.reshape(4, hidden, b), out=part_b)
            if kernels is None:
                np.add.reduce(part_b, axis=0, out=dh_act.reshape(hidden, b))
            else:  # the next step's kernel adds the four planes up as it reads them
                summed = False
        if not summed:
            np.add.reduce(part_b, axis=0, out=dh_act.reshape(hidden, act_b))
        if act_b is not None:
            dh_all[:, :act_b] = dh_act.reshape(hidden, act_b)
            dc_all[:, :act_b] = dc_act.reshape(hidden, act_b)
        grads = [None] * (7 if ctx.has_bias else 5)
        dgates = np.empty((h4, n), dt)  # one column per row, gates o, i, f, g
        _blocks_to_cols(dblocks, h4, runs, dgates)
        if need[0]:
            grads[0] = _make(np.matmul(dgates.T, w_ih.reshape(4, hidden, n_in)[_LSTM_ORDER].reshape(h4, n_in)))
        if need[1]:
            grads[1] = _make(dh_all.T.copy())
        if need[2]:
            grads[2] = _make(dc_all.T.copy())
        if any(need[3:]):
            z_cols = np.empty((kz, n), dt)  # [h_prev; x; 1] per row
            _blocks_to_cols(z, kz, runs, z_cols)
            # [dW_hh | dW_ih | db] of all steps in one GEMM, then back in torch's gate order
            dw = np.matmul(dgates, z_cols.T).reshape(4, hidden, kz)
            if need[3]:
                grads[3] = _make(dw[_TORCH_ORDER, :, hidden:hidden + n_in].reshape(h4, n_in))
            if need[4]:
                grads[4] = _make(dw[_TORCH_ORDER, :, :hidden].reshape(h4, hidden))
            if ctx.has_bias and (need[5] or need[6]):
                db = dw[_TORCH_ORDER, :, -1].reshape(h4)
                grads[5] = _make(db) if need[5] else None
                grads[6] = (_make(db.copy()) if need[5] else _make(db)) if need[6] else None
        return tuple(grads)


def _step_kernels(dt):
    """The fused step kernels (``ember._fused``) for arrays of dtype ``dt``, or None (NumPy path)."""
    if dt != np.float32 and dt != np.float64:
        return None
    return _fused.kernels()


def _gather_outputs(out, z, kz, hidden, direct):
    """Copy into the output rows the h of each step in ``direct``, which sits in the next step's z block."""
    if not direct:
        return
    b, shift = direct[0][1], direct[0][2] - direct[0][0]
    first = min(s for s, _, _ in direct)
    count = len(direct)
    if max(s for s, _, _ in direct) - first == (count - 1) * b and all(
            rows == b and ns - s == shift for s, rows, ns in direct):
        # consecutive steps of equal size (an unpacked batch): one transposing copy
        src = z[kz * (first + shift):kz * (first + shift + count * b)].reshape(count, kz, b)[:, :hidden]
        out[first:first + count * b].reshape(count, b, hidden)[...] = src.transpose(0, 2, 1)
        return
    for s, rows, ns in direct:
        out[s:s + rows] = _block(z, kz, ns, rows)[:hidden].T
