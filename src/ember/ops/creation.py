"""Tensor factories: zeros/ones/full/empty (+ _like), arange, linspace, eye, random tensors."""
import numbers

import numpy as np

from .._dtype import as_dtype, get_default_dtype, int64, bool_
from .._memory_format import contiguous_format, lay_out, preserve_format
from .._tensor import Tensor, _check_device, _make
from ..autograd.function import Op
from ..random import numpy_rng


def _size(size, op, size_kw=None):
    if size_kw is not None:
        if size:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        size = (size_kw,)
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


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, **kw):
    return _finish(np.zeros(_size(size, "zeros", kw.pop("size", None)), dtype=_dt(dtype)), requires_grad, device,
                   "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, **kw):
    return _finish(np.ones(_size(size, "ones", kw.pop("size", None)), dtype=_dt(dtype)), requires_grad, device,
                   "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=contiguous_format, out=None, **kw):
    """torch leaves the contents unspecified; ember's are zeros, so a compiled trace that captures an empty
    tensor captures the same array at every call (``ember.compile(check_trace=True)`` compares them)."""
    data = np.zeros(_size(size, "empty", kw.pop("size", None)), dtype=_dt(dtype))
    if memory_format is not contiguous_format:
        data = lay_out(data, memory_format, "empty")
    return _finish(data, requires_grad, device, "empty")


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


def _filled_like(x, fill_value, dtype, memory_format, op):
    """An array of ``x``'s shape full of ``fill_value``, laid out as ``x`` (preserve_format: NumPy's order "K")
    or in ``memory_format``."""
    if memory_format is preserve_format and not x._data.flags.c_contiguous:
        return np.full_like(x._data, fill_value, dtype=_like(x, dtype))
    dt = _like(x, dtype)
    data = np.zeros(x._data.shape, dt) if isinstance(fill_value, numbers.Number) and fill_value == 0 else np.full(x._data.shape, fill_value, dt)
    return data if memory_format in (preserve_format, contiguous_format) else lay_out(data, memory_format, op)


def zeros_like(x, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    return _finish(_filled_like(x, 0, dtype, memory_format, "zeros_like"), requires_grad, device, "zeros_like")


def ones_like(x, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    return _finish(_filled_like(x, 1, dtype, memory_format, "ones_like"), requires_grad, device, "ones_like")


def empty_like(x, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    """Zeros, as ``empty``."""
    return _finish(_filled_like(x, 0, dtype, memory_format, "empty_like"), requires_grad, device, "empty_like")


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False, memory_format=preserve_format):
    return _finish(_filled_like(x, fill_value, dtype, memory_format, "full_like"), requires_grad, device,
                   "full_like")


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


def _float_dt(dtype, kernel):
    dt = _dt(dtype)
    if dt.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAMES[dt.name]}\'')
    return dt


_TYPE_NAMES = {"int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}


class Draw(Op):
    """A random tensor, drawn inside an op (``fn(rng, *inputs, *args)``) so that compile mode replays the draw
    at every call, in the same order as eager mode, instead of freezing one sample."""

    differentiable = False
    random = True

    def forward(ctx, *inputs, fn, generator, args):
        return fn(numpy_rng(generator), *inputs, *args)


def _drawn(t, requires_grad, device, op):
    if device is not None:
        _check_device(device)
    if requires_grad:
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"{op}: only Tensors of floating point dtype can require gradients")
        t.requires_grad = True
    return t


def _uniform(rng, shape, dt):
    if dt == np.float16:  # a multiple of 2**-11 is exact in float16, so rounding never reaches 1.0
        return (np.floor(rng.random(shape, dtype=np.float32) * 2048) / 2048).astype(np.float16)
    return rng.random(shape, dtype=np.float32 if dt == np.float32 else np.float64)


def _standard_normal(rng, shape, dt):
    return rng.standard_normal(shape, dtype=np.float32 if dt == np.float32 else np.float64).astype(dt, copy=False)


def _integers(rng, low, high, shape, dt):
    return rng.integers(low, high, size=shape).astype(dt)


def _permutation(rng, n, dt):
    return rng.permutation(n).astype(dt)


def _normal_like(rng, m, s, dt):
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    return (rng.standard_normal(shape) * s + m).astype(dt)


def _normal(rng, mean, std, shape, dt):
    return rng.normal(mean, std, size=shape).astype(dt)


def _bernoulli(rng, prob_like, prob):
    return (rng.random(prob_like.shape) < prob).astype(prob_like.dtype)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, **kw):
    """Uniform samples in [0, 1)."""
    dt = _float_dt(dtype, "check_uniform_bounds")
    shape = _size(size, "rand", kw.pop("size", None))
    return _drawn(Draw.apply(fn=_uniform, generator=generator, args=(shape, np.dtype(dt))), requires_grad, device,
                  "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, **kw):
    """Standard normal samples."""
    dt = _float_dt(dtype, "normal_kernel_cpu")
    shape = _size(size, "randn", kw.pop("size", None))
    return _drawn(Draw.apply(fn=_standard_normal, generator=generator, args=(shape, np.dtype(dt))), requires_grad,
                  device, "randn")


def randint(low=0, high=None, size=None, *args, generator=None, dtype=None, device=None, requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _size((size,), "randint")
    out = Draw.apply(fn=_integers, generator=generator, args=(low, high, shape, np.dtype(_dt(dtype, int64))))
    return _drawn(out, requires_grad, device, "randint")


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    out = Draw.apply(fn=_permutation, generator=generator, args=(int(n), np.dtype(_dt(dtype, int64))))
    return _drawn(out, requires_grad, device, "randperm")


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False, out=None):
    """Normal samples: scalar mean/std with a ``size``, or tensor mean and/or std (broadcast together)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
        for t in tensors:
            _float_dt(t._data.dtype, "normal_kernel_cpu")
        dt = tensors[0]._data.dtype
        s = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        m_t = mean if isinstance(mean, Tensor) else _make(np.array(mean, dtype=dt))
        s_t = std if isinstance(std, Tensor) else _make(np.array(std, dtype=dt))
        return Draw.apply(m_t, s_t, fn=_normal_like, generator=generator, args=(np.dtype(dt),))
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments: with float mean and std, a size "
                        "is required")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _float_dt(dtype, "normal_kernel_cpu")
    out = Draw.apply(fn=_normal, generator=generator, args=(mean, std, _size((size,), "normal"), np.dtype(dt)))
    return _drawn(out, requires_grad, None, "normal")


def bernoulli(input, p=None, generator=None):  # noqa: A002
    prob = input if p is None else _make(np.array(p, dtype=np.float64))
    return Draw.apply(input, prob, fn=_bernoulli, generator=generator, args=())


def multinomial(input, num_samples, replacement=False, generator=None):  # noqa: A002
    probs = input._data
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if (probs.reshape(-1, probs.shape[-1]).sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    return Draw.apply(input, fn=_multinomial, generator=generator, args=(num_samples, replacement))


def _multinomial(rng, probs, num_samples, replacement):
    p2 = probs.astype(np.float64).reshape(-1, probs.shape[-1])
    rows = [rng.choice(len(p), size=num_samples, replace=replacement, p=p / p.sum()) for p in p2]
    out = np.array(rows, dtype=np.int64)
    return out[0] if probs.ndim == 1 else out
