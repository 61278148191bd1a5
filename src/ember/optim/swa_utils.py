"""Stochastic Weight Averaging and EMA of weights (``torch.optim.swa_utils``).

``AveragedModel`` keeps a copy of a model whose parameters are a running average (equal weights, SWA) or an
exponential moving average (EMA) of the model's; ``SWALR`` anneals each group's lr to a constant ``swa_lr``;
``update_bn`` recomputes BatchNorm statistics for the averaged weights with one pass over the data.

``AveragedModel`` is an ``nn.Module`` (it is called, saved and passed to ``update_bn`` like the model it
averages), so this is the one module of ``optim`` that imports ``nn`` (an exception declared in pyproject.toml).
"""
import itertools
import math
from copy import deepcopy

from .. import nn
from .._dtype import long
from .._tensor import Tensor, tensor
from ..autograd.grad_mode import no_grad
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """In-place EMA over lists of tensors: ``ema = lerp(ema, current, 1 - decay)``."""
    _check_decay(decay)

    def ema_update(ema_params, current_params, _num_averaged):
        with no_grad():
            if ema_params[0].is_floating_point():
                for p_ema, p in zip(ema_params, current_params):
                    p_ema.lerp_(p, 1 - decay)
            else:
                for p_ema, p in zip(ema_params, current_params):
                    p_ema.copy_(p_ema * decay + p * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """In-place equal-weight running mean over lists of tensors: ``avg = lerp(avg, current, 1 / (n + 1))``."""

    def swa_update(averaged_params, current_params, num_averaged):
        with no_grad():
            if averaged_params[0].is_floating_point():
                weight = 1 / (num_averaged + 1)
                for p_avg, p in zip(averaged_params, current_params):
                    p_avg.lerp_(p, weight)
            else:
                for p_avg, p in zip(averaged_params, current_params):
                    p_avg.add_((p - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """EMA of one tensor: returns ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """Running mean of one tensor: returns ``avg + (current - avg) / (n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(nn.Module):
    """A deep copy of ``model`` whose parameters (and buffers, with ``use_buffers``) are averaged by
    ``update_parameters(model)``: equal-weight mean by default, or ``avg_fn`` (one tensor at a time) or
    ``multi_avg_fn`` (lists of tensors, in place). ``n_averaged`` counts the updates."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=long))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        if self.use_buffers:
            ours = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        n = self.n_averaged
        first = int(n.item()) == 0
        with no_grad():
            pairs = []
            for p_avg, p in zip(ours, theirs):
                p = p.detach()
                if first:
                    p_avg.copy_(p)
                pairs.append((p_avg, p))
            if not first:
                if self.multi_avg_fn is not None:
                    groups = {}  # by dtype, in first-seen order (torch groups by device and dtype)
                    for p_avg, p in pairs:
                        group = groups.setdefault(p_avg.dtype, ([], []))
                        group[0].append(p_avg)
                        group[1].append(p)
                    for avg_list, current_list in groups.values():
                        self.multi_avg_fn(avg_list, current_list, n)
                else:  # (with no function given: the equal-weight mean, torch's path for CPU tensors)
                    avg_fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                    for p_avg, p in pairs:
                        p_avg.copy_(avg_fn(p_avg.detach(), p, n))
            if not self.use_buffers:  # buffers (BatchNorm statistics) follow the model's
                for b_avg, b in zip(self.module.buffers(), model.buffers()):
                    b_avg.copy_(b.detach())
            self.n_averaged += 1


def update_bn(loader, model, device=None):
    """Reset every BatchNorm's running statistics and recompute them as plain averages over one pass of
    ``loader`` (batches, or tuples/lists whose first item is the input) in train mode."""
    batch_norm = nn.modules.normalization._BatchNorm
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, batch_norm):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None and isinstance(batch, Tensor):
                batch = batch.to(device)
            model(batch)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr from its current value to ``swa_lr`` over ``anneal_epochs`` steps (``"cos"`` or
    ``"linear"``), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The lr the previous step annealed from (inverting ``lr = swa_lr * alpha + lr0 * (1 - alpha)``)."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, strategy):
        self._anneal_strategy = strategy
        self.anneal_func = self._cosine_anneal if strategy == "cos" else self._linear_anneal

    def get_lr(self):
        self._warn_if_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        start_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, start_lrs)]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
