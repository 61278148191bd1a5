"""The fused GRU and Elman-RNN layer ops (one direction over a whole, possibly packed, sequence)."""
import numpy as np

from ..autograd.grad_mode import _State
from .._tensor import _make
from ._recurrent_common import _RecurrentLayer, _input_projection, _sigmoid_, _state_grad, _steps


class GRULayer(_RecurrentLayer):
    def forward(ctx, x, h0, w_ih, w_hh, *bias, batch_sizes, reverse):
        b_ih, b_hh = bias if bias else (None, None)
        n, hidden = x.shape[0], w_hh.shape[1]
        h2 = 2 * hidden
        gates = _input_projection(x, w_ih, b_ih, None)  # becomes r, z, n after the loop
        hgates = np.empty_like(gates)  # h @ w_hh.T + b_hh per step
        out = np.empty((n, hidden), x.dtype)
        hprev = np.empty((n, hidden), x.dtype)
        h = h0.copy()
        w_t = w_hh.T
        for s, b in _steps(batch_sizes, reverse):
            e = s + b
            g, hg, hp = gates[s:e], hgates[s:e], h[:b]
            hprev[s:e] = hp
            np.matmul(hp, w_t, out=hg)
            if b_hh is not None:
                hg += b_hh
            rz = g[:, :h2]
            rz += hg[:, :h2]
            _sigmoid_(rz)
            new = g[:, h2:]
            new += np.multiply(g[:, :hidden], hg[:, h2:], out=out[s:e])  # n = tanh(xn + r * hn)
            np.tanh(new, out=new)
            np.subtract(hp, new, out=out[s:e])  # h = (h_prev - n) * z + n
            out[s:e] *= g[:, hidden:h2]
            out[s:e] += new
            hp[...] = out[s:e]
        if ctx.next_edges is not None:
            ctx.batch_sizes, ctx.reverse, ctx.has_bias = batch_sizes, reverse, bool(bias)
            ctx.save_for_backward(x, h0, w_ih, w_hh, *bias, gates, hgates, hprev)
        return out, h

    def backward(ctx, d_out, d_hn):
        if _State.enabled:
            from ._recurrent_graph import gru_backward_graph

            return gru_backward_graph(ctx, d_out, d_hn)
        saved = ctx.saved_tensors
        x, h0, w_ih, w_hh = (t._data for t in saved[:4])
        gates, hgates, hprev = (t._data for t in saved[-3:])
        hidden = w_hh.shape[1]
        h2 = 2 * hidden
        r, z, new = gates[:, :hidden], gates[:, hidden:h2], gates[:, h2:]
        k_new = (1 - z) * (1 - new * new)  # d(pre-activation of n) per unit of dh
        k_z = (hprev - new) * z * (1 - z)
        k_r = hgates[:, h2:] * r * (1 - r)  # d(pre-activation of r) per unit of d(pre n)
        dgates = np.empty_like(gates)
        dhgates = np.empty_like(gates)
        dh = _state_grad(d_hn, h0)
        dout = None if d_out is None else d_out._data
        dh_t = np.empty_like(dh)
        for s, b in reversed(_steps(ctx.batch_sizes, ctx.reverse)):
            e = s + b
            dht = dh_t[:b]
            if dout is not None:
                np.add(dh[:b], dout[s:e], out=dht)
            else:
                dht[...] = dh[:b]
            dg, dhg = dgates[s:e], dhgates[s:e]
            np.multiply(dht, k_new[s:e], out=dg[:, h2:])
            np.multiply(dht, k_z[s:e], out=dg[:, hidden:h2])
            np.multiply(dg[:, h2:], k_r[s:e], out=dg[:, :hidden])
            dhg[:, :h2] = dg[:, :h2]
            np.multiply(dg[:, h2:], r[s:e], out=dhg[:, h2:])
            np.matmul(dhg, w_hh, out=dh[:b])
            dh[:b] += np.multiply(dht, z[s:e], out=dht)
        grads = ctx._weight_grads(dgates, x, w_ih, hprev, dhgates)
        need = ctx.needs_input_grad
        return (grads[0], _make(dh) if need[1] else None, *grads[1:])


class RNNLayer(_RecurrentLayer):
    """Elman RNN: h = act(x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh), act tanh or relu."""

    def forward(ctx, x, h0, w_ih, w_hh, *bias, batch_sizes, reverse, relu):
        b_ih, b_hh = bias if bias else (None, None)
        n, hidden = x.shape[0], w_hh.shape[1]
        out = _input_projection(x, w_ih, b_ih, b_hh)
        hprev = np.empty((n, hidden), x.dtype)
        h = h0.copy()
        w_t = w_hh.T
        buf = np.empty_like(h)
        for s, b in _steps(batch_sizes, reverse):
            e = s + b
            hp, o = h[:b], out[s:e]
            hprev[s:e] = hp
            o += np.matmul(hp, w_t, out=buf[:b])
            if relu:
                np.maximum(o, 0, out=o)
            else:
                np.tanh(o, out=o)
            hp[...] = o
        if ctx.next_edges is not None:
            ctx.batch_sizes, ctx.reverse, ctx.has_bias, ctx.relu = batch_sizes, reverse, bool(bias), relu
            ctx.save_for_backward(x, h0, w_ih, w_hh, *bias, out, hprev)
        return out, h

    def backward(ctx, d_out, d_hn):
        if _State.enabled:
            from ._recurrent_graph import rnn_backward_graph

            return rnn_backward_graph(ctx, d_out, d_hn)
        saved = ctx.saved_tensors
        x, h0, w_ih, w_hh = (t._data for t in saved[:4])
        out, hprev = saved[-2]._data, saved[-1]._data
        dact = (out > 0).astype(out.dtype) if ctx.relu else 1 - out * out
        dpre = np.empty_like(out)
        dh = _state_grad(d_hn, h0)
        dout = None if d_out is None else d_out._data
        for s, b in reversed(_steps(ctx.batch_sizes, ctx.reverse)):
            e = s + b
            dp = dpre[s:e]
            if dout is not None:
                np.add(dh[:b], dout[s:e], out=dp)
                dp *= dact[s:e]
            else:
                np.multiply(dh[:b], dact[s:e], out=dp)
            np.matmul(dp, w_hh, out=dh[:b])
        grads = ctx._weight_grads(dpre, x, w_ih, hprev)
        need = ctx.needs_input_grad
        return (grads[0], _make(dh) if need[1] else None, *grads[1:])


