"""Ops that rearrange elements: flip, roll, repeat, tile, tril/triu, the hstack/vstack/atleast_nd family,
and pad (constant, reflect, replicate, circular) as torch.nn.functional.pad."""
import numbers

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import Op
from ._util import wrap_dim
from .shape import _tensor_list, _varargs, cat, reshape


def _ints(values, op, name):
    """An int or a (nested once) sequence of ints as a tuple."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]
    out = []
    for v in values:
        if isinstance(v, Tensor):
            v = v.item()
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, but found element of type "
                            f"{type(v).__name__}")
        out.append(int(v))
    return tuple(out)


# ---- flip -------------------------------------------------------------------------------------------------
class Flip(Op):
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    def backward(ctx, g):
        return Flip.apply(g, dims=ctx.dims)


def flip(x, *dim_args, dims=None):
    dims = _ints(_varargs(dim_args, dims, "flip", "dims"), "flip", "dims")
    nd = x._data.ndim
    dims = tuple(wrap_dim(d, nd, "flip") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims {list(dims)} has duplicates (a dim appears multiple times in the list of "
                           "dims)")
    if nd == 0:
        dims = ()
    return Flip.apply(x, dims=dims)


def fliplr(x):
    if x._data.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d (got {x._data.ndim}-d).")
    return flip(x, (1,))


def flipud(x):
    if x._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(x, (0,))


# ---- roll -------------------------------------------------------------------------------------------------
class Roll(Op):
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, axis=dims)

    def backward(ctx, g):
        return Roll.apply(g, shifts=tuple(-s for s in ctx.shifts), dims=ctx.dims)


def roll(x, shifts, dims=None):
    shifts = _ints((shifts,), "roll", "shifts")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
        return reshape(Roll.apply(reshape(x, (-1,)), shifts=shifts, dims=(0,)), x._data.shape)
    dims = _ints((dims,), "roll", "dims")
    if not shifts:
        raise RuntimeError("roll: `shifts` required")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    if x._data.ndim == 0:
        raise IndexError("roll(): Dimension specified as 0 but tensor has no dimensions")
    dims = tuple(wrap_dim(d, x._data.ndim, "roll") for d in dims)
    return Roll.apply(x, shifts=shifts, dims=dims)


# ---- repeat / tile ----------------------------------------------------------------------------------------
class Repeat(Op):
    """x tiled ``reps`` times along each dim (x's shape is left-padded with 1s to len(reps))."""

    def forward(ctx, x, reps):
        ctx.in_shape, ctx.reps = x.shape, reps
        return np.tile(x, reps)

    def backward(ctx, g):
        from .reduction import sum_

        shape = (1,) * (len(ctx.reps) - len(ctx.in_shape)) + ctx.in_shape
        split = []
        for r, s in zip(ctx.reps, shape):
            split += [r, s]
        summed = sum_(reshape(g, tuple(split)), dim=tuple(range(0, 2 * len(shape), 2)))
        return reshape(summed, ctx.in_shape)


def repeat(x, *sizes, repeats=None):
    reps = _ints(_varargs(sizes, repeats, "repeat", "repeats"), "repeat", "repeats")
    if len(reps) < x._data.ndim:
        raise RuntimeError(f"repeat: Number of dimensions of repeat dims ({len(reps)}) can not be smaller than "
                           f"number of dimensions of tensor ({x._data.ndim})")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension (repeats {list(reps)})")
    if not reps:
        return x * 1 if x.requires_grad else _make(x._data.copy())
    return Repeat.apply(x, reps=reps)


def tile(x, *dim_args, dims=None):
    reps = _ints(_varargs(dim_args, dims, "tile", "dims"), "tile", "dims")
    reps = (1,) * (x._data.ndim - len(reps)) + reps
    return repeat(x, reps)


# ---- triangles --------------------------------------------------------------------------------------------
class Tril(Op):
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.tril(x, diagonal)

    def backward(ctx, g):
        return Tril.apply(g, diagonal=ctx.diagonal)


class Triu(Op):
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.triu(x, diagonal)

    def backward(ctx, g):
        return Triu.apply(g, diagonal=ctx.diagonal)


def _triangle(cls, x, diagonal, op):
    if x._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions (got {x._data.ndim})")
    if not isinstance(diagonal, numbers.Integral) or isinstance(diagonal, bool):
        raise TypeError(f"{op}(): argument 'diagonal' must be int, not {type(diagonal).__name__}")
    return cls.apply(x, diagonal=int(diagonal))


def tril(x, diagonal=0):
    return _triangle(Tril, x, diagonal, "tril")


def triu(x, diagonal=0):
    return _triangle(Triu, x, diagonal, "triu")


# ---- stacking helpers -------------------------------------------------------------------------------------
def _nonempty(tensors, op):
    tensors = _tensor_list(tensors, op)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def hstack(tensors):
    tensors = [atleast_1d(t) for t in _nonempty(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in _nonempty(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in _nonempty(tensors, "dstack")], 2)


def column_stack(tensors):
    ts = _nonempty(tensors, "column_stack")
    return cat([reshape(t, (-1, 1)) if t._data.ndim <= 1 else t for t in ts], 1)


def _atleast(fn, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1:
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def _at1(x):
    return reshape(x, (1,)) if x._data.ndim == 0 else x


def _at2(x):
    nd = x._data.ndim
    return x if nd >= 2 else reshape(x, (1, -1) if nd == 1 else (1, 1))


def _at3(x):
    nd = x._data.ndim
    if nd >= 3:
        return x
    return reshape(x, {0: (1, 1, 1), 1: (1, -1, 1), 2: x._data.shape + (1,)}[nd])


def atleast_1d(*tensors):
    return _atleast(_at1, tensors)


def atleast_2d(*tensors):
    return _atleast(_at2, tensors)


def atleast_3d(*tensors):
    return _atleast(_at3, tensors)


# ---- pad --------------------------------------------------------------------------------------------------
class ConstantPad(Op):
    """x padded by ``pads`` ((before, after) per dim, negative crops) with ``value``."""

    def forward(ctx, x, pads, value):
        ctx.pads = pads
        out = np.full(tuple(n + a + b for n, (a, b) in zip(x.shape, pads)), value, dtype=x.dtype)
        src, dst = [], []
        for n, (a, b) in zip(x.shape, pads):
            lo, hi = max(-a, 0), n - max(-b, 0)
            src.append(slice(lo, max(hi, lo)))
            dst.append(slice(max(a, 0), max(a, 0) + max(hi - lo, 0)))
        out[tuple(dst)] = x[tuple(src)]
        return out

    def backward(ctx, g):
        # the gradient crops what was padded and pads (with zeros) what was cropped
        return ConstantPad.apply(g, pads=tuple((-a, -b) for a, b in ctx.pads), value=0)


def _pad_pairs(pad, nd, op="pad"):
    pad = _ints((pad,), op, "pad")
    if len(pad) % 2:
        raise RuntimeError(f"{op}: Padding length must be divisible by 2 (got {len(pad)})")
    if len(pad) // 2 > nd:
        raise RuntimeError(f"{op}: Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {nd}")
    pairs = [(0, 0)] * nd
    for i in range(len(pad) // 2):  # the pad list starts with the last dim
        pairs[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return pad, tuple(pairs)


def _source_positions(n, before, after, mode):
    """For each output position along one dim, the input position it copies (negative pads crop first)."""
    lo, hi = max(-before, 0), n - max(-after, 0)
    m = hi - lo
    j = np.arange(-max(before, 0), m + max(after, 0))
    if mode == "reflect":
        j = np.abs(j)
        j = np.where(j >= m, 2 * (m - 1) - j, j)
    elif mode == "replicate":
        j = np.clip(j, 0, m - 1)
    else:  # circular
        j = j % m
    return j + lo


def pad(input, pad, mode="constant", value=None):  # noqa: A002 - torch's argument names
    x = input
    nd = x._data.ndim
    flat, pairs = _pad_pairs(pad, nd)
    if mode == "constant":
        shape = x._data.shape
        for d, (n, (a, b)) in enumerate(zip(shape, pairs)):
            if n + a + b < 0:
                raise RuntimeError(f"pad: The input size {n}, plus negative padding {a} and {b} resulted in a "
                                   f"negative output size, which is invalid. Check dimension {d} of your input.")
        fill = 0 if value is None else value
        if isinstance(fill, Tensor):
            fill = fill.item()
        return ConstantPad.apply(x, pads=pairs, value=np.array(fill).astype(x._data.dtype))
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    k = len(flat) // 2
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"pad: Padding size {len(flat)} is not supported for {nd}D input tensor "
                                  f"(mode {mode!r} pads the last 1-3 dims of a batched or unbatched input).")
    from .gather import IndexSelect

    for d in range(nd - k, nd):
        n = x._data.shape[d]
        a, b = pairs[d]
        if mode == "reflect" and (a >= n or b >= n):
            raise RuntimeError(f"pad: Padding size should be less than the corresponding input dimension, but got: "
                               f"padding ({a}, {b}) at dimension {d} of input {list(x._data.shape)}")
        if mode == "circular" and (a > n or b > n):
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once (padding ({a}, {b}) at "
                               f"dimension {d} of size {n}).")
        if n == 0 and mode != "circular":
            raise RuntimeError(f"pad: Expected a tensor with possibly 0 batch size and other non-zero dimensions "
                               f"for input, but got: {list(x._data.shape)}")
    out = x
    for d in range(nd - k, nd):
        a, b = pairs[d]
        if a or b:
            pos = _source_positions(out._data.shape[d], a, b, mode)
            out = IndexSelect.apply(out, index=(slice(None),) * d + (pos,))
    return out
