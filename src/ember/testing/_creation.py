"""``make_tensor``: a tensor of a given shape and dtype filled with uniform random values in ``[low, high)``."""
import collections.abc
import math
import warnings

import numpy as np

from .._dtype import bool_, finfo, iinfo, int64
from .._tensor import Tensor
from ..ops.creation import empty, randint

__all__ = ["make_tensor"]


def _interval(dtype, low, high, lowest, highest, default_low, default_high):
    """torch's rules: defaults, NaN and order checks, clamping to the dtype's range (integers: ceil both)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.is_floating_point:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is deprecated "
                      "since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.", FutureWarning,
                      stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if not dtype.is_floating_point:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None) -> Tensor:
    """A tensor of ``shape`` and ``dtype`` with values drawn uniformly from ``[low, high)``; defaults: bool
    [0, 2), unsigned [0, 10), signed integers [-9, 10), floats [-9, 9). ``noncontiguous`` gives a strided view,
    ``exclude_zero`` replaces zeros with 1 (integers) or the dtype's ``tiny``."""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and not dtype.is_floating_point:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is bool_:
        low, high = _interval(dtype, low, high, 0, 2, 0, 2)
        result = randint(low, high, shape, dtype=int64, device=device).to(bool_)
    elif dtype.is_floating_point:
        info = finfo(dtype)
        low, high = _interval(dtype, low, high, info.min, info.max, -9, 9)
        result = empty(shape, dtype=dtype, device=device)
        if high - low >= info.max:  # the width would overflow: draw half-width and double
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    elif dtype.np is not None and np.dtype(dtype.np).kind in "iu":
        info = iinfo(dtype)
        # randint draws int64, so int64's largest value itself cannot be drawn
        highest = info.max + (1 if dtype is not int64 else 0)
        low, high = _interval(dtype, low, high, info.min, highest, -9, 10)
        result = randint(low, high, shape, dtype=dtype, device=device)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). To request "
                        "support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        result[result == 0] = 1 if not dtype.is_floating_point else finfo(dtype).tiny
    if dtype.is_floating_point:
        result.requires_grad = requires_grad
    return result
