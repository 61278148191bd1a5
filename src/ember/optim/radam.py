"""RAdam: Adam with a rectified adaptive learning rate (plain momentum SGD while the variance is untrusted)."""
from ..ops import inplace as _inplace
from ..ops import sqrt, zeros_like
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonneg, _decayed, _evaluate_closure,
                        _step_tensor, _use_grad, _value)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """torch.optim.RAdam: when ``rho_t > 5`` the bias-corrected first moment is scaled by the adaptive rate
    ``sqrt(1 - beta2^t) / (sqrt(v) + eps)`` and the rectification term; otherwise it is applied as is."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (
        ("foreach", None), ("maximize", False), ("differentiable", False), ("decoupled_weight_decay", False),
        ("capturable", False),
    )

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = _value(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = (_value(b) for b in group["betas"])
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                grad = -p.grad if maximize else p.grad
                state["step"] += 1
                step = state["step"].item()
                if weight_decay != 0:
                    if decoupled:
                        p.mul_(1 - lr * weight_decay)
                    else:
                        grad = _decayed(grad, p, weight_decay)
                _inplace.lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = exp_avg / bias_correction1
                update.mul_(lr)
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive_lr = (bias_correction2 ** 0.5) / sqrt(exp_avg_sq).add_(eps)
                    update.mul_(adaptive_lr).mul_(rect)
                p.sub_(update)
        return loss
