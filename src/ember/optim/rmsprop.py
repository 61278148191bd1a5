"""RMSprop: divide the gradient by a running root-mean-square (optionally centered, with momentum)."""
from ..ops import inplace as _inplace
from ..ops import sqrt, zeros_like
from .optimizer import (Optimizer, _check_lr, _check_nonneg, _decayed, _evaluate_closure, _step_tensor,
                        _use_grad, _value)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """torch.optim.RMSprop: ``v = alpha * v + (1 - alpha) * g^2``; with ``centered`` the running mean ``m`` of
    ``g`` is subtracted (``sqrt(v - m^2)``); ``momentum`` accumulates ``g / (sqrt(.) + eps)`` in a buffer."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_nonneg(momentum, "momentum value")
        _check_nonneg(weight_decay, "weight_decay value")
        _check_nonneg(alpha, "alpha value")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (
        ("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False), ("differentiable", False),
        ("capturable", False),
    )

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = _value(group["lr"]), group["alpha"], group["eps"]
            weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(p)
                    if centered:
                        state["grad_avg"] = zeros_like(p)
                grad = -p.grad if maximize else p.grad
                square_avg = state["square_avg"]
                state["step"] += 1
                if weight_decay != 0:
                    grad = _decayed(grad, p, weight_decay)
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if centered:
                    grad_avg = state["grad_avg"]
                    _inplace.lerp_(grad_avg, grad, 1 - alpha)
                    avg = square_avg.clone().addcmul_(grad_avg, grad_avg, value=-1)
                    _inplace.sqrt_(avg)
                else:
                    avg = sqrt(square_avg)
                avg.add_(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).addcdiv_(grad, avg)
                    p.add_(buf, alpha=-lr)
                else:
                    p.addcdiv_(grad, avg, value=-lr)
        return loss
