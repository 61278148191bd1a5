"""Shape ops: views (reshape, expand, permute, squeeze ...) and joins/splits (cat, stack, split ...)."""
import numbers

import numpy as np

from .._dtype import promote_types
from .elementwise import cast
from ..autograd.function import Op
from .._tensor import Tensor, _make, _wrap_dim


def _shape_arg(shape, op):
    """Accept f(2, 3), f((2, 3)) and f([2, 3]); return a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if len(shape) == 1 and isinstance(shape[0], Tensor):
        shape = shape[0].tolist()
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__}")
        out.append(int(s))
    return tuple(out)


# ---- reshape ----------------------------------------------------------------------------------------------
class Reshape(Op):
    is_view = True

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    def backward(ctx, g):
        return reshape(g, ctx.in_shape)


def _infer_shape(shape, numel, op, in_shape):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension {min(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def reshape(x, *shape):
    shape = _shape_arg(shape, "reshape")
    if shape == x._data.shape:
        return Reshape.apply(x, shape=shape) if x.requires_grad else _alias(x)
    return Reshape.apply(x, shape=_infer_shape(shape, x._data.size, "reshape", x._data.shape))


def view(x, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral, Tensor)):
        from .._dtype import as_dtype

        dt = as_dtype(shape[0])
        if dt.np.itemsize != x._data.dtype.itemsize:
            raise RuntimeError("view(dtype): only same-size dtypes are supported")
        return _make(x._data.view(dt.np))
    shape = _shape_arg(shape, "view")
    shape = _infer_shape(shape, x._data.size, "view", x._data.shape)
    if not x._data.flags.c_contiguous and x._data.size > 1:
        try:
            x._data.view().shape = shape
        except AttributeError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return Reshape.apply(x, shape=shape)


def _alias(x):
    t = _make(x._data, False, None)
    t._version = x._version
    return t


def flatten(x, start_dim=0, end_dim=-1):
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, (1,))
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = x._data.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return reshape(x, shp[:s] + (n,) + shp[e + 1:])


def unflatten(x, dim, sizes):
    d = _wrap_dim(dim, x._data.ndim, "unflatten")
    shp = x._data.shape
    sizes = tuple(sizes)
    inner = _infer_shape(sizes, shp[d], "unflatten", shp)
    return reshape(x, shp[:d] + inner + shp[d + 1:])


def ravel(x):
    return reshape(x, (-1,))


# ---- broadcasting -----------------------------------------------------------------------------------------
class Expand(Op):
    is_view = True

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(ctx, g):
        return sum_to(g, ctx.in_shape)


class SumTo(Op):
    """Sum a broadcast gradient back to ``shape`` (the engine's one unbroadcasting helper)."""

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(shape) if lead else y

    def backward(ctx, g):
        return expand(g, ctx.in_shape)


def sum_to(x, shape):
    shape = tuple(shape)
    if x._data.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def expand(x, *sizes):
    sizes = _shape_arg(sizes, "expand")
    shp = x._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s == -1:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension ({i})")
            out.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
        out.append(s)
    out = tuple(out)
    if out == shp:
        return _alias(x) if not x.requires_grad else Expand.apply(x, shape=out)
    return Expand.apply(x, shape=out)


def expand_as(x, other):
    return expand(x, other._data.shape)


def broadcast_shapes(*shapes):
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: {shapes}") from None


def broadcast_to(x, shape):
    return expand(x, shape)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# ---- permutations -----------------------------------------------------------------------------------------
class Permute(Op):
    is_view = True

    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    def backward(ctx, g):
        return permute(g, tuple(np.argsort(ctx.dims)))


def permute(x, *dims):
    dims = _shape_arg(dims, "permute")
    nd = x._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    nd = x._data.ndim
    if nd == 0:
        return _alias(x) if not x.requires_grad else Reshape.apply(x, shape=())
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


swapaxes = swapdims = transpose


def t(x):
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    if x._data.ndim < 2:
        return _alias(x) if not x.requires_grad else Reshape.apply(x, shape=x._data.shape)
    return transpose(x, 0, 1)


def movedim(x, source, destination):
    nd = x._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src = [_wrap_dim(d, nd, "movedim") for d in src]
    dst = [_wrap_dim(d, nd, "movedim") for d in dst]
    order = [d for d in range(nd) if d not in src]
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return Permute.apply(x, dims=tuple(perm))


moveaxis = movedim


# ---- squeeze / unsqueeze ----------------------------------------------------------------------------------
def squeeze(x, dim=None):
    shp = x._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_wrap_dim(d, len(shp), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return Reshape.apply(x, shape=new)


def unsqueeze(x, dim):
    nd = x._data.ndim
    if not -nd - 1 <= dim <= nd:
        raise IndexError(f"unsqueeze(): Dimension out of range (expected to be in range of [{-nd - 1}, {nd}], "
                         f"but got {dim})")
    d = dim % (nd + 1)
    shp = x._data.shape
    return Reshape.apply(x, shape=shp[:d] + (1,) + shp[d:])


# ---- joins ------------------------------------------------------------------------------------------------
class Cat(Op):
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    def backward(ctx, g):
        return tuple(split(g, ctx.sizes, ctx.dim))


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    # torch skips legacy empty 1-D tensors
    ts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = ts[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, nd, "cat")
    for i, t in enumerate(ts):
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
        for ax in range(nd):
            if ax != d and t._data.shape[ax] != ref._data.shape[ax]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[ax]} but got size {t._data.shape[ax]} for tensor number {i} "
                                   "in the list.")
    if any(t._data.dtype != ref._data.dtype for t in ts):
        dtype = ts[0].dtype
        for t in ts[1:]:
            dtype = promote_types(dtype, t.dtype)
        ts = [cast(t, dtype) for t in ts]
    return Cat.apply(*ts, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    nd = len(shp) + 1
    if not -nd <= dim < nd:
        raise IndexError(f"stack(): Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                         f"{dim})")
    d = dim % nd
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def atleast_1d(x):
    return reshape(x, (1,)) if x._data.ndim == 0 else x


def atleast_2d(x):
    if x._data.ndim >= 2:
        return x
    return reshape(x, (1, -1)) if x._data.ndim == 1 else reshape(x, (1, 1))


# ---- splits -----------------------------------------------------------------------------------------------
class Narrow(Op):
    is_view = True

    def forward(ctx, x, dim, start, length):
        idx = [slice(None)] * x.ndim
        idx[dim] = slice(start, start + length)
        ctx.index, ctx.in_shape = tuple(idx), x.shape
        return x[ctx.index]

    def backward(ctx, g):
        from .indexing import index_grad

        return index_grad(g, ctx.in_shape, ctx.index)


def narrow(x, dim, start, length):
    nd = x._data.ndim
    d = _wrap_dim(dim, nd, "narrow")
    size = x._data.shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Narrow.apply(x, dim=d, start=start, length=length)


def split(x, split_size_or_sections, dim=0):
    d = _wrap_dim(dim, x._data.ndim, "split")
    size = x._data.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        step = int(split_size_or_sections)
        if step <= 0 and size > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - i) for i in range(0, size, step)] if step > 0 else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(Narrow.apply(x, dim=d, start=start, length=s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = _wrap_dim(dim, x._data.ndim, "chunk")
    size = x._data.shape[d]
    step = -(-size // chunks) if size else 1
    return split(x, step, d)


def tensor_split(x, indices_or_sections, dim=0):
    d = _wrap_dim(dim, x._data.ndim, "tensor_split")
    size = x._data.shape[d]
    if isinstance(indices_or_sections, numbers.Integral):
        n = int(indices_or_sections)
        sizes = [size // n + (1 if i < size % n else 0) for i in range(n)]
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
        sizes = [max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
    out, start = [], 0
    for s in sizes:
        out.append(Narrow.apply(x, dim=d, start=min(start, size), length=s))
        start += s
    return tuple(out)


def unbind(x, dim=0):
    d = _wrap_dim(dim, x._data.ndim, "unbind")
    return tuple(squeeze(p, d) for p in split(x, 1, d))


def select(x, dim, index):
    d = _wrap_dim(dim, x._data.ndim, "select")
    size = x._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x._data.shape)} at "
                         f"dimension {d}")
    return squeeze(Narrow.apply(x, dim=d, start=index % size, length=1), d)
