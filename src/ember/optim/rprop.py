"""Rprop: resilient backpropagation (per-element step sizes adapted from the sign of successive gradients)."""
import numpy as np

from .. import _kernels as _k
from ..ops import full_like, zeros_like
from ._flat import bump_versions, flat_step
from .optimizer import Optimizer, _check_lr, _evaluate_closure, _step_tensor, _use_grad, _value

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """torch.optim.Rprop: where ``g * prev > 0`` the step size grows by ``etaplus``, where it is ``< 0`` it
    shrinks by ``etaminus`` (and that gradient counts as 0), clamped to ``step_sizes``; ``p -= sign(g) * size``.
    ``lr`` is only the initial step size."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def _state_of(self, p, lr):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["prev"] = zeros_like(p)
            state["step_size"] = full_like(p.grad, lr)
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
                    state = self._state_of(p, _value(group["lr"]))
                    self._update(p._data, p.grad._data, state, hp)
                    bump_versions(p, state)
        return loss

    @staticmethod
    def _hparams(group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        return etaminus, etaplus, step_size_min, step_size_max, group["maximize"]

    @staticmethod
    def _state_keys(group):
        return ("prev", "step_size")

    @staticmethod
    def _update(p, grad, state, hp):
        """One Rprop update, in place on arrays (a parameter's storage or a group's flat buffer); every operation
        is exact (signs, products with the etas, clamping), so results are bitwise torch's."""
        etaminus, etaplus, step_size_min, step_size_max, maximize = hp
        step_t = state["step"]._data
        step_t.fill(float(step_t) + 1)
        prev, step_size = state["prev"]._data, state["step_size"]._data
        if maximize:
            grad = np.negative(grad)
        sign = np.atleast_1d(np.sign(grad * prev))  # (atleast_1d: boolean indexing needs an array)
        sign[sign > 0] = etaplus
        sign[sign < 0] = etaminus
        sign[sign == 0] = 1
        sign = sign.reshape(step_size.shape)
        _k.imul(step_size, sign)
        _k.clip(step_size, step_size_min, step_size_max)
        grad = np.array(grad, copy=True)
        grad[sign == etaminus] = 0
        _k.addcmul(p, np.sign(grad), step_size, -1)
        _k.copy(prev, grad)
