"""Activation functions and softmax, with their gradients (used by ember.nn.functional)."""
import math

import numpy as np

from .. import _fused
from ..autograd.function import Op
from ._util import as_float, wrap_dim
from .elementwise import (_t, add, div, erf, exp, ge, gt, le, logical_and, logical_or, lt, mul, sigmoid, sub, tanh,
                          where)
from .reduction import sum_


class Relu(Op):
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(g, y)


class ReluGrad(Op):
    """relu's backward, ``g`` where ``y > 0`` (or y is NaN, as torch), else 0, as one masked multiply: about 7x
    faster than np.where. ``y`` is relu's output, so ``y <= 0`` is ``y == 0``: the mask is ``y != 0`` (one pass
    fewer than ``~(y <= 0)``). (Unlike torch, a NaN or inf in ``g`` where ``y == 0`` gives NaN, not 0.)"""

    def forward(ctx, g, y):
        ctx.save_for_backward(y)
        k = _fused.kernels()
        if k is not None and g.size >= _fused.MIN_SIZE and g.shape == y.shape and _fused.fusable(g, y):
            # one numba loop, bitwise the same (below MIN_SIZE the call costs more than NumPy's two passes)
            out = np.empty_like(g, order="C")
            k.relu_grad(g.reshape(-1), y.reshape(-1), g.dtype.type(1), g.dtype.type(0), out.reshape(-1))
            return out
        return g * (y != 0)

    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(gg, y), None


def relu(x):
    return Relu.apply(x)


class LeakyRelu(Op):
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        return np.where(x > 0, x, x * x.dtype.type(slope))

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(gt(x, _t(0, x)), g, mul(g, _t(ctx.slope, g)))


def leaky_relu(x, negative_slope=0.01):
    return LeakyRelu.apply(as_float(x), slope=negative_slope)


class Elu(Op):
    """alpha * (exp(x) - 1) for x <= 0, scaled by ``scale`` (elu, selu, celu share it)."""

    def forward(ctx, x, alpha, scale, input_scale):
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        dt = x.dtype.type
        neg = dt(alpha) * np.expm1(x * dt(input_scale))
        y = np.where(x > 0, x, neg) * dt(scale) if scale != 1 else np.where(x > 0, x, neg)
        ctx.save_for_backward(x)
        return y.astype(x.dtype, copy=False)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        nonpos = le(x, _t(0, x))
        dneg = mul(exp(mul(x, _t(ctx.input_scale, x))), _t(ctx.alpha * ctx.input_scale * ctx.scale, x))
        return mul(g, where(nonpos, dneg, _t(ctx.scale, x)))


def elu(x, alpha=1.0):
    return Elu.apply(as_float(x), alpha=alpha, scale=1.0, input_scale=1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    return Elu.apply(as_float(x), alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)


def celu(x, alpha=1.0):
    return Elu.apply(as_float(x), alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


class Gelu(Op):
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        dt = x.dtype.type
        if approximate == "tanh":
            inner = dt(math.sqrt(2 / math.pi)) * (x + dt(0.044715) * x * x * x)
            return dt(0.5) * x * (1 + np.tanh(inner))
        from scipy.special import erf as _erf

        return (dt(0.5) * x * (1 + _erf(x * dt(1 / math.sqrt(2))))).astype(x.dtype, copy=False)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            x2 = mul(x, x)
            inner = mul(_t(k, x), add(x, mul(_t(0.044715, x), mul(x2, x))))
            t = tanh(inner)
            dinner = mul(_t(k, x), add(_t(1, x), mul(_t(3 * 0.044715, x), x2)))
            d = add(mul(_t(0.5, x), add(_t(1, x), t)), mul(mul(_t(0.5, x), x), mul(sub(_t(1, x), mul(t, t)), dinner)))
            return mul(g, d)
        cdf = mul(_t(0.5, x), add(_t(1, x), erf(mul(x, _t(1 / math.sqrt(2), x)))))
        pdf = mul(exp(mul(mul(x, x), _t(-0.5, x))), _t(1 / math.sqrt(2 * math.pi), x))
        return mul(g, add(cdf, mul(x, pdf)))


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return Gelu.apply(as_float(x), approximate=approximate)


class Silu(Op):
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x)
        return (x * s).astype(x.dtype, copy=False)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return mul(g, mul(s, add(_t(1, x), mul(x, sub(_t(1, x), s)))))


def silu(x):
    return Silu.apply(as_float(x))


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (torch's definition)."""

    def forward(ctx, x, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        dt = x.dtype.type
        bx = x * dt(beta)
        y = np.where(bx > threshold, x, np.logaddexp(dt(0), bx) / dt(beta))
        return y.astype(x.dtype, copy=False)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bx = mul(x, _t(ctx.beta, x))
        return where(gt(bx, _t(ctx.threshold, x)), g, mul(g, sigmoid(bx)))


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(as_float(x), beta=beta, threshold=threshold)


class Hardtanh(Op):
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        dt = x.dtype.type
        return np.clip(x, dt(lo), dt(hi))

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        outside = logical_or(le(x, _t(ctx.lo, x)), ge(x, _t(ctx.hi, x)))
        return where(outside, _t(0, g), g)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if x._data.dtype.kind in "ub" and (min_val < 0 or max_val < 0):
        raise RuntimeError("hardtanh: cannot do hardtanh on an unsigned type with negative limits")
    return Hardtanh.apply(x, lo=min_val, hi=max_val)


def relu6(x):
    return hardtanh(x, 0.0, 6.0)


class Hardsigmoid(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        dt = x.dtype.type
        return np.clip(x + dt(3), dt(0), dt(6)) / dt(6)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inside = logical_and(gt(x, _t(-3, x)), lt(x, _t(3, x)))
        # torch multiplies by the float32 constant 1/6 in every dtype
        return where(inside, mul(g, _t(np.float32(1 / 6), g)), _t(0, g))


def hardsigmoid(x):
    return Hardsigmoid.apply(as_float(x))


class Hardswish(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        dt = x.dtype.type
        return x * np.clip(x + dt(3), dt(0), dt(6)) / dt(6)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inner = mul(g, add(div(x, _t(3, x)), _t(0.5, x)))
        return where(le(x, _t(-3, x)), _t(0, g), where(lt(x, _t(3, x)), inner, g))


def hardswish(x):
    return Hardswish.apply(as_float(x))


class LogSigmoid(Op):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.minimum(x, x.dtype.type(0)) - np.log1p(np.exp(-np.abs(x)))

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, sigmoid(mul(x, _t(-1, x))))


def logsigmoid(x):
    return LogSigmoid.apply(as_float(x))


def softsign(x):
    from .elementwise import abs as abs_

    return div(x, add(abs_(x), 1.0))


def tanhshrink(x):
    return sub(x, tanh(x))


def mish(x):
    return mul(x, tanh(softplus(x)))


def threshold(x, threshold, value):
    return where(gt(x, threshold), x, _t(value, x))


def hardshrink(x, lambd=0.5):
    from .elementwise import abs as abs_

    return where(le(abs_(x), lambd), _t(0, x), x)


def softshrink(x, lambd=0.5):
    """x - lambd * sign(x) outside [-lambd, lambd], 0 inside (NaN stays NaN)."""
    from .elementwise import abs as abs_, sign

    return where(le(abs_(x), lambd), mul(x, _t(0, x)), sub(x, mul(sign(x), _t(lambd, x))))


# ---- softmax ------------------------------------------------------------------------------------------------
class Softmax(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        e = np.asarray(np.subtract(x, x.max(axis=dim, keepdims=True)))  # (0-d inputs give a NumPy scalar)
        np.exp(e, out=e)
        e /= e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        return e

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return SoftmaxGrad.apply(g, y, dim=ctx.dim)


class SoftmaxGrad(Op):
    """softmax's backward as one op, in torch's order: ``y * (g - sum(g * y))``."""

    def forward(ctx, g, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        out = np.asarray(g - (g * y).sum(axis=dim, keepdims=True))
        out *= y
        return out

    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        d = ctx.dim
        gg_g = SoftmaxGrad.apply(gg, y, dim=d) if ctx.next_edges[0] is not None else None
        gg_y = None
        if ctx.next_edges[1] is not None:
            s = sum_(mul(g, y), dim=d, keepdim=True)
            t = sum_(mul(gg, y), dim=d, keepdim=True)
            gg_y = sub(mul(gg, sub(g, s)), mul(g, t))
        return gg_g, gg_y


class LogSoftmax(Op):
    def forward(ctx, x, dim):
        ctx.dim = dim
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return LogSoftmaxGrad.apply(g, y, dim=ctx.dim)


class LogSoftmaxGrad(Op):
    """log_softmax's backward as one op, in torch's order: ``g - exp(y) * sum(g)``."""

    def forward(ctx, g, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        e = np.asarray(np.exp(y))
        e *= g.sum(axis=dim, keepdims=True)
        return np.subtract(g, e)

    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        d = ctx.dim
        e = exp(y)
        gg_g = sub(gg, sum_(mul(gg, e), dim=d, keepdim=True)) if ctx.next_edges[0] is not None else None
        gg_y = mul(mul(gg, e), sum_(g, dim=d, keepdim=True)) * -1 if ctx.next_edges[1] is not None else None
        return gg_g, gg_y


def _softmax_dim(x, dim, op):
    if dim is None:
        import warnings

        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=3)
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    return wrap_dim(dim, x._data.ndim, op)


def softmax(x, dim=None, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Softmax.apply(as_float(x), dim=_softmax_dim(x, dim, "softmax"))


def log_softmax(x, dim=None, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return LogSoftmax.apply(as_float(x), dim=_softmax_dim(x, dim, "log_softmax"))


def softmin(x, dim=None, dtype=None):
    return softmax(mul(x, -1), dim, dtype)


