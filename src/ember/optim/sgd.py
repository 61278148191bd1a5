"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay."""
import numpy as np

from .. import _fused
from .. import _kernels as _k
from .._tensor import _make
from ._flat import bump_versions, decayed, flat_step
from .optimizer import Optimizer, _check_lr, _check_nonneg, _evaluate_closure, _use_grad, _value

__all__ = ["SGD"]


class SGD(Optimizer):
    """torch.optim.SGD: ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step), then
    ``p -= lr * (g + momentum * b if nesterov else b)``; ``g`` includes ``weight_decay * p``."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonneg(momentum, "momentum value")
        _check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (
        ("nesterov", False), ("maximize", False), ("foreach", None), ("differentiable", False), ("fused", False),
    )

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            hp = self._hparams(group)
            if flat_step(self, group, self._state_keys(group), self._update, hp):
                continue
            for p in group["params"]:
                if p.grad is not None:
                    state = self.state[p] if group["momentum"] != 0 else None
                    self._update(p._data, p.grad._data, state, hp)
                    bump_versions(p, state)
        return loss

    @staticmethod
    def _hparams(group):
        """The group's hyper-parameters as ``_update`` takes them (read at every step: schedulers change lr)."""
        return (_value(group["lr"]), group["momentum"], group["dampening"], group["weight_decay"],
                group["nesterov"], group["maximize"])

    @staticmethod
    def _state_keys(group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    @staticmethod
    def _update(p, grad, state, hp):
        """One SGD update, in place on arrays: ``p`` is a parameter's storage or a group's flat buffer."""
        lr, momentum, dampening, weight_decay, nesterov, maximize = hp
        buf = state.get("momentum_buffer") if momentum != 0 else None
        if momentum != 0 and buf is None:  # first step: the buffer starts as a copy of the (decayed) gradient
            SGD._apply(p, grad, None, hp, state)
            return
        buf = None if buf is None else buf._data
        kernels = _fused.kernels()
        if kernels is not None and _fused.fusable(p, grad, buf):
            flags = (_fused.SGD_MAXIMIZE * maximize | _fused.SGD_DECAY * (weight_decay != 0)
                     | _fused.SGD_MOMENTUM * (momentum != 0) | _fused.SGD_DAMPEN * (dampening != 0)
                     | _fused.SGD_NESTEROV * nesterov)
            s = np.array([weight_decay, momentum, 1 - dampening, -lr], dtype=p.dtype)  # (rounded as NumPy does)
            buf_flat = p.reshape(-1) if buf is None else buf.reshape(-1)  # (a dummy without momentum)
            kernels.sgd(p.reshape(-1), grad.reshape(-1), buf_flat, s, int(flags))
            return
        _k.for_chunks(SGD._apply, (p, grad, buf), hp, state)

    @staticmethod
    def _apply(p, grad, buf, hp, state):
        lr, momentum, dampening, weight_decay, nesterov, maximize = hp
        if maximize:
            grad = np.negative(grad)
        if weight_decay != 0:
            grad = decayed(grad, p, weight_decay)
        if momentum != 0:
            if buf is None:
                buf = np.array(grad, copy=True)
                state["momentum_buffer"] = _make(buf)
            else:
                _k.imul(buf, momentum)
                _k.iadd(buf, grad if dampening == 0 else grad * (1 - dampening))
            grad = grad + buf * momentum if nesterov else buf
        _k.iadd(p, grad * -lr)
