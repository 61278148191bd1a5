"""Keras optimizers (``Adam(learning_rate=1e-3)``, ``'adam'``) running on ember.optim, with Keras's defaults.

A Keras optimizer is built on the model's trainable weights at the first training step; it then owns an
``ember.optim`` optimizer (``.torch_optimizer``). ``learning_rate`` reads and writes that optimizer's param
groups, so callbacks such as ReduceLROnPlateau change the rate of the running optimizer. Differences from Keras
are those of the ember.optim update rules: Adam and RMSprop add ``epsilon`` outside the square root (torch's
form), and Adam's epsilon is not bias-corrected; with Keras's small default epsilon (1e-7) the updates agree to
float32 precision except in the first steps of weights whose gradients are near zero.
"""
import math

from .. import optim
from ..autograd.function import _Hooks
from ..autograd.grad_mode import no_grad
from ..nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Nadam", "get", "serialize",
           "schedules"]


class _Schedules:
    """``keras.optimizers.schedules``: learning rates as functions of the step count."""

    class LearningRateSchedule:
        def __call__(self, step):
            raise NotImplementedError

        def get_config(self):
            return {}

    class ExponentialDecay(LearningRateSchedule):
        def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
            self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), int(decay_steps)
            self.decay_rate, self.staircase = float(decay_rate), bool(staircase)

        def __call__(self, step):
            p = step / self.decay_steps
            return self.initial_learning_rate * self.decay_rate ** (math.floor(p) if self.staircase else p)

        def get_config(self):
            return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                    "decay_rate": self.decay_rate, "staircase": self.staircase}

    class CosineDecay(LearningRateSchedule):
        def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None, warmup_target=None,
                     warmup_steps=0):
            self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), int(decay_steps)
            self.alpha = float(alpha)
            self.warmup_target, self.warmup_steps = warmup_target, int(warmup_steps)

        def __call__(self, step):
            if self.warmup_target is not None and step < self.warmup_steps:
                return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * \
                    step / self.warmup_steps
            start = self.warmup_target if self.warmup_target is not None else self.initial_learning_rate
            t = min(step - self.warmup_steps, self.decay_steps) / self.decay_steps
            return start * ((1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * t)) + self.alpha)

        def get_config(self):
            return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                    "alpha": self.alpha, "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}

    class PiecewiseConstantDecay(LearningRateSchedule):
        def __init__(self, boundaries, values, name=None):
            if len(values) != len(boundaries) + 1:
                raise ValueError("PiecewiseConstantDecay: values must have one more element than boundaries")
            self.boundaries, self.values = list(boundaries), list(values)

        def __call__(self, step):
            for boundary, value in zip(self.boundaries, self.values):
                if step <= boundary:
                    return value
            return self.values[-1]

        def get_config(self):
            return {"boundaries": self.boundaries, "values": self.values}


schedules = _Schedules


class Optimizer:
    """Base of the Keras optimizers: Keras's arguments, an ember.optim optimizer underneath."""

    _defaults = {}
    _decay_in_optimizer = False  # True when the ember.optim optimizer applies the (decoupled) weight decay

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        unknown = set(kwargs) - {"use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                                 "gradient_accumulation_steps", "jit_compile"}
        if unknown:
            raise ValueError(f"Argument(s) not recognized: {sorted(unknown)} (optimizer {type(self).__name__})")
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set.")
        self.name = name or type(self).__name__.lower()
        self._schedule = learning_rate if isinstance(learning_rate, schedules.LearningRateSchedule) else None
        self._lr = float(self._schedule(0) if self._schedule else learning_rate)
        if self._lr < 0:
            raise ValueError(f"learning_rate must be >= 0, got {self._lr}")
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.torch_optimizer = None
        self.iterations = 0
        self._variables = []

    @property
    def built(self):
        return self.torch_optimizer is not None

    def build(self, variables):
        """Create the ember.optim optimizer over ``variables`` (the model's trainable weights)."""
        self._variables = list(variables)
        self.torch_optimizer = self._make(self._variables, self._lr)

    def _make(self, params, lr):
        raise NotImplementedError

    @property
    def learning_rate(self):
        if self.torch_optimizer is not None:
            return float(self.torch_optimizer.param_groups[0]["lr"])
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule):
            self._schedule = value
            value = value(self.iterations)
        self._lr = float(value)
        if self.torch_optimizer is not None:
            for group in self.torch_optimizer.param_groups:
                group["lr"] = self._lr

    lr = learning_rate

    @property
    def variables(self):
        """The optimizer's state tensors (moments, accumulators)."""
        if self.torch_optimizer is None:
            return []
        return [v for state in self.torch_optimizer.state.values() for v in state.values()
                if hasattr(v, "shape") and len(v.shape) > 0]

    def _clip(self, params):
        if self.clipvalue is not None:
            clip_grad_value_(params, self.clipvalue)
        elif self.global_clipnorm is not None:
            clip_grad_norm_(params, self.global_clipnorm)
        elif self.clipnorm is not None:
            for p in params:
                clip_grad_norm_([p], self.clipnorm)

    def step(self):
        """One update of the built variables from their ``.grad``."""
        if _Hooks.on_optimizer_step is not None:  # compiled train steps call this whole method (schedule,
            handled, result = _Hooks.on_optimizer_step(self, None)  # clipping, counters) eagerly
            if handled:
                return result
        if self._schedule is not None:
            self.learning_rate = self._schedule(self.iterations)
        params = [p for p in self._variables if p.grad is not None]
        self._clip(params)
        if self.weight_decay and not self._decay_in_optimizer:
            with no_grad():
                for p in params:
                    p.mul_(1.0 - self.learning_rate * self.weight_decay)
        self.torch_optimizer.step()
        self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Keras's ``apply_gradients(zip(grads, vars))``: set each variable's gradient, then step."""
        pairs = list(grads_and_vars)
        variables = [v for _, v in pairs]
        if not self.built:
            self.build(variables)
        for g, v in pairs:
            v.grad = g
        self.step()

    def apply(self, grads, trainable_variables=None):
        self.apply_gradients(zip(grads, trainable_variables if trainable_variables is not None
                                 else self._variables))

    def get_config(self):
        config = {"name": self.name, "learning_rate": self._lr if self._schedule is None else None,
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                  "global_clipnorm": self.global_clipnorm}
        config.update({k: getattr(self, k) for k in self._defaults})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if v is not None or k in cls._defaults})

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self.learning_rate}>"


class SGD(Optimizer):
    """Keras SGD: learning_rate 0.01, momentum 0, nesterov False."""

    _defaults = {"momentum": 0.0, "nesterov": False}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _make(self, params, lr):
        return optim.SGD(params, lr=lr, momentum=self.momentum, nesterov=self.nesterov)


class Adam(Optimizer):
    """Keras Adam: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), amsgrad

    def _make(self, params, lr):
        return optim.Adam(params, lr=lr, betas=(self.beta_1, self.beta_2), eps=self.epsilon, amsgrad=self.amsgrad)


class AdamW(Adam):
    """Keras AdamW: Adam with decoupled weight decay 0.004 (``w -= lr * weight_decay * w`` before each update)."""

    _decay_in_optimizer = True

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)

    def _make(self, params, lr):
        return optim.AdamW(params, lr=lr, betas=(self.beta_1, self.beta_2), eps=self.epsilon,
                           weight_decay=self.weight_decay or 0.0, amsgrad=self.amsgrad)


class RMSprop(Optimizer):
    """Keras RMSprop: learning_rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered False."""

    _defaults = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered

    def _make(self, params, lr):
        return optim.RMSprop(params, lr=lr, alpha=self.rho, eps=self.epsilon, momentum=self.momentum,
                             centered=self.centered)


class Adagrad(Optimizer):
    """Keras Adagrad: learning_rate 0.001, initial_accumulator_value 0.1, epsilon 1e-7."""

    _defaults = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def _make(self, params, lr):
        return optim.Adagrad(params, lr=lr, initial_accumulator_value=self.initial_accumulator_value,
                             eps=self.epsilon)


class Adadelta(Optimizer):
    """Keras Adadelta: learning_rate 0.001, rho 0.95, epsilon 1e-7."""

    _defaults = {"rho": 0.95, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _make(self, params, lr):
        return optim.Adadelta(params, lr=lr, rho=self.rho, eps=self.epsilon)


class Nadam(Optimizer):
    """Keras Nadam: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _make(self, params, lr):
        return optim.NAdam(params, lr=lr, betas=(self.beta_1, self.beta_2), eps=self.epsilon)


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "nadam": Nadam}
_CLASSES = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier):
    """An optimizer from a name ('adam'), a class name, a config dict or an instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower()) if identifier.lower() in _BY_NAME else _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Accepted names: "
                             f"{sorted(_BY_NAME)} (case-insensitive)")
        return cls()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown optimizer class {identifier.get('class_name')!r}; accepted: {sorted(_CLASSES)}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, optim.Optimizer):
        return _Wrapped(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r} (expected a name such as 'adam' or a "
                     "keras optimizer)")


class _Wrapped(Optimizer):
    """An ember.optim optimizer the user built himself (over the model's parameters)."""

    def __init__(self, torch_optimizer):
        super().__init__(torch_optimizer.param_groups[0]["lr"])
        self.torch_optimizer = torch_optimizer
        self._variables = [p for g in torch_optimizer.param_groups for p in g["params"]]

    def build(self, variables):
        pass


def serialize(optimizer):
    if type(optimizer).__name__ in _CLASSES:
        return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    raise ValueError(f"cannot serialize optimizer {optimizer!r}")
