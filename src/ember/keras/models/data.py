"""Data for fit / evaluate / predict: NumPy arrays (or nested lists/dicts of them) cut into batches, or any
iterable of ``(x, y[, sample_weight])`` batches (an ember DataLoader, a generator)."""
import math

import numpy as np

from ..._tensor import Tensor
from ...random import numpy_rng
from .._tree import flatten, map_structure, to_tensor

__all__ = ["make_data", "train_validation_split", "unpack"]


def _as_array(x):
    if isinstance(x, Tensor):
        x = x.detach()._data
    a = np.asarray(x)
    if a.dtype == object:
        raise ValueError(f"cannot use data of mixed or ragged types as model input (got an object array of shape "
                         f"{a.shape}); give NumPy arrays of numbers")
    if a.dtype.kind == "f" and a.dtype != np.float32:
        a = a.astype(np.float32)
    elif a.dtype.kind in "iub" and a.dtype != np.int64 and a.dtype.kind != "b":
        a = a.astype(np.int64)
    if a.ndim == 0:
        raise ValueError(f"model data must have a batch dimension, got a scalar {a!r}")
    return a


def _is_arrays(x):
    """True for array data (array, tensor, nested lists of numbers, or lists/dicts of arrays)."""
    if x is None or isinstance(x, (np.ndarray, Tensor)):
        return True
    if isinstance(x, dict):
        return all(_is_arrays(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return True
    return False


def _structure(x):
    """Arrays for x: a list/tuple of arrays stays a list (several inputs); nested numbers become one array."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _as_array(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (np.ndarray, Tensor)) for v in x):
        return [_as_array(v) for v in x]
    return _as_array(x)


def _sizes(structure):
    return [len(a) for a in flatten(structure)] if structure is not None else []


def unpack(data):
    """(x, y, sample_weight) from a tuple of one to three elements, or x alone."""
    if isinstance(data, (tuple, list)) and 1 <= len(data) <= 3 and not all(
            isinstance(d, (int, float)) for d in data):
        return tuple(data) + (None,) * (3 - len(data))
    return data, None, None


def class_weight_to_sample_weight(y, class_weight):
    y = np.asarray(y)
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = np.round(labels).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight must contain all classes in the data. The classes {missing} exist in the data "
                         f"but not in class_weight ({sorted(class_weight)})")
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table[int(c)] for c in labels], dtype=np.float32)


class ArrayData:
    """Batches of (x, y, sample_weight) tensors from arrays, reshuffled each epoch when ``shuffle``."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, class_weight=None, steps=None):
        self.x, self.y = _structure(x), _structure(y)
        self.sample_weight = None if sample_weight is None else _as_array(sample_weight).astype(np.float32)
        sizes = {"x": _sizes(self.x), "y": _sizes(self.y),
                 "sample_weight": _sizes(self.sample_weight)}
        all_sizes = {s for v in sizes.values() for s in v}
        if len(all_sizes) > 1:
            detail = " ".join(f"'{k}' sizes: {', '.join(map(str, v))}" for k, v in sizes.items() if v)
            raise ValueError(f"Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                             f"samples. {detail}")
        self.n = all_sizes.pop() if all_sizes else 0
        if self.n == 0:
            raise ValueError("the data is empty (0 samples)")
        if class_weight is not None:
            if self.sample_weight is not None:
                raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same time.")
            if self.y is None or isinstance(self.y, (list, dict)):
                raise ValueError("`class_weight` is only supported for models with a single output and given y")
            self.sample_weight = class_weight_to_sample_weight(self.y, class_weight)
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.num_batches = math.ceil(self.n / self.batch_size)
        if steps is not None:
            self.num_batches = min(int(steps), self.num_batches) if steps > 0 else self.num_batches
        self.first_batch_size = min(self.batch_size, self.n)

    def take(self, idx):
        def pick(a):
            return to_tensor(np.ascontiguousarray(a[idx]))

        x = map_structure(pick, self.x)
        y = map_structure(pick, self.y) if self.y is not None else None
        sw = pick(self.sample_weight) if self.sample_weight is not None else None
        return x, y, sw

    def peek(self):
        """The inputs of the first batch (to build a model before training starts)."""
        return self.take(slice(0, self.batch_size))[0]

    def split(self, fraction):
        """(train, validation) as the first ``1 - fraction`` and the last ``fraction`` of the samples."""
        at = int(math.floor(self.n * (1.0 - fraction)))
        if at <= 0 or at >= self.n:
            raise ValueError(f"validation_split={fraction} leaves no samples for training or validation "
                             f"({self.n} samples)")

        def head(a):
            return a[:at]

        def tail(a):
            return a[at:]

        return [(map_structure(cut, self.x), map_structure(cut, self.y) if self.y is not None else None,
                 cut(self.sample_weight) if self.sample_weight is not None else None) for cut in (head, tail)]

    def __iter__(self):
        order = numpy_rng().permutation(self.n) if self.shuffle else np.arange(self.n)
        for step in range(self.num_batches):
            idx = order[step * self.batch_size:(step + 1) * self.batch_size]
            if not self.shuffle:
                idx = slice(step * self.batch_size, min((step + 1) * self.batch_size, self.n))
            yield self.take(idx)


class IndexedData:
    """Batches ``dataset[i]`` for i < len(dataset) (a keras.utils.PyDataset); ``on_epoch_end`` after each epoch."""

    def __init__(self, dataset, steps=None):
        self.dataset = dataset
        n = len(dataset)
        self.num_batches = n if steps is None else min(int(steps), n)

    def peek(self):
        return map_structure(to_tensor, unpack(self.dataset[0])[0]) if self.num_batches else None

    def __iter__(self):
        for i in range(self.num_batches):
            x, y, sw = unpack(self.dataset[i])
            yield (map_structure(to_tensor, x), map_structure(to_tensor, y) if y is not None else None,
                   to_tensor(sw) if sw is not None else None)
        end = getattr(self.dataset, "on_epoch_end", None)
        if end is not None:
            end()


class IterableData:
    """Batches from an iterable that yields x or (x, y[, sample_weight]); re-iterated each epoch."""

    def __init__(self, iterable, steps=None):
        self.iterable = iterable
        if steps is None:
            try:
                steps = len(iterable)
            except TypeError:
                steps = None
        self.num_batches = steps
        self._iterator = None

    def __iter__(self):
        if self._iterator is None or iter(self.iterable) is not self.iterable:
            self._iterator = iter(self.iterable)
        for step, batch in enumerate(self._iterator):
            x, y, sw = unpack(batch)
            yield (map_structure(to_tensor, x), map_structure(to_tensor, y) if y is not None else None,
                   to_tensor(sw) if sw is not None else None)
            if self.num_batches is not None and step + 1 >= self.num_batches:
                break


def make_data(x, y=None, sample_weight=None, batch_size=None, shuffle=False, class_weight=None, steps=None):
    if _is_arrays(x):
        if x is None:
            raise ValueError("no input data: pass x")
        return ArrayData(x, y, sample_weight, batch_size, shuffle, class_weight, steps)
    if y is not None:
        raise ValueError("when x is a dataset or iterable of batches, y must be None (the iterable yields (x, y) "
                         f"pairs); got y of type {type(y).__name__}")
    if class_weight is not None:
        raise ValueError("class_weight is only supported with array data")
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and hasattr(x, "on_epoch_end"):
        return IndexedData(x, steps)
    return IterableData(x, steps)


def train_validation_split(data, fraction):
    if not isinstance(data, ArrayData):
        raise ValueError("validation_split is only supported for array data (NumPy arrays or tensors); pass "
                         "validation_data for other inputs")
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
    return data.split(fraction)
