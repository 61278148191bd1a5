"""Construction and shape ops built from ember's primitives: meshgrid, cartesian_prod, combinations, block_diag,
rot90, vander, diag_embed, triu/tril_indices, repeat_interleave, unravel_index, hsplit/vsplit/dsplit,
Tensor.unfold, and the Tensor helpers new_full/new_empty/storage_offset. Matrix products (tensordot, kron,
baddbmm ..., cdist) live in ``combine_products.py``.

Most are composites (views, indexing, cat), so their gradients come from their parts and compile mode traces
them as their parts. Own ops: DiagEmbed, RepeatPositions (the positions a repeats tensor asks for: its size
depends on the values), TensorUnfold (a view) and its backward.
"""
import itertools
import numbers
import warnings

import numpy as np

from .._dtype import as_dtype, get_default_dtype, int64, promote_types
from .._tensor import Tensor, _make
from ..autograd.function import Op
from ._util import wrap_dim
from .creation import empty, full
from .elementwise import cast, clone, div, remainder
from .gather import IndexSelect
from .indexing import GetItem
from .rearrange import flip, pad
from .reduction import cumprod
from .shape import (_int_arg, _promote_all, _tensor_list, cat, expand, movedim, reshape, stack, tensor_split,
                    transpose, unsqueeze)

__all__ = ["meshgrid", "cartesian_prod", "combinations", "block_diag", "rot90", "vander", "diag_embed",
           "triu_indices", "tril_indices", "repeat_interleave", "unravel_index", "hsplit", "vsplit", "dsplit"]


def _tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _unpack(tensors):
    """f(a, b) and f([a, b]) alike."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0])
    return tensors


# ---- grids and combinations -----------------------------------------------------------------------------------
def meshgrid(*tensors, indexing=None):
    """Coordinate grids: output i holds tensors[i] along dim i ('ij'), or with the first two dims swapped
    ('xy'). Each output is an expanded view of its input. Without ``indexing`` it is 'ij', with torch's warning."""
    tensors = _unpack(tensors)
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the indexing argument "
                      "(using indexing='ij').", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    tensors = _tensor_list(tensors, "meshgrid")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t._data.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of shape "
                               f"{list(t._data.shape)} at position {i}")
    if any(t._data.dtype != tensors[0]._data.dtype for t in tensors):
        raise RuntimeError(f"meshgrid expects all tensors to have the same dtype (got "
                           f"{', '.join(str(t.dtype) for t in tensors)})")
    n = len(tensors)
    axes = list(range(n))
    if indexing == "xy" and n >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * n
    for t, ax in zip(tensors, axes):
        shape[ax] = t._data.size
    grids = []
    for t, ax in zip(tensors, axes):
        along = [1] * n
        along[ax] = t._data.size
        grids.append(expand(reshape(t, along), shape))
    return tuple(grids)


def _check_vector(t, op):
    if t._data.ndim != 1:
        raise RuntimeError(f"{op}: Expect a 1D vector, but got shape {list(t._data.shape)}")


def cartesian_prod(*tensors):
    """All tuples (a, b, ...) of elements of the 1-D inputs, as rows (one input is returned as is, as torch)."""
    tensors = _tensor_list(_unpack(tensors), "cartesian_prod")
    for t in tensors:
        _check_vector(t, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0]
    return stack([reshape(g, (-1,)) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002 - torch's argument names
    """The length-``r`` combinations of a 1-D tensor's elements, as rows (itertools.combinations order)."""
    x = _tensor(input, "combinations")
    _check_vector(x, "combinations")
    r = _int_arg(r, "combinations", "r")
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return _make(np.zeros((0,), dtype=x._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = np.array(list(pick(range(x._data.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return GetItem.apply(x, index=(index,))


def block_diag(*tensors):
    """The inputs (0-, 1- or 2-D; a vector is one row) as the diagonal blocks of one matrix, zeros elsewhere."""
    tensors = _tensor_list(_unpack(tensors), "block_diag")
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    if not tensors:
        return _make(np.zeros((1, 0), dtype=get_default_dtype().np))
    mats = [reshape(t, (1, -1)) if t._data.ndim < 2 else t for t in _promote_all(tensors)]
    width = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        cols = m._data.shape[1]
        rows.append(pad(m, (left, width - left - cols)))
        left += cols
    return cat(rows, 0)


# ---- rotations and structured matrices --------------------------------------------------------------------------
def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the second."""
    x = _tensor(input, "rot90")
    dims = list(dims)
    nd = x._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {nd}")
    raw = [_int_arg(d, "rot90", "dims") for d in dims]
    d0, d1 = wrap_dim(raw[0], nd, "rot90"), wrap_dim(raw[1], nd, "rot90")
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {raw[0]} and dim1 = "
                           f"{raw[1]}")
    k = _int_arg(k, "rot90", "k") % 4
    if k == 1:
        return transpose(flip(x, (d1,)), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return transpose(flip(x, (d0,)), d0, d1)
    return clone(x)


def vander(x, N=None, increasing=False):  # noqa: N803 - torch's argument name
    """Columns x**(N-1), ..., x**0 (``increasing`` reverses them), built with cumprod as torch does. Integer and
    bool inputs give int64."""
    x = _tensor(x, "vander", "x")
    if x._data.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor (got shape {list(x._data.shape)}).")
    length = x._data.shape[0]
    n = length if N is None else _int_arg(N, "vander", "N")
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative (got N={n}).")
    dt = promote_types(x.dtype, int64)
    x = cast(x, dt)
    ones = _make(np.ones((length, min(n, 1)), dtype=dt.np))
    out = ones if n <= 1 else cat([ones, cumprod(expand(reshape(x, (length, 1)), (length, n - 1)), 1)], 1)
    return out if increasing else flip(out, (1,))


def _diagonal_positions(rows, cols, offset):
    """(row, col) positions of the ``offset`` diagonal of a rows x cols plane."""
    if offset >= 0:
        n = max(0, min(rows, cols - offset))
        r = np.arange(n)
        return r, r + offset
    n = max(0, min(rows + offset, cols))
    r = np.arange(n)
    return r - offset, r


def _diagonal(t, offset, dim1, dim2):
    """t.diagonal(offset, dim1, dim2) (a copy): the diagonal becomes the last dim."""
    moved = movedim(t, (dim1, dim2), (-2, -1))
    rows, cols = _diagonal_positions(moved._data.shape[-2], moved._data.shape[-1], offset)
    return GetItem.apply(moved, index=(Ellipsis, rows, cols))


class DiagEmbed(Op):
    """Zeros with the last dim of ``x`` written on the ``offset`` diagonal of the (dim1, dim2) planes."""

    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        m = x.shape[-1] + abs(offset)
        rest = iter(x.shape[:-1])
        out = np.zeros(tuple(m if i in (dim1, dim2) else next(rest) for i in range(x.ndim + 1)), dtype=x.dtype)
        rows, cols = _diagonal_positions(m, m, offset)
        np.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = x
        return out

    def backward(ctx, g):
        return _diagonal(g, *ctx.args)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """A tensor whose (dim1, dim2) planes have the last dim of ``input`` on their ``offset`` diagonal."""
    x = _tensor(input, "diag_embed")
    nd = x._data.ndim + 1
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(x, offset=_int_arg(offset, "diag_embed", "offset"), dim1=d1, dim2=d2)


def _triangle_indices(row, col, offset, dtype, upper, op):
    row, col = _int_arg(row, op, "row"), _int_arg(col, op, "col")
    offset = _int_arg(offset, op, "offset")
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{op}: {name} must be non-negative, got {v}")
    dt = int64 if dtype is None else as_dtype(dtype)
    if dt.np.kind not in "iu":
        raise NotImplementedError(f'"{op}" not implemented for {dt} (it returns integer indices)')
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return _make(np.stack([r, c]).astype(dt.np))


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) indices of the upper triangle (on and above diagonal ``offset``) as a 2 x N tensor."""
    return _triangle_indices(row, col, offset, dtype, True, "triu_indices")


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) indices of the lower triangle (on and below diagonal ``offset``) as a 2 x N tensor."""
    return _triangle_indices(row, col, offset, dtype, False, "tril_indices")


# ---- repeat_interleave / unravel_index --------------------------------------------------------------------------
class RepeatPositions(Op):
    """Each position i < n repeated repeats[i] times (one repeat count broadcasts to all n). Without
    ``output_size`` the length depends on the values: compile mode cannot make a static graph of it."""

    differentiable = False

    @staticmethod
    def shape_depends_on_values(params):
        return params.get("output_size") is None

    def forward(ctx, repeats, n, output_size):
        r = repeats.reshape(-1)
        if r.size == 1:
            r = np.broadcast_to(r, (n,))
        if r.size and r.min() < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        if output_size is not None and int(r.sum()) != output_size:
            raise RuntimeError(f"repeat_interleave: allocated size does not match required size (output_size="
                               f"{output_size}, but the repeats add up to {int(r.sum())})")
        return np.repeat(np.arange(n, dtype=repeats.dtype), r)


def _check_repeats_tensor(r, op):
    if r._data.dtype.kind not in "iu":
        raise NotImplementedError(f"{op}: repeats must be an integer tensor, got {r.dtype}")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Repeat each element (or each slice along ``dim``) ``repeats`` times; ``repeats`` is an int or a tensor of
    per-element counts. ``repeat_interleave(counts)`` gives each index i repeated counts[i] times."""
    op = "repeat_interleave"
    if repeats is None:
        r = _tensor(input, op, "repeats")
        _check_repeats_tensor(r, op)
        if r._data.ndim != 1:
            raise RuntimeError(f"repeat_interleave only accept 1D vector as repeat (got shape {list(r.shape)})")
        return RepeatPositions.apply(r, n=r._data.shape[0], output_size=output_size)
    x = _tensor(input, op)
    if dim is None:
        x, d = reshape(x, (-1,)), 0
    else:
        if x._data.ndim == 0:
            raise IndexError(f"repeat_interleave: Dimension specified as {dim} but tensor has no dimensions (use "
                             "dim=None for a 0-d input)")
        d = wrap_dim(dim, x._data.ndim, op)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor):
        _check_repeats_tensor(repeats, op)
        if repeats._data.ndim > 1:
            raise RuntimeError(f"repeat_interleave: repeats must be 0-dim or 1-dim tensor (got shape "
                               f"{list(repeats.shape)})")
        if repeats._data.size != 1 and repeats._data.size != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats._data.size} and input.size({d}) = {n}")
        positions = RepeatPositions.apply(repeats, n=n, output_size=output_size)
        return IndexSelect.apply(x, index=(slice(None),) * d + (positions._data,))
    if not isinstance(repeats, numbers.Integral) or isinstance(repeats, bool):
        raise TypeError(f"repeat_interleave(): argument 'repeats' must be int or Tensor, not "
                        f"{type(repeats).__name__}")
    r = int(repeats)
    if r < 0:
        raise RuntimeError(f"repeat_interleave: Repeats must be non-negative (got {r})")
    if output_size is not None and output_size != n * r:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {n * r} but got {output_size}")
    shape = x._data.shape
    spread = expand(unsqueeze(x, d + 1), shape[:d + 1] + (r,) + shape[d + 1:])
    return reshape(spread, shape[:d] + (n * r,) + shape[d + 1:])


def unravel_index(indices, shape):
    """The coordinates, one int64 tensor per dim of ``shape``, of flat (row-major) ``indices``. As in torch,
    indices outside the shape wrap around (each coordinate is taken modulo its dim's size)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index(): expected 'indices' to be a Tensor, got {type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    for s in shape:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"unravel_index: expected 'shape' sequence to only contain ints, but got {type(s)}")
    if any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {shape}")
    if 0 in shape:
        raise RuntimeError(f"unravel_index: shape {shape} has a zero-sized dim (ZeroDivisionError)")
    flat = cast(indices, int64)
    coords, step = [], 1
    for s in reversed(shape):
        coords.append(remainder(flat if step == 1 else div(flat, step, rounding_mode="floor"), int(s)))
        step *= int(s)
    return tuple(reversed(coords))


# ---- hsplit / vsplit / dsplit -----------------------------------------------------------------------------------
def _split_along(x, sections, op, min_dims, dim):
    x = _tensor(x, op)
    if x._data.ndim < min_dims:
        raise RuntimeError(f"{op} requires a tensor with at least {min_dims} dimension, but got a tensor with "
                           f"{x._data.ndim} dimensions!")
    if isinstance(sections, Tensor):
        if sections._data.ndim or sections._data.dtype.kind not in "iu":
            raise TypeError(f"{op}(): argument 'indices_or_sections' must be int or tuple of ints, not Tensor")
        sections = int(sections)
    if isinstance(sections, numbers.Integral):
        size = x._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"{op} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {sections}!")
    return tensor_split(x, sections, dim)


def hsplit(input, indices_or_sections):  # noqa: A002
    """Split along dim 1 (dim 0 for a 1-D tensor), into equal sections or at the given indices."""
    return _split_along(input, indices_or_sections, "hsplit", 1, 1 if _tensor(input, "hsplit").ndim > 1 else 0)


def vsplit(input, indices_or_sections):  # noqa: A002
    """Split along dim 0 of a tensor of at least 2 dims."""
    return _split_along(input, indices_or_sections, "vsplit", 2, 0)


def dsplit(input, indices_or_sections):  # noqa: A002
    """Split along dim 2 of a tensor of at least 3 dims."""
    return _split_along(input, indices_or_sections, "dsplit", 3, 2)


# ---- Tensor.unfold ------------------------------------------------------------------------------------------------
class TensorUnfold(Op):
    """The windows of ``size`` elements, ``step`` apart, along ``dim`` as a new last dim: a strided view (windows
    that overlap share their elements, as in torch)."""

    is_view = True

    def forward(ctx, x, dim, size, step):
        ctx.args = (x.shape, dim, size, step)
        if x.ndim == 0:
            return np.lib.stride_tricks.as_strided(x, (size,), (0,))
        st = x.strides
        shape = x.shape[:dim] + ((x.shape[dim] - size) // step + 1,) + x.shape[dim + 1:] + (size,)
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
        return np.lib.stride_tricks.as_strided(x, shape, strides)

    def backward(ctx, g):
        in_shape, dim, size, step = ctx.args
        return TensorUnfoldGrad.apply(g, in_shape=in_shape, dim=dim, size=size, step=step)

    def name(self):
        return "UnfoldBackward0"


class TensorUnfoldGrad(Op):
    """Unfold's backward: each window's gradient added back at the positions it was read from."""

    def forward(ctx, g, in_shape, dim, size, step):
        ctx.args = (dim, size, step)
        out = np.zeros(in_shape, dtype=g.dtype)
        if not in_shape:
            return g.sum().reshape(()).astype(g.dtype) if size else out
        n = g.shape[dim]
        window = [slice(None)] * len(in_shape)
        for k in range(size):
            window[dim] = slice(k, k + step * (n - 1) + 1, step)
            out[tuple(window)] += g[..., k]
        return out

    def backward(ctx, gg):
        dim, size, step = ctx.args
        return TensorUnfold.apply(gg, dim=dim, size=size, step=step)

    def name(self):
        return "UnfoldBackwardBackward0"


def tensor_unfold(x, dimension, size, step):
    """Tensor.unfold(dimension, size, step): a view of the windows along ``dimension`` (see TensorUnfold)."""
    d = wrap_dim(dimension, x._data.ndim, "unfold")
    length = x._data.shape[d] if x._data.ndim else 1
    size, step = _int_arg(size, "unfold", "size"), _int_arg(step, "unfold", "step")
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    return TensorUnfold.apply(x, dim=d, size=size, step=step)


# ---- Tensor helpers: new_full / new_empty / storage_offset --------------------------------------------------------
def new_full(x, size, fill_value, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """A new tensor of ``size`` filled with ``fill_value``, with x's dtype unless ``dtype`` is given."""
    if isinstance(size, numbers.Integral):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    return full(size, fill_value, dtype=x.dtype if dtype is None else dtype, device=device,
                requires_grad=requires_grad)


def new_empty(x, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False, **kw):
    """A new tensor of ``size`` with x's dtype unless ``dtype`` is given (ember fills it with zeros)."""
    return empty(*size, dtype=x.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad,
                 **kw)


def _root_array(a):
    """The array that owns ``a``'s memory (through views, and the helper object as_strided's views keep)."""
    while True:
        base = a.base
        if isinstance(base, np.ndarray):
            a = base
        elif isinstance(getattr(base, "base", None), np.ndarray):  # as_strided's DummyArray
            a = base.base
        else:
            return a


def storage_offset(x):
    """Elements between the start of the memory a tensor views and its first element: 0 for a tensor that owns
    its memory, the slice's start for a view. Computed from NumPy's data pointers, so it counts from the start of
    the NumPy buffer: a tensor laid into a larger buffer by ember itself (an optimizer's flat parameter buffer)
    reports its position there, where torch would report 0."""
    a = x._data
    root = _root_array(a)
    if root is a:
        return 0
    gap = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return gap // a.itemsize
