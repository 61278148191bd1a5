"""Indexing: x[key] (basic and advanced, with gradients), x[key] = v, nonzero/argwhere.

A key is turned once into NumPy index tuples (an "index plan"). torch applies integers before tensor
(advanced) indices while NumPy counts an integer next to an array as one more advanced index, which moves the
result's dims; a key mixing both is therefore applied in two steps, a basic view then the advanced part.
"""
import numbers

import numpy as np

from .._tensor import Tensor, _make, _notify_value_read
from .. import _kernels
from ..autograd.function import Op

_INVALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
            "(got {})")


# ---- key conversion ---------------------------------------------------------------------------------------
def _sequence_as_tuple(key) -> bool:
    """torch reads a short list holding tensors, sequences, slices, None or ... as a tuple of indices."""
    if len(key) >= 32:
        return False
    return any(isinstance(k, (Tensor, np.ndarray, list, tuple, slice)) or k is None or k is Ellipsis for k in key)


def _index_array(a):
    if a.dtype.kind == "f" or a.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype == np.uint8:
        return a.astype(np.bool_)
    return a


def _slice_part(v):
    if isinstance(v, Tensor):
        v = v.item()
    if v is None or isinstance(v, numbers.Integral):
        return None if v is None else int(v)
    raise TypeError(f"slice indices must be integers or None or have an __index__ method (got {type(v).__name__})")


def _convert_item(k):
    if isinstance(k, Tensor):
        a = k._data
        if a.ndim == 0 and a.dtype.kind in "iu" and a.dtype != np.uint8:
            return int(a)
        return _index_array(a)
    if isinstance(k, (bool, np.bool_)):
        return None if k else np.array(False)
    if isinstance(k, numbers.Integral):
        return int(k)
    if k is None or k is Ellipsis:
        return k
    if isinstance(k, slice):
        step = _slice_part(k.step)
        if step is not None and step <= 0:
            raise ValueError("step must be greater than zero" if step else "slice step cannot be zero")
        return slice(_slice_part(k.start), _slice_part(k.stop), step)
    if isinstance(k, (list, tuple, np.ndarray)):
        if isinstance(k, np.ndarray):
            a = k
        elif len(k) == 0:
            a = np.zeros(0, dtype=np.int64)
        else:
            a = np.array([_nested_data(e) for e in k])
        return _index_array(a)
    if isinstance(k, numbers.Number):
        raise IndexError(_INVALID.format(type(k).__name__))
    raise TypeError(f"invalid index of type {type(k).__name__}; " + _INVALID.format(type(k).__name__))


def _nested_data(e):
    if isinstance(e, Tensor):
        return e._data
    if isinstance(e, (list, tuple)):
        return [_nested_data(x) for x in e]
    return e


def _is_array(k):
    return k.__class__ is np.ndarray


def index_plan(key, shape):
    """Check ``key`` against ``shape`` and return the NumPy indexing steps: ((index, advanced), ...)."""
    if key.__class__ is not tuple:
        key = tuple(key) if key.__class__ is list and _sequence_as_tuple(key) else (key,)
    items = [_convert_item(k) for k in key]
    nd = len(shape)
    consumed, n_ellipsis, has_int, has_array = 0, 0, False, False
    for k in items:
        if k is None:
            continue
        if k is Ellipsis:
            n_ellipsis += 1
        elif _is_array(k):
            has_array = True
            consumed += k.ndim if k.dtype == np.bool_ else 1
        else:
            has_int = has_int or k.__class__ is int
            consumed += 1
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > nd:
        if nd == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim tensor to a "
                             "number")
        raise IndexError(f"too many indices for tensor of dimension {nd} (got {consumed})")
    _check_bounds(items, shape, nd - consumed)
    items = tuple(items)
    if not has_array:
        return ((items, False),)
    if not has_int:
        return ((items, True),)
    # integers first (a view), then the arrays on the dims that remain
    first, second = [], []
    for k in items:
        if _is_array(k):
            first.extend([slice(None)] * (k.ndim if k.dtype == np.bool_ else 1))
            second.append(k)
        else:
            first.append(k)
            if k.__class__ is not int:
                second.append(Ellipsis if k is Ellipsis else slice(None))
    return ((tuple(first), False), (tuple(second), True))


def _check_bounds(items, shape, ellipsis_dims):
    dim = 0
    for k in items:
        if k is None:
            continue
        if k is Ellipsis:
            dim += ellipsis_dims
        elif k.__class__ is int:
            size = shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
            dim += 1
        elif _is_array(k):
            if k.dtype == np.bool_:
                if k.shape != tuple(shape[dim:dim + k.ndim]):
                    raise IndexError(f"The shape of the mask {list(k.shape)} at index {dim} does not match the "
                                     f"shape of the indexed tensor {list(shape[dim:dim + k.ndim])} at index {dim}")
                dim += k.ndim
                continue
            size = shape[dim]
            if k.size:
                hi, lo = int(k.max()), int(k.min())
                if hi >= size or lo < -size:
                    raise IndexError(f"index {hi if hi >= size else lo} is out of bounds for dimension {dim} with "
                                     f"size {size}")
            dim += 1
        else:
            dim += 1


def _only_masks(index):
    """True when the advanced part of ``index`` is boolean masks only (no position can repeat)."""
    return all(k.dtype == np.bool_ for k in index if _is_array(k))


# ---- x[key] -----------------------------------------------------------------------------------------------
class GetItemView(Op):
    """x[index] for a basic index (ints, slices, None, ...): a view."""

    is_view = True

    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        return x[index]

    def backward(ctx, g):
        return index_grad(g, ctx.in_shape, ctx.index)


class GetItem(Op):
    """x[index] with integer/boolean arrays in the index: a copy."""

    @staticmethod
    def shape_depends_on_values(params):  # a boolean mask selects as many elements as it holds True
        index = params.get("index")
        return any(isinstance(k, np.ndarray) and k.dtype == np.bool_ and k.ndim > 0
                   for k in (index if isinstance(index, tuple) else (index,)))

    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        return x[index]

    def backward(ctx, g):
        return index_grad(g, ctx.in_shape, ctx.index, accumulate=not _only_masks(ctx.index))


class IndexGrad(Op):
    """zeros(shape) with ``g`` written at ``index`` (the backward of indexing); ``accumulate`` adds repeats."""

    def forward(ctx, g, shape, index, accumulate):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if accumulate:
            np.add.at(out, index, g)
        else:
            out[index] = g
        return out

    def backward(ctx, gg):
        index = ctx.index
        return (GetItem if any(_is_array(k) for k in index) else GetItemView).apply(gg, index=index)


def index_grad(g, shape, index, accumulate=False):
    return IndexGrad.apply(g, shape=tuple(shape), index=index, accumulate=accumulate)


def _apply_plan(x, plan):
    for index, advanced in plan:
        x = (GetItem if advanced else GetItemView).apply(x, index=index)
    return x


def _plain_basic(key, shape):
    """The fast path: ``key`` (a tuple) holds only in-range ints and slices with no step or a positive int step."""
    if len(key) > len(shape):
        return False
    for k, n in zip(key, shape):
        c = k.__class__
        if c is int:
            if not -n <= k < n:
                return False
        elif c is not slice or not (k.step is None or (k.step.__class__ is int and k.step > 0)) \
                or not (k.start is None or k.start.__class__ is int) or not (k.stop is None or k.stop.__class__ is int):
            return False
    return True


def getitem(x, key):
    if key.__class__ is int and x._data.ndim:
        size = x._data.shape[0]
        if not -size <= key < size:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {size}")
        return GetItemView.apply(x, index=(key,))
    if key.__class__ is tuple and _plain_basic(key, x._data.shape):
        return GetItemView.apply(x, index=key)
    return _apply_plan(x, index_plan(key, x._data.shape))


# ---- x[key] = value ---------------------------------------------------------------------------------------
class IndexPut(Op):
    """``x`` with ``x[plan] = v`` (the out-of-place form of index assignment)."""

    def forward(ctx, x, v, plan):
        ctx.plan, ctx.v_ndim = plan, v.ndim
        out = x.copy()
        _assign(out, plan, v)
        return out

    def backward(ctx, g):
        gx = gv = None
        if ctx.next_edges[0] is not None:
            gx = IndexPut.apply(g, _make(np.zeros((), dtype=g._data.dtype)), plan=ctx.plan)
        if ctx.next_edges[1] is not None:
            gv = _apply_plan(g, ctx.plan)
            extra = ctx.v_ndim - gv._data.ndim
            if extra > 0:  # the value had leading size-1 dims that assignment drops
                from .shape import reshape

                gv = reshape(gv, (1,) * extra + gv._data.shape)
        return gx, gv


def _assign(arr, plan, v):
    """``arr[plan] = v`` in place (an in-place kernel, so compile mode replays it)."""
    for index, _ in plan[:-1]:
        arr = arr[index]  # basic steps are views
    target = plan[-1][0]
    extra = v.ndim - np.ndim(arr[target]) if v.ndim else 0
    if extra > 0 and all(d == 1 for d in v.shape[:extra]):
        v = v.reshape(v.shape[extra:])  # torch drops leading size-1 dims of the value: x[1] = tensor([5.])
    arr[target] = v


def _is_single_mask(plan):
    arrays = [k for k in plan[0][0] if _is_array(k)]
    return len(plan) == 1 and len(arrays) == 1 and arrays[0].dtype == np.bool_


def _result_shape(shape, plan):
    a = np.broadcast_to(np.zeros((), np.int8), shape)
    for index, _ in plan:
        a = a[index]
    return list(a.shape)


def setitem(x, key, value):
    """x[key] = value, in place; recorded for autograd when x or value requires grad."""
    from .inplace import check_inplace, commit_inplace

    plan = index_plan(key, x._data.shape)
    if isinstance(value, Tensor):
        v = value
        if v._data.dtype != x._data.dtype:
            if plan[-1][1] and not (v._data.ndim == 0 and _is_single_mask(plan)):
                raise RuntimeError(f"index_put_: Index put requires the source and destination dtypes match, got "
                                   f"{x.dtype} for the destination and {v.dtype} for the source.")
            from .elementwise import cast

            v = cast(v, x.dtype)
    elif isinstance(value, (numbers.Number, np.number, np.bool_)):
        v = _make(np.array(value).astype(x._data.dtype))
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a {x.type()} (use a number or a Tensor)")
    if not x._data.flags.writeable:
        raise RuntimeError("index_put_: unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location (an expanded tensor). Please clone() the tensor "
                           "before performing the operation.")
    try:
        if check_inplace(x, v, "index_put_"):
            commit_inplace(x, IndexPut.apply(x, v, plan=plan))
            return
        _kernels.run(_assign, x, plan, v)
    except ValueError:
        raise RuntimeError(f"index_put_: shape mismatch: value tensor of shape {list(v._data.shape)} cannot be "
                           f"broadcast to indexing result of shape {_result_shape(x._data.shape, plan)}") from None


# ---- nonzero ----------------------------------------------------------------------------------------------
def nonzero(x, as_tuple=False):
    _notify_value_read(x, "nonzero")  # a shape that depends on the values (compile mode: a graph break)
    a = x._data
    if a.ndim == 0:
        n = int(bool(a))
        if as_tuple:
            return (_make(np.zeros(n, dtype=np.int64)),)
        return _make(np.zeros((n, 0), dtype=np.int64))
    idx = np.nonzero(a)
    if as_tuple:
        return tuple(_make(i.astype(np.int64)) for i in idx)
    return _make(np.stack(idx, axis=1).astype(np.int64))


def argwhere(x):
    return nonzero(x)
