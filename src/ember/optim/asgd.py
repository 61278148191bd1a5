"""ASGD: averaged stochastic gradient descent (SGD with a decaying step and a running average of the iterates)."""
import numpy as np

from .. import _kernels as _k
from .._tensor import tensor
from ..ops import zeros_like
from ._flat import bump_versions, decayed
from .optimizer import (Optimizer, _check_lr, _check_nonneg, _evaluate_closure, _scalar_dtype, _step_tensor,
                        _use_grad, _value)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """torch.optim.ASGD: ``p = p * (1 - lambd * eta) - eta * g``; ``ax`` averages the iterates once
    ``step > t0`` (``mu = 1 / max(1, step - t0)``); ``eta = lr / (1 + lambd * lr * step) ** alpha``.
    ``eta`` and ``mu`` are scalar tensors of the state, as in torch."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def _state_of(self, p, lr):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["eta"] = tensor(lr, dtype=_scalar_dtype())
            state["mu"] = _step_tensor(1.0)
            state["ax"] = zeros_like(p)
        return state

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _value(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p, lr)
                param, grad, ax = p._data, p.grad._data, state["ax"]._data
                step_t, eta_t, mu_t = state["step"]._data, state["eta"]._data, state["mu"]._data
                step_t.fill(float(step_t) + 1)
                if maximize:
                    grad = np.negative(grad)
                if weight_decay != 0:
                    grad = decayed(grad, param, weight_decay)
                eta = float(eta_t)
                _k.imul(param, 1 - lambd * eta)
                _k.iadd(param, grad * -eta)
                mu = mu_t[()]
                if mu != 1:
                    diff = np.subtract(param, ax)
                    diff *= mu  # (a scalar of the step dtype: rounds as torch's 0-dim tensor does)
                    _k.iadd(ax, diff)
                else:
                    _k.copy(ax, param)
                step = float(step_t)
                eta_t.fill(lr / ((1 + lambd * lr * step) ** alpha))
                mu_t.fill(1 / max(1, step - t0))
                bump_versions(p, state)
        return loss
