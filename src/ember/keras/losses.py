"""Losses with Keras's names, argument order ``(y_true, y_pred)`` and formulas.

A loss function returns one value per sample (the mean, or for cross-entropies the sum, over the last axis);
a ``Loss`` object applies ``sample_weight`` and reduces with ``'sum_over_batch_size'`` (sum / number of values),
``'sum'`` or ``None``. Probabilities are clipped to [1e-7, 1 - 1e-7] before logarithms, as Keras does.
"""
import math

import numpy as np

from .. import ops
from ..nn import functional as F
from . import backend
from ._tree import to_tensor

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "Huber", "Hinge", "KLDivergence", "Poisson", "LogCosh", "CosineSimilarity",
           "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "huber", "hinge", "kl_divergence", "poisson", "log_cosh",
           "cosine_similarity", "get", "serialize"]

_EPS = backend.EPSILON


def align(y_true, y_pred):
    """Tensors of equal shape: y_true cast to y_pred's dtype, a trailing size-1 dim added/removed as Keras
    (``squeeze_or_expand_to_same_rank``)."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true)
    if y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    if y_true.dim() == y_pred.dim() - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.unsqueeze(-1)
    elif y_pred.dim() == y_true.dim() - 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        try:
            ok = np.broadcast_shapes(tuple(y_true.shape), tuple(y_pred.shape)) == tuple(y_pred.shape)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"y_true and y_pred have incompatible shapes: y_true.shape={tuple(y_true.shape)}, "
                             f"y_pred.shape={tuple(y_pred.shape)}")
    return y_true, y_pred


def _clip(p):
    return ops.clamp(p, _EPS, 1.0 - _EPS)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    d = y_pred - y_true
    return ops.mean(d * d, dim=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.clamp(ops.abs(y_true), min=_EPS))
    return 100.0 * ops.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    d = ops.log(ops.clamp(y_pred, min=_EPS) + 1.0) - ops.log(ops.clamp(y_true, min=_EPS) + 1.0)
    return ops.mean(d * d, dim=-1)


def _smooth_binary(y_true, label_smoothing):
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = align(y_true, y_pred)
    y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = _clip(y_pred)
        values = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.mean(values, dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true).to(y_pred.dtype)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"categorical_crossentropy: y_true shape {tuple(y_true.shape)} must equal y_pred shape "
                         f"{tuple(y_pred.shape)} (one-hot labels; for integer labels use "
                         "sparse_categorical_crossentropy)")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        logp = F.log_softmax(y_pred, dim=axis)
    else:
        logp = ops.log(_clip(y_pred / ops.sum(y_pred, dim=axis, keepdim=True)))
    return -ops.sum(y_true * logp, dim=axis)


def _sparse_labels(y_true, y_pred, axis, what):
    labels = to_tensor(y_true)
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    if labels.dim() != y_pred.dim() - 1:
        raise ValueError(f"{what}: labels of shape {tuple(labels.shape)} do not fit predictions of shape "
                         f"{tuple(y_pred.shape)} (expected integer class indices of shape {tuple(y_pred.shape[:-1])})")
    data = labels._data
    if data.dtype.kind == "f":
        if data.size and not np.all(data == np.round(data)):
            raise ValueError(f"{what}: labels must be integer class indices, got non-integer values")
        labels = labels.long()
        data = labels._data
    n_classes = y_pred.shape[axis]
    if data.size and (data.min() < 0 or data.max() >= n_classes):
        bad = int(data.min()) if data.min() < 0 else int(data.max())
        raise ValueError(f"{what}: received a label value of {bad} which is outside the valid range of [0, "
                         f"{n_classes - 1}] for {n_classes} classes (the last dim of y_pred)")
    return labels.long()


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    y_pred = to_tensor(y_pred)
    labels = _sparse_labels(y_true, y_pred, axis, "sparse_categorical_crossentropy")
    if from_logits:
        logp = F.log_softmax(y_pred, dim=axis)
    else:
        logp = ops.log(_clip(y_pred / ops.sum(y_pred, dim=axis, keepdim=True)))
    return -ops.gather(logp, -1, labels.unsqueeze(-1)).squeeze(-1)


def huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = align(y_true, y_pred)
    err = ops.abs(y_pred - y_true)
    quadratic = ops.clamp(err, max=delta)
    linear = err - quadratic
    return ops.mean(0.5 * quadratic * quadratic + delta * linear, dim=-1)


def hinge(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    t = y_true._data
    if t.size and np.all((t == 0) | (t == 1)):  # Keras turns {0, 1} labels into {-1, 1}
        y_true = 2.0 * y_true - 1.0
    return ops.mean(ops.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def kl_divergence(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    t = ops.clamp(y_true, _EPS, 1.0)
    p = ops.clamp(y_pred, _EPS, 1.0)
    return ops.sum(t * ops.log(t / p), dim=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + _EPS), dim=-1)


def log_cosh(y_true, y_pred):
    y_true, y_pred = align(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = align(y_true, y_pred)
    return -ops.sum(F.normalize(y_true, dim=axis) * F.normalize(y_pred, dim=axis), dim=axis)


_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "none", None)


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Apply ``sample_weight`` (broadcast over trailing dims) and reduce as Keras."""
    if sample_weight is not None:
        sw = to_tensor(sample_weight).to(values.dtype)
        while sw.dim() > values.dim() and sw.shape[-1] == 1:
            sw = sw.squeeze(-1)
        while sw.dim() < values.dim():
            sw = sw.unsqueeze(-1)
        values = values * sw
    if reduction in (None, "none"):
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    return total / max(values.numel(), 1)


class Loss:
    """Base class: ``call(y_true, y_pred)`` returns per-sample values; calling the object reduces them."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}. Accepted: "
                             f"{[r for r in _REDUCTIONS if r is not None]} or None")
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce_values(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss around a function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        values = self.fn(y_true, y_pred, **self._fn_kwargs)
        return to_tensor(values)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def _loss_class(class_name, fn, default_name, params=()):
    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, **kwargs):
        extra = dict(zip(params, args))
        extra.update({k: kwargs.pop(k) for k in list(kwargs) if k in params})
        if kwargs:
            raise TypeError(f"{class_name}() got unexpected keyword arguments {sorted(kwargs)}")
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, **extra)

    def from_config(cls, config):
        return cls(**config)

    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__module__": __name__,
                                                      "from_config": classmethod(from_config),
                                                      "__doc__": f"Loss object for ``{fn.__name__}``."})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                          "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                          "mean_squared_logarithmic_error")
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
                                 ("from_logits", "label_smoothing", "axis"))
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      "categorical_crossentropy", ("from_logits", "label_smoothing", "axis"))
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                            "sparse_categorical_crossentropy", ("from_logits", "ignore_class"))
Huber = _loss_class("Huber", huber, "huber_loss", ("delta",))
Hinge = _loss_class("Hinge", hinge, "hinge")
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _loss_class("Poisson", poisson, "poisson")
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh")
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity", ("axis",))

_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error, "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "binary_crossentropy": binary_crossentropy, "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy, "huber": huber, "huber_loss": huber,
    "hinge": hinge, "kl_divergence": kl_divergence, "kld": kl_divergence, "KLD": kl_divergence,
    "poisson": poisson, "log_cosh": log_cosh, "logcosh": log_cosh, "cosine_similarity": cosine_similarity,
}
_CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Huber, Hinge, KLDivergence, Poisson,
    LogCosh, CosineSimilarity)}
_CLASS_BY_FUNCTION = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy, sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    huber: Huber, hinge: Hinge, kl_divergence: KLDivergence, poisson: Poisson, log_cosh: LogCosh,
    cosine_similarity: CosineSimilarity,
}


def get(identifier):
    """A Loss object for a name ('mse'), a class name, a config dict, a Loss, or a function
    ``fn(y_true, y_pred)``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            fn = _FUNCTIONS[identifier]
            return _CLASS_BY_FUNCTION[fn](name=identifier if identifier in ("mse", "mae") else fn.__name__)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown loss function: {identifier!r}. Accepted: {sorted(_FUNCTIONS)} or a Loss class "
                         f"name {sorted(_CLASSES)}, or a callable fn(y_true, y_pred)")
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown loss class {identifier.get('class_name')!r}; accepted: {sorted(_CLASSES)}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _CLASS_BY_FUNCTION.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r} (expected a name such as 'mse', a Loss "
                     "or a callable)")


def serialize(loss):
    if type(loss).__name__ in _CLASSES:
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    raise ValueError(f"cannot serialize loss {loss!r}: only ember.keras.losses classes and names are saved")
