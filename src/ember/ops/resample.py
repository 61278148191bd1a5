"""Resampling: interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area, anti-aliased
bilinear/bicubic) and the pixel/channel shuffles (reshape/permute composites).

Every interpolation mode is separable: along each spatial axis the output is a few weighted gathers,
``out[j] = sum_k w_k[j] * x[idx_k[j]]``. One ``_AxisPlan`` per axis holds those index and weight rows, computed
once per shape with torch's index arithmetic in torch's precision; the forward applies the plans last axis first
(torch's summation order). The gradient is the transposed plan, which has the same form (each input position
gathers the outputs it fed, with their weights), so backward is the same kernel and double backward comes for
free. Gathers whose indices step evenly become strided slices (no copy). Where torch's backward kernels index
differently from its forward ones (nearest on 1-D/3-D inputs, anti-aliased axes whose size is unchanged), a plan
carries torch's backward plan as its adjoint, so gradients equal torch's.
"""
import functools
import numbers

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from .elementwise import _type_name, clone
from .shape import permute, reshape

__all__ = ["channel_shuffle", "native_channel_shuffle", "pixel_shuffle", "pixel_unshuffle"]


# ---- one axis: rows of (index, weight) --------------------------------------------------------------------------
class _AxisPlan:
    """Resampling along one axis (``axis`` counts from the end, -1 = last): ``out = sum(w * x[index])`` over
    ``rows``; index is a slice or an int array; w is None (weight 1) or an array broadcasting along the axis.
    With ``pad`` a zero is appended to the axis first, so index ``n_in`` reads 0."""

    __slots__ = ("axis", "n_in", "n_out", "rows", "pad", "_adjoint", "__weakref__")

    def __init__(self, axis, n_in, n_out, indices, weights, pad=False):
        self.axis, self.n_in, self.n_out, self.pad = axis, n_in, n_out, pad
        bshape = (n_out,) + (1,) * (-axis - 1)
        self.rows = tuple((_as_slice(i), None if weights is None else _frozen(weights[k].reshape(bshape)))
                          for k, i in enumerate(indices))
        self._adjoint = None

    def __repr__(self):
        return f"_AxisPlan(axis={self.axis}, {self.n_in}->{self.n_out}, taps={len(self.rows)})"

    def adjoint(self):
        """The transposed plan (n_out -> n_in): the gradient of this one."""
        if self._adjoint is None:
            self._adjoint = _transpose(self)
            self._adjoint._adjoint = self
        return self._adjoint


def _frozen(a):
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _as_slice(index):
    """An evenly increasing index array as a slice (a strided view instead of a gather)."""
    n = len(index)
    if n == 0:
        return _frozen(index)
    start = int(index[0])
    step = int(index[1] - index[0]) if n > 1 else 1
    if step > 0 and np.array_equal(index, np.arange(start, start + step * n, step)):
        return slice(start, start + step * (n - 1) + 1, step)
    return _frozen(index.astype(np.intp, copy=False))


def _transpose(p):
    """The adjoint plan: input position i gathers, in output order, every output j that read it (weight w)."""
    src, dst, wts = [], [], []
    positions = np.arange(p.n_in + 1)
    for index, w in p.rows:
        i = positions[index] if index.__class__ is slice else index
        j = np.arange(p.n_out)
        keep = i < p.n_in  # padding reads contribute nothing
        if w is not None:
            keep &= w.ravel() != 0
            wts.append(w.ravel()[keep])
        src.append(i[keep])
        dst.append(j[keep])
    i, j = np.concatenate(src), np.concatenate(dst)
    order = np.lexsort((j, i))  # by input position, then output position (stable across rows)
    i, j = i[order], j[order]
    counts = np.bincount(i, minlength=p.n_in)
    taps = max(int(counts.max()) if len(i) else 0, 1)
    rank = np.arange(len(i)) - (np.cumsum(counts) - counts)[i]
    index = np.full((taps, p.n_in), p.n_out, dtype=np.intp)
    index[rank, i] = j
    weights = None
    if wts:
        w = np.concatenate(wts)[order]
        weights = np.zeros((taps, p.n_in), dtype=w.dtype)
        weights[rank, i] = w
    return _AxisPlan(p.axis, p.n_out, p.n_in, list(index), weights, pad=bool((counts < taps).any()))


def _resample_axis(x, p):
    """Apply one plan; returns (array, whether it is a new array rather than a view of x)."""
    ax = x.ndim + p.axis
    if p.pad:
        zero = np.zeros(x.shape[:ax] + (1,) + x.shape[ax + 1:], dtype=x.dtype)
        x = np.concatenate((x, zero), axis=ax)
    lead = (slice(None),) * ax
    out, owned = None, False
    for index, w in p.rows:
        if index.__class__ is slice:
            part, fresh = x[lead + (index,)], False
        else:
            part, fresh = np.take(x, index, axis=ax), True
        if w is not None:
            if fresh:
                np.multiply(part, w, out=part)
            else:
                part, fresh = part * w, True
        if out is None:
            out, owned = part, fresh
        elif owned:
            out += part
        else:
            out, owned = out + part, True
    return out, owned or p.pad


def _run(x, plans):
    owned = False  # whether x no longer shares memory with the input
    for p in plans:
        x, fresh = _resample_axis(x, p)
        owned = owned or fresh
    return np.ascontiguousarray(x) if owned else np.array(x, order="C")


# ---- index and weight arithmetic (torch's, in its precision) ------------------------------------------------------
def _scale_value(n_in, n_out, scale, ft):
    """Input step per output step: 1/scale_factor when one was given (> 0), else in/out."""
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n_in) / ft(n_out)


def _nearest_index(n_in, n_out, scale, exact, ft, legacy):
    """Source positions of the nearest modes, floored in float32 (torch's floorf) and clamped to the input.

    torch has two index rules. Its 1-D and 3-D forward kernels take the scale in the input's float type and
    floor(j * s) for nearest, floor(src + 0.5) with src = (j + 0.5) * s - 0.5 in double for nearest-exact. Its
    2-D forward and all its backward kernels (``legacy``) take a float32 scale and floor((j + 0.5) * s) for
    nearest-exact, and for nearest floor(j * s) except that an unchanged size copies and a doubled size
    repeats each position (j // 2), whatever scale_factor was given."""
    j = np.arange(n_out)
    if legacy:
        if not exact and n_out == n_in:
            return j
        if not exact and n_out == 2 * n_in:
            return j >> 1
        ft = np.float32
    s = _scale_value(n_in, n_out, scale, ft)
    if exact and legacy:
        src = (j + 0.5) * np.float64(s)
    elif exact:
        src = ((j + 0.5) * np.float64(s) - 0.5).astype(ft) + ft(0.5)
    else:
        src = s * j.astype(ft)
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n_in - 1)


def _area_scale(n_in, n_out, scale, align_corners, ft):
    """Input step per output step for the interpolating modes (corner pixels' centres aligned or not)."""
    if align_corners:
        return ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
    return _scale_value(n_in, n_out, scale, ft)


def _source_position(n_in, n_out, scale, align_corners, cubic, ft):
    """Real-valued input position of each output position (torch's area_pixel_compute_source_index)."""
    s = _area_scale(n_in, n_out, scale, align_corners, ft)
    if align_corners:
        return s * np.arange(n_out).astype(ft)
    src = ((np.arange(n_out) + 0.5) * np.float64(s) - 0.5).astype(ft)  # in double, as torch's promotion
    return src if cubic else np.maximum(src, ft(0))


def _floor_and_fraction(src, n_in, ft):
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    frac = np.clip(src - i0.astype(ft), ft(0), ft(1))
    return i0, frac


def _linear_taps(n_in, n_out, scale, align_corners, ft):
    if n_out == n_in:  # torch copies as 1 * x + 0 * x (so an inf becomes NaN there too)
        j = np.arange(n_out)
        return [j, j], [np.ones(n_out, ft), np.zeros(n_out, ft)]
    i0, l1 = _floor_and_fraction(_source_position(n_in, n_out, scale, align_corners, False, ft), n_in, ft)
    i1 = i0 + (i0 < n_in - 1)
    return [i0, i1], [ft(1) - l1, l1]


def _cubic_taps(n_in, n_out, scale, align_corners, ft):
    i0, t = _floor_and_fraction(_source_position(n_in, n_out, scale, align_corners, True, ft), n_in, ft)
    a = ft(-0.75)

    def near(x):  # |x| <= 1
        return ((a + ft(2)) * x - (a + ft(3))) * x * x + ft(1)

    def far(x):  # 1 < |x| < 2
        return ((a * x - ft(5) * a) * x + ft(8) * a) * x - ft(4) * a

    u = ft(1) - t
    weights = [far(t + ft(1)), near(t), near(u), far(u + ft(1))]
    indices = [np.clip(i0 + k - 1, 0, n_in - 1) for k in range(4)]
    return indices, weights


def _antialias_taps(n_in, n_out, scale, align_corners, cubic, ft):
    """Anti-aliased taps (PIL's resampling, as torch's antialias=True): the triangle (bilinear) or Keys a=-0.5
    (bicubic) filter stretched by the downscaling factor, normalised per output; unused taps read the zero pad."""
    s = _area_scale(n_in, n_out, scale, align_corners, ft)
    half = 2.0 if cubic else 1.0
    support = ft(half * s) if s >= 1 else ft(half)
    taps = int(np.ceil(support)) * 2 + 1
    center = (s * (np.arange(n_out) + 0.5)).astype(ft)
    inv = ft(1.0 / s) if s >= 1 else ft(1)
    xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
    xsize = np.clip(np.minimum((center + support + 0.5).astype(np.int64), n_in) - xmin, 0, taps)
    k = np.arange(taps)[:, None]
    x = np.abs(((k + xmin - center) + 0.5) * inv).astype(ft)
    if cubic:
        a = ft(-0.5)
        w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                     np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, ft(0)))
    else:
        w = np.where(x < 1, ft(1) - x, ft(0))
    used = k < xsize
    w = np.where(used, w, ft(0)).astype(ft)
    total = w.sum(axis=0)
    w = np.where(total != 0, w / np.where(total != 0, total, ft(1)), w).astype(ft)
    return list(np.where(used, xmin + k, n_in)), list(w), bool((~used).any())


@functools.lru_cache(maxsize=256)
def _plans(kind, in_sizes, out_sizes, scales, align_corners, np_dtype):
    """Per-axis plans, last axis first; nearest-mode axes left unchanged are omitted."""
    ft = np.float64 if np_dtype == np.float64 else np.float32  # torch's opmath type
    wt = np.dtype(np_dtype).type
    plans = []
    nd = len(in_sizes)
    for d in reversed(range(nd)):
        n_in, n_out, scale = in_sizes[d], out_sizes[d], scales[d]
        axis = d - nd
        if kind in ("nearest", "nearest-exact"):
            exact = kind == "nearest-exact"
            idx = _nearest_index(n_in, n_out, scale, exact, ft, nd == 2)
            grad_idx = idx if nd == 2 else _nearest_index(n_in, n_out, scale, exact, ft, True)
            same = np.arange(n_out)
            if n_in == n_out and np.array_equal(idx, same) and np.array_equal(grad_idx, same):
                continue
            plan = _AxisPlan(axis, n_in, n_out, [idx], None)
            if not np.array_equal(grad_idx, idx):  # torch's gradient routes by its backward kernels' rule
                plan._adjoint = _transpose(_AxisPlan(axis, n_in, n_out, [grad_idx], None))
                plan._adjoint._adjoint = plan
            plans.append(plan)
            continue
        pad = False
        if kind in ("linear-aa", "cubic-aa"):
            indices, weights, pad = _antialias_taps(n_in, n_out, scale, align_corners, kind == "cubic-aa", ft)
            if n_in == n_out:  # torch's forward leaves the axis as it is; its backward still applies the filter
                plan = _AxisPlan(axis, n_in, n_out, [np.arange(n_out)], None)
                plan._adjoint = _transpose(_AxisPlan(axis, n_in, n_out, indices, [w.astype(wt) for w in weights],
                                                     pad))
                plan._adjoint._adjoint = plan
                plans.append(plan)
                continue
        else:
            taps = _cubic_taps if kind == "cubic" else _linear_taps
            indices, weights = taps(n_in, n_out, scale, align_corners, ft)
        plans.append(_AxisPlan(axis, n_in, n_out, indices, [w.astype(wt) for w in weights], pad))
    return tuple(plans)


def _adjoint(plans):
    return tuple(p.adjoint() for p in reversed(plans))


# ---- ops (named after torch's backward nodes) ---------------------------------------------------------------------
class _Resample(Op):
    def forward(ctx, x, plans):
        ctx.plans = plans
        return _run(x, plans)

    def backward(ctx, g):
        return ResampleAdjoint.apply(g, plans=_adjoint(ctx.plans))


class ResampleAdjoint(_Resample):
    """The gradient of a resampling: each input position sums the weighted outputs it fed."""


class UpsampleNearest1D(_Resample):
    pass


class UpsampleNearest2D(_Resample):
    pass


class UpsampleNearest3D(_Resample):
    pass


class UpsampleNearestExact1D(_Resample):
    pass


class UpsampleNearestExact2D(_Resample):
    pass


class UpsampleNearestExact3D(_Resample):
    pass


class UpsampleLinear1D(_Resample):
    pass


class UpsampleBilinear2D(_Resample):
    pass


class UpsampleTrilinear3D(_Resample):
    pass


class UpsampleBicubic2D(_Resample):
    pass


class UpsampleBilinear2DAa(_Resample):
    pass


class UpsampleBicubic2DAa(_Resample):
    pass


_OPS = {("nearest", 1): UpsampleNearest1D, ("nearest", 2): UpsampleNearest2D, ("nearest", 3): UpsampleNearest3D,
        ("nearest-exact", 1): UpsampleNearestExact1D, ("nearest-exact", 2): UpsampleNearestExact2D,
        ("nearest-exact", 3): UpsampleNearestExact3D, ("linear", 1): UpsampleLinear1D,
        ("bilinear", 2): UpsampleBilinear2D, ("trilinear", 3): UpsampleTrilinear3D,
        ("bicubic", 2): UpsampleBicubic2D, ("bilinear-aa", 2): UpsampleBilinear2DAa,
        ("bicubic-aa", 2): UpsampleBicubic2DAa}
_KERNEL = {"nearest": "upsample_nearest{}d", "nearest-exact": "_upsample_nearest_exact{}d",
           "linear": "upsample_linear1d", "bilinear": "upsample_bilinear2d", "trilinear": "upsample_trilinear3d",
           "bicubic": "upsample_bicubic2d", "bilinear-aa": "compute_index_ranges_weights",
           "bicubic-aa": "compute_index_ranges_weights"}


def _resample(x, mode, out_sizes, scales, align_corners):
    nd = x._data.ndim - 2
    shape = x._data.shape
    in_sizes = shape[2:]
    names = "DHW"[3 - nd:]
    if min(in_sizes) <= 0 or min(out_sizes) <= 0:
        ins = ", ".join(f"{n}: {s}" for n, s in zip(names, in_sizes))
        outs = ", ".join(f"{n}: {s}" for n, s in zip(names, out_sizes))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins})"
                           f"{' and' if nd == 1 else ''} output ({outs})")
    if x._data.size == 0 and shape[1] == 0:
        raise RuntimeError(f"Non-empty {nd + 2}D data tensor expected but got a tensor with sizes {list(shape)}")
    dt = x._data.dtype
    if dt.kind != "f" and not (dt == np.uint8 and mode in ("nearest", "nearest-exact")):
        raise NotImplementedError(f"\"{_KERNEL[mode].format(nd)}\" not implemented for '{_type_name(x)}'")
    kind = {"linear": "linear", "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic",
            "bilinear-aa": "linear-aa", "bicubic-aa": "cubic-aa"}.get(mode, mode)
    align = bool(align_corners) if align_corners is not None else False
    plans = _plans(kind, tuple(in_sizes), tuple(out_sizes), tuple(scales), align, dt.type)
    return _OPS[mode, nd].apply(x, plans=plans)


# ---- interpolate: torch's argument handling ----------------------------------------------------------------------
def _is_integer(v):
    if isinstance(v, Tensor):
        return v._data.dtype.kind in "iub"
    return isinstance(v, numbers.Integral)


def _output_geometry(x, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes or None, scale factors or None) as torch's interpolate resolves them."""
    dim = x._data.ndim - 2
    spatial = list(x._data.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 "format.")
            if not all(_is_integer(v) for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(v) for v in size]}")
            out = [int(v) for v in size]
        else:
            if not _is_integer(size):
                raise TypeError(f"interpolate(): argument 'size' must be int or a tuple of ints, not "
                                f"{type(size).__name__}")
            out = [int(size)] * dim
    elif scale_factor is not None:
        out = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {spatial} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            scales = list(scale_factor)
        else:
            scales = [scale_factor] * dim
        for v in scales:
            if not isinstance(v, numbers.Real) or isinstance(v, bool):
                raise TypeError(f"interpolate(): argument 'scale_factor' must be a float or a tuple of floats, but "
                                f"found element of type {type(v).__name__}")
        scales = [float(v) for v in scales]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        out = [int(n * s) for n, s in zip(spatial, scales)]
        scales = None
    if out is None:
        out = [int(n * s) for n, s in zip(spatial, scales)]  # truncation, as torch's output-size rule
    return out, scales if scales is not None else [None] * dim


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, *spatial) ``input`` to ``size`` or by ``scale_factor`` with the given ``mode``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    out, scales = _output_geometry(input, size, scale_factor, recompute_scale_factor, mode)
    nd = input._data.ndim
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and nd == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    dim = nd - 2
    if mode in ("nearest", "nearest-exact") and 1 <= dim <= 3:
        return _resample(input, mode, out, scales, None)
    if mode == "area" and 1 <= dim <= 3:
        from . import pool

        fn = {1: "adaptive_avg_pool1d", 2: "adaptive_avg_pool2d"}.get(dim)
        if fn is None:
            raise NotImplementedError("interpolate(mode='area') on 5-D input needs adaptive_avg_pool3d, which is "
                                      "not implemented in ember")
        return getattr(pool, fn)(input, out[0] if dim == 1 else tuple(out))
    if (mode, dim) in (("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2)):
        return _resample(input, mode + "-aa" if antialias else mode, out, scales, align_corners)
    if mode == "lanczos" and dim == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        raise NotImplementedError("interpolate(mode='lanczos') is not implemented in ember")
    needs = {"linear": 3, "bilinear": 4, "trilinear": 5}
    if mode in needs and 3 <= nd <= 5:
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {needs[mode]}D input")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: "
                              "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
                              f"(got {mode})")


# ---- pixel and channel shuffles (reshape/permute composites) ---------------------------------------------------
def _factor(v, op, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not {type(v).__name__}")
    return int(v)


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    shape = input._data.shape
    if len(shape) < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{len(shape)} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = shape
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead, k = tuple(lead), len(lead)
    y = reshape(input, lead + (c // (r * r), r, r, h, w))
    y = permute(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return reshape(clone(y), lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of pixel_shuffle."""
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    shape = input._data.shape
    if len(shape) < 3:
        raise RuntimeError("pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{len(shape)} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = shape
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    lead, k = tuple(lead), len(lead)
    y = reshape(input, lead + (c, h // r, r, w // r, r))
    y = permute(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return reshape(clone(y), lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):  # noqa: A002
    """(N, g*k, *) -> (N, k*g, *): channel i*k+j moves to j*g+i (ShuffleNet's channel mixing)."""
    g = _factor(groups, "channel_shuffle", "groups")
    shape = input._data.shape
    if len(shape) <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    n, c, *rest = shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    y = reshape(input, (n, g, c // g) + tuple(rest))
    y = permute(y, (0, 2, 1) + tuple(range(3, len(shape) + 1)))
    return reshape(clone(y), shape)


native_channel_shuffle = channel_shuffle
