"""Reductions and statistics: nansum, nanmean, aminmax, quantile/nanquantile, diff, logcumsumexp, trace, and
the counting ops isin, bincount and histc.

quantile, nanquantile, nanmean, aminmax and diff are composites of other ops (their gradients come from those);
the rest are primitives. bincount's output length depends on the input's values: compile mode sees that
through ``shape_depends_on_values``.
"""
import numpy as np

from .._dtype import from_numpy_dtype, int64
from ..autograd.function import Op
from .._tensor import Tensor, _make, _notify_value_read
from ._util import dims_arg, pair, scalar_array, wrap_dim
from .elementwise import (_t, _type_name, abs as abs_, add, cast, ceil, div, eq, exp, floor, gt, isnan, log,
                          logical_not, logical_xor, lt, mul, round as round_, sub, where)
from .gather import gather
from .rearrange import flip
from .reduction import _unreduce, amax, amin, any_, sum_
from .shape import Expand, cat, movedim, narrow, reshape, squeeze
from .sorting import sort

__all__ = ["nansum", "nanmean", "aminmax", "quantile", "nanquantile", "diff", "logcumsumexp", "trace", "isin",
           "bincount", "histc"]


def _tensor_arg(x, op, name="input", position=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")


def _dtype(t):
    return from_numpy_dtype(t._data.dtype)


# ---- nansum / nanmean -----------------------------------------------------------------------------------------
class NanSum(Op):
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.dtype.kind != "f":  # integers have no NaN: a plain sum, in int64 (as torch)
            return np.add.reduce(x, axis=axes, keepdims=keepdim, dtype=np.int64)
        ctx.save_for_backward(x)
        return np.nansum(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g):  # torch: the sum's gradient times (x is not NaN)
        (x,) = ctx.saved_tensors
        g = Expand.apply(_unreduce(g, ctx.in_shape, ctx.axes, ctx.keepdim), shape=ctx.in_shape)
        return mul(g, cast(logical_not(isnan(x)), _dtype(g)))


def nansum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's argument names
    """The sum with NaNs counted as zero."""
    _tensor_arg(input, "nansum")
    x = input if dtype is None else input.to(dtype)
    return NanSum.apply(x, axes=dims_arg(dim, x._data.ndim, "nansum"), keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The mean of the non-NaN elements (NaN where all are NaN)."""
    _tensor_arg(input, "nanmean")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_type_name(input)}")
    x = input if dtype is None else input.to(dtype)
    count = sum_(logical_not(isnan(x)), dim=dim, keepdim=keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):  # an all-NaN slice gives NaN silently, as in torch
        return div(nansum(x, dim, keepdim), count)


# ---- aminmax ----------------------------------------------------------------------------------------------------
class _AminmaxResult(tuple):
    """torch.return_types.aminmax: a (min, max) tuple with names."""

    def __repr__(self):
        return f"ember.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"

    @property
    def min(self):  # noqa: A003
        return self[0]

    @property
    def max(self):  # noqa: A003
        return self[1]


def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """(amin, amax) over ``dim`` (all elements by default); tied extremes share the gradient evenly."""
    _tensor_arg(input, "aminmax")
    x = input
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        return _AminmaxResult((amin(x, (), keepdim), amax(x, (), keepdim)))
    d = wrap_dim(dim, x._data.ndim, "aminmax")
    if x._data.ndim and x._data.shape[d] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    return _AminmaxResult((amin(x, d, keepdim), amax(x, d, keepdim)))


# ---- quantile / nanquantile -------------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(x, q):
    """q as a tensor of x's dtype, checked as torch checks it (a tensor q's values are read: a graph break)."""
    if isinstance(q, Tensor):
        if q._data.dtype != x._data.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        _notify_value_read(q, "quantile")
        if not ((q._data >= 0) & (q._data <= 1)).all():
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
        return q
    return _make(scalar_array(q, x._data.dtype))


def _lerp(a, b, w):
    """torch's lerp: a + w (b - a) for w < 1/2, else b - (b - a)(1 - w)."""
    d = sub(b, a)
    return where(lt(w, _t(0.5, w)), add(a, mul(w, d)), sub(b, mul(d, sub(_t(1, w), w))))


def _quantile(x, q, dim, keepdim, interpolation, ignore_nan):
    op = "nanquantile" if ignore_nan else "quantile"
    _tensor_arg(x, op)
    if not isinstance(q, Tensor) and not 0 <= q <= 1:
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q:g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if x._data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if isinstance(q, Tensor) and q._data.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if x._data.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    q = _quantile_q(x, q)
    shape = x._data.shape
    if dim is None or x._data.ndim == 0:
        if dim is not None:
            wrap_dim(dim, 0, op)
        rows, rest, kept = reshape(x, (1, -1)), (), (1,) * len(shape)
    else:
        d = wrap_dim(dim, len(shape), op)
        moved = movedim(x, d, -1)
        rest = moved._data.shape[:-1]
        rows, kept = reshape(moved, (-1, shape[d])), shape[:d] + (1,) + shape[d + 1:]
    s = sort(rows, -1)[0]  # (rows, n), NaN last
    n = s._data.shape[-1]
    q1 = reshape(q, (-1,))
    nan = isnan(s)
    if ignore_nan:  # ranks among the non-NaN values; an all-NaN row takes rank 0 (a NaN)
        ranks = mul(q1, sub(sum_(logical_not(nan), dim=-1, keepdim=True), 1))
        ranks = where(lt(ranks, _t(0, ranks)), _t(0, ranks), ranks)
    else:  # a row with a NaN takes its last value (a NaN)
        ranks = where(any_(nan, -1, keepdim=True), _t(n - 1, q1), mul(q1, n - 1))
    if interpolation == "lower":
        ranks = floor(ranks)
    elif interpolation == "higher":
        ranks = ceil(ranks)
    elif interpolation == "nearest":
        ranks = round_(ranks)
    below = cast(ranks.detach(), int64)
    out = gather(s, -1, below)
    if interpolation in ("linear", "midpoint"):
        w = _t(0.5, ranks) if interpolation == "midpoint" else sub(ranks, cast(below, _dtype(ranks)))
        out = _lerp(out, gather(s, -1, cast(ceil(ranks.detach()), int64)), w)
    nq = q1._data.shape[0]
    out = reshape(out, (kept if keepdim else rest) + (nq,))
    out = movedim(out, -1, 0)
    return squeeze(out, 0) if q._data.ndim == 0 else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """The q-th quantiles along ``dim`` (of all elements by default); q is a number or a 1-D tensor, whose
    quantiles make the output's first dim. A NaN in a slice makes its quantiles NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """quantile ignoring NaNs (NaN only for a slice that is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


# ---- diff -------------------------------------------------------------------------------------------------------
def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The n-th forward difference along ``dim`` (``!=`` for bool), after joining ``prepend`` and ``append``."""
    _tensor_arg(input, "diff")
    x = input
    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, x._data.ndim, "diff")
    parts = [x]
    for name, t in (("prepend", prepend), ("append", append)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t._data.ndim != x._data.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for i, (a, b) in enumerate(zip(x._data.shape, t._data.shape)):
            if i != d and a != b:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of input "
                                   f"except along the differencing dimension; input.size({i}) = {a}, but got "
                                   f"tensor.size({i}) = {b}")
        parts.insert(0 if name == "prepend" else len(parts), t)
    if len(parts) > 1:
        x = cat(parts, d)
    for _ in range(n):
        length = x._data.shape[d]
        if length == 0:
            break
        hi, lo = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = logical_xor(hi, lo) if x._data.dtype == np.bool_ else sub(hi, lo)
    return x


# ---- logcumsumexp -----------------------------------------------------------------------------------------------
class LogCumSumExp(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        with np.errstate(invalid="ignore"):  # (a NaN propagates silently)
            y = np.logaddexp.accumulate(x, axis=dim) if x.shape[dim] else x.copy()
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        # sum_{j >= i} g_j exp(x_i - y_j), in log space with the positive and negative parts of g apart
        # (the stable formulation torch and TensorFlow use)
        x, y = ctx.saved_tensors
        d = ctx.dim
        lowest = _t(np.finfo(g._data.dtype).min, g)
        a = abs_(g)
        log_abs = log(where(eq(a, _t(0, a)), _t(1, a), a))

        def reverse_lcse(t):
            return flip(logcumsumexp(flip(t, (d,)), d), (d,))

        pos = exp(add(reverse_lcse(sub(where(gt(g, _t(0, g)), log_abs, lowest), y)), x))
        neg = exp(add(reverse_lcse(sub(where(lt(g, _t(0, g)), log_abs, lowest), y)), x))
        return sub(pos, neg)


def logcumsumexp(input, dim):  # noqa: A002
    """log(cumsum(exp(x))) along ``dim``, without overflow."""
    _tensor_arg(input, "logcumsumexp")
    x = input
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{_type_name(x)}\'')
    d = wrap_dim(dim, x._data.ndim, "logcumsumexp")
    if x._data.ndim == 0:
        return reshape(LogCumSumExp.apply(reshape(x, (1,)), dim=0), ())
    return LogCumSumExp.apply(x, dim=d)


# ---- trace ------------------------------------------------------------------------------------------------------
class Trace(Op):
    def forward(ctx, x):
        ctx.in_shape = x.shape
        return np.asarray(np.trace(x, dtype=np.int64 if x.dtype.kind in "iu" else x.dtype))

    def backward(ctx, g):  # g on the diagonal
        return mul(g, _make(np.eye(*ctx.in_shape, dtype=g._data.dtype)))


def trace(input):  # noqa: A002
    """The sum of a matrix's diagonal (integers sum in int64)."""
    _tensor_arg(input, "trace")
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return Trace.apply(input)


# ---- isin / bincount / histc --------------------------------------------------------------------------------------
class IsIn(Op):
    differentiable = False

    def forward(ctx, elements, test, assume_unique, invert):
        return np.asarray(np.isin(elements, test, assume_unique=assume_unique, invert=invert))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` occurs in ``test_elements`` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}): at least one of elements "
                        f"and test_elements must be a Tensor")
    for t in (elements, test_elements):
        if isinstance(t, Tensor) and t._data.dtype == np.bool_:
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    a, b = pair(elements, test_elements, "isin")
    return IsIn.apply(a, b, assume_unique=bool(assume_unique), invert=bool(invert))


class Bincount(Op):
    @staticmethod
    def shape_depends_on_values(params):  # the length is max(input) + 1
        return True

    def forward(ctx, x, *weights, minlength):
        if x.size and x.min() < 0:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        if not weights:
            return np.bincount(x, minlength=minlength).astype(np.int64, copy=False)
        w = weights[0]
        out = np.bincount(x, weights=w, minlength=minlength)
        return out.astype(np.float32 if w.dtype == np.float32 else np.float64, copy=False)

    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::bincount is not implemented")


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """The number of occurrences of each value 0..max(input) (at least ``minlength`` bins), or the sum of the
    ``weights`` of its occurrences (float32 weights give float32, other weights float64)."""
    _tensor_arg(input, "bincount")
    x = input
    if x._data.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_type_name(x)}\'')
    if x._data.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Bincount.apply(x, minlength=int(minlength))
    _tensor_arg(weights, "bincount", "weights", 2)
    if weights._data.ndim != 1 or weights._data.shape[0] != x._data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    return Bincount.apply(x, weights, minlength=int(minlength))


class Histc(Op):
    differentiable = False

    def forward(ctx, x, bins, lo, hi):
        if lo == hi and x.size:  # the data's range
            lo, hi = float(np.min(x)), float(np.max(x))
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
        if lo >= hi:
            raise RuntimeError("torch.histc: max must be larger than min")
        dt = x.dtype.type
        left, right = dt(lo), dt(hi)
        flat = x.reshape(-1)
        inside = flat[(flat >= left) & (flat <= right)]  # (NaN is never inside)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pos = ((inside - left) * dt(bins) / (right - left)).astype(np.int64)
        np.clip(pos, 0, bins - 1, out=pos)  # the last bin includes its right edge
        return np.bincount(pos, minlength=bins).astype(x.dtype)


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """A histogram of ``bins`` equal-width bins over [min, max] (the data's range when min == max); elements
    outside are ignored."""
    _tensor_arg(input, "histc")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool):
        raise TypeError(f"histc(): argument 'bins' must be int, not {type(bins).__name__}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{_type_name(input)}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    return Histc.apply(input, bins=int(bins), lo=float(min), hi=float(max))
