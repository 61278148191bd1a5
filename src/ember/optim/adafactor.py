"""Adafactor: Adam-like steps with a factored second moment (row and column averages for matrices)."""
import numpy as np

from .. import _kernels as _k
from ..ops import zeros, zeros_like
from ._flat import bump_versions
from .optimizer import Optimizer, _evaluate_closure, _step_tensor, _use_grad, _value

__all__ = ["Adafactor"]


def _l2(x, axis=None):
    """The 2-norm (over ``axis``, kept), accumulated in the array's dtype."""
    if axis is None:
        return np.sqrt(np.vdot(x, x)) if x.ndim else np.abs(x)
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))


class Adafactor(Optimizer):
    """torch.optim.Adafactor. A parameter with two or more dimensions keeps ``row_var`` (mean of g^2 over the
    last dim) and ``col_var`` (over the second-to-last); vectors keep a full ``variance``. The step is
    ``min(lr, 1/sqrt(t)) * max(eps2, RMS(p))`` times the update ``g / sqrt(var)``, whose RMS is clipped at ``d``."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        from .._tensor import Tensor

        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (("foreach", None), ("maximize", False))

    def _state_of(self, p):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            grad = p.grad
            if grad.dim() > 1:
                state["row_var"] = zeros(grad.shape[:-1] + (1,), dtype=grad.dtype)
                state["col_var"] = zeros(grad.shape[:-2] + (1,) + grad.shape[-1:], dtype=grad.dtype)
            else:
                state["variance"] = zeros_like(grad)
        return state

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, beta2_decay, d = _value(group["lr"]), group["beta2_decay"], group["d"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            eps1, eps2 = group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if eps1 is None:  # (as torch: the first parameter's dtype then holds for the group)
                    eps1 = float(np.finfo(p._data.dtype).eps)
                state = self._state_of(p)
                self._update(p._data, p.grad._data, state, lr, beta2_decay, eps1, eps2, d, weight_decay, maximize)
                bump_versions(p, state)
        return loss

    @staticmethod
    def _update(param, grad, state, lr, beta2_decay, eps1, eps2, d, weight_decay, maximize):
        if maximize:
            grad = np.negative(grad)
        step_t = state["step"]._data
        step_t.fill(float(step_t) + 1)
        step = float(step_t)
        one_minus_beta2 = step ** beta2_decay
        rho = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, float(_l2(param)) / (param.size ** 0.5)) * rho
        if weight_decay != 0:
            _k.imul(param, 1 - lr * weight_decay)
        if grad.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            row_mean = np.square(_l2(grad, -1))
            row_mean /= grad.shape[-1]
            _k.lerp(row_var, row_mean, one_minus_beta2)
            col_mean = np.square(_l2(grad, -2))
            col_mean /= grad.shape[-2]
            _k.lerp(col_var, col_mean, one_minus_beta2)
            var_estimate = np.matmul(row_var, col_var)
            var_estimate /= np.maximum(np.mean(row_var, axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            _k.lerp(variance, np.asarray(grad * grad), one_minus_beta2)
            var_estimate = np.array(variance, copy=True)
        update = np.maximum(var_estimate, eps1 * eps1)
        update = np.divide(1, np.sqrt(update), dtype=update.dtype)
        update *= grad
        denom = max(1.0, float(_l2(update)) / ((update.size ** 0.5) * d))
        _k.iadd(param, update * (-alpha / denom))
