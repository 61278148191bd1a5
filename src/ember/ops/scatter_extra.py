"""Scatter family, second part: scatter_reduce, diagonal/select/slice_scatter, masked_scatter, put, and the
in-place forms Tensor methods use (scatter_reduce_, masked_scatter_, put_, fill_diagonal_).

Index ranges are checked in ``IndexInRange`` (an op, so compiled steps check every call); anything computed
from index or mask values happens inside an op's forward, never in the Python wrapper.
"""
import numbers

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import Op
from ._util import wrap_dim
from .combine import _diagonal_positions
from .elementwise import add, cast, div, eq, logical_and, lt, mul, where
from .gather import (_RANGE_MESSAGES, Gather, IndexInRange, Take, _bool_mask, _broadcast_mask, _check_scatter_shapes,
                     _checked, _crop, _full_index, _index_tensor, masked_fill)
from .indexing import IndexPut, index_grad
from .inplace import apply_inplace, check_inplace, commit_inplace
from .shape import _int_arg, expand, movedim, reshape

__all__ = ["scatter_reduce", "diagonal_scatter", "select_scatter", "slice_scatter", "masked_scatter", "put"]

for _op in ("put", "put_"):
    _RANGE_MESSAGES.setdefault(_op, _op + "(): out of range: tried to access index {bad} on a tensor of {size} "
                                          "elements.")


def inplace(x, fn, *args, name, **kwargs):
    """``x.<op>_(...)``: ``fn(x, *args)`` written back into x. Recorded for autograd when x or any tensor
    argument requires grad (``apply_inplace`` looks only at the first tensor argument, here often an index)."""
    wants_grad = next((a for a in args if isinstance(a, Tensor) and a.requires_grad), None)
    if check_inplace(x, wants_grad, name):
        return commit_inplace(x, fn(x.clone(), *args, **kwargs))
    return apply_inplace(x, fn, *args, name=name, **kwargs)


# ---- scatter_reduce -----------------------------------------------------------------------------------------------
_REDUCTIONS = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce, dtype):
    """The value a position starts from when ``include_self`` is False."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Op):
    """``x`` with ``src`` reduced into the positions ``index`` (a full advanced index) names; positions no index
    names keep x. Gradients as torch: even split among tied maxima/minima, exclusive products for prod."""

    def forward(ctx, x, src, index, reduce, include_self):
        ctx.index, ctx.reduce, ctx.include_self = index, reduce, include_self
        out = x.copy()
        if not include_self:
            out[index] = _identity(reduce, x.dtype)
        with np.errstate(invalid="ignore"):  # NaN propagates through max/min, silently as in torch
            _REDUCTIONS[reduce].at(out, index, src)
        if reduce == "mean":
            count = np.zeros(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
            np.add.at(count, index, 1)
            if include_self:
                count += 1
            count[count == 0] = 1
            out = (out / count if x.dtype.kind == "f" else out // count).astype(x.dtype, copy=False)
            ctx.count = count
        if not include_self:
            hit = np.zeros(x.shape, dtype=np.bool_)
            hit[index] = True
            ctx.hit = hit
        ctx.save_for_backward(x if reduce in ("amax", "amin", "prod") else None, src, out)
        return out

    def backward(ctx, g):
        x, src, out = ctx.saved_tensors
        index, reduce, include_self = ctx.index, ctx.reduce, ctx.include_self

        def gather(t):
            return Gather.apply(t, index=index)

        def scatter_sum(t):
            return index_grad(t, g._data.shape, index, accumulate=True)

        if reduce == "sum":
            gx, gsrc = g, gather(g)
        elif reduce == "mean":
            gx = div(g, _make(ctx.count.astype(g._data.dtype, copy=False)))
            gsrc = gather(gx)
        elif reduce in ("amax", "amin"):
            self_is = cast(eq(x, out), g.dtype)
            src_is = cast(eq(src, gather(out)), g.dtype)
            share = div(g, add(self_is, scatter_sum(src_is)))
            gx, gsrc = mul(self_is, share), mul(src_is, gather(share))
        else:
            gx, gsrc = _prod_grads(ctx, g, x, src, out, gather, scatter_sum)
        if not include_self:
            gx = where(_make(ctx.hit), 0, gx)
        return gx, gsrc


def _prod_grads(ctx, g, x, src, out, gather, scatter_sum):
    """prod's gradients with zeros handled: each factor's gradient is the product of the others, from a product
    taken with zeros replaced by 1 where a factor is the only zero at its position."""
    def reduce_again(base, values):
        return ScatterReduce.apply(base, values, index=ctx.index, reduce="prod", include_self=ctx.include_self)

    x_zero = eq(x, 0)
    x_nonzero = where(x_zero, 1, x)
    gx = div(mul(g, reduce_again(x_nonzero, src)), x_nonzero)
    src_zero = eq(src, 0)
    single_zero = logical_and(src_zero, eq(gather(scatter_sum(cast(src_zero, g.dtype))), 1))
    others = reduce_again(x, where(single_zero, 1, src))
    gsrc = where(single_zero, gather(mul(g, others)), div(gather(mul(g, out)), where(src_zero, 1, src)))
    return gx, gsrc


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002 - torch's argument names
    """``input`` with the elements of ``src`` reduced ('sum', 'prod', 'mean', 'amax', 'amin') into the positions
    ``index`` names along ``dim``; ``include_self`` counts input's own value in the reduction."""
    x = input
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # (torch accepts the short names too)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    a = _index_tensor(index, "scatter_reduce")
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs "
                           f"{src.dtype})")
    if reduce == "mean" and x._data.dtype == np.bool_:
        raise NotImplementedError("scatter_reduce(): reduce='mean' is not implemented for bool tensors")
    if x._data.ndim == 0:
        if a.ndim or src._data.ndim:
            raise RuntimeError(f"scatter_reduce(): Index tensor must have the same number of dimensions as self "
                               f"tensor (index {list(a.shape)}, self [])")
        wrap_dim(dim, 0, "scatter_reduce")
        flat = scatter_reduce(reshape(x, (1,)), 0, reshape(index, (1,)), reshape(src, (1,)), reduce,
                              include_self=include_self)
        return reshape(flat, ())
    d = wrap_dim(dim, x._data.ndim, "scatter_reduce")
    _check_scatter_shapes(x, d, a, src._data.shape, "scatter_reduce")
    a = _checked(index, x._data.shape[d], d, "scatter_reduce")
    return ScatterReduce.apply(x, _crop(src, a.shape), index=_full_index(a, d), reduce=reduce,
                               include_self=bool(include_self))


def scatter_reduce_(x, dim, index, src, reduce, *, include_self=True):
    return inplace(x, scatter_reduce, dim, index, src, reduce, include_self=include_self, name="scatter_reduce_")


# ---- diagonal / select / slice scatter ----------------------------------------------------------------------------
class DiagonalScatter(IndexPut):
    pass


class SelectScatter(IndexPut):
    pass


class SliceScatter(IndexPut):
    pass


def _src_like(src, x, want, op):
    """``src`` checked to have the shape of the part of x it replaces, in x's dtype (torch casts it)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")
    if src._data.shape != tuple(want):
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(want)}")
    return cast(src, x.dtype)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):  # noqa: A002
    """A copy of input with its (offset, dim1, dim2) diagonal replaced by ``src`` (shaped as input.diagonal())."""
    x, op = input, "diagonal_scatter"
    shape = x._data.shape
    d1, d2 = wrap_dim(dim1, len(shape), op), wrap_dim(dim2, len(shape), op)
    if d1 == d2:
        raise RuntimeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols = _diagonal_positions(shape[d1], shape[d2], _int_arg(offset, op, "offset"))
    v = _src_like(src, x, [s for i, s in enumerate(shape) if i not in (d1, d2)] + [rows.size], op)
    index = [slice(None)] * len(shape)
    index[d1], index[d2] = rows, cols
    lo, hi = sorted((d1, d2))
    at = lo if hi - lo == 1 else 0  # where NumPy puts the dim of two array indices (adjacent or not)
    return DiagonalScatter.apply(x, movedim(v, -1, at), plan=((tuple(index), True),))


def select_scatter(input, src, dim, index):  # noqa: A002
    """A copy of input with ``input.select(dim, index)`` replaced by ``src``."""
    x, op = input, "select_scatter"
    if x._data.ndim == 0:
        raise IndexError(f"{op}: select() cannot be applied to a 0-dim tensor.")
    shape = x._data.shape
    d = wrap_dim(dim, len(shape), op)
    i = _int_arg(index, op, "index")
    if not -shape[d] <= i < shape[d]:
        raise IndexError(f"{op}: select(): index {i} out of range for tensor of size {list(shape)} at dimension {d}")
    v = _src_like(src, x, shape[:d] + shape[d + 1:], op)
    return SelectScatter.apply(x, v, plan=(((slice(None),) * d + (i % shape[d],), False),))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):  # noqa: A002
    """A copy of input with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    x, op = input, "slice_scatter"
    if x._data.ndim == 0:
        raise IndexError(f"{op}: slice() cannot be applied to a 0-dim tensor.")
    shape = x._data.shape
    d = wrap_dim(dim, len(shape), op)
    step = _int_arg(step, op, "step")
    if step <= 0:
        raise RuntimeError(f"{op}: slice step must be positive (got {step})")
    part = slice(None if start is None else _int_arg(start, op, "start"),
                 None if end is None else _int_arg(end, op, "end"), step)
    n = len(range(*part.indices(shape[d])))
    v = _src_like(src, x, shape[:d] + (n,) + shape[d + 1:], op)
    return SliceScatter.apply(x, v, plan=(((slice(None),) * d + (part,), False),))


# ---- masked_scatter -----------------------------------------------------------------------------------------------
class MaskedScatter(Op):
    """``x`` with the first elements of ``source`` (row-major) written where ``mask`` holds, in order."""

    def forward(ctx, x, mask, source):
        k = int(np.count_nonzero(mask))
        if source.size < k:
            raise RuntimeError(f"masked_scatter: Number of elements of source < number of ones in mask "
                               f"({source.size} < {k})")
        out = x.copy()
        out[mask] = source.reshape(-1)[:k]
        ctx.source_shape = source.shape
        ctx.save_for_backward(mask)
        return out

    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        gx = where(mask, 0, g) if ctx.next_edges[0] is not None else None
        gs = None
        if ctx.next_edges[2] is not None:
            gs = MaskedScatterGrad.apply(g, mask, source_shape=ctx.source_shape)
        return gx, None, gs


class MaskedScatterGrad(Op):
    """masked_scatter's source gradient: ``g[mask]`` in the first positions of zeros shaped as the source."""

    def forward(ctx, g, mask, source_shape):
        ctx.g_shape = g.shape
        ctx.save_for_backward(mask)
        out = np.zeros(int(np.prod(source_shape)), dtype=g.dtype)
        picked = g[mask]
        out[:picked.size] = picked
        return out.reshape(source_shape)

    def backward(ctx, gg):
        (mask,) = ctx.saved_tensors
        return MaskedScatter.apply(_make(np.zeros(ctx.g_shape, dtype=gg._data.dtype)), mask, gg), None


def _masked_scatter_args(x, mask, source, op):
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' (position 3) must be Tensor, not {type(source).__name__}")
    mask = _bool_mask(mask, op)
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"{op}: expected self and source to have same dtypes but got {x.dtype} and "
                           f"{source.dtype}")
    return mask, _broadcast_mask(x, mask, op)


def masked_scatter(input, mask, source):  # noqa: A002
    """A copy of input (broadcast with ``mask``) with source's elements, in order, where ``mask`` holds."""
    x = input
    mask, shape = _masked_scatter_args(x, mask, source, "masked_scatter")
    return MaskedScatter.apply(expand(x, shape), expand(mask, shape), source)


def masked_scatter_(x, mask, source):
    mask, shape = _masked_scatter_args(x, mask, source, "masked_scatter_")
    if shape != x._data.shape:
        raise RuntimeError(f"masked_scatter_: the mask of shape {list(mask.shape)} must broadcast to self's shape "
                           f"{list(x.shape)} (an in-place op cannot grow self to {list(shape)})")
    return inplace(x, masked_scatter, mask, source, name="masked_scatter_")


# ---- put ----------------------------------------------------------------------------------------------------------
class Put(Op):
    """``x`` with ``source`` written (or added, with ``accumulate``) at flat row-major positions ``index``."""

    def forward(ctx, x, source, index, accumulate):
        ctx.index, ctx.accumulate, ctx.source_shape = index, accumulate, source.shape
        out = x.copy()
        flat = out.reshape(-1)
        if accumulate:
            np.add.at(flat, index, source.reshape(-1))
        else:
            flat[index] = source.reshape(-1)
        return out

    def backward(ctx, g):
        gx = gs = None
        index = ctx.index
        if ctx.next_edges[0] is not None:
            gx = g if ctx.accumulate else Put.apply(g, _make(np.zeros(index.shape, dtype=g._data.dtype)),
                                                    index=index, accumulate=False)
        if ctx.next_edges[1] is not None:
            gs = reshape(Take.apply(reshape(g, (-1,)), index=(index,)), ctx.source_shape)
        return gx, gs


def _put(x, index, source, accumulate, op):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {index.dtype}")
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"{op}(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{x.dtype} and source.dtype = {source.dtype}")
    if source._data.size != index._data.size:
        raise IndexError(f"{op}(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    size = x._data.size
    if size == 0 and index._data.size:
        raise IndexError(f"{op}(): Tried to put elements into an empty tensor")
    checked = IndexInRange.apply(index, size=size, dim=0, op=op, allow_negative=True, exc=IndexError)
    flat = reshape(where(lt(checked, 0), add(checked, size), checked), (-1,))._data  # (ops: compile mode replays)
    return Put.apply(x, source, index=flat, accumulate=bool(accumulate))


def put(input, index, source, accumulate=False):  # noqa: A002
    """A copy of input with ``source`` put at the flat positions ``index`` (negative ones count from the end);
    ``accumulate`` adds instead, repeated positions adding up."""
    return _put(input, index, source, accumulate, "put")


def put_(x, index, source, accumulate=False):
    return inplace(x, _put, index, source, accumulate, "put_", name="put_")


# ---- fill_diagonal_ -----------------------------------------------------------------------------------------------
def fill_diagonal_(x, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal in place (every dim of an n-D tensor equal); ``wrap`` continues a
    tall matrix's diagonal below its first square block, every (columns + 1) rows, as NumPy and torch do."""
    shape = x._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1 (got a {len(shape)}-D tensor)")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length (got shape "
                           f"{list(shape)})")
    if not isinstance(fill_value, (numbers.Number, np.number, np.bool_, Tensor)):
        raise TypeError(f"fill_diagonal_(): argument 'fill_value' must be Number, not {type(fill_value).__name__}")
    mask = np.zeros(shape, dtype=np.bool_)
    np.fill_diagonal(mask, True, wrap=bool(wrap))
    return inplace(x, masked_fill, _make(mask), fill_value, name="fill_diagonal_")
