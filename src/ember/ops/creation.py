"""Tensor factories: zeros/ones/full/empty (+ _like), arange, linspace, eye, random tensors."""
import numbers

import numpy as np

from .._dtype import as_dtype, get_default_dtype, int64, bool_
from .._tensor import Tensor, _check_device, _make
from ..random import numpy_rng


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(arr, requires_grad, device, op):
    if device is not None:
        _check_device(device)
    if requires_grad and arr.dtype.kind != "f":
        raise RuntimeError(f"{op}: only Tensors of floating point dtype can require gradients")
    return _make(arr, bool(requires_grad), None)


def _dt(dtype, default=None):
    return as_dtype(dtype).np if dtype is not None else (default or get_default_dtype()).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _finish(np.zeros(_size(size, "zeros"), dtype=_dt(dtype)), requires_grad, device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _finish(np.ones(_size(size, "ones"), dtype=_dt(dtype)), requires_grad, device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None, out=None):
    return _finish(np.empty(_size(size, "empty"), dtype=_dt(dtype)), requires_grad, device, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False, out=None):
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = int64
        else:
            dtype = get_default_dtype()
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(np.full(_size((size,), "full"), fill_value, dtype=_dt(dtype)), requires_grad, device, "full")


def _like(x, dtype):
    return as_dtype(dtype).np if dtype is not None else x._data.dtype


def zeros_like(x, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.zeros(x._data.shape, dtype=_like(x, dtype)), requires_grad, device, "zeros_like")


def ones_like(x, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.ones(x._data.shape, dtype=_like(x, dtype)), requires_grad, device, "ones_like")


def empty_like(x, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.empty(x._data.shape, dtype=_like(x, dtype)), requires_grad, device, "empty_like")


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.full(x._data.shape, fill_value, dtype=_like(x, dtype)), requires_grad, device, "full_like")


def rand_like(x, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(x._data.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, generator=generator)


def randn_like(x, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(x._data.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, generator=generator)


def randint_like(x, low=0, high=None, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, x._data.shape, dtype=dtype or x.dtype, generator=generator)


def _num(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, out=None):
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = int64 if is_int else get_default_dtype()
    dt = as_dtype(dtype)
    if dt.is_floating_point:
        # torch computes in double then casts; the count is ceil((end - start) / step)
        n = int(np.ceil((end - start) / step))
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    else:
        arr = np.arange(start, end, step).astype(dt.np)
    return _finish(arr, requires_grad, device, "arange")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, out=None):
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    dt = as_dtype(dtype) if dtype is not None else get_default_dtype()
    arr = np.linspace(start, end, int(steps), dtype=np.float64)
    if dt.is_floating_point:
        # torch fills the two halves from each end (symmetric rounding)
        if steps > 1:
            step = (end - start) / (steps - 1)
            i = np.arange(steps)
            half = steps // 2
            arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
        arr = arr.astype(dt.np)
    else:
        arr = np.trunc(arr).astype(dt.np) if dt.category == 1 else arr.astype(dt.np)
    return _finish(arr, requires_grad, device, "linspace")


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    lin = linspace(start, end, steps, dtype=np.float64 if dtype is None else dtype)
    dt = as_dtype(dtype) if dtype is not None else get_default_dtype()
    return _finish(np.power(base, lin._data.astype(np.float64)).astype(dt.np), requires_grad, device, "logspace")


def eye(n, m=None, dtype=None, device=None, requires_grad=False, out=None):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n must be greater or equal to 0, got {n}")
    return _finish(np.eye(n, m, dtype=_dt(dtype)), requires_grad, device, "eye")


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dt = _dt(dtype)
    rng = numpy_rng(generator)
    shape = _size(size, "rand")
    arr = rng.random(shape, dtype=np.float32 if dt == np.float32 else np.float64).astype(dt, copy=False)
    return _finish(arr, requires_grad, device, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dt = _dt(dtype)
    rng = numpy_rng(generator)
    shape = _size(size, "randn")
    arr = rng.standard_normal(shape, dtype=np.float32 if dt == np.float32 else np.float64).astype(dt, copy=False)
    return _finish(arr, requires_grad, device, "randn")


def randint(low=0, high=None, size=None, *args, generator=None, dtype=None, device=None, requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = numpy_rng(generator).integers(low, high, size=_size((size,), "randint"))
    return _finish(arr.astype(_dt(dtype, int64)), requires_grad, device, "randint")


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    return _finish(numpy_rng(generator).permutation(int(n)).astype(_dt(dtype, int64)), requires_grad, device,
                   "randperm")


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False):
    rng = numpy_rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        return _make((rng.standard_normal(shape) * s + m).astype(ref._data.dtype))
    if size is None:
        raise TypeError("normal() with float mean and std needs a size")
    arr = rng.normal(mean, std, size=_size((size,), "normal")).astype(_dt(dtype))
    return _finish(arr, requires_grad, device=None, op="normal")


def bernoulli(input, p=None, generator=None):  # noqa: A002
    prob = input._data if p is None else p
    arr = (numpy_rng(generator).random(input._data.shape) < prob).astype(input._data.dtype)
    return _make(arr)


def multinomial(input, num_samples, replacement=False, generator=None):  # noqa: A002
    rng = numpy_rng(generator)
    probs = input._data.astype(np.float64)
    single = probs.ndim == 1
    probs = probs.reshape(-1, probs.shape[-1])
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > probs.shape[1]:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rows = []
    for p in probs:
        if p.sum() <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        rows.append(rng.choice(len(p), size=num_samples, replace=replacement, p=p / p.sum()))
    out = np.array(rows, dtype=np.int64)
    return _make(out[0] if single else out)
