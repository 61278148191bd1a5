"""Adamax: Adam with the infinity norm (a running maximum of |g|) in place of the second moment."""
import numpy as np

from .. import _kernels as _k
from ..ops import zeros_like
from ._flat import bump_versions, decayed, flat_step
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonneg, _evaluate_closure, _step_tensor,
                        _use_grad, _value)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """torch.optim.Adamax: ``m = lerp(m, g, 1 - beta1)``; ``u = max(beta2 * u, |g| + eps)``;
    ``p -= lr / (1 - beta1^t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def _state_of(self, p):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["exp_avg"] = zeros_like(p)
            state["exp_inf"] = zeros_like(p)
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
                    state = self._state_of(p)
                    self._update(p._data, p.grad._data, state, hp)
                    bump_versions(p, state)
        return loss

    @staticmethod
    def _hparams(group):
        """The group's hyper-parameters as ``_update`` takes them (read at every step: schedulers change lr)."""
        beta1, beta2 = (_value(b) for b in group["betas"])
        return (_value(group["lr"]), beta1, beta2, group["eps"], group["weight_decay"], group["maximize"])

    @staticmethod
    def _state_keys(group):
        return ("exp_avg", "exp_inf")

    @staticmethod
    def _update(p, grad, state, hp):
        """One Adamax update, in place on arrays (a parameter's storage or a group's flat buffer), in the order
        of torch's single-tensor Adamax."""
        lr, beta1, beta2, eps, weight_decay, maximize = hp
        step_t = state["step"]._data
        step_t.fill(float(step_t) + 1)
        clr = lr / (1 - beta1 ** float(step_t))
        _k.for_chunks(Adamax._apply, (p, grad, state["exp_avg"]._data, state["exp_inf"]._data),
                      beta1, beta2, eps, weight_decay, maximize, clr)

    @staticmethod
    def _apply(p, grad, exp_avg, exp_inf, beta1, beta2, eps, weight_decay, maximize, clr):
        if maximize:
            grad = np.negative(grad)
        if weight_decay != 0:
            grad = decayed(grad, p, weight_decay)
        _k.lerp(exp_avg, grad, 1 - beta1)
        _k.imul(exp_inf, beta2)
        bound = np.abs(grad)
        bound += eps  # (a NumPy scalar for 0-d arrays: rebound, still in the arrays' dtype)
        _k.imaximum(exp_inf, bound)
        _k.addcdiv(p, exp_avg, exp_inf, -clr)
