"""Shared argument handling for ops: scalars, type promotion, dims, and the array-to-Tensor wrapper."""
import numbers

import numpy as np

from .._dtype import _BY_NP, from_numpy_dtype, get_default_dtype, int64, promote_types
from .._tensor import Tensor, _make, _wrap_dim

__all__ = ["Tensor", "_make", "pair", "as_float", "wrap_dim", "dims_arg", "scalar_category", "check_float",
           "shape_str", "scalar_array"]

_SCALAR_DT = {}


_CATEGORY = {bool: 0, int: 1, float: 2}


def scalar_category(x) -> int:
    """0 for bool, 1 for integers, 2 for floats (the promotion category of a Python number)."""
    c = _CATEGORY.get(x.__class__)
    if c is not None:
        return c
    if isinstance(x, (bool, np.bool_)):
        return 0
    if isinstance(x, numbers.Integral):
        return 1
    if isinstance(x, numbers.Real):
        return 2
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _scalar_tensor(value, np_dtype):
    return _make(np.array(value, dtype=np_dtype))


def result_type(a: Tensor, b: Tensor):
    """torch's promotion between two tensors: a 0-dim tensor only counts by category against a sized one."""
    da, db = a._data.dtype, b._data.dtype
    ta, tb = _BY_NP[da], _BY_NP[db]
    za, zb = a._data.ndim == 0, b._data.ndim == 0
    if za == zb:
        return promote_types(ta, tb)
    dim_t, zero_t = (tb, ta) if za else (ta, tb)
    if zero_t.category > dim_t.category:
        return zero_t
    return dim_t


def pair(a, b, op: str):
    """Return (a, b) as Tensors of the common dtype, promoting as torch does (Python scalars are 'weak')."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype is b._data.dtype:
                return a, b
            dt = result_type(a, b)
            if a._data.dtype != dt.np:
                a = cast(a, dt)
            if b._data.dtype != dt.np:
                b = cast(b, dt)
            return a, b
        return promote_with_scalar(a, b, op)
    if isinstance(b, Tensor):
        b, a = promote_with_scalar(b, a, op)
        return a, b
    raise TypeError(f"{op}(): expected at least one Tensor argument, got {type(a).__name__} and {type(b).__name__}")


def _scalar_like(t: Tensor, value, op: str) -> Tensor:
    tdt = _BY_NP[t._data.dtype]
    try:
        cat = scalar_category(value)
    except TypeError:
        if isinstance(value, np.ndarray):
            return _make(value) if value.dtype == t._data.dtype else cast(_make(value), result_type(t, _make(value)))
        raise TypeError(f"{op}(): unsupported operand type {type(value).__name__} for a Tensor of "
                        f"dtype {tdt.name}") from None
    if cat <= tdt.category:
        return _make(scalar_array(value, t._data.dtype))
    raise _Promote(get_default_dtype() if cat == 2 else int64)


_FLOAT_MAX = {np.dtype(np.float16): 65504.0, np.dtype(np.float32): 3.4028234663852886e38}
_INT_RANGE = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max), np.iinfo(t).bits)
              for t in (np.int8, np.int16, np.int32, np.int64, np.uint8)}


def scalar_array(value, np_dtype) -> np.ndarray:
    """A Python number as a 0-d array of ``np_dtype``. Integers out of range wrap around (two's complement) and
    floats out of range become inf, as torch converts scalars; NumPy would raise or warn instead."""
    rng = _INT_RANGE.get(np_dtype)
    if rng is not None:
        if value.__class__ is not bool and not rng[0] <= value <= rng[1]:
            value = int(value)
            if value.bit_length() > 64:
                raise OverflowError("int too big to convert")
            bits = rng[2]
            return np.array(value & ((1 << bits) - 1), dtype=f"u{bits // 8}").view(np_dtype)
        return np.array(value, dtype=np_dtype)
    lim = _FLOAT_MAX.get(np_dtype)
    if lim is not None and not -lim <= value <= lim:  # also NaN: convert through float64 without a warning
        with np.errstate(over="ignore"):
            return np.array(value, dtype=np.float64).astype(np_dtype)
    return np.array(value, dtype=np_dtype)


class _Promote(Exception):
    """Raised by _scalar_like when the tensor must be cast up first (int tensor op float scalar)."""

    def __init__(self, dtype):
        self.dtype = dtype


def promote_with_scalar(t: Tensor, value, op: str):
    try:
        return t, _scalar_like(t, value, op)
    except _Promote as p:
        t = cast(t, p.dtype)
        return t, _make(scalar_array(value, p.dtype.np))


def as_float(t: Tensor) -> Tensor:
    """Integer/bool tensors become the default float dtype (for ops like exp, sqrt, true division)."""
    if t._data.dtype.kind == "f":
        return t
    return cast(t, get_default_dtype())


def check_float(t: Tensor, op: str):
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {from_numpy_dtype(t._data.dtype)}")


def wrap_dim(dim, ndim, op="dim"):
    return _wrap_dim(dim, ndim, op)


def dims_arg(dim, ndim, op):
    """Normalise a dim argument (None, int, or sequence) to a sorted tuple of non-negative ints or None."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        out = tuple(sorted(_wrap_dim(d, ndim, op) for d in dim))
        if len(set(out)) != len(out):
            raise RuntimeError(f"{op}: dim {list(dim)} appears multiple times in the list of dims")
    else:
        out = (_wrap_dim(dim, ndim, op),)
    return out if ndim else ()  # a 0-d tensor accepts dim 0 / -1 and has no axis to reduce


def shape_str(t) -> str:
    return str(tuple(t.shape)) if isinstance(t, Tensor) else str(t)


from .elementwise import cast  # noqa: E402
