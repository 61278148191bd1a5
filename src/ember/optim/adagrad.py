"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
from ..ops import full_like, sqrt
from .optimizer import (Optimizer, _check_lr, _check_nonneg, _decayed, _evaluate_closure, _step_tensor,
                        _use_grad, _value)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """torch.optim.Adagrad: ``sum += g * g``; ``p -= clr * g / (sqrt(sum) + eps)`` with
    ``clr = lr / (1 + (step - 1) * lr_decay)``. State is created for every parameter at construction."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonneg(lr_decay, "lr_decay value")
        _check_nonneg(weight_decay, "weight_decay value")
        _check_nonneg(initial_accumulator_value, "initial_accumulator_value value")
        _check_nonneg(eps, "epsilon value")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p, initial_accumulator_value):
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = full_like(p, initial_accumulator_value)
        return state

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (
        ("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None),
    )

    def share_memory(self):
        """No-op (ember has no multiprocessing shared memory); kept for API compatibility."""

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = _value(group["lr"]), group["lr_decay"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # a parameter added later with add_param_group
                    state = self._init_state(p, self.defaults["initial_accumulator_value"])
                step_t, state_sum = state["step"], state["sum"]
                step_t += 1
                step = step_t.item()
                grad = -p.grad if maximize else p.grad
                if weight_decay != 0:
                    grad = _decayed(grad, p, weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum.addcmul_(grad, grad, value=1)
                std = sqrt(state_sum).add_(eps)
                p.addcdiv_(grad, std, value=-clr)
        return loss
