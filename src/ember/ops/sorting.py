"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, mode, cummax/cummin, searchsorted,
bucketize, unique.

Indices are computed in NumPy by small non-differentiable ops (so compile mode traces them) and are int64;
values are picked from the input at those indices by ``Gather`` subclasses named after torch's nodes, so the
gradient flows into the chosen positions with no backward formula of its own. NaN orders as the largest value.
"""
import operator

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._util import pair, wrap_dim
from .elementwise import cast, div, eq, isnan, mul
from .gather import Gather
from .reduction import _MinMaxResult, sum_
from .shape import reshape

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin",
           "searchsorted", "bucketize", "unique", "unique_consecutive"]


def _named(op):
    """torch.return_types.<op>: a (values, indices) tuple with names."""
    return type(op, (_MinMaxResult,), {"op": op})


_SortResult, _TopkResult, _KthvalueResult = _named("sort"), _named("topk"), _named("kthvalue")
_MedianResult, _NanmedianResult, _ModeResult = _named("median"), _named("nanmedian"), _named("mode")
_CummaxResult, _CumminResult = _named("cummax"), _named("cummin")


# ---- value pickers: gathers with torch's node names ---------------------------------------------------------
class Sort(Gather):
    pass


class Topk(Gather):
    pass


class Kthvalue(Gather):
    pass


class Mode(Gather):
    pass


class Cummax(Gather):
    pass


class Cummin(Gather):
    pass


class MedianDim(Gather):
    def name(self):
        return "MedianBackward1"


class NanmedianDim(Gather):
    def name(self):
        return "NanmedianBackward1"


def _pick(cls, x, idx, dim, keepdim=True):
    """x's elements at positions ``idx`` (an int array) along ``dim``; ``idx`` lacks ``dim`` unless keepdim."""
    grids = list(np.indices(idx.shape, sparse=True))
    if keepdim:
        grids[dim] = idx
    else:
        grids.insert(dim, idx)
    return cls.apply(x, index=tuple(grids))


# ---- index kernels (NumPy) ------------------------------------------------------------------------------------
def _stable_argsort(a, axis, descending):
    """Stable argsort; descending keeps equal elements in their original order (sorting the reversed array
    ascending and reversing back, which works for every dtype, unlike negation)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (a.shape[axis] - 1) - np.flip(rev, axis)


def _first(a, k, axis):
    """The first ``k`` entries of ``a`` along ``axis``."""
    return a[(slice(None),) * axis + (slice(0, k),)]


def _topk_indices(a, k, axis, largest):
    n = a.shape[axis]
    if n > 64 and 0 < k < n // 4:  # partition, then sort only the k chosen
        if largest:
            part = np.argpartition(a, n - k, axis=axis)[(slice(None),) * axis + (slice(n - k, n),)]
        else:
            part = _first(np.argpartition(a, k - 1, axis=axis), k, axis)
        order = _stable_argsort(np.take_along_axis(a, part, axis), axis, largest)
        return np.take_along_axis(part, order, axis)
    return _first(_stable_argsort(a, axis, largest), k, axis)


def _median_indices(a, axis, ignore_nan):
    """Position of the lower median along ``axis`` (keepdims). median: the first NaN of a row that has one;
    nanmedian: the median of the non-NaN values, or the first NaN of an all-NaN row (as torch's CPU kernel)."""
    order = np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    if a.dtype.kind != "f":
        return np.take(order, [(n - 1) // 2], axis=axis)
    nans = np.isnan(a)
    valid = n - np.count_nonzero(nans, axis=axis, keepdims=True)
    idx = np.take_along_axis(order, np.maximum((valid - 1) // 2, 0), axis)
    if not ignore_nan:
        idx = np.where(valid < n, np.argmax(nans, axis=axis, keepdims=True), idx)
    return idx


def _mode_indices(a, axis):
    """Index of the most frequent value along ``axis`` (keepdims): the smallest such value, at its last
    occurrence. NaNs never equal each other, so each counts once (torch's result with NaNs is undefined)."""
    order = np.argsort(a, axis=axis, kind="stable")
    s = np.moveaxis(np.take_along_axis(a, order, axis), axis, -1)
    n = s.shape[-1]
    pos = np.arange(n)
    new_run = np.ones(s.shape, dtype=bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    start = np.maximum.accumulate(np.where(new_run, pos, 0), axis=-1)
    run_end = np.ones(s.shape, dtype=bool)
    run_end[..., :-1] = new_run[..., 1:]
    length = np.where(run_end, pos - start + 1, 0)
    best = np.moveaxis(np.argmax(length, axis=-1)[..., None], -1, axis)  # first max: the smallest value
    return np.take_along_axis(order, best, axis)


def _cum_extreme_indices(a, axis, largest):
    """Index of the running max (min) along ``axis``: the latest among ties, the latest NaN once one is seen."""
    run = (np.maximum if largest else np.minimum).accumulate(a, axis=axis)
    hit = a == run
    if a.dtype.kind == "f":
        hit |= np.isnan(a) & np.isnan(run)
    pos = np.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - axis - 1))
    return np.maximum.accumulate(np.where(hit, pos, 0), axis=axis)


class SortIndices(Op):
    """The index ops below: NumPy kernels without gradient, recorded so compile mode re-runs them."""

    differentiable = False

    def forward(ctx, x, dim, descending):
        return _stable_argsort(x, dim, descending).astype(np.int64, copy=False)


class TopkIndices(Op):
    differentiable = False

    def forward(ctx, x, k, dim, largest):
        return _topk_indices(x, k, dim, largest).astype(np.int64)


class KthvalueIndices(Op):
    differentiable = False

    def forward(ctx, x, k, dim, keepdim):
        idx = np.take(np.argpartition(x, k - 1, axis=dim), [k - 1], axis=dim)
        return (idx if keepdim else idx.squeeze(dim)).astype(np.int64, copy=False)


class MedianIndices(Op):
    differentiable = False

    def forward(ctx, x, dim, keepdim, ignore_nan):
        idx = _median_indices(x, dim, ignore_nan)
        return (idx if keepdim else idx.squeeze(dim)).astype(np.int64, copy=False)


class ModeIndices(Op):
    differentiable = False

    def forward(ctx, x, dim, keepdim):
        idx = _mode_indices(x, dim)
        return (idx if keepdim else idx.squeeze(dim)).astype(np.int64, copy=False)


class CumExtremeIndices(Op):
    differentiable = False

    def forward(ctx, x, dim, largest):
        return _cum_extreme_indices(x, dim, largest).astype(np.int64, copy=False)


# ---- argument checks ------------------------------------------------------------------------------------------
def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 1) must be Tensor, not {type(x).__name__}")


def _int_arg(k, op, name="k"):
    try:
        if k.__class__ is not bool:
            return operator.index(k)
    except TypeError:
        pass
    raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not {type(k).__name__}")


def _no_bool(x, kernel):
    if x._data.dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _nonempty_dim(x, d, op):
    if x._data.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _squeeze0(result_cls, out):
    """A 0-d input is handled as shape (1,) and its results turned back into 0-d tensors."""
    return result_cls(tuple(reshape(t, ()) for t in out))


# ---- sort / argsort / msort / topk / kthvalue -----------------------------------------------------------------
def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002 - torch's argument names
    """Sorted values and their indices along ``dim``; always stable (equal elements keep their order)."""
    x = input
    _tensor_arg(x, "sort")
    d = wrap_dim(dim, x._data.ndim, "sort")
    if x._data.ndim == 0:
        return _squeeze0(_SortResult, sort(reshape(x, (1,)), 0, descending))
    idx = SortIndices.apply(x, dim=d, descending=bool(descending))
    return _SortResult((_pick(Sort, x, idx._data, d), idx))


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    return sort(input, dim, descending, stable)[1]


def msort(input):  # noqa: A002
    return sort(input, 0)[0]


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The ``k`` largest (smallest) values along ``dim`` and their indices, in sorted order. Which of several
    equal values at the cut is chosen is unspecified (as in torch)."""
    x = input
    _tensor_arg(x, "topk")
    k = _int_arg(k, "topk")
    d = wrap_dim(dim, x._data.ndim, "topk")
    if x._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    size = x._data.shape[d] if x._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, size of dim {d} is {size})")
    if x._data.ndim == 0:  # k = 0 gives the element too (torch)
        return _squeeze0(_TopkResult, topk(reshape(x, (1,)), 1, 0, largest))
    idx = TopkIndices.apply(x, k=k, dim=d, largest=bool(largest))
    return _TopkResult((_pick(Topk, x, idx._data, d), idx))


def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """The ``k``-th smallest value (1-based) along ``dim`` and an index of it."""
    x = input
    _tensor_arg(x, "kthvalue")
    k = _int_arg(k, "kthvalue")
    d = wrap_dim(dim, x._data.ndim, "kthvalue")
    _no_bool(x, "kthvalue_cpu")
    if x._data.ndim:
        _nonempty_dim(x, d, "kthvalue")
    size = x._data.shape[d] if x._data.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} (k={k}, size {size})")
    if x._data.ndim == 0:
        return _squeeze0(_KthvalueResult, kthvalue(reshape(x, (1,)), k, 0))
    idx = KthvalueIndices.apply(x, k=k, dim=d, keepdim=bool(keepdim))
    return _KthvalueResult((_pick(Kthvalue, x, idx._data, d, keepdim), idx))


# ---- median / nanmedian / mode --------------------------------------------------------------------------------
class Median(Op):
    """The lower median of all elements (NaN if any is NaN); the gradient is shared evenly among the elements
    equal to it (the NaNs when it is NaN), as torch's."""

    def forward(ctx, x, ignore_nan):
        flat = x.reshape(-1)
        if ignore_nan and x.dtype.kind == "f":
            flat = flat[~np.isnan(flat)]
        if flat.size == 0:  # torch: NaN, or the integer dtype's minimum
            y = np.array(np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min, dtype=x.dtype)
        elif x.dtype.kind == "f" and np.isnan(flat).any():
            y = np.array(np.nan, dtype=x.dtype)
        else:
            mid = (flat.size - 1) // 2
            y = np.partition(flat, mid)[mid].reshape(())
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        mask = isnan(x) if np.isnan(y._data) else eq(x, y)
        mask = cast(mask, g.dtype)
        if not mask._data.any():  # an empty input
            return mul(g, mask)
        return mul(div(g, sum_(mask)), mask)


class Nanmedian(Median):
    pass


def _median(x, dim, keepdim, ignore_nan):
    name = "nanmedian" if ignore_nan else "median"
    _tensor_arg(x, name)
    result = _NanmedianResult if ignore_nan else _MedianResult
    if dim is None:
        _no_bool(x, "median_cpu")
        return (Nanmedian if ignore_nan else Median).apply(x, ignore_nan=ignore_nan)
    d = wrap_dim(dim, x._data.ndim, name)
    _no_bool(x, "median_out")
    if x._data.ndim == 0:
        return _squeeze0(result, _median(reshape(x, (1,)), 0, False, ignore_nan))
    _nonempty_dim(x, d, name)
    idx = MedianIndices.apply(x, dim=d, keepdim=bool(keepdim), ignore_nan=ignore_nan)
    return result((_pick(NanmedianDim if ignore_nan else MedianDim, x, idx._data, d, keepdim), idx))


def median(input, dim=None, keepdim=False):  # noqa: A002
    """The lower median: of all elements (a 0-d tensor), or along ``dim`` as (values, indices). NaN if a NaN is
    present. Which index of several equal medians is returned is unspecified (as in torch)."""
    return _median(input, dim, keepdim, ignore_nan=False)


def nanmedian(input, dim=None, keepdim=False):  # noqa: A002
    """median ignoring NaNs (NaN only where every element is NaN)."""
    return _median(input, dim, keepdim, ignore_nan=True)


def mode(input, dim=-1, keepdim=False):  # noqa: A002
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and an index of it."""
    x = input
    _tensor_arg(x, "mode")
    d = wrap_dim(dim, x._data.ndim, "mode")
    if x._data.ndim == 0:
        return _squeeze0(_ModeResult, mode(reshape(x, (1,)), 0))
    _nonempty_dim(x, d, "mode")
    idx = ModeIndices.apply(x, dim=d, keepdim=bool(keepdim))
    return _ModeResult((_pick(Mode, x, idx._data, d, keepdim), idx))


# ---- cummax / cummin ------------------------------------------------------------------------------------------
def _cum_extreme(x, dim, largest):
    name = "cummax" if largest else "cummin"
    _tensor_arg(x, name)
    d = wrap_dim(dim, x._data.ndim, name)
    result = _CummaxResult if largest else _CumminResult
    if x._data.ndim == 0:
        return _squeeze0(result, _cum_extreme(reshape(x, (1,)), 0, largest))
    idx = CumExtremeIndices.apply(x, dim=d, largest=largest)
    return result((_pick(Cummax if largest else Cummin, x, idx._data, d), idx))


def cummax(input, dim):  # noqa: A002
    """Running maximum along ``dim`` and the index where it was reached (the latest among equal values)."""
    return _cum_extreme(input, dim, largest=True)


def cummin(input, dim):  # noqa: A002
    return _cum_extreme(input, dim, largest=False)



# ---- searchsorted / bucketize ---------------------------------------------------------------------------------
class SearchSorted(Op):
    """Insertion points of ``vals`` in ``seq`` (sorted along its last dim, optionally through ``sorter``)."""

    differentiable = False

    def forward(ctx, seq, vals, sorter=None, side="left", int32=False):
        dt = np.int32 if int32 else np.int64
        if seq.ndim == 1:
            return np.asarray(np.searchsorted(seq, vals, side=side, sorter=sorter)).astype(dt)
        rows, n = int(np.prod(seq.shape[:-1])), seq.shape[-1]
        seq_rows = seq.reshape(rows, n)
        val_rows = vals.reshape(rows, vals.shape[-1])
        sorter_rows = None if sorter is None else sorter.reshape(rows, n)
        out = np.empty(val_rows.shape, dtype=dt)
        for i in range(seq_rows.shape[0]):
            out[i] = np.searchsorted(seq_rows[i], val_rows[i], side=side,
                                     sorter=None if sorter_rows is None else sorter_rows[i])
        return out.reshape(vals.shape)


def _check_searchsorted(seq, value, side, right, sorter):
    op = "torch.searchsorted()"
    if not isinstance(seq, Tensor):
        raise TypeError(f"searchsorted(): argument 'sorted_sequence' (position 1) must be Tensor, not "
                        f"{type(seq).__name__}")
    if not isinstance(value, (Tensor, int, float, bool, np.number)):
        raise TypeError(f"searchsorted(): argument 'input' (position 2) must be Tensor or Number, not "
                        f"{type(value).__name__}")
    if side not in (None, "left", "right"):
        raise RuntimeError(f"{op}: side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of left while right was True")
    s = seq._data
    if s.ndim == 0:
        raise RuntimeError(f"{op}: boundaries tensor should have positive dimension, but got 0 dimension")
    if s.ndim > 1:
        if not isinstance(value, Tensor) or value._data.ndim == 0:
            raise RuntimeError(f"{op}: input value can be a scalar only when boundaries tensor dimension is 1, but "
                               f"we got boundaries tensor dim({s.ndim}) and input value's dim(0) numel(1)")
        if value._data.ndim != s.ndim or value._data.shape[:-1] != s.shape[:-1]:
            raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                               f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
                               f"{list(s.shape)} and input value tensor {list(value._data.shape)}")
    if sorter is not None:
        if not isinstance(sorter, Tensor) or sorter._data.dtype != np.int64:
            got = sorter.dtype if isinstance(sorter, Tensor) else type(sorter).__name__
            raise RuntimeError(f"{op}: sorter must be a tensor of long dtype but got dtype {got}")
        o = sorter._data
        if o.shape != s.shape:
            raise RuntimeError(f"{op}: boundary and sorter must have the same size, but got boundary tensor "
                               f"{list(s.shape)} and got sorter tensor {list(o.shape)}")
        if o.size and (o.min() < 0 or o.max() >= s.shape[-1]):
            raise RuntimeError(f"{op}: sorter index out of range")


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):  # noqa: A002
    """Indices where ``input`` would be inserted into ``sorted_sequence`` (sorted along its last dim) to keep
    it sorted: before equal elements (``side='left'``) or after them (``right=True`` / ``side='right'``)."""
    _check_searchsorted(sorted_sequence, input, side, right, sorter)
    right = side == "right" if side is not None else bool(right)
    seq, value = pair(sorted_sequence, input, "searchsorted")
    if seq._data.dtype == np.bool_:
        raise NotImplementedError('"searchsorted_out_cpu" not implemented for \'Bool\'')
    inputs = (seq, value) if sorter is None else (seq, value, sorter)
    return SearchSorted.apply(*inputs, side="right" if right else "left", int32=bool(out_int32))


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of each element: i with boundaries[i-1] < x <= boundaries[i] (``<=`` then ``<`` if right)."""
    if not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize(): argument 'boundaries' (position 2) must be Tensor, not "
                        f"{type(boundaries).__name__}")
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---- unique / unique_consecutive ------------------------------------------------------------------------------
def _unique_rows(rows, consecutive):
    """Distinct rows of a 2-D array (sorted lexicographically unless ``consecutive``, where only neighbouring
    repeats merge), the group of each input row, and the group sizes. NaN never equals NaN (torch)."""
    r = rows.shape[0]
    if consecutive or r == 0:
        order = np.arange(r)
    elif rows.shape[1] == 1:
        order = np.argsort(rows[:, 0], kind="stable")
    else:
        order = np.lexsort(rows.T[::-1])  # lexsort's last key is the primary one
    s = rows[order]
    new = np.ones(r, dtype=bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    inverse = np.empty(r, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    counts = np.diff(np.append(np.flatnonzero(new), r)).astype(np.int64)
    return s[new], inverse, counts


class Unique(Op):
    """(values, inverse, counts) over all elements (``dim`` None) or the slices along ``dim``. As in torch, the
    values require grad but have no derivative."""

    non_differentiable = (1, 2)

    @staticmethod
    def shape_depends_on_values(params):
        return True

    def forward(ctx, x, dim, consecutive):
        ctx.torch_name = ("unique_consecutive" if consecutive else "_unique2" if dim is None else "unique_dim")
        if dim is None:
            values, inverse, counts = _unique_rows(x.reshape(-1, 1), consecutive)
            return values.reshape(-1), inverse.reshape(x.shape), counts
        moved = np.moveaxis(x, dim, 0)
        rest = moved.shape[1:]
        values, inverse, counts = _unique_rows(moved.reshape(moved.shape[0], int(np.prod(rest))), consecutive)
        values = np.moveaxis(values.reshape((values.shape[0],) + rest), 0, dim)
        return np.ascontiguousarray(values), inverse, counts

    def backward(ctx, *grads):
        raise NotImplementedError(f"the derivative for '{ctx.torch_name}' is not implemented.")

    def name(self):
        names = {"_unique2": "Unique2", "unique_dim": "UniqueDim", "unique_consecutive": "UniqueConsecutive"}
        return names[getattr(self, "torch_name", "_unique2")] + "Backward0"


def _unique(x, return_inverse, return_counts, dim, consecutive):
    name = "unique_consecutive" if consecutive else "unique"
    _tensor_arg(x, name)
    d = None
    if dim is not None:
        if x._data.ndim == 0:
            raise IndexError(f"{name}(): Dimension specified as {dim} but tensor has no dimensions")
        d = wrap_dim(dim, x._data.ndim, name)
        if x._data.size == 0 and x._data.shape.count(0) > 1:
            raise RuntimeError(f"{name}(): Number of zero sized dimensions is more than one, so unique cannot be "
                               f"applied (shape {list(x._data.shape)})")
        if x._data.size == 0 and x._data.shape[d] != 0:
            raise RuntimeError(f"{name}(): There are 0 sized dimensions, and they aren't selected, so unique cannot "
                               f"be applied (shape {list(x._data.shape)}, dim {d})")
    values, inverse, counts = Unique.apply(x, dim=d, consecutive=consecutive)
    if not (return_inverse or return_counts):
        return values
    return (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (or slices along ``dim``), always sorted, optionally with each input's position in
    them (``return_inverse``) and their counts."""
    return _unique(input, return_inverse, return_counts, dim, consecutive=False)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """unique that merges only runs of equal neighbours (keeps the input order)."""
    return _unique(input, return_inverse, return_counts, dim, consecutive=True)
