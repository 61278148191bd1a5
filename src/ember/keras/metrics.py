"""Stateful metrics (``update_state`` / ``result`` / ``reset_state``) with Keras's names and formulas.

State is kept in NumPy (float64 accumulators) from detached predictions, so metrics never enter the autograd
graph. ``result()`` returns a 0-dim ember tensor (``float(m.result())`` works).
"""
import numpy as np

from .._tensor import from_numpy
from . import backend, losses
from ._tree import to_numpy

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "RootMeanSquaredError", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "AUC", "Precision",
           "Recall", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get"]


def _scalar(value):
    return from_numpy(np.asarray(value, dtype=np.float32))


def _weights(sample_weight, values):
    if sample_weight is None:
        return np.ones_like(values, dtype=np.float64)
    sw = np.asarray(to_numpy(sample_weight), dtype=np.float64)
    while sw.ndim > values.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    while sw.ndim < values.ndim:
        sw = sw[..., None]
    return np.broadcast_to(sw, values.shape)


class Metric:
    """Base class: subclasses accumulate in ``update_state`` and report in ``result``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.dtype = "float32"
        self.reset_state()

    def reset_state(self):
        pass

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """Weighted mean of all values passed to ``update_state``."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(to_numpy(values), dtype=np.float64)
        w = _weights(sample_weight, values)
        self.total += float(np.sum(values * w))
        self.count += float(np.sum(w))

    def result(self):
        return _scalar(self.total / self.count if self.count else 0.0)


class Sum(Metric):
    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(to_numpy(values), dtype=np.float64)
        self.total += float(np.sum(values * _weights(sample_weight, values)))

    def result(self):
        return _scalar(self.total)


class MeanMetricWrapper(Mean):
    """Weighted mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self.fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(to_numpy(values), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


# ---- accuracy functions (NumPy, per sample) -----------------------------------------------------------------
def _np_pair(y_true, y_pred):
    t, p = np.asarray(to_numpy(y_true)), np.asarray(to_numpy(y_pred))
    if t.ndim == p.ndim - 1 and p.shape[-1] == 1:
        t = t[..., None]
    elif p.ndim == t.ndim - 1 and t.shape[-1] == 1:
        t = t[..., 0]
    return t, p


def accuracy(y_true, y_pred):
    t, p = _np_pair(y_true, y_pred)
    return (t == p).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    t, p = _np_pair(y_true, y_pred)
    return np.mean((p > threshold) == (t > 0.5), axis=-1).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    t, p = np.asarray(to_numpy(y_true)), np.asarray(to_numpy(y_pred))
    return (np.argmax(t, -1) == np.argmax(p, -1)).astype(np.float32)


def _labels(y_true, y_pred):
    t = np.asarray(to_numpy(y_true))
    p = np.asarray(to_numpy(y_pred))
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    return t.astype(np.int64), p


def sparse_categorical_accuracy(y_true, y_pred):
    t, p = _labels(y_true, y_pred)
    return (np.argmax(p, -1) == t).astype(np.float32)


def _in_top_k(p, labels, k):
    target = np.take_along_axis(p, labels[..., None], -1)
    return (np.sum(p > target, axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    t, p = np.asarray(to_numpy(y_true)), np.asarray(to_numpy(y_pred))
    return _in_top_k(p, np.argmax(t, -1), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    t, p = _labels(y_true, y_pred)
    return _in_top_k(p, t, k)


def _wrapper_class(class_name, fn, default_name, params=()):
    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        extra = dict(zip(params, args))
        extra.update({k: kwargs.pop(k) for k in list(kwargs) if k in params})
        if kwargs:
            raise TypeError(f"{class_name}() got unexpected keyword arguments {sorted(kwargs)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **extra)

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__module__": __name__,
                                                    "__doc__": f"Mean of ``{fn.__name__}`` over all samples."})


def _detached(fn):
    def wrapped(y_true, y_pred, **kwargs):
        return to_numpy(fn(np.asarray(to_numpy(y_true)), _float(y_pred), **kwargs))

    wrapped.__name__ = fn.__name__
    return wrapped


def _float(y_pred):
    p = np.asarray(to_numpy(y_pred))
    return from_numpy(np.ascontiguousarray(p.astype(np.float32) if p.dtype != np.float32 else p))


MeanSquaredError = _wrapper_class("MeanSquaredError", _detached(losses.mean_squared_error), "mean_squared_error")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", _detached(losses.mean_absolute_error), "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper_class("MeanAbsolutePercentageError",
                                             _detached(losses.mean_absolute_percentage_error),
                                             "mean_absolute_percentage_error")
Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _wrapper_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", ("threshold",))
CategoricalAccuracy = _wrapper_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper_class("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                           "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                         "top_k_categorical_accuracy", ("k",))
SparseTopKCategoricalAccuracy = _wrapper_class("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                               "sparse_top_k_categorical_accuracy", ("k",))
BinaryCrossentropy = _wrapper_class("BinaryCrossentropy", _detached(losses.binary_crossentropy),
                                    "binary_crossentropy", ("from_logits", "label_smoothing"))
CategoricalCrossentropy = _wrapper_class("CategoricalCrossentropy", _detached(losses.categorical_crossentropy),
                                         "categorical_crossentropy", ("from_logits", "label_smoothing"))
SparseCategoricalCrossentropy = _wrapper_class("SparseCategoricalCrossentropy",
                                               _detached(losses.sparse_categorical_crossentropy),
                                               "sparse_categorical_crossentropy", ("from_logits",))


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np_pair(y_true, y_pred)
        super().update_state(np.square(p.astype(np.float64) - t), sample_weight)

    def result(self):
        return _scalar(np.sqrt(self.total / self.count) if self.count else 0.0)


# ---- confusion-matrix metrics ---------------------------------------------------------------------------------
def _binary_arrays(y_true, y_pred, sample_weight, from_logits=False):
    t, p = _np_pair(y_true, y_pred)
    p = p.astype(np.float64)
    if from_logits:
        p = 1.0 / (1.0 + np.exp(-p))
    t = np.broadcast_to(t, p.shape)
    w = _weights(sample_weight, p)
    return t.reshape(-1) > 0.5, p.reshape(-1), w.reshape(-1)


class _Confusion(Metric):
    """True/false positive/negative counts at one or more thresholds."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None:
            raise ValueError(f"{type(self).__name__}: top_k is not supported by ember.keras")
        t = [0.5] if thresholds is None else ([thresholds] if np.isscalar(thresholds) else list(thresholds))
        self.thresholds = np.asarray(t, dtype=np.float64)
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.class_id is not None:
            y_true = np.asarray(to_numpy(y_true))[..., self.class_id]
            y_pred = np.asarray(to_numpy(y_pred))[..., self.class_id]
        labels, preds, w = _binary_arrays(y_true, y_pred, sample_weight)
        above = preds[None, :] > self.thresholds[:, None]
        self.tp += (above & labels) @ w
        self.fp += (above & ~labels) @ w
        self.fn += (~above & labels) @ w
        self.tn += (~above & ~labels) @ w

    def get_config(self):
        return {**super().get_config(), "thresholds": self.thresholds.tolist(), "class_id": self.class_id}


def _ratio(a, b):
    return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


class Precision(_Confusion):
    """tp / (tp + fp) for predictions above ``thresholds`` (default 0.5)."""

    def result(self):
        r = _ratio(self.tp, self.tp + self.fp)
        return _scalar(r[0] if len(r) == 1 else r)


class Recall(_Confusion):
    """tp / (tp + fn) for predictions above ``thresholds`` (default 0.5)."""

    def result(self):
        r = _ratio(self.tp, self.tp + self.fn)
        return _scalar(r[0] if len(r) == 1 else r)


class AUC(_Confusion):
    """Area under the ROC (or PR) curve, from confusion counts at ``num_thresholds`` evenly spaced thresholds
    (Riemann sum; 'interpolation' uses trapezoids for ROC and Davis & Goadrich's interpolation for PR)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError("AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', got "
                             f"{summation_method!r}")
        if multi_label:
            raise ValueError("AUC: multi_label=True is not supported by ember.keras")
        if thresholds is None:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [-backend.EPSILON] + inner + [1.0 + backend.EPSILON]
        else:
            thresholds = [-backend.EPSILON] + sorted(thresholds) + [1.0 + backend.EPSILON]
        self.num_thresholds = len(thresholds)
        self.curve, self.summation_method, self.from_logits = curve, summation_method, from_logits
        super().__init__(thresholds=thresholds, name=name or "auc", dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-np.asarray(to_numpy(y_pred), dtype=np.float64)))
        super().update_state(y_true, y_pred, sample_weight)

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _scalar(self._pr_interpolated())
        if self.curve == "ROC":
            x, y = _ratio(fp, fp + tn), _ratio(tp, tp + fn)
        else:
            x, y = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return _scalar(np.sum((x[:-1] - x[1:]) * heights))

    def _pr_interpolated(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _ratio(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _ratio(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(np.where(ratio > 0, ratio, 1.0))
        return np.sum(_ratio(slope * (dtp + intercept * logs), np.maximum(tp[1:] + fn[1:], 0)))

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "from_logits": self.from_logits}


_BY_NAME = {
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError, "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError, "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy, "auc": AUC, "precision": Precision,
    "recall": Recall, "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values()) | {Accuracy}}
ACCURACY_NAMES = ("accuracy", "acc")


def accuracy_for(name, y_true_shape, y_pred_shape, loss=None):
    """The accuracy Keras picks for the string 'accuracy': from the loss when it says (binary / categorical /
    sparse cross-entropy), else from the shapes (last dim 1 -> binary; labels of lower rank -> sparse)."""
    loss_name = getattr(loss, "fn", None)
    loss_name = getattr(loss_name, "__name__", None)
    if loss_name == "binary_crossentropy":
        cls = BinaryAccuracy
    elif loss_name == "sparse_categorical_crossentropy":
        cls = SparseCategoricalAccuracy
    elif loss_name == "categorical_crossentropy":
        cls = CategoricalAccuracy
    elif y_pred_shape[-1] == 1:
        cls = BinaryAccuracy
    elif len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        cls = SparseCategoricalAccuracy
    else:
        cls = CategoricalAccuracy
    return cls(name=name)


def get(identifier):
    """A Metric for a name ('mae', 'auc'), a class name, a Metric, or a function ``fn(y_true, y_pred)``.
    ('accuracy' needs the data's shapes: see ``accuracy_for``.)"""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown metric function: {identifier!r}. Accepted: {sorted(_BY_NAME)} + "
                         f"{list(ACCURACY_NAMES)}, a Metric class name, or a callable fn(y_true, y_pred)")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    if isinstance(metric, Metric) and type(metric).__name__ in _CLASSES:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    raise ValueError(f"cannot serialize metric {metric!r}")
