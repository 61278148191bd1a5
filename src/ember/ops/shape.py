"""Shape ops: views (reshape, expand, permute, squeeze ...) and joins/splits (cat, stack, split, unbind ...)."""
import math
import numbers

import numpy as np

from .._dtype import promote_types
from .._tensor import Size, Tensor, _make, _wrap_dim
from ..autograd.function import Op
from .elementwise import cast
from .indexing import GetItemView, index_grad


def _shape_arg(shape, op):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(Size) (also ints held in 0-d tensors); return a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if len(shape) == 1 and isinstance(shape[0], Tensor) and shape[0]._data.ndim == 1:
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


def _varargs(args, keyword, op, name):
    """f(x, 2, 3) / f(x, (2, 3)) / f(x, name=(2, 3)): the positional form or torch's keyword."""
    if keyword is None:
        return args
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    return (keyword,)


def _int_arg(v, op, name):
    if isinstance(v, Tensor):
        v = v.item()
    if not isinstance(v, numbers.Integral) or isinstance(v, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _alias(x):
    """A new Tensor object over the same data and version counter (a view with no autograd history)."""
    t = _make(x._data, False, None)
    t._version = x._version
    return t


# ---- reshape ----------------------------------------------------------------------------------------------
class Reshape(Op):
    is_view = True

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    def backward(ctx, g):
        return reshape(g, ctx.in_shape)


class ViewDtype(Op):
    """x.view(dtype) for a dtype of the same size: the same bytes read as another type (no gradient)."""

    is_view = True
    differentiable = False

    def forward(ctx, x, dtype):
        return x.view(dtype)


def _infer_shape(shape, numel, op):
    """Resolve one -1 in ``shape`` against ``numel`` elements, raising torch's errors."""
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError(f"{op}: only one dimension can be inferred (got shape {list(shape)})")
            infer = i
        elif s < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            known *= s
    if infer is not None:
        if known == 0:
            raise RuntimeError(f"{op}: cannot reshape tensor of {numel} elements into shape {list(shape)} because "
                               "the unspecified dimension size -1 can be any value and is ambiguous")
        if numel % known == 0:
            return shape[:infer] + (numel // known,) + shape[infer + 1:]
    elif known == numel:
        return shape
    raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")


def reshape(x, *shape_args, shape=None):
    shape = _infer_shape(_shape_arg(_varargs(shape_args, shape, "reshape", "shape"), "reshape"), x._data.size,
                         "reshape")
    if shape == x._data.shape and not x.requires_grad:
        return _alias(x)
    return Reshape.apply(x, shape=shape)


def view(x, *shape, size=None):
    shape = _varargs(shape, size, "view", "size")
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral, Tensor)):
        from .._dtype import as_dtype

        dt = as_dtype(shape[0])
        if dt.np.itemsize != x._data.dtype.itemsize:
            raise RuntimeError("view(dtype): only same-size dtypes are supported")
        return ViewDtype.apply(x, dtype=dt.np)
    shape = _infer_shape(_shape_arg(shape, "view"), x._data.size, "view")
    if not x._data.flags.c_contiguous:
        try:
            np.reshape(x._data, shape, copy=False)
        except ValueError:
            raise RuntimeError(f"view: view size {list(shape)} is not compatible with input tensor's size "
                               f"{list(x._data.shape)} and stride (at least one dimension spans across two "
                               "contiguous subspaces). Use .reshape(...) instead.") from None
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    nd = x._data.ndim
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if nd == 0:
        return reshape(x, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = x._data.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return reshape(x, shp[:s] + (n,) + shp[e + 1:])


def unflatten(x, dim, sizes):
    d = _wrap_dim(dim, x._data.ndim, "unflatten")
    sizes = _shape_arg((sizes,), "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shp = x._data.shape
    try:
        inner = _infer_shape(sizes, shp[d], "unflatten")
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({shp[d]}) in the input tensor") from None
    return reshape(x, shp[:d] + inner + shp[d + 1:])


def ravel(x):
    return reshape(x, (-1,))


# ---- broadcasting -----------------------------------------------------------------------------------------
def broadcast_view(x, shape):
    """``np.broadcast_to`` without its Python overhead (it dominates small backward passes)."""
    if x.size == math.prod(shape):  # only size-1 dims added: a writable reshape-view suffices
        return x.reshape(shape)
    if not x.flags.c_contiguous:
        return np.broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for i, st in enumerate(x.strides):
        strides.append(0 if x.shape[i] == 1 and shape[lead + i] != 1 else st)
    out = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    out.flags.writeable = False  # (zero strides: writes would alias, as np.broadcast_to's views refuse)
    return out


class Expand(Op):
    is_view = True

    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return broadcast_view(x, shape)

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


def _expand_shape(shp, sizes, op):
    if len(sizes) < len(shp):
        raise RuntimeError(f"{op}: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shp)}); tensor shape {list(shp)}, "
                           f"sizes {list(sizes)}")
    lead = len(sizes) - len(shp)
    out = []
    for i, s in enumerate(sizes):
        cur = shp[i - lead] if i >= lead else None
        if s == -1 and cur is not None:
            s = cur
        elif s < 0:
            where = "a leading, non-existing dimension" if cur is None else "dimension"
            raise RuntimeError(f"{op}: the expanded size of the tensor ({s}) isn't allowed in {where} {i}")
        if cur is not None and cur != s and cur != 1:
            raise RuntimeError(f"{op}: the expanded size of the tensor ({s}) must match the existing size ({cur}) "
                               f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shp)}")
        out.append(s)
    return tuple(out)


def expand(x, *sizes, size=None):
    sizes = _varargs(sizes, size, "expand", "size")
    out = _expand_shape(x._data.shape, _shape_arg(sizes, "expand"), "expand")
    if out == x._data.shape and not x.requires_grad:
        return _alias(x)
    return Expand.apply(x, shape=out)


def expand_as(x, other):
    return expand(x, other._data.shape)


def broadcast_to(x, size):
    out = _expand_shape(x._data.shape, _shape_arg((size,), "broadcast_to"), "broadcast_to")
    if out == x._data.shape and not x.requires_grad:
        return _alias(x)
    return Expand.apply(x, shape=out)


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, numbers.Integral) else tuple(s) for s in shapes]
    try:
        return Size(int(s) for s in np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{[list(s) for s in shapes]}") from None


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*[t._data.shape for t in tensors])
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: the shapes {[list(t._data.shape) for t in tensors]} cannot be "
                           "broadcast together (sizes must match or be 1 at each non-singleton dimension)") from None
    return tuple(expand(t, shape) for t in tensors)


# ---- permutations -----------------------------------------------------------------------------------------
class Permute(Op):
    is_view = True

    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    def backward(ctx, g):
        return permute(g, tuple(int(i) for i in np.argsort(ctx.dims)))


def permute(x, *dim_args, dims=None):
    dims = _shape_arg(_varargs(dim_args, dims, "permute", "dims"), "permute")
    nd = x._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute: number of dimensions in the tensor input does not match the length of the "
                           f"desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed (got {list(dims)}).")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    nd = x._data.ndim
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    if nd == 0:
        return _alias(x) if not x.requires_grad else Reshape.apply(x, shape=())
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


swapaxes = swapdims = transpose


def t(x):
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    if x._data.ndim < 2:
        return _alias(x) if not x.requires_grad else Reshape.apply(x, shape=x._data.shape)
    return Permute.apply(x, dims=(1, 0))


def adjoint(x):
    """The last two dims swapped (``x.mT``; the conjugate is a no-op for real tensors)."""
    if x._data.ndim < 2:
        raise RuntimeError(f"tensor.mT and adjoint() are only supported on matrices or batches of matrices. Got "
                           f"{x._data.ndim}-D tensor.")
    return transpose(x, -2, -1)


def movedim(x, source, destination):
    nd = x._data.ndim
    src = [source] if isinstance(source, numbers.Integral) else list(source)
    dst = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src = [_wrap_dim(d, nd, "movedim") for d in src]
    dst = [_wrap_dim(d, nd, "movedim") for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    perm = tuple(p if p is not None else next(rest) for p in perm)
    if nd == 0:
        return _alias(x) if not x.requires_grad else Reshape.apply(x, shape=())
    return Permute.apply(x, dims=perm)


moveaxis = movedim


# ---- squeeze / unsqueeze ----------------------------------------------------------------------------------
def squeeze(x, dim=None):
    shp = x._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
        wrapped = [_wrap_dim(d, len(shp), "squeeze") for d in dims]
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"squeeze: dim {wrapped} appears multiple times in the list of dims")
        new = tuple(s for i, s in enumerate(shp) if not (i in wrapped and s == 1))
    return Reshape.apply(x, shape=new)


def unsqueeze(x, dim):
    nd = x._data.ndim
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"unsqueeze(): argument 'dim' must be int, not {type(dim).__name__}")
    if not -nd - 1 <= dim <= nd:
        raise IndexError(f"unsqueeze(): Dimension out of range (expected to be in range of [{-nd - 1}, {nd}], "
                         f"but got {dim})")
    d = dim % (nd + 1)
    shp = x._data.shape
    return Reshape.apply(x, shape=shp[:d] + (1,) + shp[d:])


# ---- joins ------------------------------------------------------------------------------------------------
class Cat(Op):
    def forward(ctx, *xs, dim, skip):
        ctx.dim, ctx.skip = dim, skip
        kept = [x for x, s in zip(xs, skip) if not s]
        ctx.sizes = [x.shape[dim] for x in kept]
        return np.concatenate(kept, axis=dim)

    def backward(ctx, g):
        parts = iter(split(g, ctx.sizes, ctx.dim))
        return tuple(_make(np.zeros(0, g._data.dtype)) if s else next(parts) for s in ctx.skip)


class Stack(Op):
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    def backward(ctx, g):
        return unbind(g, ctx.dim)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tensors


def _promote_all(ts):
    dt = ts[0]._data.dtype
    if all(t._data.dtype == dt for t in ts):
        return ts
    dtype = ts[0].dtype
    for t in ts[1:]:
        dtype = promote_types(dtype, t.dtype)
    return [cast(t, dtype) for t in ts]


def cat(tensors, dim=0):
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
    # torch skips legacy empty 1-D tensors (shape (0,)) when joining tensors of another rank
    skip = tuple(t._data.shape == (0,) for t in tensors)
    ts = [t for t, s in zip(tensors, skip) if not s]
    if not ts:
        ts, skip = tensors, (False,) * len(tensors)
    ref = ts[0]
    nd = ref._data.ndim
    if nd == 1:
        ts, skip = tensors, (False,) * len(tensors)
    d = _wrap_dim(dim, nd, "cat")
    for i, t in enumerate(ts):
        if t._data.ndim != nd:
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
        for ax in range(nd):
            if ax != d and t._data.shape[ax] != ref._data.shape[ax]:
                raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[ax]} but got size {t._data.shape[ax]} for tensor number {i} "
                                   "in the list.")
    return Cat.apply(*_promote_all(tensors), dim=d, skip=skip)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    nd = len(shp) + 1
    if not isinstance(dim, numbers.Integral) or not -nd <= dim < nd:
        raise IndexError(f"stack(): Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                         f"{dim})")
    return Stack.apply(*_promote_all(tensors), dim=dim % nd)


# ---- splits -----------------------------------------------------------------------------------------------
class Split(Op):
    """Slices ``x[a:b]`` along ``dim`` for each (a, b) in ``bounds``, as views from one node."""

    is_view = True

    def forward(ctx, x, dim, bounds):
        ctx.dim, ctx.bounds, ctx.in_shape = dim, bounds, x.shape
        idx = [slice(None)] * x.ndim
        outs = []
        for a, b in bounds:
            idx[dim] = slice(a, b)
            outs.append(x[tuple(idx)])
        ctx.output_shapes = [(o.shape, o.dtype) for o in outs]
        return tuple(outs)

    def backward(ctx, *grads):
        bounds, d = ctx.bounds, ctx.dim
        if bounds[0][0] == 0 and bounds[-1][1] == ctx.in_shape[d] and all(
                bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1)):
            return cat(list(grads), d) if len(grads) > 1 else grads[0]
        from .elementwise import add

        total = None
        for (a, b), g in zip(bounds, grads):
            part = index_grad(g, ctx.in_shape, (slice(None),) * d + (slice(a, b),))
            total = part if total is None else add(total, part)
        return total


def _split_by(x, d, bounds):
    outs = Split.apply(x, dim=d, bounds=tuple(bounds))
    for o in outs:
        o._version = x._version
    return outs


def split(x, split_size_or_sections, dim=0):
    d = _wrap_dim(dim, x._data.ndim, "split")
    size = x._data.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size > 0:
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, but got dimension size "
                               f"of {size}")
        sizes = [min(step, size - i) for i in range(0, size, step)] if size > 0 else [0]
    else:
        sizes = [_int_arg(s, "split", "split_size") for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
    bounds, start = [], 0
    for s in sizes:
        bounds.append((start, start + s))
        start += s
    return _split_by(x, d, bounds)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, x._data.ndim, "chunk")
    size = x._data.shape[d]
    if size == 0:
        return _split_by(x, d, [(0, 0)] * chunks)
    return split(x, -(-size // chunks), d)


def tensor_split(x, indices_or_sections, dim=0):
    if x._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _wrap_dim(dim, x._data.ndim, "tensor_split")
    size = x._data.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu" or ios._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor of integers, but got a tensor with {ios._data.ndim} dims")
        ios = int(ios.item()) if ios._data.ndim == 0 else ios.tolist()
    if isinstance(ios, numbers.Integral):
        n = int(ios)
        if n <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {n}")
        sizes = [size // n + (1 if i < size % n else 0) for i in range(n)]
        bounds, start = [], 0
        for s in sizes:
            bounds.append((start, start + s))
            start += s
    else:
        cuts = [0] + [slice(_int_arg(i, "tensor_split", "indices"), None).indices(size)[0] for i in ios] + [size]
        bounds = [(a, max(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    return _split_by(x, d, bounds)


class Unbind(Op):
    is_view = True

    def forward(ctx, x, dim):
        ctx.dim = dim
        outs = tuple(np.moveaxis(x, dim, 0))
        ctx.output_shapes = [(o.shape, o.dtype) for o in outs]
        return outs

    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim)


def unbind(x, dim=0):
    if x._data.ndim == 0:
        raise IndexError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, x._data.ndim, "unbind")
    outs = Unbind.apply(x, dim=d)
    for o in outs:
        o._version = x._version
    return outs


def narrow(x, dim, start, length):
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd, "narrow")
    size = x._data.shape[d]
    start = _int_arg(start, "narrow", "start")
    length = _int_arg(length, "narrow", "length")
    if not -size <= start <= size:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-size}, {size}], but got "
                         f"{start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return GetItemView.apply(x, index=(slice(None),) * d + (slice(start, start + length),))


def select(x, dim, index):
    if x._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, x._data.ndim, "select")
    size = x._data.shape[d]
    index = _int_arg(index, "select", "index")
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x._data.shape)} at "
                         f"dimension {d}")
    return GetItemView.apply(x, index=(slice(None),) * d + (index % size,))
