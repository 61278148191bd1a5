"""Pooling: max/avg pooling (1-D and 2-D, padding, dilation, ceil_mode) and adaptive avg/max pooling.

Windows are a strided view (``as_strided``) of the padded input. Max pooling keeps, per output, the flat index of
the winner in its (H*W) input plane (torch's ``return_indices``); its gradient scatters into those positions.
Average pooling is separable: window sums are k_h + k_w strided slice additions, and so is their adjoint.
1-D pooling runs as 2-D pooling with a height of 1. With numba (ember._fused), float max pooling with indices and
the scatter of its gradient run as compiled loops, bitwise equal to the NumPy code here.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _fused
from ..autograd.function import Op
from ..autograd.grad_mode import _State
from .._tensor import Tensor, _make
from .shape import reshape


# ---- geometry -----------------------------------------------------------------------------------------------
def _out_size(size, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = (num + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window would start in the right padding
    return out


class PoolGeom:
    """One 2-D pooling: input (n, c, h, w), kernel, stride, padding, dilation and the output size."""

    __slots__ = ("n", "c", "h", "w", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "oh", "ow")

    def __init__(self, shape, kernel, stride, padding, dilation, ceil_mode):
        self.n, self.c, self.h, self.w = shape
        self.kh, self.kw = kernel
        self.sh, self.sw = stride
        self.ph, self.pw = padding
        self.dh, self.dw = dilation
        self.oh = _out_size(self.h, self.kh, self.sh, self.ph, self.dh, ceil_mode)
        self.ow = _out_size(self.w, self.kw, self.sw, self.pw, self.dw, ceil_mode)

    def padded_shape(self):
        """(Hp, Wp): input plus padding, plus what ceil_mode's last window reaches past it."""
        hp = max(self.h + 2 * self.ph, (self.oh - 1) * self.sh + self.dh * (self.kh - 1) + 1)
        wp = max(self.w + 2 * self.pw, (self.ow - 1) * self.sw + self.dw * (self.kw - 1) + 1)
        return hp, wp

    @property
    def overlapping(self):
        return self.sh < self.dh * (self.kh - 1) + 1 or self.sw < self.dw * (self.kw - 1) + 1


def _pad(x, gm, fill):
    hp, wp = gm.padded_shape()
    if (hp, wp) == (gm.h, gm.w):
        return x
    xp = np.full((gm.n, gm.c, hp, wp), fill, dtype=x.dtype)
    xp[:, :, gm.ph:gm.ph + gm.h, gm.pw:gm.pw + gm.w] = x
    return xp


def _windows(xp, gm):
    """(n, c, oh, ow, kh, kw) read-only strided view of the windows of the padded input (as_strided: a third of
    sliding_window_view's call overhead, which showed in small steps)."""
    sn, sc, sy, sx = xp.strides
    return as_strided(xp, (gm.n, gm.c, gm.oh, gm.ow, gm.kh, gm.kw),
                      (sn, sc, sy * gm.sh, sx * gm.sw, sy * gm.dh, sx * gm.dw), writeable=False)


# ---- gradient routing by flat plane index (max pooling, adaptive max pooling) -------------------------------------
def _flat_index(idx, n_planes, plane):
    """Plane indices (n, c, ...) -> indices into the flattened (n*c*plane) array (int64, 1-D)."""
    offsets = np.arange(n_planes, dtype=np.int64) * plane
    return np.add(idx.reshape(n_planes, -1), offsets[:, None], dtype=np.int64).ravel()


class PlaneScatter(Op):
    """zeros(shape) with g[n, c, i] added at plane position idx[n, c, i] (the backward of max pooling)."""

    def forward(ctx, g, idx, shape, unique):
        ctx.idx = idx
        size, planes = int(np.prod(shape)), shape[0] * shape[1]
        if unique:
            out = _plane_scatter_fused(g, idx, planes, size)
            if out is not None:
                return out.reshape(shape)
        flat = _flat_index(idx, planes, size // max(planes, 1))
        if unique:  # one flat fancy assignment: ~3x faster than put_along_axis on (n*c, plane)
            out = np.zeros(size, dtype=g.dtype)
            out[flat] = g.ravel()
        else:
            out = np.bincount(flat, weights=g.ravel(), minlength=size).astype(g.dtype, copy=False)
        return out.reshape(shape)

    def backward(ctx, h):
        return PlaneGather.apply(h, idx=ctx.idx)


def _plane_scatter_fused(g, idx, planes, size):
    """PlaneScatter's unique case as one numba loop (None without numba, for other dtypes, or at an index
    outside its plane, which the NumPy path handles)."""
    k = _fused.kernels()
    if k is None or g.dtype not in _FUSED_DTYPES or idx.dtype != np.int64 or g.shape != idx.shape:
        return None
    out = np.zeros(size, dtype=g.dtype)
    if not k.plane_scatter(np.ascontiguousarray(g).reshape(-1), np.ascontiguousarray(idx).reshape(-1), planes,
                           size // max(planes, 1), out):
        return None
    return out


class PlaneGather(Op):
    """x[n, c].flat[idx[n, c, ...]]: the adjoint of PlaneScatter."""

    def forward(ctx, x, idx):
        ctx.idx, ctx.shape = idx, x.shape
        n, c = x.shape[:2]
        return np.take(x.reshape(-1), _flat_index(idx, n * c, x.size // max(n * c, 1))).reshape(idx.shape)

    def backward(ctx, g):
        return PlaneScatter.apply(g, idx=ctx.idx, shape=ctx.shape, unique=False)


def _max_windows(win, gm, is_float, want_index=True):
    """Max over each window and the flat plane index of its maximum (the first one; the last NaN, as torch).

    The windows are first copied offset-major, (kh*kw, n, c, oh, ow), so every step below runs on contiguous
    arrays (strided window views are an order of magnitude slower elementwise). The index comes from a
    tournament over offsets, one comparison per pairing, where ``b`` (later offsets) beats ``a`` only when
    strictly greater (or NaN, in the rare second pass when the output has NaNs)."""
    kk = gm.kh * gm.kw
    stack = np.ascontiguousarray(win.transpose(4, 5, 0, 1, 2, 3)).reshape((kk,) + win.shape[:4])
    if not want_index:
        return stack.max(axis=0), None  # propagates NaN
    offsets = [(k // gm.kw) * gm.dh * gm.w + (k % gm.kw) * gm.dw for k in range(kk)]
    out, arg = _tournament(stack, offsets, nan=False)
    if is_float and np.isnan(out).any():
        out, arg = _tournament(stack, offsets, nan=True)
    base = (np.arange(gm.oh) * gm.sh - gm.ph)[:, None] * gm.w + (np.arange(gm.ow) * gm.sw - gm.pw)
    idx = np.add(arg, base, dtype=np.int64)
    if gm.ph or gm.pw:
        # a window whose input elements all equal the padding value (-inf) may have picked a padding position:
        # torch's index is then the window's first element inside the input
        fill = -np.inf if is_float else np.iinfo(out.dtype).min
        at_fill = out == fill
        if at_fill.any():
            np.copyto(idx, _first_inside(gm), where=at_fill)
    return out, idx


def _first_inside(gm):
    """(oh, ow) plane index of each window's first element inside the input (row-major window order)."""
    def first(n_out, s, p, d):
        start = np.arange(n_out) * s - p
        return np.where(start < 0, start + d * (-(start // d)), start)  # first start + k*d >= 0

    return first(gm.oh, gm.sh, gm.ph, gm.dh)[:, None] * gm.w + first(gm.ow, gm.sw, gm.pw, gm.dw)


def _tournament(stack, offsets, nan):
    """(max over axis 0, offsets[first argmax]) by pairwise merges of contiguous slices."""
    cands = [(stack[k], np.int32(offsets[k])) for k in range(len(offsets))]
    while len(cands) > 1:
        merged = []
        for (a, ia), (b, ib) in zip(cands[::2], cands[1::2]):
            better = b > a
            if nan:
                better |= np.isnan(b)
            idx = ia + (ib - ia) * better  # int32 arithmetic: cheaper than np.where
            merged.append((np.where(better, b, a) if nan else np.maximum(a, b), idx))
        if len(cands) % 2:
            merged.append(cands[-1])
        cands = merged
    out, arg = cands[0]
    if not isinstance(arg, np.ndarray):  # a 1x1 window
        out, arg = out.copy(), np.full(out.shape, arg, dtype=np.int32)
    return out, arg


_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _inner_range(size, last, s, p, o):
    """[lo, hi): the output positions whose window (start o * s - p, extent last + 1) lies inside [0, size)."""
    lo = min(o, -(-p // s))
    hi = max(lo, min(o, (size - 1 - last + p) // s + 1))
    return lo, hi


def _max_pool_fused(k, x, gm):
    """MaxPool's values and indices by numba loops over the input (no padded copy, no window stack), bitwise
    equal to _max_windows (ember._fused.max_pool2d_*): a branch-free loop over the windows inside the input
    when it has no NaN, then the general loop for the others."""
    planes = gm.n * gm.c
    xf = np.ascontiguousarray(x).reshape(-1)
    out = np.empty((gm.n, gm.c, gm.oh, gm.ow), dtype=x.dtype)
    idx = np.empty(out.shape, dtype=np.int64)
    args = (xf, planes, gm.h, gm.w, gm.kh, gm.kw, gm.sh, gm.sw, gm.ph, gm.pw, gm.dh, gm.dw, x.dtype.type(-np.inf),
            out.reshape(-1), idx.reshape(-1), gm.oh, gm.ow)
    has_nan = k.count_nan(xf) > 0
    if has_nan:
        ilo = ihi = jlo = jhi = 0
    else:
        ilo, ihi = _inner_range(gm.h, gm.dh * (gm.kh - 1), gm.sh, gm.ph, gm.oh)
        jlo, jhi = _inner_range(gm.w, gm.dw * (gm.kw - 1), gm.sw, gm.pw, gm.ow)
        if gm.kh == 2 and gm.kw == 2:
            k.max_pool2d_inner_2x2(xf, planes, gm.h, gm.w, gm.sh, gm.sw, gm.ph, gm.pw, gm.dh, gm.dw, out.reshape(-1),
                                   idx.reshape(-1), gm.oh, gm.ow, ilo, ihi, jlo, jhi)
        else:
            k.max_pool2d_inner(*args, ilo, ihi, jlo, jhi)
    if (ilo, ihi, jlo, jhi) != (0, gm.oh, 0, gm.ow):
        k.max_pool2d_rest(*args, ilo, ihi, jlo, jhi, has_nan)
    return out, idx


class MaxPool(Op):
    """Max over windows, and the flat plane index of each maximum (first one on ties; NaN wins)."""

    non_differentiable = (1,)

    def forward(ctx, x, geom, want_index=True):
        ctx.geom = geom
        k = _fused.kernels() if want_index and x.dtype in _FUSED_DTYPES else None
        if k is not None:
            out, idx = _max_pool_fused(k, x, geom)
        else:
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            win = _windows(_pad(x, geom, fill), geom)
            out, idx = _max_windows(win, geom, x.dtype.kind == "f", want_index)
        ctx.idx = idx if idx is not None else np.zeros((0,), dtype=np.int64)
        return out, ctx.idx

    def backward(ctx, g, _g_idx=None):
        gm = ctx.geom
        return PlaneScatter.apply(g, idx=ctx.idx, shape=(gm.n, gm.c, gm.h, gm.w), unique=not gm.overlapping)


# ---- average pooling ----------------------------------------------------------------------------------------------
def _window_sum(xp, gm):
    """Sums over windows, one dimension at a time: (n, c, Hp, Wp) -> (n, c, oh, ow)."""
    ws, hs = (gm.ow - 1) * gm.sw + 1, (gm.oh - 1) * gm.sh + 1
    acc = None
    for j in range(gm.kw):
        part = xp[:, :, :, j * gm.dw:j * gm.dw + ws:gm.sw]
        acc = part.copy() if acc is None else np.add(acc, part, out=acc)
    out = None
    for i in range(gm.kh):
        part = acc[:, :, i * gm.dh:i * gm.dh + hs:gm.sh]
        out = part.copy() if out is None else np.add(out, part, out=out)
    return out


def _window_spread(g, gm):
    """The adjoint of _window_sum: (n, c, oh, ow) -> the cropped (n, c, h, w) input gradient."""
    hp, wp = gm.padded_shape()
    n, c, oh, ow = gm.n, gm.c, gm.oh, gm.ow
    if not gm.overlapping and gm.dh == 1 and gm.dw == 1 and gm.sh == gm.kh and gm.sw == gm.kw:
        out = np.zeros((n, c, hp, wp), dtype=g.dtype)
        tiles = out[:, :, :oh * gm.kh, :ow * gm.kw].reshape(n, c, oh, gm.kh, ow, gm.kw)
        tiles[...] = g[:, :, :, None, :, None]
    else:
        ws, hs = (ow - 1) * gm.sw + 1, (oh - 1) * gm.sh + 1
        rows = np.zeros((n, c, hp, ow), dtype=g.dtype)
        for i in range(gm.kh):
            view = rows[:, :, i * gm.dh:i * gm.dh + hs:gm.sh]
            np.add(view, g, out=view)
        out = np.zeros((n, c, hp, wp), dtype=g.dtype)
        for j in range(gm.kw):
            view = out[:, :, :, j * gm.dw:j * gm.dw + ws:gm.sw]
            np.add(view, rows, out=view)
    if (hp, wp) != (gm.h, gm.w):
        out = np.ascontiguousarray(out[:, :, gm.ph:gm.ph + gm.h, gm.pw:gm.pw + gm.w])
    return out


def _avg_divisor(gm, count_include_pad, divisor_override, dtype):
    """(oh, ow) divisors as torch: the window clipped to input+padding, or to the input alone."""
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dtype)

    def one(size, k, s, p, o):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    dh = one(gm.h, gm.kh, gm.sh, gm.ph, gm.oh)
    dw = one(gm.w, gm.kw, gm.sw, gm.pw, gm.ow)
    return (dh[:, None] * dw[None, :]).astype(dtype)


class AvgPool(Op):
    def forward(ctx, x, geom, divisor):
        ctx.geom, ctx.divisor = geom, divisor
        sums = _window_sum(_pad(x, geom, 0), geom)
        if x.dtype.kind != "f":
            q = np.abs(sums) // divisor.astype(sums.dtype)
            return (np.sign(sums) * q).astype(x.dtype)
        return np.divide(sums, divisor, out=sums)

    def backward(ctx, g):
        return AvgPoolAdjoint.apply(g, geom=ctx.geom, divisor=ctx.divisor)


class AvgPoolAdjoint(Op):
    def forward(ctx, g, geom, divisor):
        ctx.geom, ctx.divisor = geom, divisor
        return _window_spread(g / divisor, geom)

    def backward(ctx, h):
        return AvgPool.apply(h, geom=ctx.geom, divisor=ctx.divisor)


# ---- argument handling ------------------------------------------------------------------------------------------
def _pair(v, n, name, op):
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {n} ints (got {list(v)})")
    return v


def _prepare(x, nd, kernel_size, stride, padding, dilation, ceil_mode, op, max_pool):
    """Validate, lift to batched 2-D; returns (x4, geom, unbatched)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    shape = x._data.shape
    if x._data.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in shape[-nd - 1:]):
        raise RuntimeError(f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) non-empty tensor for input, but got "
                           f"input of size {list(shape)}")
    k = _pair(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else \
        _pair(stride, nd, "stride", op)
    p = _pair(padding, nd, "padding", op)
    d = _pair(dilation, nd, "dilation", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: stride should not be zero (got {list(s)})")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got {list(d)}")
    for pi, ki, di in zip(p, k, d):
        limit = (di * (ki - 1) + 1) // 2 if max_pool else ki // 2
        if pi < 0 or pi > limit:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={pi}, "
                               f"kernel_size={ki} and dilation={di}")
    unbatched = x._data.ndim == nd + 1
    x4 = reshape(x, (1,) + shape) if unbatched else x
    if nd == 1:
        x4 = reshape(x4, x4._data.shape[:2] + (1,) + x4._data.shape[2:])
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    gm = PoolGeom(x4._data.shape, k, s, p, d, ceil_mode)
    if gm.oh < 1 or gm.ow < 1:
        in_s = "x".join(map(str, (gm.c,) + shape[-nd:]))
        out_s = "x".join(map(str, (gm.c, gm.oh, gm.ow)[-nd - 1:]))
        raise RuntimeError(f"{op}: Given input size: ({in_s}). Calculated output size: ({out_s}). Output size is too "
                           f"small")
    return x4, gm, unbatched


def _finish(y, gm, nd, unbatched):
    if nd == 1:
        y = reshape(y, (gm.n, gm.c, gm.ow))
    if unbatched:
        y = reshape(y, y._data.shape[1:])
    return y


def _max_poolnd(x, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op):
    x4, gm, unbatched = _prepare(x, nd, kernel_size, stride, padding, dilation, ceil_mode, op, True)
    want_index = return_indices or (x4.requires_grad and _State.enabled)
    y, idx = MaxPool.apply(x4, geom=gm, want_index=want_index)
    out = _finish(y, gm, nd, unbatched)
    return (out, _finish(idx, gm, nd, unbatched)) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    return _max_poolnd(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    return _max_poolnd(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def _avg_poolnd(x, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, op):
    x4, gm, unbatched = _prepare(x, nd, kernel_size, stride, padding, 1, ceil_mode, op, False)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    dt = x4._data.dtype if x4._data.dtype.kind == "f" else np.int64
    div = _avg_divisor(gm, count_include_pad, divisor_override, dt)
    return _finish(AvgPool.apply(x4, geom=gm, divisor=div), gm, nd, unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    return _avg_poolnd(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    return _avg_poolnd(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                       "avg_pool2d")


# ---- adaptive pooling -------------------------------------------------------------------------------------------
def _adaptive_prepare(x, nd, output_size, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    shape = x._data.shape
    if x._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(shape)}")
    for i in range(1, x._data.ndim):
        if shape[i] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(shape)} with dimension {i} being empty")
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    out = tuple(shape[-nd + i] if o is None else int(o) for i, o in enumerate(output_size))
    if len(out) != nd or any(o < 0 for o in out):
        raise RuntimeError(f"{op}(): output_size must be {nd} non-negative ints, got {output_size}")
    unbatched = x._data.ndim == nd + 1
    x4 = reshape(x, (1,) + shape) if unbatched else x
    if nd == 1:
        x4 = reshape(x4, x4._data.shape[:2] + (1,) + x4._data.shape[2:])
        out = (1,) + out
    return x4, out, unbatched


def _bins(size, out):
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)  # ceil
    return start, end


def _adaptive_finish(y, nd, unbatched):
    if nd == 1:
        y = reshape(y, y._data.shape[:2] + y._data.shape[3:])
    if unbatched:
        y = reshape(y, y._data.shape[1:])
    return y


def _bin_matrix(size, out, dtype):
    start, end = _bins(size, out)
    pos = np.arange(size)
    inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
    return _make((inside / (end - start)[:, None]).astype(dtype))


def _adaptive_avg(x, nd, output_size, op):
    from .linalg import matmul
    from .reduction import mean

    x4, (oh, ow), unbatched = _adaptive_prepare(x, nd, output_size, op)
    n, c, h, w = x4._data.shape
    if oh == 0 or ow == 0:
        y = _make(np.zeros((n, c, oh, ow), dtype=x4._data.dtype))
    elif h % oh == 0 and w % ow == 0:
        if oh == 1 and ow == 1:
            y = mean(x4, dim=(2, 3), keepdim=True)
        else:
            gm = PoolGeom(x4._data.shape, (h // oh, w // ow), (h // oh, w // ow), (0, 0), (1, 1), False)
            div = np.asarray((h // oh) * (w // ow), dtype=x4._data.dtype)
            y = AvgPool.apply(x4, geom=gm, divisor=div)
    else:
        dt = x4._data.dtype
        y = matmul(matmul(_bin_matrix(h, oh, dt), x4), _bin_matrix(w, ow, dt).T)
    return _adaptive_finish(y, nd, unbatched)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    return _adaptive_avg(input, 1, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    return _adaptive_avg(input, 2, output_size, "adaptive_avg_pool2d")


class AdaptiveMaxPool(Op):
    """Max over variable-size bins, and the plane index of each maximum. Windows are gathered with indices clamped
    to each bin's last element (a repeated element never changes the max; argmax keeps the first occurrence)."""

    non_differentiable = (1,)

    def forward(ctx, x, out_size):
        n, c, h, w = x.shape
        oh, ow = out_size
        (hs, he), (ws_, we) = _bins(h, oh), _bins(w, ow)
        kh, kw = int((he - hs).max()), int((we - ws_).max())
        hidx = np.minimum(hs[:, None] + np.arange(kh), he[:, None] - 1)  # (oh, kh)
        widx = np.minimum(ws_[:, None] + np.arange(kw), we[:, None] - 1)  # (ow, kw)
        win = x[:, :, hidx[:, None, :, None], widx[None, :, None, :]]  # (n, c, oh, ow, kh, kw)
        flat = win.reshape(n, c, oh, ow, kh * kw)
        arg = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        ki, kj = np.divmod(arg, kw)
        rows = hidx[np.arange(oh)[:, None], ki]
        cols = widx[np.arange(ow), kj]
        ctx.idx, ctx.shape = rows * w + cols, x.shape
        return out, ctx.idx

    def backward(ctx, g, _g_idx=None):
        return PlaneScatter.apply(g, idx=ctx.idx, shape=ctx.shape, unique=False)


def _adaptive_max(x, nd, output_size, return_indices, op):
    x4, (oh, ow), unbatched = _adaptive_prepare(x, nd, output_size, op)
    n, c, h, w = x4._data.shape
    if oh == 0 or ow == 0:
        y = _make(np.zeros((n, c, oh, ow), dtype=x4._data.dtype))
        idx = _make(np.zeros((n, c, oh, ow), dtype=np.int64))
    elif h % oh == 0 and w % ow == 0:
        gm = PoolGeom(x4._data.shape, (h // oh, w // ow), (h // oh, w // ow), (0, 0), (1, 1), False)
        y, idx = MaxPool.apply(x4, geom=gm)
    else:
        y, idx = AdaptiveMaxPool.apply(x4, out_size=(oh, ow))
    out = _adaptive_finish(y, nd, unbatched)
    return (out, _adaptive_finish(idx, nd, unbatched)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(input, 1, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    return _adaptive_max(input, 2, output_size, return_indices, "adaptive_max_pool2d")


__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d"]

