"""Reductions over dims (sum, mean, max, var, logsumexp, norm, cumsum ...) with their gradients."""
import numpy as np

from .._dtype import get_default_dtype
from ..autograd.function import Op
from .._tensor import Tensor, _make
from ._util import dims_arg, wrap_dim
from .elementwise import _t, abs as abs_, add, cast, div, eq, exp, log, mul, pow_scalar, sqrt, sub, where
from .shape import expand, reshape


def _keep_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (to broadcast a reduced gradient back)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unreduce(g, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input."""
    if not keepdim:
        g = reshape(g, _keep_shape(in_shape, axes))
    return g


class Sum(Op):
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(ctx, g):
        return expand(_unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim), ctx.in_shape)


def _sum_dtype(x, dtype):
    if dtype is not None:
        from .._dtype import as_dtype

        return as_dtype(dtype).np
    k = x._data.dtype.kind
    if k in "biu":
        return np.int64
    return None


def sum_(x, dim=None, keepdim=False, dtype=None):
    axes = dims_arg(dim, x._data.ndim, "sum")
    return Sum.apply(x, axes=axes, keepdim=keepdim, dtype=_sum_dtype(x, dtype))


class Mean(Op):
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = np.mean(x, axis=axes, keepdims=keepdim)
        ctx.count = x.size // max(y.size, 1) if x.size else 0
        return y.astype(x.dtype, copy=False)

    def backward(ctx, g):
        g = _unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim)
        return expand(div(g, ctx.count), ctx.in_shape)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {x.dtype.name.capitalize()}")
    return Mean.apply(x, axes=dims_arg(dim, x._data.ndim, "mean"), keepdim=keepdim)


class Prod(Op):
    def forward(ctx, x, axis, keepdim):
        ctx.axis, ctx.keepdim, ctx.in_shape = axis, keepdim, x.shape
        y = np.prod(x, axis=axis, keepdims=keepdim)
        if x.dtype.kind in "biu":
            y = y.astype(np.int64)
        ctx.save_for_backward(x)
        return y

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axes = None if ctx.axis is None else (ctx.axis,)
        g = _unreduce(g, ctx.in_shape, axes, ctx.keepdim)
        # product of all other elements, robust to zeros: exclusive cumulative products from both sides
        if ctx.axis is None:
            flat = reshape(x, (-1,))
            others = _prod_others(flat, 0)
            return mul(expand(g, ctx.in_shape), reshape(others, ctx.in_shape))
        return mul(g, _prod_others(x, ctx.axis))


def _prod_others(x, axis):
    n = x._data.shape[axis]
    from .shape import cat, narrow

    ones = _make(np.ones(x._data.shape[:axis] + (1,) + x._data.shape[axis + 1:], dtype=x._data.dtype))
    if n == 0:
        return x
    left = cat([ones, narrow(cumprod(x, axis), axis, 0, n - 1)], axis)
    rev = flip_dim(x, axis)
    right = flip_dim(cat([ones, narrow(cumprod(rev, axis), axis, 0, n - 1)], axis), axis)
    return mul(left, right)


def flip_dim(x, axis):
    from .rearrange import flip

    return flip(x, (axis,))


def prod(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    axis = None if dim is None else wrap_dim(dim, x._data.ndim, "prod")
    return Prod.apply(x, axis=axis, keepdim=keepdim)


# ---- max / min ----------------------------------------------------------------------------------------------
class AMax(Op):
    """amax/amin and full max/min: the gradient is shared evenly among tied extreme values (torch)."""

    def forward(ctx, x, axes, keepdim, fn):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                               "reduction dim with the 'dim' argument.")
        y = fn(x, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        y = _unreduce(y, ctx.in_shape, ctx.axes, ctx.keepdim)
        g = _unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim)
        mask = cast(eq(x, y), _dtype_obj(g))
        count = sum_(mask, dim=ctx.axes, keepdim=True)
        return mul(div(g, count), mask)


def _dtype_obj(t):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(t._data.dtype)


def amax(x, dim=(), keepdim=False):
    return AMax.apply(x, axes=dims_arg(dim if dim != () else None, x._data.ndim, "amax"), keepdim=keepdim,
                      fn=np.max)


def amin(x, dim=(), keepdim=False):
    return AMax.apply(x, axes=dims_arg(dim if dim != () else None, x._data.ndim, "amin"), keepdim=keepdim,
                      fn=np.min)


class MaxDim(Op):
    """max/min along one dim, returning (values, indices); the gradient goes to the selected index only."""

    non_differentiable = (1,)

    def forward(ctx, x, dim, keepdim, arg_fn):
        if x.shape[dim] == 0 if x.ndim else False:
            raise IndexError(f"max(): Expected reduction dim {dim} to have non-zero size.")
        idx = arg_fn(x, axis=dim, keepdims=True)
        vals = np.take_along_axis(x, idx, axis=dim)
        ctx.dim, ctx.keepdim, ctx.in_shape, ctx.idx = dim, keepdim, x.shape, idx
        ctx.output_shapes = None
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        return vals, idx.astype(np.int64)

    def backward(ctx, g, _gi=None):
        if not ctx.keepdim:
            g = reshape(g, _keep_shape(ctx.in_shape, (ctx.dim,)))
        from .gather import scatter_into_zeros

        return scatter_into_zeros(g, ctx.in_shape, ctx.dim, ctx.idx)

    materialize_grads = False


def _arg_first(fn):
    def arg(x, axis, keepdims):
        # NaN propagates like torch: a NaN is the max
        return fn(x, axis=axis, keepdims=keepdims)

    return arg


class _MinMaxResult(tuple):
    """torch.return_types.max: a (values, indices) tuple with names."""

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _minmax(x, dim, keepdim, other, which):
    np_arg = np.argmax if which == "max" else np.argmin
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum

        return (maximum if which == "max" else minimum)(x, dim)
    if other is not None:
        from .elementwise import maximum, minimum

        return (maximum if which == "max" else minimum)(x, other)
    if dim is None:
        return AMax.apply(x, axes=None, keepdim=False, fn=np.max if which == "max" else np.min)
    d = wrap_dim(dim, x._data.ndim, which)
    if x._data.ndim == 0:
        return _MinMaxResult((x * 1, _make(np.array(0, dtype=np.int64))))
    vals, idx = MaxDim.apply(x, dim=d, keepdim=keepdim, arg_fn=np_arg)
    return _MinMaxResult((vals, idx))


def max_(x, dim=None, keepdim=False, other=None):
    return _minmax(x, dim, keepdim, other, "max")


def min_(x, dim=None, keepdim=False, other=None):
    return _minmax(x, dim, keepdim, other, "min")


class ArgReduce(Op):
    differentiable = False

    def forward(ctx, x, dim, keepdim, fn):
        if dim is None:
            r = fn(x.reshape(-1))
            return np.array(r, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ())
        return fn(x, axis=dim, keepdims=keepdim).astype(np.int64)


def argmax(x, dim=None, keepdim=False):
    d = None if dim is None else wrap_dim(dim, x._data.ndim, "argmax")
    return ArgReduce.apply(x, dim=d, keepdim=keepdim, fn=np.argmax)


def argmin(x, dim=None, keepdim=False):
    d = None if dim is None else wrap_dim(dim, x._data.ndim, "argmin")
    return ArgReduce.apply(x, dim=d, keepdim=keepdim, fn=np.argmin)


# ---- statistics ---------------------------------------------------------------------------------------------
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance with Bessel's correction (``correction=1`` by default, as torch)."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"var(): input dtype should be floating point, got {x.dtype}")
    axes = dims_arg(dim, x._data.ndim, "var")
    n = x._data.size if axes is None else int(np.prod([x._data.shape[a] for a in axes]))
    mu = mean(x, dim=axes, keepdim=True)
    d = sub(x, mu)
    ss = sum_(mul(d, d), dim=axes, keepdim=keepdim)
    return div(ss, max(n - correction, 0))


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return sqrt(var(x, dim, unbiased, keepdim, correction))


def var_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(x, dim, unbiased, keepdim, correction), mean(x, dims_arg(dim, x._data.ndim, "var_mean"), keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return std(x, dim, unbiased, keepdim, correction), mean(x, dims_arg(dim, x._data.ndim, "std_mean"), keepdim)


def logsumexp(x, dim=None, keepdim=False):
    if x._data.dtype.kind != "f":
        x = cast(x, get_default_dtype())
    axes = dims_arg(dim, x._data.ndim, "logsumexp")
    m = amax(x, dim=axes if axes is not None else (), keepdim=True).detach()
    m = where(eq(abs_(m), _t(np.inf, m)), _t(0, m), m)
    s = sum_(exp(sub(x, m)), dim=axes, keepdim=True)
    out = add(log(s), m)
    if not keepdim:
        out = reshape(out, tuple(d for i, d in enumerate(x._data.shape) if axes is not None and i not in axes))
    return out


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm (p = 2, 1, inf, -inf, 0, any number) or the Frobenius norm."""
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{x.dtype.name.capitalize()}")
    axes = dims_arg(dim, x._data.ndim, "norm")
    if p == "fro" or p == 2 or p is None:
        return sqrt(sum_(mul(x, x), dim=axes, keepdim=keepdim))
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') is not implemented in ember")
    if p == float("inf"):
        return amax(abs_(x), dim=axes if axes is not None else (), keepdim=keepdim)
    if p == float("-inf"):
        return amin(abs_(x), dim=axes if axes is not None else (), keepdim=keepdim)
    if p == 0:
        return sum_(cast(sub(_t(1, x), cast(eq(x, _t(0, x)), _dtype_obj(x))), _dtype_obj(x)), dim=axes,
                    keepdim=keepdim)
    if p == 1:
        return sum_(abs_(x), dim=axes, keepdim=keepdim)
    return pow_scalar(sum_(pow_scalar(abs_(x), p), dim=axes, keepdim=keepdim), 1.0 / p)


# ---- cumulative ---------------------------------------------------------------------------------------------
class Cumsum(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=np.int64 if x.dtype.kind in "biu" else None)

    def backward(ctx, g):
        from .rearrange import flip

        return flip(cumsum(flip(g, (ctx.dim,)), ctx.dim), (ctx.dim,))


def cumsum(x, dim, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Cumsum.apply(x, dim=wrap_dim(dim, x._data.ndim, "cumsum"))


class Cumprod(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = np.cumprod(x, axis=dim, dtype=np.int64 if x.dtype.kind in "biu" else None)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        from .rearrange import flip

        x, y = ctx.saved_tensors
        d = ctx.dim
        if not (x._data == 0).any():
            # sum_{j>=i} g_j * y_j / x_i
            return div(flip(cumsum(flip(mul(g, y), (d,)), d), (d,)), x)
        return _cumprod_backward_with_zeros(g, x, d)


def _cumprod_backward_with_zeros(g, x, d):
    """Exact gradient when x has zeros: d y_j / d x_i = prod_{k<=j, k!=i} x_k, built column by column."""
    from .shape import cat, narrow

    n = x._data.shape[d]
    cols = []
    for i in range(n):
        ones = _make(np.ones(x._data.shape[:d] + (1,) + x._data.shape[d + 1:], dtype=x._data.dtype))
        x_wo = cat([narrow(x, d, 0, i), ones, narrow(x, d, i + 1, n - i - 1)], d)
        partial = cumprod(x_wo, d)
        contrib = mul(narrow(g, d, i, n - i), narrow(partial, d, i, n - i))
        cols.append(sum_(contrib, dim=d, keepdim=True))
    return cat(cols, d)


def cumprod(x, dim, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Cumprod.apply(x, dim=wrap_dim(dim, x._data.ndim, "cumprod"))


# ---- boolean ------------------------------------------------------------------------------------------------
class BoolReduce(Op):
    differentiable = False

    def forward(ctx, x, axes, keepdim, fn):
        return fn(x, axis=axes, keepdims=keepdim)


def all_(x, dim=None, keepdim=False):
    return BoolReduce.apply(x, axes=dims_arg(dim, x._data.ndim, "all"), keepdim=keepdim, fn=np.all)


def any_(x, dim=None, keepdim=False):
    return BoolReduce.apply(x, axes=dims_arg(dim, x._data.ndim, "any"), keepdim=keepdim, fn=np.any)


def count_nonzero(x, dim=None):
    return BoolReduce.apply(x, axes=dims_arg(dim, x._data.ndim, "count_nonzero"), keepdim=False,
                            fn=lambda a, axis, keepdims: np.count_nonzero(a, axis=axis).astype(np.int64))


