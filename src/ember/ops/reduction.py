"""Reductions over dims (sum, mean, max, var, logsumexp, norm, cumsum ...) with their gradients."""
import numpy as np

from .._dtype import get_default_dtype
from ..autograd.function import Op
from .._tensor import Tensor, _make
from ._util import dims_arg, wrap_dim
from .elementwise import _t, abs as abs_, cast, div, eq, exp, mul, pow_scalar, sub, where
from .shape import Expand, Reshape, broadcast_view, expand, reshape


def _keep_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (to broadcast a reduced gradient back)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unreduce(g, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input (a full reduction's 0-d grad already does)."""
    if not keepdim and axes is not None:
        g = Reshape.apply(g, shape=_keep_shape(in_shape, axes))
    return g


class Sum(Op):
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.add.reduce(x, axis=axes, keepdims=keepdim, dtype=dtype)  # x.sum() without its Python wrapper

    def backward(ctx, g):
        return Expand.apply(_unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim), shape=ctx.in_shape)


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
        # the sum then one division, as np.mean computes it, without np.mean's Python wrappers
        y = np.add.reduce(x, axis=axes, keepdims=keepdim)
        count = ctx.count = x.size // max(y.size, 1) if x.size else 0
        if count == 0:
            with np.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is NaN, silently
                return np.true_divide(y, x.dtype.type(0), dtype=x.dtype)
        return np.true_divide(y, count, dtype=x.dtype)

    def backward(ctx, g):
        return MeanGrad.apply(g, in_shape=ctx.in_shape, axes=ctx.axes, keepdim=ctx.keepdim, count=ctx.count)


class MeanGrad(Op):
    """Mean's backward in one op: g / count, broadcast back to the input's shape (a read-only view)."""

    def forward(ctx, g, in_shape, axes, keepdim, count):
        ctx.axes, ctx.keepdim = axes, keepdim
        if not keepdim and axes is not None:
            g = g.reshape(_keep_shape(in_shape, axes))
        if count == 0:  # an empty input: its empty gradient
            return np.zeros(in_shape, g.dtype)
        return broadcast_view(np.asarray(np.true_divide(g, count, dtype=g.dtype)), in_shape)

    def backward(ctx, gg):  # the mean of the incoming gradient over the broadcast axes
        return Mean.apply(gg, axes=ctx.axes, keepdim=ctx.keepdim)


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
    if x._data.ndim == 0:
        axis = None
    return Prod.apply(x, axis=axis, keepdim=keepdim)


# ---- max / min ----------------------------------------------------------------------------------------------
class AMax(Op):
    """amax/amin and full max/min: the gradient is shared evenly among tied extreme values (torch)."""

    def forward(ctx, x, axes, keepdim, fn, name="max"):
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.name = x.shape, axes, keepdim, name
        if x.size == 0:
            _check_nonempty(x.shape, axes, name)
        y = fn(x, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        y = _unreduce(y, ctx.in_shape, ctx.axes, ctx.keepdim)
        g = _unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim)
        hit = eq(x, y)
        if ctx.name in ("max", "min") and np.isnan(y._data).any():
            # full max()/min() share the gradient among NaNs; amax/amin give NaN gradients (both as torch)
            from .elementwise import isnan, logical_and, logical_or

            hit = logical_or(hit, logical_and(isnan(x), isnan(y)))
        mask = cast(hit, _dtype_obj(g))
        count = sum_(mask, dim=ctx.axes, keepdim=True)
        return mul(div(g, count), mask)


def _check_nonempty(shape, axes, name):
    """torch's errors for max-like reductions over zero-size dims (an empty result is fine)."""
    if axes is None:
        if name.startswith("arg"):
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    for a in axes:
        if shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _dtype_obj(t):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(t._data.dtype)


def amax(x, dim=(), keepdim=False):
    return AMax.apply(x, axes=dims_arg(dim if dim != () else None, x._data.ndim, "amax"), keepdim=keepdim,
                      fn=np.max, name="amax")


def amin(x, dim=(), keepdim=False):
    return AMax.apply(x, axes=dims_arg(dim if dim != () else None, x._data.ndim, "amin"), keepdim=keepdim,
                      fn=np.min, name="amin")


class MaxDim(Op):
    """max/min along one dim, returning (values, indices); the gradient goes to the selected index only."""

    non_differentiable = (1,)

    def forward(ctx, x, dim, keepdim, arg_fn, name="max"):
        if x.shape[dim] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
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

    op = "max"

    def __repr__(self):
        return f"ember.return_types.{self.op}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class _MinResult(_MinMaxResult):
    op = "min"


def _minmax(x, dim, keepdim, other, which):
    np_arg = np.argmax if which == "max" else np.argmin
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum

        return (maximum if which == "max" else minimum)(x, dim)
    if other is not None:
        from .elementwise import maximum, minimum

        return (maximum if which == "max" else minimum)(x, other)
    if dim is None:
        return AMax.apply(x, axes=None, keepdim=False, fn=np.max if which == "max" else np.min, name=which)
    d = wrap_dim(dim, x._data.ndim, which)
    result = _MinMaxResult if which == "max" else _MinResult
    if x._data.ndim == 0:
        return result((x * 1, _make(np.array(0, dtype=np.int64))))
    return result(MaxDim.apply(x, dim=d, keepdim=keepdim, arg_fn=np_arg, name=which))


def max_(x, dim=None, keepdim=False, other=None):
    return _minmax(x, dim, keepdim, other, "max")


def min_(x, dim=None, keepdim=False, other=None):
    return _minmax(x, dim, keepdim, other, "min")


class ArgReduce(Op):
    differentiable = False

    def forward(ctx, x, dim, keepdim, fn):
        if dim is None or x.ndim == 0:
            r = fn(x.reshape(-1))
            return np.array(r, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ())
        return fn(x, axis=dim, keepdims=keepdim).astype(np.int64)


def _arg_reduce(x, dim, keepdim, name, fn):
    d = None if dim is None else wrap_dim(dim, x._data.ndim, name)
    if x._data.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input; convert it with .to(int) or .float() first")
    if x._data.size == 0:
        _check_nonempty(x._data.shape, None if d is None else (d,), name)
    return ArgReduce.apply(x, dim=d, keepdim=keepdim, fn=fn)


def argmax(x, dim=None, keepdim=False):
    return _arg_reduce(x, dim, keepdim, "argmax", np.argmax)


def argmin(x, dim=None, keepdim=False):
    return _arg_reduce(x, dim, keepdim, "argmin", np.argmin)


# ---- statistics ---------------------------------------------------------------------------------------------
class VarStd(Op):
    """Variance (or, with ``root``, standard deviation) over ``axes``. float16/float32 inputs accumulate in float64
    and take the root before rounding back, as torch does, so values near the float32 limits stay finite."""

    def forward(ctx, x, axes, correction, keepdim, root):
        ctx.axes, ctx.correction, ctx.keepdim, ctx.root, ctx.in_shape = axes, correction, keepdim, root, x.shape
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        ctx.dof = n - correction
        acc = np.float64 if x.dtype.itemsize < 8 else None
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.var(x, axis=axes, ddof=correction if ctx.dof > 0 else 0, keepdims=keepdim, dtype=acc)
            if ctx.dof <= 0:  # torch divides by max(n - correction, 0): inf for nonzero spread, NaN otherwise
                y = y * n / np.float64(max(ctx.dof, 0))
            if root:
                y = np.sqrt(y)
        y = np.asarray(y).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y if root else None)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = _unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim)
        d = sub(x, mean(x, dim=ctx.axes, keepdim=True))
        dof = max(ctx.dof, 0)
        if not ctx.root:  # d var / dx = 2 (x - mean) / (n - correction)
            return mul(g, div(mul(d, _t(2, d)), _t(dof, d)))
        y = _unreduce(y, ctx.in_shape, ctx.axes, ctx.keepdim)  # d std / dx = (x - mean) / ((n - c) std), 0 at std 0
        return where(eq(y, _t(0, y)), _t(0, g), div(mul(g, d), mul(y, _t(dof, y))))


def _var_std(x, dim, unbiased, keepdim, correction, root):
    name = "std" if root else "var"
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}(): std and var only support floating point dtypes, got {x.dtype}")
    axes = dims_arg(dim, x._data.ndim, name)
    return VarStd.apply(x, axes=axes, correction=correction, keepdim=keepdim, root=root)


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance with Bessel's correction (``correction=1`` by default, as torch)."""
    return _var_std(x, dim, unbiased, keepdim, correction, root=False)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Standard deviation; its gradient is 0 where it is 0 (torch)."""
    return _var_std(x, dim, unbiased, keepdim, correction, root=True)


class Root(Op):
    """s ** (1/p) for a non-negative s (a sum of powers), with torch's zero gradient at s == 0."""

    def forward(ctx, s, p):
        ctx.p = p
        y = np.sqrt(s) if p == 2 else np.power(s, s.dtype.type(1.0 / p))
        ctx.save_for_backward(s, y)
        return y

    def backward(ctx, g):
        s, y = ctx.saved_tensors
        if ctx.p == 2:
            d = div(g, mul(y, _t(2, y)))
        else:
            d = div(mul(g, y), mul(s, _t(ctx.p, s)))
        return where(eq(s, _t(0, s)), _t(0, g), d)


def var_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(x, dim, unbiased, keepdim, correction), mean(x, dims_arg(dim, x._data.ndim, "var_mean"), keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return std(x, dim, unbiased, keepdim, correction), mean(x, dims_arg(dim, x._data.ndim, "std_mean"), keepdim)


class LogSumExp(Op):
    """log(sum(exp(x))) over ``axes``, shifted by the max; the gradient is exp(x - result) (torch's formula)."""

    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim, ctx.in_shape = axes, keepdim, x.shape
        if x.size == 0:
            m = np.zeros(_keep_shape(x.shape, axes), dtype=x.dtype)
        else:
            m = np.max(x, axis=axes, keepdims=True)
            m = np.where(np.isinf(m), np.zeros_like(m), m)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        if not keepdim:
            y = y.reshape(tuple(d for i, d in enumerate(x.shape) if axes is not None and i not in axes))
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = _unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim)
        y = _unreduce(y, ctx.in_shape, ctx.axes, ctx.keepdim)
        return mul(g, exp(sub(x, y)))


def logsumexp(x, dim=None, keepdim=False):
    if x._data.dtype.kind != "f":
        x = cast(x, get_default_dtype())
    return LogSumExp.apply(x, axes=dims_arg(dim, x._data.ndim, "logsumexp"), keepdim=keepdim)


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm (p = 2, 1, inf, -inf, 0, any number) or the Frobenius norm."""
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{x.dtype.name.capitalize()}")
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            p = 2
        else:  # 'nuc', or 'fro' over more than two dims, which matrix_norm refuses (as in torch)
            from .linalg import matrix_norm

            return matrix_norm(x, p, dim=tuple(range(x._data.ndim)) if dim is None else dim, keepdim=keepdim)
    return vector_norm(x, 2 if p is None else p, dim, keepdim)


class NonzeroIndicator(Op):
    """1 where x != 0 (NaN included), else 0, in x's dtype, with a zero gradient (the 0-norm's terms)."""

    def forward(ctx, x):
        return (x != 0).astype(x.dtype)

    def backward(ctx, g):
        return mul(g, _t(0, g))


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002 - torch's argument name
    """sum(|x|**ord) ** (1/ord) over ``dim`` (all elements by default); ord may be inf, -inf or 0."""
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{x.dtype.name.capitalize()}")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    axes = dims_arg(dim, x._data.ndim, "linalg.vector_norm")
    if ord == float("inf"):
        return amax(abs_(x), dim=axes if axes is not None else (), keepdim=keepdim)
    if ord == float("-inf"):
        return amin(abs_(x), dim=axes if axes is not None else (), keepdim=keepdim)
    if ord == 0:
        return sum_(NonzeroIndicator.apply(x), dim=axes, keepdim=keepdim)
    if ord == 1:
        return sum_(abs_(x), dim=axes, keepdim=keepdim)
    if ord == 2:
        return Root.apply(sum_(mul(x, x), dim=axes, keepdim=keepdim), p=2)
    return Root.apply(sum_(pow_scalar(abs_(x), ord), dim=axes, keepdim=keepdim), p=ord)


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
    d = wrap_dim(dim, x._data.ndim, "cumsum")
    if x._data.ndim == 0:
        return reshape(Cumsum.apply(reshape(x, (1,)), dim=0), ())
    return Cumsum.apply(x, dim=d)


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
    d = wrap_dim(dim, x._data.ndim, "cumprod")
    if x._data.ndim == 0:
        return reshape(Cumprod.apply(reshape(x, (1,)), dim=0), ())
    return Cumprod.apply(x, dim=d)


# ---- boolean ------------------------------------------------------------------------------------------------
class BoolReduce(Op):
    differentiable = False

    def forward(ctx, x, axes, keepdim, fn):
        return fn(x, axis=axes, keepdims=keepdim)


def all_(x, dim=None, keepdim=False):
    """True where every element is nonzero (uint8 in gives uint8 out, as torch)."""
    out = BoolReduce.apply(x, axes=dims_arg(dim, x._data.ndim, "all"), keepdim=keepdim, fn=np.all)
    return cast(out, _dtype_obj(x)) if x._data.dtype == np.uint8 else out


def any_(x, dim=None, keepdim=False):
    out = BoolReduce.apply(x, axes=dims_arg(dim, x._data.ndim, "any"), keepdim=keepdim, fn=np.any)
    return cast(out, _dtype_obj(x)) if x._data.dtype == np.uint8 else out


def count_nonzero(x, dim=None):
    return BoolReduce.apply(x, axes=dims_arg(dim, x._data.ndim, "count_nonzero"), keepdim=False,
                            fn=lambda a, axis, keepdims: np.count_nonzero(a, axis=axis).astype(np.int64))


