"""Convolutions: conv1d/conv2d and their transposes, by im2col and GEMMs (array kernels in _conv_kernels.py).

Three ops close under differentiation: ``Convolution`` (y = B(x, w)), ``ConvolutionTranspose`` (its adjoint in x,
also the forward of conv_transpose) and ``ConvolutionWeightGrad`` (its adjoint in w); each one's backward is
written with the other two, so double backward works. 1-D convolutions run as 2-D ones with a height of 1.
"""
import numbers

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import _State
from .._tensor import Tensor
from ._conv_kernels import (ConvGeom, _col2im, _conv_forward, _conv_input_grad, _conv_weight_grad, _flipped_geom,
                            _grad_rows, _im2col)
from .reduction import sum_
from .shape import reshape


# ---- ops ----------------------------------------------------------------------------------------------------
class Convolution(Op):
    """y = conv(x, w) + b. With ``keep_cols`` the im2col buffer is saved for the weight gradient."""

    def forward(ctx, x, w, *bias, geom, keep_cols=False):
        ctx.geom, ctx.has_bias = geom, bool(bias)
        y, cols = _conv_forward(x, w, bias[0] if bias else None, geom)
        ctx.save_for_backward(x, w, cols if keep_cols else None)
        return y

    def backward(ctx, g):
        x, w, cols = ctx.saved_tensors
        gm, edges = ctx.geom, ctx.next_edges
        # with batch-minor cols both adjoints read g as the same GEMM operand: build it once, as an op's output
        # (so compile mode's graph computes it at each step too)
        shared = edges[0] is not None and edges[1] is not None and gm.batch_minor and _flipped_geom(gm) is None
        g_rows = GradRows.apply(g, geom=gm)._data if shared else None
        gx = ConvolutionTranspose.apply(g, w, geom=gm, g_rows=g_rows) if edges[0] is not None else None
        gw = None
        if edges[1] is not None:
            gw = ConvolutionWeightGrad.apply(x, g, geom=gm, cols=None if cols is None else cols._data, g_rows=g_rows)
        if not ctx.has_bias:
            return gx, gw
        gb = sum_(g, dim=(0, 2, 3)) if edges[2] is not None else None
        return gx, gw, gb


class GradRows(Op):
    """A convolution's output gradient regrouped as the GEMM operand of both its adjoints (batch-minor)."""

    differentiable = False

    def forward(ctx, g, geom):
        return _grad_rows(g, geom, batch_minor=True)


class ConvolutionTranspose(Op):
    """dx = conv^T(g, w) (+ b per channel of dx): the input gradient of a convolution, and conv_transpose."""

    def forward(ctx, g, w, *bias, geom, g_rows=None):
        ctx.geom, ctx.has_bias = geom, bool(bias)
        ctx.save_for_backward(g, w)
        return _conv_input_grad(g, w, bias[0] if bias else None, geom, g_rows)

    def backward(ctx, h):
        g, w = ctx.saved_tensors
        gm, edges = ctx.geom, ctx.next_edges
        gg = Convolution.apply(h, w, geom=gm) if edges[0] is not None else None
        gw = ConvolutionWeightGrad.apply(h, g, geom=gm) if edges[1] is not None else None
        if not ctx.has_bias:
            return gg, gw
        gb = sum_(h, dim=(0, 2, 3)) if edges[2] is not None else None
        return gg, gw, gb


class ConvolutionWeightGrad(Op):
    """dw = sum over batch and positions of g * windows(x): the weight gradient of a convolution."""

    def forward(ctx, x, g, geom, cols=None, g_rows=None):
        ctx.geom = geom
        ctx.save_for_backward(x, g)
        return _conv_weight_grad(x, g, geom, cols, g_rows)

    def backward(ctx, k):
        x, g = ctx.saved_tensors
        gm, edges = ctx.geom, ctx.next_edges
        gx = ConvolutionTranspose.apply(g, k, geom=gm) if edges[0] is not None else None
        gg = Convolution.apply(x, k, geom=gm) if edges[1] is not None else None
        return gx, gg


# ---- argument handling ----------------------------------------------------------------------------------------
def _ntuple(value, n, name, op):
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    v = tuple(int(a) for a in value)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values to match "
                           f"the convolution dimensions, but got {name}={list(v)}")
    return v


def _check_common(x, weight, bias, nd, groups, op, transposed):
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): argument 'input' and 'weight' must be Tensors, got {type(x).__name__} and "
                        f"{type(weight).__name__}")
    if x._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got "
                           f"input of size: {list(x._data.shape)}")
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected weight to be {nd + 2}-dimensional, but got weight of size "
                           f"{list(weight._data.shape)}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(f"{op}: expected input and weight to have the same dtype, but got input {x.dtype} and "
                           f"weight {weight.dtype}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported (got groups={groups})")
    ws = list(weight._data.shape)
    if ws[0] % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension "
                           f"0, but got weight of size {ws} instead")
    c_in = x._data.shape[-nd - 1]
    expect = ws[0] if transposed else ws[1] * groups
    if c_in != expect:
        xs = list(x._data.shape) if x._data.ndim == nd + 2 else [1] + list(x._data.shape)
        kind = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"{op}: Given {kind}, weight of size {ws}, expected input{xs} to have {expect} channels, "
                           f"but got {c_in} channels instead")
    if bias is not None:
        n_out = ws[1] * groups if transposed else ws[0]
        if bias._data.ndim != 1 or bias._data.shape[0] != n_out:
            raise RuntimeError(f"{op}: Given weight of size {ws}, expected bias to be 1-dimensional with {n_out} "
                               f"elements, but got bias of size {list(bias._data.shape)} instead")
        if bias._data.dtype != x._data.dtype:
            raise RuntimeError(f"{op}: Input type ({x.dtype}) and bias type ({bias.dtype}) should be the same")


def _check_positive(stride, dilation, op):
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported (got stride={list(stride)})")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: non-positive dilation is not supported (got dilation={list(dilation)})")


def _pads(padding, kernel, stride, dilation, nd, op):
    """Per-dimension (before, after) padding from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise RuntimeError(f"{op}: Invalid padding string: {padding!r} (expected 'valid' or 'same')")
    p = _ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported (got padding={list(p)})")
    return tuple((v, v) for v in p)


def _as_2d(x, nd):
    """View a 1-D problem (n, c, l) as a 2-D one (n, c, 1, l)."""
    if nd == 2:
        return x
    s = x._data.shape
    return reshape(x, s[:2] + (1,) + s[2:])


def _lift(value, nd, fill):
    return value if nd == 2 else (fill,) + value


def _convnd(x, weight, bias, stride, padding, dilation, groups, nd, op):
    _check_common(x, weight, bias, nd, groups, op, transposed=False)
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    _check_positive(stride, dilation, op)
    kernel = weight._data.shape[2:]
    pads = _pads(padding, kernel, stride, dilation, nd, op)
    unbatched = x._data.ndim == nd + 1
    if unbatched:
        x = reshape(x, (1,) + x._data.shape)
    spatial = x._data.shape[2:]
    padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
    eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"{op}: Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual "
                           f"input size")
    x2, w2 = _as_2d(x, nd), _as_2d(weight, nd)
    gm = ConvGeom(x2._data.shape, w2._data.shape, _lift(stride, nd, 1), _lift(dilation, nd, 1),
                  _lift(pads, nd, (0, 0)), int(groups))
    inputs = (x2, w2) if bias is None else (x2, w2, bias)
    y = Convolution.apply(*inputs, geom=gm, keep_cols=weight.requires_grad and _State.enabled)
    if nd == 1:
        y = reshape(y, (gm.n, gm.o, gm.ow))
    if unbatched:
        y = reshape(y, y._data.shape[1:])
    return y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D cross-correlation over (N, C, L) or (C, L) input with weight (O, C/groups, K)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation over (N, C, H, W) or (C, H, W) input with weight (O, C/groups, kH, kW)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transposend(x, weight, bias, stride, padding, output_padding, groups, dilation, nd, op):
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    _check_common(x, weight, bias, nd, groups, op, transposed=True)
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    _check_positive(stride, dilation, op)
    pad = _ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in pad):
        raise RuntimeError(f"{op}: negative padding is not supported (got padding={list(pad)})")
    out_pad = _ntuple(output_padding, nd, "output_padding", op)
    if any(op_ >= s and op_ >= d for op_, s, d in zip(out_pad, stride, dilation)) or any(v < 0 for v in out_pad):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={list(out_pad)}, stride={list(stride)}, dilation={list(dilation)}")
    unbatched = x._data.ndim == nd + 1
    if unbatched:
        x = reshape(x, (1,) + x._data.shape)
    n, _ = x._data.shape[:2]
    c_out = weight._data.shape[1] * groups
    kernel = weight._data.shape[2:]
    out_spatial = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                        for i, s, p, d, k, o in zip(x._data.shape[2:], stride, pad, dilation, kernel, out_pad))
    if any(v < 0 for v in out_spatial):
        raise RuntimeError(f"{op}: Given input size per channel: {list(x._data.shape[2:])}, calculated output "
                           f"size per channel {list(out_spatial)} is too small")
    x2, w2 = _as_2d(x, nd), _as_2d(weight, nd)
    pads = tuple((p, p) for p in pad)
    # the convolution whose input gradient this is maps (n, c_out, *out_spatial) -> x's shape
    gm = ConvGeom((n, c_out) + _lift(out_spatial, nd, 1), w2._data.shape, _lift(stride, nd, 1),
                  _lift(dilation, nd, 1), _lift(pads, nd, (0, 0)), int(groups))
    gm.oh, gm.ow = x2._data.shape[2:]  # output_padding >= stride (allowed when < dilation) adds no window
    inputs = (x2, w2) if bias is None else (x2, w2, bias)
    y = ConvolutionTranspose.apply(*inputs, geom=gm)
    if nd == 1:
        y = reshape(y, (n, c_out, out_spatial[0]))
    if unbatched:
        y = reshape(y, y._data.shape[1:])
    return y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d w.r.t. its input), weight (C_in, C_out/groups, K)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input), weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


# ---- unfold / fold (im2col and col2im as user ops) ----------------------------------------------------------------
class Unfold(Op):
    """x (n, c, h, w) -> sliding blocks (n, c*kh*kw, L); its adjoint is Fold."""

    def forward(ctx, x, geom):
        ctx.geom = geom
        cols = _im2col(x, geom, batch_minor=False).reshape(-1, geom.n, geom.oh * geom.ow)  # (c*kh*kw, n, L)
        return np.ascontiguousarray(cols.transpose(1, 0, 2))

    def backward(ctx, g):
        return Fold.apply(g, geom=ctx.geom)


class Fold(Op):
    """Sliding blocks (n, c*kh*kw, L) summed back into (n, c, h, w); its adjoint is Unfold."""

    def forward(ctx, cols, geom):
        ctx.geom = geom
        return _col2im(np.ascontiguousarray(cols.transpose(1, 2, 0)), geom)  # (c*kh*kw, L, n): batch-minor

    def backward(ctx, g):
        return Unfold.apply(g, geom=ctx.geom)


def _block_geom(shape_nchw, kernel_size, dilation, padding, stride, op):
    k = _ntuple(kernel_size, 2, "kernel_size", op)
    d = _ntuple(dilation, 2, "dilation", op)
    p = _ntuple(padding, 2, "padding", op)
    s = _ntuple(stride, 2, "stride", op)
    if min(k) <= 0 or min(s) <= 0 or min(d) <= 0 or min(p) < 0:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, got "
                           f"kernel_size={list(k)}, stride={list(s)}, dilation={list(d)}, padding={list(p)}")
    n, c = shape_nchw[:2]
    gm = ConvGeom(shape_nchw, (1, c) + k, s, d, tuple((v, v) for v in p), 1)
    if gm.oh < 1 or gm.ow < 1:
        raise RuntimeError(f"{op}: Given input with spatial size {list(shape_nchw[2:])}, kernel_size={list(k)}, "
                           f"dilation={list(d)}, padding={list(p)}, calculated shape of the array of sliding "
                           f"blocks as [{gm.oh}, {gm.ow}], but its components must be at least one.")
    return gm


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Extract sliding local blocks: (N, C, H, W) -> (N, C*kH*kW, L) (torch.nn.functional.unfold)."""
    x = input
    if x._data.ndim not in (3, 4):
        exc = IndexError if x._data.ndim < 3 else RuntimeError  # torch's types
        raise exc(f"unfold: Expected 3D or 4D (batch mode) tensor for input, but got input of size "
                  f"{list(x._data.shape)}")
    unbatched = x._data.ndim == 3
    x4 = reshape(x, (1,) + x._data.shape) if unbatched else x
    gm = _block_geom(x4._data.shape, kernel_size, dilation, padding, stride, "unfold")
    y = Unfold.apply(x4, geom=gm)
    return reshape(y, y._data.shape[1:]) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sum sliding local blocks (N, C*kH*kW, L) into (N, C, *output_size) (torch.nn.functional.fold)."""
    cols = input
    if cols._data.ndim not in (2, 3):
        raise RuntimeError(f"fold: Expected 2D or 3D (batch mode) tensor for input, but got input of size "
                           f"{list(cols._data.shape)}")
    unbatched = cols._data.ndim == 2
    c3 = reshape(cols, (1,) + cols._data.shape) if unbatched else cols
    n, ckk, blocks = c3._data.shape
    k = _ntuple(kernel_size, 2, "kernel_size", "fold")
    if ckk % (k[0] * k[1]):
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={list(k)}")
    size = _ntuple(output_size, 2, "output_size", "fold")
    gm = _block_geom((n, ckk // (k[0] * k[1])) + size, k, dilation, padding, stride, "fold")
    if gm.oh * gm.ow != blocks:
        raise RuntimeError(f"fold: Given output_size={list(size)}, kernel_size={list(k)}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {gm.oh} * {gm.ow} = {gm.oh * gm.ow}, but got "
                           f"input.size(2)={blocks}.")
    y = Fold.apply(c3, geom=gm)
    return reshape(y, y._data.shape[1:]) if unbatched else y
