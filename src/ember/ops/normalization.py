"""Normalisation layers (batch, layer, group, instance, RMS, local response) and vector normalisation/distances.

batch/layer/group/instance norm share one fused op, ``Normalize``: statistics over some axes of x, then an
optional affine transform that broadcasts against x. Its backward is one fused kernel (``NormalizeGrad``) in a
plain backward, and the same formula written with differentiable ops (statistics recomputed from x) when a graph
of the backward is wanted (create_graph), so double backward is exact.
"""
import numbers

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import _State, no_grad
from .elementwise import _t, add, clamp, div, mul, rsqrt, sub
from .reduction import mean, norm, sum_
from .shape import expand, reshape, sum_to


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _dot_over(a, b, keep):
    """sum(a * b) over every axis not in ``keep`` (kept axes stay, in order), in one pass with no temporary."""
    sub = _LETTERS[:a.ndim]
    return np.einsum(f"{sub},{sub}->{''.join(sub[i] for i in keep)}", a, b)


def _sum_like(t, g, shape_b):
    """sum of t (* g) down to ``shape_b`` (a shape broadcastable against t's, e.g. (C,) or (1, C, 1, 1))."""
    nd = t.ndim
    aligned = (1,) * (nd - len(shape_b)) + tuple(shape_b)
    keep = [i for i in range(nd) if aligned[i] != 1]
    out = _dot_over(t, g, keep) if g is not None else t.sum(axis=tuple(i for i in range(nd) if i not in keep))
    return out.reshape(shape_b)


class NormalizeGrad(Op):
    """(dx, dw, db) of Normalize from the saved x-hat and 1/std: the no-grad kernel of Normalize.backward.

    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) with gh = g * w, written as
    gh * rstd + xhat * k2 + k1 with per-statistic k1, k2 (few full passes, reductions by einsum)."""

    differentiable = False

    def forward(ctx, g, xhat, rstd, *w, axes, need_x, w_shape, b_shape):
        keep = [i for i in range(g.ndim) if i not in axes]
        empty = np.zeros(0, dtype=g.dtype)
        gx = gw = gb = empty
        if need_x:
            gh = g * w[0] if w else g
            count = g.size // max(rstd.size, 1)
            s1 = gh.sum(axis=axes, keepdims=True)
            s2 = _dot_over(gh, xhat, keep).reshape(rstd.shape)
            inv = g.dtype.type(1.0 / count)
            gx = xhat * (rstd * s2 * -inv)
            gh = np.multiply(gh, rstd, out=gh) if w else gh * rstd
            gx += gh
            gx += rstd * s1 * -inv
        if w_shape is not None:
            gw = _sum_like(xhat, g, w_shape)
        if b_shape is not None:
            gb = _sum_like(g, None, b_shape)
        return gx, gw, gb


class Normalize(Op):
    """(y, mean, var): y = (x - mean) / sqrt(var + eps) [* w] [+ b], mean and biased var over ``axes`` of x
    (kept as size-1 dims); w and b broadcast against x. mean and var carry no gradient."""

    non_differentiable = (1, 2)

    def forward(ctx, x, *affine, axes, eps, has_w, has_b):
        ctx.axes, ctx.eps, ctx.has_w, ctx.has_b = axes, eps, has_w, has_b
        mu = x.mean(axis=axes, keepdims=True)
        xhat = x - mu
        keep = [i for i in range(x.ndim) if i not in axes]
        count = x.size // max(mu.size, 1)
        var = (_dot_over(xhat, xhat, keep).reshape(mu.shape) / x.dtype.type(max(count, 1))).astype(x.dtype)
        rstd = 1 / np.sqrt(var + x.dtype.type(eps))
        xhat *= rstd
        w = affine[0] if has_w else None
        b = affine[-1] if has_b else None
        y = xhat * w if has_w else xhat
        if has_b:
            y = np.add(y, b, out=y) if has_w else y + b
        ctx.save_for_backward(x, w, b, xhat, rstd)
        return y, mu, var

    def backward(ctx, g, *_unused):
        x, w, b, xhat, rstd = ctx.saved_tensors
        edges = ctx.next_edges
        need_w = w is not None and edges[1] is not None
        need_b = b is not None and edges[-1] is not None
        if not _State.enabled:
            gx, gw, gb = NormalizeGrad.apply(g, xhat, rstd, *([w] if w is not None else []), axes=ctx.axes,
                                             need_x=edges[0] is not None,
                                             w_shape=w._data.shape if need_w else None,
                                             b_shape=b._data.shape if need_b else None)
            grads = [gx if edges[0] is not None else None]
            if w is not None:
                grads.append(gw if need_w else None)
            if b is not None:
                grads.append(gb if need_b else None)
            return tuple(grads)
        # create_graph: the same formula, differentiable in x, w and g (statistics recomputed from x)
        mu = mean(x, dim=ctx.axes, keepdim=True)
        xc = sub(x, mu)
        rstd = rsqrt(add(mean(mul(xc, xc), dim=ctx.axes, keepdim=True), _t(ctx.eps, x)))
        xhat = mul(xc, rstd)
        gh = mul(g, w) if w is not None else g
        inner = sub(sub(gh, mean(gh, dim=ctx.axes, keepdim=True)),
                    mul(xhat, mean(mul(gh, xhat), dim=ctx.axes, keepdim=True)))
        grads = [mul(inner, rstd) if edges[0] is not None else None]
        if w is not None:
            grads.append(sum_to(mul(g, xhat), w._data.shape) if need_w else None)
        if b is not None:
            grads.append(sum_to(g, b._data.shape) if need_b else None)
        return tuple(grads)


def _normalize(x, weight, bias, axes, eps):
    affine = [t for t in (weight, bias) if t is not None]
    return Normalize.apply(x, *affine, axes=axes, eps=float(eps), has_w=weight is not None,
                           has_b=bias is not None)


def _check_size(t, name, c):
    if t is not None and t._data.size != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")


def _update_running(running, batch_stat, momentum, factor=1.0):
    """running = (1 - momentum) * running + momentum * factor * batch_stat, in place and unrecorded.

    ``batch_stat`` is a tensor (an op's output) and only ops touch it, so compile mode replays the update."""
    if running is None:
        return
    with no_grad():
        stat = reshape(batch_stat, running._data.shape).to(running.dtype)
        running.mul_(1 - momentum).add_(mul(stat, momentum * factor))


def _affine_with_stats(x, mean_, var_, weight, bias, eps, shape):
    """(x - mean) / sqrt(var + eps) * w + b with given (running) statistics, as one scale and one shift."""
    scale = rsqrt(add(var_, _t(eps, var_)))
    if weight is not None:
        scale = mul(weight, scale)
    shift = mul(mean_, scale)
    shift = sub(bias, shift) if bias is not None else mul(shift, -1)
    return add(mul(x, reshape(scale, shape)), reshape(shift, shape))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims; updates the running statistics in place
    when training (unbiased variance, as torch), uses them otherwise."""
    x = input
    nd = x._data.ndim
    if nd < 2:
        raise ValueError(f"batch_norm: expected 2D or more input (got {nd}D input)")
    c = x._data.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_size(t, name, c)
    shape_c = (1, c) + (1,) * (nd - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean must be defined in evaluation mode")
        return _affine_with_stats(x, running_mean, running_var, weight, bias, eps, shape_c)
    count = x._data.size // max(c, 1)
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape!r}")
    axes = (0,) + tuple(range(2, nd))
    w = reshape(weight, shape_c) if weight is not None else None
    b = reshape(bias, shape_c) if bias is not None else None
    y, mu, var = _normalize(x, w, b, axes, eps)
    _update_running(running_mean, mu, momentum)
    _update_running(running_var, var, momentum, count / max(count - 1, 1))  # unbiased, as torch
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) plane of (N, C, *) input over its spatial dims."""
    x = input
    nd = x._data.ndim
    if nd < 2:
        raise ValueError(f"instance_norm: expected 2D or more input (got {nd}D input)")
    n, c = x._data.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_size(t, name, c)
    shape_c = (1, c) + (1,) * (nd - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return _affine_with_stats(x, running_mean, running_var, weight, bias, eps, shape_c)
    spatial = x._data.size // max(n * c, 1)
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {x.shape!r}")
    w = reshape(weight, shape_c) if weight is not None else None
    b = reshape(bias, shape_c) if bias is not None else None
    y, mu, var = _normalize(x, w, b, tuple(range(2, nd)), eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            _update_running(running_mean, mean(reshape(mu, (n, c)), dim=0), momentum)
            _update_running(running_var, mean(reshape(var, (n, c)), dim=0), momentum, spatial / (spatial - 1))
    return y


def _shape_tuple(normalized_shape, op):
    if isinstance(normalized_shape, numbers.Integral) or not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise over the trailing ``normalized_shape`` dims, with an elementwise affine of that shape."""
    x = input
    shp = _shape_tuple(normalized_shape, "layer_norm")
    k = len(shp)
    if k == 0 or x._data.shape[x._data.ndim - k:] != shp or x._data.ndim < k:
        raise RuntimeError(f"layer_norm: Given normalized_shape={list(shp)}, expected input with shape "
                           f"[*, {', '.join(map(str, shp))}], but got input of size{list(x._data.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != shp:
            raise RuntimeError(f"layer_norm: Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(t._data.shape)} and normalized_shape = {list(shp)}")
    axes = tuple(range(x._data.ndim - k, x._data.ndim))
    return _normalize(x, weight, bias, axes, eps)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise each sample over groups of channels (and the spatial dims)."""
    x = input
    nd = x._data.ndim
    if nd < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but received {nd}")
    n, c = x._data.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(x._data.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.shape[0] != c):
            raise RuntimeError(f"group_norm: Expected {name} to be a vector of size equal to the number of channels "
                               f"in input, but got {name} of shape {list(t._data.shape)} and input of shape "
                               f"{list(x._data.shape)}")
    g = int(num_groups)
    spatial = x._data.size // max(n * c, 1) if n * c else int(np.prod(x._data.shape[2:]))
    xv = reshape(x, (n, g, c // g, spatial))
    w = reshape(weight, (1, g, c // g, 1)) if weight is not None else None
    b = reshape(bias, (1, g, c // g, 1)) if bias is not None else None
    y = _normalize(xv, w, b, (2, 3), eps)[0]
    return reshape(y, x._data.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):  # noqa: A002
    """x / sqrt(mean(x^2 over the trailing dims) + eps) * weight (eps defaults to the dtype's machine epsilon)."""
    x = input
    shp = _shape_tuple(normalized_shape, "rms_norm")
    k = len(shp)
    if x._data.shape[x._data.ndim - k:] != shp:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(shp)}, expected input with shape "
                           f"[*, {', '.join(map(str, shp))}], but got input of size{list(x._data.shape)}")
    if eps is None:
        eps = float(np.finfo(x._data.dtype).eps)
    axes = tuple(range(x._data.ndim - k, x._data.ndim))
    y = mul(x, rsqrt(add(mean(mul(x, x), dim=axes, keepdim=True), _t(eps, x))))
    return mul(y, weight) if weight is not None else y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels) ** beta."""
    from .pool import avg_pool2d
    from .rearrange import pad

    x = input
    nd = x._data.ndim
    if nd < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got {nd} dimensions)")
    if x._data.size == 0:
        return x
    n, c = x._data.shape[:2]
    sq = reshape(mul(x, x), (n, 1, c, -1))
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    avg = avg_pool2d(sq, (size, 1), stride=1)
    denom = mul(avg, _t(alpha, avg))
    denom = (denom + k) ** beta
    return div(x, reshape(denom, x._data.shape))


# ---- vector normalisation and distances -----------------------------------------------------------------------
def _clamped_no_grad(t, lo):
    """t's values clamped below at ``lo``, with t's gradient (torch clamps the norms under no_grad in place)."""
    return add(t, sub(clamp(t.detach(), min=lo), t.detach()))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002
    """x / max(||x||_p along dim, eps)."""
    if out is not None:
        raise NotImplementedError("normalize: the out= argument is not supported by ember")
    from ._util import wrap_dim

    x = input
    dim = wrap_dim(dim, x._data.ndim, "normalize")
    denom = clamp(norm(x, p, dim, keepdim=True), min=eps)
    return div(x, expand(denom, x._data.shape))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1/||x1|| * x2/||x2||) along dim, each norm clamped below at eps (inputs broadcast)."""
    from .shape import broadcast_tensors

    a, b = broadcast_tensors(x1, x2)
    na = _clamped_no_grad(norm(a, 2, dim, keepdim=True), eps)
    nb = _clamped_no_grad(norm(b, 2, dim, keepdim=True), eps)
    return sum_(mul(div(a, na), div(b, nb)), dim=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    d = max(x1._data.ndim, x2._data.ndim, 1) - 1
    diff = add(sub(x1, x2), eps)
    return norm(diff, p, d, keepdim=keepdim)


__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm",
           "normalize", "cosine_similarity", "pairwise_distance"]

