"""Optimizer base class: param_groups, per-parameter state, state_dict round-trips, step hooks.

Parameters are plain ember Tensors with ``.grad``; this package never imports ``ember.nn``. Updates run under
``no_grad`` through ember's in-place ops, so they write into each parameter's own buffer.
"""
import functools
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .._dtype import float32, float64, get_default_dtype
from .._tensor import Tensor, tensor
from ..autograd.function import _Hooks
from ..autograd.grad_mode import _State, enable_grad
from ._flat import flat_plan, plan_holds

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a default that every param group must set (e.g. ``lr`` of a custom optimizer)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so registered pre/post hooks run around it."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_step"):  # a subclass's step calling super().step(): hooks already ran
            return step(self, *args, **kwargs)
        self._in_step = True
        try:
            return _run_with_hooks(self, step, args, kwargs)
        finally:
            self._in_step = False

    wrapper._ember_hooked = True
    return wrapper


def _run_with_hooks(self, step, args, kwargs):
    for hook in list(self._optimizer_step_pre_hooks.values()):
        result = hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                   f"{result}.")
            args, kwargs = result
    out = step(self, *args, **kwargs)
    for hook in list(self._optimizer_step_post_hooks.values()):
        hook(self, args, kwargs)
    return out


def _use_grad(step):
    """Run ``step`` with gradient recording off (updates are not part of any graph)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if _Hooks.on_optimizer_step is not None:  # compile mode records the step as one graph node
            handled, result = _Hooks.on_optimizer_step(self, args[0] if args else kwargs.get("closure"))
            if handled:
                return result
        prev = _State.enabled
        _State.enabled = False
        try:
            return step(self, *args, **kwargs)
        finally:
            _State.enabled = prev

    return wrapper


def _evaluate_closure(closure):
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _scalar_dtype():
    """dtype of the ``step`` counters: float64 when that is the default dtype, else float32 (as torch)."""
    return float64 if get_default_dtype() is float64 else float32


def _step_tensor(value=0.0):
    return tensor(float(value), dtype=_scalar_dtype())


def _value(x):
    """A Python float from a number or a one-element Tensor (tensor lr, betas), so that NumPy computes the
    update in the parameters' dtype."""
    return x.item() if isinstance(x, Tensor) else float(x)


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check_nonneg(lr, "learning rate")


def _check_nonneg(value, what):
    """torch's constructor checks: ``ValueError('Invalid <what>: <value>')`` when ``value`` is negative."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def _check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def _typename(obj):
    """torch.typename's spelling: ``ember.FloatTensor`` for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param groups) whose keys
    override ``defaults`` for that group. Subclasses implement ``step(closure=None)``.
    """

    _group_defaults = ()  # (key, default) pairs every param group gets when an older state is restored

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_ember_hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        if defaults.get("differentiable"):
            raise NotImplementedError("ember optimizers do not support differentiable=True (steps never record a "
                                      "graph)")
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, default in self._group_defaults:
                group.setdefault(key, default)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ---- compile mode ---------------------------------------------------------------------------------------
    def _flat_plan(self):
        """The per-group flat buffers a compiled step may update directly (``_flat.flat_plan``), or None. Only
        optimizers whose update is a static ``_update(param, grad, state, hparams)`` with ``_hparams(group)`` and
        ``_state_keys(group)`` offer one."""
        if not all(hasattr(type(self), a) for a in ("_update", "_hparams", "_state_keys")):
            return None
        return flat_plan(self)

    def _flat_plan_holds(self, flats):
        return plan_holds(self, flats)

    # ---- param groups -------------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``params`` and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter "
                                 f"{name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            import warnings

            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. cannot add param group "
                                 f"{which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients and steps ------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad``: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if set_to_none and _Hooks.on_grad_cleared is not None:  # compile mode: .grad starts empty here
                    _Hooks.on_grad_cleared(p)
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Perform one optimization step (subclasses implement it)."""
        raise NotImplementedError

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before ``step``; it may return new ``(args, kwargs)``."""
        return self._add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after ``step``."""
        return self._add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _add_hook(hooks, hook, prepend=False):
        handle = _HookHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # ---- checkpoints --------------------------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}`` as torch.

        Indices number the parameters in group order. State tensors are the live ones (not copies), as in torch.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): dict(v) if isinstance(v, dict) else v
                 for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()`` (ours or torch's layout). State tensors are copied, cast to each parameter's
        dtype (except ``step``), so the loaded optimizer shares no buffers with the source."""
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                            chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                p = param_of[key]
                state[p] = _cast_state(p, value)
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


_SCALAR_STATE = ("step", "mu_product")


def _cast_state(param, value, key=None):
    """Copy ``value`` (nested dicts/lists of tensors) for ``param``: tensors other than ``step`` take the
    parameter's floating dtype. NumPy arrays (e.g. from a safetensors file) become Tensors."""
    if isinstance(value, np.ndarray):
        value = tensor(value)
    if key in _SCALAR_STATE and isinstance(value, (int, float)):  # old checkpoints kept plain numbers
        return _step_tensor(value)
    if isinstance(value, Tensor):
        if key != "step" and param.is_floating_point() and value.dtype is not param.dtype:
            return value.detach().to(param.dtype)
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


def _decayed(grad, param, weight_decay):
    """``grad + weight_decay * param`` (torch's ``grad.add(param, alpha=weight_decay)``) as one new tensor."""
    return (param * weight_decay).add_(grad)
