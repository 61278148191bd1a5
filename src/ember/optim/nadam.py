"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""
from ..ops import inplace as _inplace
from ..ops import zeros_like
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonneg, _decayed, _evaluate_closure,
                        _step_tensor, _use_grad, _value)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """torch.optim.NAdam: ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))``; the running product of the
    ``mu_t`` is kept in ``state['mu_product']`` (a scalar tensor, as torch)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        _check_nonneg(momentum_decay, "momentum_decay value")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    # keys a param group gets when an older state is restored (Optimizer.__setstate__)
    _group_defaults = (
        ("maximize", False), ("foreach", None), ("capturable", False), ("differentiable", False),
        ("decoupled_weight_decay", False),
    )

    @_use_grad
    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = _value(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = (_value(b) for b in group["betas"])
            momentum_decay, decoupled, maximize = (group["momentum_decay"], group["decoupled_weight_decay"],
                                                   group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _step_tensor(1.0)
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
                grad = -p.grad if maximize else p.grad
                state["step"] += 1
                step = state["step"].item()
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0:
                    if decoupled:
                        p.mul_(1 - lr * weight_decay)
                    else:
                        grad = _decayed(grad, p, weight_decay)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product *= mu  # rounded to the scalar dtype, as torch's tensor is
                _inplace.lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = _inplace.sqrt_(exp_avg_sq.div(bias_correction2)).add_(eps)
                mu_prod = mu_product.item()
                mu_product_next = mu_prod * mu_next
                p.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - mu_prod)))
                p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        return loss
