"""Multi-tensor updates: an optimizer step as a handful of NumPy calls on a whole param group instead of a
handful per parameter.

The group's per-parameter state tensors (``exp_avg``, ``momentum_buffer`` ...) become views into one flat
buffer per state key, and the ``step`` counters views of one shared scalar (state is the optimizer's own, so
nobody else holds it). Parameters and gradients are gathered into flat buffers at each step and the new
parameter values copied back into each parameter's own storage, so every alias of a parameter stays valid.
The optimizer's own per-parameter update rule is applied once to the flat tensors; every update is
elementwise, so results are bitwise equal to the per-parameter path.

The layout is checked before every use; if anything re-pointed a state tensor (``load_state_dict``), the group
goes back to per-parameter updates and is rebuilt at the next step.
"""
import numpy as np

from .._tensor import _make

__all__ = ["FlatGroup", "flat_step"]


class FlatGroup:
    """Flat buffers for one param group: ``param``/``grad`` Tensors and a flat ``state`` dict."""

    def __init__(self, params, states, keys):
        dtype = self.dtype = params[0]._data.dtype
        sizes = [p._data.size for p in params]
        total = int(sum(sizes))
        self.params = list(params)
        self.keys = keys
        self.slices = []
        off = 0
        for n in sizes:
            self.slices.append(slice(off, off + n))
            off += n
        self.param_buf = np.empty(total, dtype=dtype)
        self.param_views = [self.param_buf[sl].reshape(p._data.shape) for p, sl in zip(params, self.slices)]
        self.grad_buf = np.empty(total, dtype=dtype)
        self.state_bufs = {k: self._adopt([s[k] for s in states], dtype, total) for k in keys}
        step_arrays = [s["step"]._data for s in states if "step" in s]
        self.step_buf = None
        if step_arrays:
            self.step_buf = np.array(step_arrays[0], copy=True)
            for s in states:
                s["step"]._data = self.step_buf.view()
        self.states = states
        self.param = _make(self.param_buf)
        self.grad = _make(self.grad_buf)
        self.state = {k: _make(b) for k, b in self.state_bufs.items()}
        if self.step_buf is not None:
            self.state["step"] = _make(self.step_buf)

    def _adopt(self, tensors, dtype, total):
        """Copy ``tensors`` into one buffer and make each tensor a view of its slice."""
        buf = np.empty(total, dtype=dtype)
        for t, sl in zip(tensors, self.slices):
            buf[sl] = t._data.reshape(-1)
            t._data = buf[sl].reshape(t._data.shape)
        return buf

    def intact(self, params, states):
        """True when every parameter and state tensor still views this group's buffers."""
        if len(params) != len(self.params):
            return False
        for p, q, view, s, s0 in zip(params, self.params, self.param_views, states, self.states):
            if p is not q or p._data.shape != view.shape or (self.keys and s is not s0):
                return False
            for k in self.keys:
                if s[k]._data.base is not self.state_bufs[k]:
                    return False
            if self.step_buf is not None and s["step"]._data.base is not self.step_buf:
                return False
        return True

    def release(self):
        """Give every step counter its own storage again (the per-parameter path increments each one)."""
        if self.step_buf is not None:
            for s in self.states:
                if "step" in s and s["step"]._data.base is self.step_buf:
                    s["step"]._data = s["step"]._data.copy()

    def gather(self):
        np.concatenate([p._data.reshape(-1) for p in self.params], out=self.param_buf)
        np.concatenate([p.grad._data.reshape(-1) for p in self.params], out=self.grad_buf)

    def scatter(self):
        for p, v in zip(self.params, self.param_views):
            np.copyto(p._data, v)
            p._version[0] += 1


# Flattening pays when a group has many small tensors (per-call overhead dominates); for large tensors the
# gather/scatter copies cost more memory passes than the per-parameter calls they save.
MAX_MEAN_NUMEL = 4096


def flat_step(optimizer, group, keys, update, hparams):
    """Run ``update(param, grad, state, hparams)`` once on the group's flat tensors, if possible.

    Returns False (and leaves the work to the per-parameter loop) when the group cannot or should not be
    flattened: a parameter without a gradient, mixed dtypes, state not created yet, fewer than two parameters,
    or parameters too large on average for the copies to pay.
    """
    params = group["params"]
    cache = optimizer.__dict__.setdefault("_flat_groups", {})
    flat = cache.get(id(group))
    state = optimizer.state
    if flat is not None:  # fast path: the layout from the last step still holds
        states = [state[p] if p in state else {} for p in params]
        if flat.intact(params, states) and all(p.grad is not None and p.grad._data.dtype == flat.dtype
                                               for p in params):
            flat.gather()
            update(flat.param_buf, flat.grad_buf, flat.state, hparams)
            flat.scatter()
            return True
        flat.release()
        del cache[id(group)]
    states = [state[p] if p in state else {} for p in params]
    ok = len(params) > 1 and all(p.grad is not None for p in params) and (not keys or all(states))
    ok = ok and sum(p._data.size for p in params) <= MAX_MEAN_NUMEL * len(params)
    if ok:
        dt = params[0]._data.dtype
        ok = all(p._data.dtype == dt and p.grad._data.dtype == dt and p._data.flags.c_contiguous for p in params)
        ok = ok and all(k in s and s[k] is not None and s[k]._data.shape == p._data.shape
                        for s, p in zip(states, params) for k in keys)
    if not ok:
        return False
    flat = cache[id(group)] = FlatGroup(params, states, keys)
    flat.gather()
    update(flat.param_buf, flat.grad_buf, flat.state, hparams)
    flat.scatter()
    return True


def decayed(grad, param, weight_decay):
    """``grad + weight_decay * param`` in torch's rounding order, as a new array."""
    out = param * weight_decay
    out += grad
    return out


def bump_versions(p, state):
    """An in-place update happened: tell version counters (saved-tensor checks) about it."""
    p._version[0] += 1
    if state:
        for v in state.values():
            if hasattr(v, "_version"):
                v._version[0] += 1

