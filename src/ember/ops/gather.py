"""Gather/scatter family: gather, scatter, scatter_add, index_select, index_fill, index_add, index_put,
masked_fill, masked_select, take_along_dim, take.

Each is NumPy fancy indexing with an index tuple built from the index tensor, so the gradients come from the
indexing primitives (GetItem reads, IndexGrad scatters the gradient back, adding repeats). The thin subclasses
exist to give the graph torch's node names (GatherBackward0 ...).
"""
import numbers

import numpy as np

from .._tensor import Tensor, _make, _notify_value_read
from ..autograd.function import Op
from ._util import wrap_dim
from .elementwise import Where, add, cast, lt, where
from .indexing import GetItem, GetItemView, IndexPut, _apply_plan, index_grad, index_plan


class Gather(GetItem):
    pass


class IndexSelect(GetItem):
    pass


class Take(GetItem):
    pass


class Scatter(IndexPut):
    pass


class IndexFill(IndexPut):
    pass


class MaskedFill(Where):
    pass


class IndexAdd(Op):
    """``x`` with ``v`` added at ``x[plan]``, repeated positions accumulating (index_add, scatter_add ...)."""

    def forward(ctx, x, v, plan):
        ctx.plan, ctx.v_ndim = plan, v.ndim
        out = x.copy()
        target = out
        for index, _ in plan[:-1]:
            target = target[index]
        np.add.at(target, plan[-1][0], v)
        return out

    def backward(ctx, g):
        gv = None
        if ctx.next_edges[1] is not None:
            gv = _apply_plan(g, ctx.plan)
            extra = ctx.v_ndim - gv._data.ndim
            if extra > 0:
                from .shape import reshape

                gv = reshape(gv, (1,) * extra + gv._data.shape)
        return g, gv


class ScatterAdd(IndexAdd):
    pass


class ScatterMultiply(Op):
    """scatter(..., reduce='multiply'); like torch, it has no derivative."""

    def forward(ctx, x, v, index):
        out = x.copy()
        np.multiply.at(out, index, v)
        return out

    def backward(ctx, g):
        raise RuntimeError("scatter: the derivative of scatter with reduce='multiply' is not implemented")


# ---- argument checks --------------------------------------------------------------------------------------
def _full_index(index, dim):
    """The advanced index addressing out[i0, ..., index[i], ..., in] for every position i of ``index``."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _index_tensor(index, op, kinds=("int64", "int32"), exc=RuntimeError):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype.name not in kinds:
        want = " or ".join(kinds) if len(kinds) > 1 else kinds[0]
        raise exc(f"{op}(): Expected dtype {want} for index, got {index.dtype}")
    return a


_RANGE_MESSAGES = {  # torch's wording where it differs from the common one
    "index_select": "index_select(): index out of range in self (dimension {dim} has size {size})",
    "take": "take(): out of range: tried to access index {bad} on a tensor of {size} elements.",
}


def _check_in_range(a, size, dim, op, allow_negative=False, exc=RuntimeError):
    if a.size == 0:
        return
    lo, hi = int(a.min()), int(a.max())
    low = -size if allow_negative else 0
    if lo < low or hi >= size:
        message = _RANGE_MESSAGES.get(op, "{op}(): index {bad} is out of bounds for dimension {dim} with size {size}")
        raise exc(message.format(op=op, bad=hi if hi >= size else lo, dim=dim, size=size))


class IndexInRange(Op):
    """The index array itself, once checked to lie in range: an op, so that a compiled step (which replays ops,
    not the Python around them) checks the indices of every call."""

    differentiable = False
    is_view = True

    def forward(ctx, a, size, dim, op, allow_negative, exc):
        _check_in_range(a, size, dim, op, allow_negative, exc)
        return a


def _checked(index, size, dim, op, allow_negative=False, exc=RuntimeError):
    """``index._data`` after ``IndexInRange``'s check."""
    return IndexInRange.apply(index, size=size, dim=dim, op=op, allow_negative=allow_negative, exc=exc)._data


def _check_scatter_shapes(x, d, a, src_shape, op):
    if a.ndim != x._data.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                           f"(index {list(a.shape)}, input {list(x._data.shape)})")
    if src_shape is not None and len(src_shape) != a.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as src tensor "
                           f"(index {list(a.shape)}, src {list(src_shape)})")
    for i, n in enumerate(a.shape):
        too_big = (i != d and n > x._data.shape[i]) or (src_shape is not None and n > src_shape[i])
        if too_big:
            extra = f" and to be no larger size than src {list(src_shape)}" if src_shape is not None else ""
            raise RuntimeError(f"{op}(): Expected index {list(a.shape)} to be no larger than self "
                               f"{list(x._data.shape)} apart from dimension {d}{extra}")


def _crop(src, shape):
    """``src`` cut down to ``shape`` from the front (scatter reads only the first index.shape elements)."""
    if src._data.shape == shape:
        return src
    return GetItemView.apply(src, index=tuple(slice(0, n) for n in shape))


def _value_tensor(value, x, op):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return cast(value, x.dtype)
    if not isinstance(value, (numbers.Number, np.number, np.bool_)):
        raise TypeError(f"{op}(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    return _make(np.array(value).astype(x._data.dtype))


# ---- gather / scatter -------------------------------------------------------------------------------------
def gather(input, dim, index, sparse_grad=False):  # noqa: A002 - torch's argument names
    x = input
    a = _index_tensor(index, "gather")
    if x._data.ndim == 0 or a.ndim == 0:
        from .shape import reshape

        out = gather(reshape(x, (-1,)), wrap_dim(dim, x._data.ndim, "gather"), reshape(index, (-1,)))
        return reshape(out, a.shape)
    d = wrap_dim(dim, x._data.ndim, "gather")
    if a.ndim != x._data.ndim:
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as input tensor "
                           f"(index {list(a.shape)}, input {list(x._data.shape)})")
    for i, n in enumerate(a.shape):
        if i != d and n > x._data.shape[i]:
            raise RuntimeError(f"gather(): Size does not match at dimension {i} expected index {list(a.shape)} to "
                               f"be no larger than self {list(x._data.shape)} apart from dimension {d}")
    a = _checked(index, x._data.shape[d], d, "gather")
    return Gather.apply(x, index=_full_index(a, d))


def scatter(input, dim, index, src=None, value=None, reduce=None):  # noqa: A002
    x = input
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None and value is None:
        raise TypeError("scatter(): expected a `src` Tensor or a `value` number")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}.")
    a = _index_tensor(index, "scatter")
    d = wrap_dim(dim, x._data.ndim, "scatter")
    if src is not None:
        if src._data.dtype != x._data.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs {src.dtype})")
        _check_scatter_shapes(x, d, a, src._data.shape, "scatter")
        v = _crop(src, a.shape)
    else:
        _check_scatter_shapes(x, d, a, None, "scatter")
        v = _value_tensor(value, x, "scatter")
    index = _full_index(_checked(index, x._data.shape[d], d, "scatter"), d)
    if reduce == "add":
        return ScatterAdd.apply(x, v, plan=((index, True),))
    if reduce == "multiply":
        return ScatterMultiply.apply(x, v, index=index)
    return Scatter.apply(x, v, plan=((index, True),))


def scatter_add(input, dim, index, src):  # noqa: A002
    x = input
    a = _index_tensor(index, "scatter_add")
    d = wrap_dim(dim, x._data.ndim, "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs {src.dtype})")
    _check_scatter_shapes(x, d, a, src._data.shape, "scatter_add")
    a = _checked(index, x._data.shape[d], d, "scatter_add")
    return ScatterAdd.apply(x, _crop(src, a.shape), plan=((_full_index(a, d), True),))


def take_along_dim(input, indices, dim=None):  # noqa: A002
    x = input
    a = _index_tensor(indices, "take_along_dim", kinds=("int64",))
    from .shape import expand, reshape

    def wrapped(size, dim):
        """The indices checked, negative ones counted from the end: ops, which compile mode replays."""
        t = IndexInRange.apply(indices, size=size, dim=dim, op="take_along_dim", allow_negative=True,
                               exc=RuntimeError)
        return where(lt(t, 0), add(t, size), t)

    if dim is None:
        flat = reshape(x, (-1,))
        return Gather.apply(flat, index=(reshape(wrapped(flat._data.shape[0], 0), (-1,))._data,))
    d = wrap_dim(dim, x._data.ndim, "take_along_dim")
    if a.ndim != x._data.ndim:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of dimensions, but "
                           f"got {x._data.ndim} dimensions for input, and {a.ndim} dimensions for indices")
    xs, is_ = list(x._data.shape), list(a.shape)
    xs[d] = is_[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(xs), tuple(is_)))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): input {list(x._data.shape)} and indices {list(a.shape)} cannot be "
                           f"broadcast together apart from dimension {d}") from None
    size = x._data.shape[d]
    x_shape = common[:d] + [size] + common[d + 1:]
    i_shape = common[:d] + [a.shape[d]] + common[d + 1:]
    a = expand(wrapped(size, d), i_shape)._data
    return Gather.apply(expand(x, x_shape), index=_full_index(a, d))


# ---- index_* ----------------------------------------------------------------------------------------------
def _dim_index(x, dim, index, op, kinds=("int64", "int32"), exc=IndexError, dtype_exc=RuntimeError):
    """(dim, 1-D index tensor) for the index_* ops, checked as torch does (a 0-d index reshaped by an op, so
    that compile mode sees the index as a value of the step)."""
    a = _index_tensor(index, op, kinds, dtype_exc)
    if a.ndim > 1:
        raise exc(f"{op}(): Index is supposed to be a vector (got shape {list(a.shape)})")
    if a.ndim == 0:
        from .shape import reshape

        index = reshape(index, (1,))
    return wrap_dim(dim, x._data.ndim, op), index


def index_select(input, dim, index):  # noqa: A002
    x = input
    d, t = _dim_index(x, dim, index, "index_select")
    if x._data.ndim == 0:
        from .shape import reshape

        return reshape(index_select(reshape(x, (1,)), 0, index), ())
    a = _checked(t, x._data.shape[d], d, "index_select", exc=IndexError)
    return IndexSelect.apply(x, index=(slice(None),) * d + (a,))


def index_fill(input, dim, index, value):  # noqa: A002
    x = input
    d, t = _dim_index(x, dim, index, "index_fill", kinds=("int64",), exc=RuntimeError, dtype_exc=IndexError)
    size = x._data.shape[d] if x._data.ndim else 1
    a = _checked(t, size, d, "index_fill", allow_negative=True, exc=IndexError)
    v = _value_tensor(value, x, "index_fill")
    if x._data.ndim == 0:
        return IndexFill.apply(x, v, plan=(((), False),)) if a.size else x * 1
    if v.requires_grad:  # each position once, so the value's gradient counts it once (as torch); unique's
        _notify_value_read(index, "index_fill")  # size depends on the values: a graph break in compile mode
        a = np.unique(a % size)
    elif a.size:
        # filling a position twice changes nothing; negative indices wrapped with ops (compile mode replays them)
        a = where(lt(t, 0), add(t, size), t)._data
    return IndexFill.apply(x, v, plan=(((slice(None),) * d + (a,), True),))


def index_add(input, dim, index, source, alpha=1):  # noqa: A002
    x = input
    d, t = _dim_index(x, dim, index, "index_add")
    a = t._data
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"index_add(): self ({x.dtype}) and source ({source.dtype}) must have the same scalar type")
    want = x._data.shape[:d] + (a.size,) + x._data.shape[d + 1:]
    if source._data.shape != want and not (x._data.ndim <= 1 and source._data.size == a.size):
        raise RuntimeError(f"index_add(): Number of indices ({a.size}) should be equal to source.size(dim) and "
                           f"source should have shape {list(want)} for dim {d}, got {list(source._data.shape)}")
    a = _checked(t, x._data.shape[d] if x._data.ndim else 1, d, "index_add", exc=IndexError)
    if alpha != 1:
        from .elementwise import mul

        source = mul(source, alpha)
    if x._data.ndim == 0:
        return IndexAdd.apply(x, source, plan=(((), False),))
    return IndexAdd.apply(x, source, plan=(((slice(None),) * d + (a,), True),))


def index_put(input, indices, values, accumulate=False):  # noqa: A002
    x = input
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not {type(values).__name__}")
    plan = index_plan(tuple(indices), x._data.shape)
    v = values if values._data.dtype == x._data.dtype else cast(values, x.dtype)
    try:
        if accumulate:
            return IndexAdd.apply(x, v, plan=plan)
        return IndexPut.apply(x, v, plan=plan)
    except ValueError:
        raise RuntimeError(f"index_put(): shape mismatch: values of shape {list(v._data.shape)} cannot be broadcast "
                           "to the indexing result") from None


def take(input, index):  # noqa: A002
    x = input
    a = _index_tensor(index, "take", kinds=("int64",))
    a = _checked(index, x._data.size, 0, "take", allow_negative=True, exc=IndexError)
    from .shape import reshape

    return Take.apply(reshape(x, (-1,)), index=(a,))


# ---- masks ------------------------------------------------------------------------------------------------
def _bool_mask(mask, op):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {mask.dtype}")
    return mask


def _broadcast_mask(x, mask, op):
    try:
        return tuple(np.broadcast_shapes(x._data.shape, mask._data.shape))
    except ValueError:
        raise RuntimeError(f"{op}: the shape of the mask {list(mask._data.shape)} must be broadcastable with the "
                           f"shape of the input {list(x._data.shape)}") from None


def masked_fill(input, mask, value):  # noqa: A002
    x = input
    mask = _bool_mask(mask, "masked_fill")
    _broadcast_mask(x, mask, "masked_fill")
    return MaskedFill.apply(mask, _value_tensor(value, x, "masked_fill"), x)


def masked_select(input, mask):  # noqa: A002
    x = input
    mask = _bool_mask(mask, "masked_select")
    shape = _broadcast_mask(x, mask, "masked_select")
    if x._data.shape != shape:
        from .shape import expand

        x = expand(x, shape)
    return GetItem.apply(x, index=(np.broadcast_to(mask._data, shape),))


# ---- helpers other ops' backward formulas use -------------------------------------------------------------
def scatter_into_zeros(src, shape, dim, index):
    """zeros(shape) with ``src`` placed along ``dim`` at the (distinct) positions ``index`` (an int array)."""
    return index_grad(src, shape, _full_index(index, dim))


def take_along(x, index, dim):
    """x gathered along ``dim`` at ``index`` (an int array of x's rank)."""
    return Gather.apply(x, index=_full_index(index, dim))
