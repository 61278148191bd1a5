"""Indexing: x[key] (basic and advanced, with gradients), x[key] = v, gather/scatter and friends."""
import numbers

import numpy as np

from ..autograd.function import Op
from .._tensor import Tensor, _make


def _convert_index_item(k, pos):
    if isinstance(k, Tensor):
        a = k._data
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if a.dtype == np.uint8:
            a = a.astype(np.bool_)
        if a.ndim == 0 and a.dtype.kind in "iu":
            return int(a)
        return a
    if isinstance(k, (bool, np.bool_)):
        return bool(k)
    if isinstance(k, numbers.Integral):
        return int(k)
    if k is None or k is Ellipsis:
        return k
    if isinstance(k, slice):
        parts = []
        for v in (k.start, k.stop, k.step):
            if isinstance(v, Tensor):
                v = int(v.item())
            parts.append(v)
        if parts[2] is not None and parts[2] <= 0:
            raise ValueError("step must be greater than zero")
        return slice(*parts)
    if isinstance(k, (list, tuple)):
        a = np.asarray([x._data if isinstance(x, Tensor) else x for x in k]) if k else np.zeros(0, dtype=np.int64)
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a
    if isinstance(k, np.ndarray):
        return k
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                     f"indices (got {type(k).__name__})")


def convert_index(key):
    """Turn a user index into a NumPy index; return (index, is_advanced)."""
    if isinstance(key, tuple):
        items = tuple(_convert_index_item(k, i) for i, k in enumerate(key))
    else:
        items = _convert_index_item(key, 0)
        if isinstance(key, list):
            return items, True
        items = (items,)
    advanced = any(isinstance(k, (np.ndarray, bool)) for k in items)
    return items, advanced


def _check_bounds(x_shape, index):
    """Raise torch's IndexError for out-of-range integer indices (NumPy's message says 'axis')."""
    dim = 0
    n_ell = sum(1 for k in index if k is Ellipsis)
    consumed = sum(1 if not isinstance(k, np.ndarray) or k.dtype != np.bool_ else k.ndim
                   for k in index if k is not None and k is not Ellipsis and not isinstance(k, bool))
    if consumed > len(x_shape):
        raise IndexError(f"too many indices for tensor of dimension {len(x_shape)}")
    for k in index:
        if k is Ellipsis:
            dim += len(x_shape) - consumed if n_ell else 0
            continue
        if k is None or isinstance(k, bool):
            continue
        if isinstance(k, int):
            size = x_shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
        elif isinstance(k, np.ndarray) and k.dtype != np.bool_ and k.size:
            size = x_shape[dim]
            if k.max() >= size or k.min() < -size:
                bad = k.max() if k.max() >= size else k.min()
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_:
            if k.shape != tuple(x_shape[dim:dim + k.ndim]):
                raise IndexError(f"The shape of the mask {list(k.shape)} at index {dim} does not match the shape of "
                                 f"the indexed tensor {list(x_shape[dim:dim + k.ndim])} at index {dim}")
            dim += k.ndim
            continue
        dim += 1


class GetItemView(Op):
    is_view = True

    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        return x[index]

    def backward(ctx, g):
        return index_grad(g, ctx.in_shape, ctx.index)


class GetItem(Op):
    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        return x[index]

    def backward(ctx, g):
        return index_grad(g, ctx.in_shape, ctx.index, accumulate=True)


class IndexGrad(Op):
    """Scatter ``g`` into zeros of ``shape`` at ``index`` (the backward of indexing); adds duplicates."""

    def forward(ctx, g, shape, index, accumulate):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if accumulate:
            np.add.at(out, index, g)
        else:
            out[index] = g
        return out

    def backward(ctx, gg):
        return getitem(gg, ctx.index)


def index_grad(g, shape, index, accumulate=False):
    return IndexGrad.apply(g, shape=tuple(shape), index=index, accumulate=accumulate)


def getitem(x, key):
    if isinstance(key, tuple) and all(k.__class__ in (int, slice) for k in key) or key.__class__ in (int, slice):
        index = key if isinstance(key, tuple) else (key,)
        advanced = False
        for k in index:
            if k.__class__ is slice and k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
    else:
        index, advanced = convert_index(key)
    if x._data.ndim == 0 and any(k is not None and k is not Ellipsis and not isinstance(k, (bool, slice))
                                 for k in index):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim tensor to a number")
    _check_bounds(x._data.shape, index)
    if advanced:
        return GetItem.apply(x, index=index)
    return GetItemView.apply(x, index=index)


def _fit_value(v, target_ndim):
    """Drop leading size-1 dims of an assigned value, as torch does (``x[1] = tensor([5.])``)."""
    extra = v.ndim - target_ndim
    if extra > 0 and all(d == 1 for d in v.shape[:extra]):
        return v.reshape(v.shape[extra:])
    return v


class IndexPut(Op):
    """out = x with out[index] = v (the out-of-place form of ``x[index] = v``)."""

    def forward(ctx, x, v, index):
        ctx.index, ctx.v_shape = index, v.shape
        out = x.copy()
        out[index] = _fit_value(v, np.ndim(out[index]))
        return out

    def backward(ctx, g):
        index = ctx.index
        gx = index_put_value(g, index, 0)
        gv = getitem_raw(g, index)
        if gv._data.ndim < len(ctx.v_shape):
            from .shape import reshape

            gv = reshape(gv, (1,) * (len(ctx.v_shape) - gv._data.ndim) + gv._data.shape)
        return gx, gv


def getitem_raw(g, index):
    advanced = any(isinstance(k, (np.ndarray, bool)) for k in index)
    return GetItem.apply(g, index=index) if advanced else GetItemView.apply(g, index=index)


def index_put_value(x, index, value):
    v = _make(np.array(value, dtype=x._data.dtype))
    return IndexPut.apply(x, v, index=index)


def setitem(x, key, value):
    """x[key] = value, in place; recorded for autograd when x or value requires grad."""
    from .inplace import check_inplace, commit_inplace

    index, _ = convert_index(key)
    _check_bounds(x._data.shape, index)
    if isinstance(value, Tensor):
        v = value if value._data.dtype == x._data.dtype else value.to(x.dtype)
    else:
        v = _make(np.asarray(value, dtype=x._data.dtype))
    if check_inplace(x, v, "index_put_"):
        commit_inplace(x, IndexPut.apply(x, v, index=index))
    else:
        try:
            x._data[index] = _fit_value(v._data, np.ndim(x._data[index]))
        except ValueError as e:
            raise RuntimeError(f"index_put_: shape mismatch: value tensor of shape {list(v._data.shape)} cannot be "
                               f"broadcast to indexing result ({e})") from None
        x._version[0] += 1


# ---- gather / scatter / index_select / masked ------------------------------------------------------------
def nonzero(x, as_tuple=False):
    idx = np.nonzero(x._data)
    if as_tuple:
        return tuple(_make(i.astype(np.int64)) for i in idx)
    return _make(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64))


def argwhere(x):
    return nonzero(x)
