"""Adam and AdamW (Adam with decoupled weight decay)."""
from ..ops import zeros_like
from .._tensor import Tensor
import numpy as np

from .. import _fused
from .. import _kernels as _k
from ._flat import bump_versions, decayed, flat_step
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonneg, _evaluate_closure,
                        _step_tensor, _use_grad, _value)

__all__ = ["Adam", "AdamW"]


_FUSED_ARGS = {}  # (hyper-parameters, dtype) -> the fused kernel's scalar array and flags


def _fused_args(hp, dtype):
    """The fused Adam kernel's scalars (arrays' dtype) and flags for these hyper-parameters; the two per-step
    slots, 4 (bias_correction2 ** 0.5) and 6 (-step_size), are left for the caller to fill in a copy."""
    key = (hp, dtype)
    args = _FUSED_ARGS.get(key)
    if args is None:
        lr, eps, weight_decay, beta1, beta2, amsgrad, maximize, decoupled = hp
        w = dtype.type(1 - beta1)  # as _k.lerp rounds it
        near = abs(w) < 0.5
        flags = int(_fused.ADAM_MAXIMIZE * maximize | _fused.ADAM_DECAY * (weight_decay != 0)
                    | _fused.ADAM_DECOUPLED * decoupled | _fused.ADAM_LERP_NEAR * near)
        # each scalar rounded to the arrays' dtype, as NumPy rounds the Python floats of the chunked path
        s = np.array([1 - lr * weight_decay if decoupled else weight_decay, w if near else 1 - w, beta2,
                      1 - beta2, 0, eps, 0], dtype=dtype)
        if len(_FUSED_ARGS) > 64:  # (a scheduler changing lr at every step)
            _FUSED_ARGS.clear()
        args = _FUSED_ARGS[key] = (s, flags)
    return args


class Adam(Optimizer):
    """torch.optim.Adam. With ``decoupled_weight_decay=True`` (AdamW) the decay multiplies the parameter by
    ``1 - lr * weight_decay`` instead of adding ``weight_decay * p`` to the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        if not (all(isinstance(b, float) for b in betas[:2]) or all(isinstance(b, Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas[:2]):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (
        ("amsgrad", False), ("maximize", False), ("foreach", None), ("capturable", False), ("differentiable", False),
        ("fused", None), ("decoupled_weight_decay", False),
    )

    def _state_of(self, p, amsgrad):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros_like(p)
        return state

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            hp = self._hparams(group)
            if flat_step(self, group, self._state_keys(group), self._update, hp):
                continue
            for p in group["params"]:
                if p.grad is not None:
                    state = self._state_of(p, group["amsgrad"])
                    self._update(p._data, p.grad._data, state, hp)
                    bump_versions(p, state)
        return loss

    @staticmethod
    def _hparams(group):
        """The group's hyper-parameters as ``_update`` takes them (read at every step: schedulers change lr)."""
        return (_value(group["lr"]), group["eps"], group["weight_decay"], *(_value(b) for b in group["betas"]),
                group["amsgrad"], group["maximize"], group["decoupled_weight_decay"])

    @staticmethod
    def _state_keys(group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    @staticmethod
    def _update(p, grad, state, hp):
        """One Adam update, in place on arrays: ``p`` is a parameter's storage or a group's flat buffer.
        Same operations, in the same order, as torch's single-tensor Adam; elementwise, chunk by chunk, or in
        one fused loop with the same float operations when numba is installed (``ember._fused``)."""
        lr, eps, weight_decay, beta1, beta2, amsgrad, maximize, decoupled = hp
        step_t = state["step"]._data
        step_t.fill(float(step_t) + 1)  # (the sum of two integers is exact; fill rounds it as += would)
        step = float(step_t)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size, bias_correction2_sqrt = lr / bias_correction1, bias_correction2 ** 0.5
        scalars = (lr, eps, weight_decay, beta1, beta2, maximize, decoupled, step_size, bias_correction2_sqrt)
        max_sq = state["max_exp_avg_sq"]._data if amsgrad else None
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        kernels = _fused.kernels()
        if kernels is not None and not amsgrad and _fused.fusable(p, grad, m, v):
            s, flags = _fused_args(hp, p.dtype)
            s = s.copy()  # (another thread may be filling the cached one)
            s[4], s[6] = bias_correction2_sqrt, -step_size  # (rounded to the dtype, as NumPy rounds them)
            if p.ndim != 1 or grad.ndim != 1 or m.ndim != 1 or v.ndim != 1:  # (flat buffers already are)
                p, grad, m, v = p.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1)
            kernels.adam(p, grad, m, v, s, flags)
            return
        _k.for_chunks(Adam._apply, (p, grad, m, v, max_sq), scalars)

    @staticmethod
    def _apply(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scalars):
        lr, eps, weight_decay, beta1, beta2, maximize, decoupled, step_size, bias_correction2_sqrt = scalars
        if maximize:
            grad = np.negative(grad)
        if weight_decay != 0:
            if decoupled:
                _k.imul(p, 1 - lr * weight_decay)
            else:
                grad = decayed(grad, p, weight_decay)
        _k.lerp(exp_avg, grad, 1 - beta1)
        _k.imul(exp_avg_sq, beta2)
        _k.addcmul(exp_avg_sq, grad, grad, 1 - beta2)
        if max_exp_avg_sq is not None:
            _k.imaximum(max_exp_avg_sq, exp_avg_sq)
            denom = np.sqrt(max_exp_avg_sq)
        else:
            denom = np.sqrt(exp_avg_sq)
        denom = np.asarray(denom)  # (a 0-d input gives a NumPy scalar)
        _k.idiv(denom, bias_correction2_sqrt)
        _k.iadd(denom, eps)
        _k.addcdiv(p, exp_avg, denom, -step_size)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay (default ``weight_decay=1e-2``)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
