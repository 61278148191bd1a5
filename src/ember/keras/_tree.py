"""Nested structures (lists, tuples, dicts) of tensors: flatten, map, and conversion of array leaves."""
import numpy as np

from .._tensor import Tensor, from_numpy

__all__ = ["flatten", "map_structure", "to_tensor", "to_numpy", "is_array_like"]


def flatten(structure):
    """Leaves of a nested list/tuple/dict, depth first (dict values in key order of insertion)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """The same nesting with ``fn`` applied to every leaf."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, Tensor, np.generic)) or (hasattr(x, "__array__") and not isinstance(x, type))


def to_tensor(x):
    """An ember Tensor from a NumPy array or array-like (float64 -> float32, as Keras casts to floatx)."""
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    if a.dtype == np.float64 or a.dtype == np.float16:
        a = a.astype(np.float32)
    elif a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)
    elif a.dtype.kind not in "fb" and a.dtype != np.int64:
        raise ValueError(f"cannot convert an array of dtype {a.dtype} to a tensor (numbers expected)")
    return from_numpy(np.ascontiguousarray(a))


def to_numpy(x):
    """A NumPy array from an ember Tensor (detached) or any array-like."""
    if isinstance(x, Tensor):
        return x.detach()._data
    return np.asarray(x)
