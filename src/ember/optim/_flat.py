"""Multi-tensor updates: an optimizer step as a handful of NumPy calls on a whole param group instead of a
handful per parameter.

The group's per-parameter state tensors (``exp_avg``, ``momentum_buffer`` ...) become views into one flat
buffer per state key, and the ``step`` counters views of one shared scalar (state is the optimizer's own, so
nobody else holds it). The parameters become views into one flat buffer too when nothing else holds their
arrays (checked with the arrays' reference counts: a ``.data`` alias, a NumPy view or a saved tensor keeps a
parameter in its own storage); otherwise they are gathered into the flat buffer at each step and the new values
copied back, so every alias of a parameter stays valid. Gradients are gathered at each step. The optimizer's
own per-parameter update rule is applied once to the flat tensors; every update is elementwise, so results are
bitwise equal to the per-parameter path.

The layout is checked before every use; if anything re-pointed a parameter or a state tensor (``p.data = ...``,
``load_state_dict``), the group goes back to per-parameter updates and is rebuilt at the next step.
"""
import sys
from itertools import chain
from operator import attrgetter, itemgetter

import numpy as np

from .._tensor import _make, _Storage

__all__ = ["FlatGroup", "flat_step", "group_buffers", "flat_plan", "plan_holds"]


def _sole_owner_count():
    """What ``sys.getrefcount(t._data)`` reports for an array only its tensor holds (the interpreter's own
    temporary references differ between Python versions, so it is measured, not assumed)."""
    t = _make(np.empty(0))
    return sys.getrefcount(t._data)


_SOLE_OWNER_COUNT = _sole_owner_count()
_DATA = attrgetter("_data")
_EMPTY = {}  # the state of a parameter the optimizer has not seen (never written to)


class FlatGroup:
    """Flat buffers for one param group: ``param``/``grad`` Tensors and a flat ``state`` dict."""

    def __init__(self, params, states, keys):
        dtype = self.dtype = params[0]._data.dtype
        sizes = [p._data.size for p in params]
        total = int(sum(sizes))
        self.params = list(params)
        self.keys = keys
        self.adopted = False  # True once the parameters' own arrays are the views of param_buf
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
            _Storage.rebinds += 1
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
        _Storage.rebinds += 1
        return buf

    def adopt_params(self, own_bases=()):
        """Make the parameters' storage the views of ``param_buf`` if no other object can see their arrays: no
        other reference to the array, and the array owns its memory (or views ``own_bases``, an earlier flat
        buffer of this group), so it aliases no other tensor. Then nobody can observe the move. Returns whether
        the parameters now live in the flat buffer."""
        if not self.adopted and all(sys.getrefcount(p._data) <= _SOLE_OWNER_COUNT
                                    and (p._data.base is None or any(p._data.base is b for b in own_bases))
                                    for p in self.params):
            for p, view in zip(self.params, self.param_views):
                view[...] = p._data
                p._data = view
            self.adopted = True
            _Storage.rebinds += 1
            self._rebinds = _Storage.rebinds
            self._layout = self._identities(self.params, self.states)
            self._param_ids = list(map(id, self.params))
            self._state_ids = list(map(id, self.states))
            values = [v for s in self.states for v in s.values()]
            self._value_ids = list(map(id, values))
            # everything the ids name stays alive here, so no id can be taken by a new object
            self._layout_objects = [list(self.params), list(self.states), values] + [
                [s[k]._data for s in self.states] for k in self._keys_with_step()]
        return self.adopted

    def _keys_with_step(self):
        return self.keys + ("step",) if self.step_buf is not None else self.keys

    def _identities(self, params, states):
        """The ids of the arrays of the parameters and of their state tensors: equal to the adopted layout's
        when none was re-pointed."""
        ids = list(map(id, map(_DATA, params)))
        for k in self._keys_with_step():
            ids += map(id, map(_DATA, map(itemgetter(k), states)))
        return ids

    def intact(self, params, states):
        """True when every parameter and state tensor still views this group's buffers."""
        if self.adopted:
            try:
                if list(map(id, params)) != self._param_ids or list(map(id, states)) != self._state_ids or \
                        list(map(id, chain.from_iterable(map(dict.values, states)))) != self._value_ids:
                    return False  # another parameter list, state dict or state tensor
                if self._rebinds != _Storage.rebinds:  # some tensor got a new array: were these re-pointed?
                    if self._identities(params, states) != self._layout:
                        return False
                    self._rebinds = _Storage.rebinds
                return True
            except (AttributeError, KeyError, TypeError):  # a state entry deleted or replaced by a non-tensor
                return False
        if len(params) != len(self.params):
            return False
        adopted = self.adopted
        for p, q, view, s, s0 in zip(params, self.params, self.param_views, states, self.states):
            if p is not q or (p._data is not view if adopted else p._data.shape != view.shape) or \
                    (self.keys and s is not s0):
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
                    _Storage.rebinds += 1

    def gather(self):
        if not self.adopted:
            np.concatenate([p._data.reshape(-1) for p in self.params], out=self.param_buf)
        np.concatenate([p.grad._data.reshape(-1) for p in self.params], out=self.grad_buf)

    def scatter(self):
        if not self.adopted:
            for p, v in zip(self.params, self.param_views):
                np.copyto(p._data, v)
        self.bump_versions()

    def bump_versions(self):
        """The parameters and their state were written in place (saved-tensor checks see it)."""
        counters = self.__dict__.get("_counters")
        if counters is None:  # (intact() guarantees these are still the group's tensors)
            counters = self._counters = [p._version for p in self.params] + [
                v._version for s in self.states for v in s.values() if hasattr(v, "_version")]
        for c in counters:
            c[0] += 1


# Flattening pays when a group has many small tensors (per-call overhead dominates); for large tensors the
# gather/scatter copies cost more memory passes than the per-parameter calls they save.
MAX_MEAN_NUMEL = 4096


def flat_step(optimizer, group, keys, update, hparams):
    """Run ``update(param, grad, state, hparams)`` once on the group's flat tensors, if possible.

    Returns False (and leaves the work to the per-parameter loop) when the group cannot or should not be
    flattened (see ``group_buffers``).
    """
    flat = group_buffers(optimizer, group, keys)
    if flat is None:
        return False
    flat.gather()
    update(flat.param_buf, flat.grad_buf, flat.state, hparams)
    flat.scatter()
    return True


def group_buffers(optimizer, group, keys):
    """The group's FlatGroup: the one from the last step if its layout still holds, else a new one; None when
    the group cannot or should not be flattened: a parameter without a gradient, mixed dtypes, state not created
    yet, fewer than two parameters, or parameters too large on average for the copies to pay."""
    params = group["params"]
    cache = optimizer.__dict__.setdefault("_flat_groups", {})
    flat = cache.get(id(group))
    state = optimizer.state
    states = [state.get(p, _EMPTY) for p in params]  # (get: the defaultdict must not grow)
    if flat is not None:  # fast path: the layout from the last step still holds
        if flat.intact(params, states) and all(p.grad is not None and p.grad._data.dtype == flat.dtype
                                               for p in params):
            return flat
        flat.release()
        del cache[id(group)]
    own_bases = () if flat is None else (flat.param_buf,)
    ok = len(params) > 1 and all(p.grad is not None for p in params) and (not keys or all(states))
    ok = ok and sum(p._data.size for p in params) <= MAX_MEAN_NUMEL * len(params)
    if ok:
        dt = params[0]._data.dtype
        ok = all(p._data.dtype == dt and p.grad._data.dtype == dt and p._data.flags.c_contiguous for p in params)
        ok = ok and all(k in s and s[k] is not None and s[k]._data.shape == p._data.shape
                        for s, p in zip(states, params) for k in keys)
    if not ok:
        return None
    flat = cache[id(group)] = FlatGroup(params, states, keys)
    flat.adopt_params(own_bases)
    return flat


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



def flat_plan(optimizer):
    """For compile mode: the FlatGroup of every param group, in order, when all of them exist, hold adopted
    parameters and are intact (then a compiled step may run ``_update`` on them directly), else None."""
    flats = []
    for group in optimizer.param_groups:
        flat = group_buffers(optimizer, group, optimizer._state_keys(group))
        if flat is None or not flat.adopt_params():
            return None
        flats.append(flat)
    return flats if plan_holds(optimizer, flats) else None


def plan_holds(optimizer, flats):
    """Whether a plan from ``flat_plan`` still describes the optimizer: no step hooks, the same groups, every
    flat layout intact (checked at each compiled step before the update runs on the flat buffers)."""
    if optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks:
        return False
    groups = optimizer.param_groups
    if len(groups) != len(flats):
        return False
    cache = optimizer.__dict__.get("_flat_groups", {})
    state = optimizer.state
    for group, flat in zip(groups, flats):
        params = group["params"]
        if cache.get(id(group)) is not flat or not flat.intact(params, [state.get(p, _EMPTY) for p in params]):
            return False
    return True
