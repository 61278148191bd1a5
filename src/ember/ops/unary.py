"""Unary maths (exp, log, trig, rounding, erf ...), each with its gradient. ``ember.ops.elementwise`` re-exports
these names, so ops import them from there."""
import math

import numpy as np

from ..autograd.function import Op
from .elementwise import _t, _type_name, add, div, mul, pow_scalar, sub


# ---- unary maths ------------------------------------------------------------------------------------------
class Neg(Op):
    def forward(ctx, x):
        return np.negative(x)

    def backward(ctx, g):
        return neg(g)


class Abs(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, sign(x))


class Sign(Op):
    def forward(ctx, x):
        y = np.sign(x)
        if x.dtype.kind != "f":
            return y
        return np.nan_to_num(y, copy=y.__class__ is not np.ndarray, nan=0.0)  # torch's sign(NaN) is 0

    def backward(ctx, g):
        return mul(g, _t(0, g))


class Exp(Op):
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, y)


class Exp2(Op):
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, mul(y, _t(math.log(2.0), y)))


class Expm1(Op):
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, add(y, _t(1, y)))


class Log(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, x)


class Log2(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, mul(x, _t(math.log(2.0), x)))


class Log10(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, mul(x, _t(math.log(10.0), x)))


class Log1p(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, add(x, _t(1, x)))


class Sqrt(Op):
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return div(g, mul(y, _t(2, y)))


class Rsqrt(Op):
    def forward(ctx, x):
        y = 1 / np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, mul(pow_scalar(y, 3), _t(-0.5, y)))


class Reciprocal(Op):
    def forward(ctx, x):
        y = np.reciprocal(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return neg(mul(g, mul(y, y)))


class Sin(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, cos(x))


class Cos(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return neg(mul(g, sin(x)))


class Tan(Op):
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, add(mul(y, y), _t(1, y)))


class Asin(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, sqrt(sub(_t(1, x), mul(x, x))))


class Acos(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return neg(div(g, sqrt(sub(_t(1, x), mul(x, x)))))


class Atan(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, add(mul(x, x), _t(1, x)))


class Sinh(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, cosh(x))


class Cosh(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, sinh(x))


class Tanh(Op):
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, sub(_t(1, y), mul(y, y)))


def sigmoid_array(x, e=None):
    """sigmoid(x) of a float array, as a new array. exp of a non-positive argument never overflows:
    1 / (1 + e) for x >= 0, e / (1 + e) below, e = exp(-|x|) (pass ``e`` when it is at hand)."""
    if e is None:
        e = np.asarray(np.abs(x))  # (a 0-d input gives a NumPy scalar)
        np.negative(e, out=e)
        np.exp(e, out=e)
    y = np.where(x >= 0, x.dtype.type(1), e)
    np.true_divide(y, np.add(e, 1, dtype=x.dtype), out=y)
    return y


class Sigmoid(Op):
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, mul(y, sub(_t(1, y), y)))


class Erf(Op):
    def forward(ctx, x):
        from scipy.special import erf as _erf

        ctx.save_for_backward(x)
        return _erf(x).astype(x.dtype, copy=False)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, mul(exp(neg(mul(x, x))), _t(2 / math.sqrt(math.pi), x)))


class Erfinv(Op):
    def forward(ctx, x):
        from scipy.special import erfinv as _erfinv

        y = _erfinv(x).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, mul(exp(mul(y, y)), _t(math.sqrt(math.pi) / 2, y)))


class _Rounding(Op):
    def forward(ctx, x, fn):
        return fn(x)

    def backward(ctx, g):
        return mul(g, _t(0, g))


def _unary(op_cls, name, float_only=True):
    from ._util import as_float

    if float_only:
        def fn(x):
            return op_cls.apply(as_float(x))
    else:
        def fn(x):
            return op_cls.apply(x)
    fn.__name__ = name
    return fn


def neg(x):
    if x._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert "
                           "a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(x)


def abs(x):  # noqa: A001
    if x._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(x)


negative = neg
absolute = abs
exp = _unary(Exp, "exp")
exp2 = _unary(Exp2, "exp2")
expm1 = _unary(Expm1, "expm1")
log = _unary(Log, "log")
log2 = _unary(Log2, "log2")
log10 = _unary(Log10, "log10")
log1p = _unary(Log1p, "log1p")
sqrt = _unary(Sqrt, "sqrt")
rsqrt = _unary(Rsqrt, "rsqrt")
reciprocal = _unary(Reciprocal, "reciprocal")
sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
tan = _unary(Tan, "tan")
asin = arcsin = _unary(Asin, "asin")
acos = arccos = _unary(Acos, "acos")
atan = arctan = _unary(Atan, "atan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
tanh = _unary(Tanh, "tanh")
sigmoid = _unary(Sigmoid, "sigmoid")
erf = _unary(Erf, "erf")
erfinv = _unary(Erfinv, "erfinv")


def sign(x):
    if x._data.dtype == np.bool_:
        return x.clone()
    return Sign.apply(x)


sgn = sign


def _rounding(np_fn, name):
    def fn(x):
        if x._data.dtype.kind != "f":
            return x.clone()
        return _Rounding.apply(x, fn=np_fn)

    fn.__name__ = name
    return fn


floor = _rounding(np.floor, "floor")
ceil = _rounding(np.ceil, "ceil")
trunc = _rounding(np.trunc, "trunc")
fix = trunc


def round(x, decimals=0):  # noqa: A001
    if x._data.dtype.kind != "f":
        return x.clone()
    if decimals == 0:
        return _Rounding.apply(x, fn=np.round)
    return _Rounding.apply(x, fn=lambda a: np.round(a, decimals))


def frac(x):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{_type_name(x)}\'')
    return sub(x, trunc(x))


def square(x):
    return pow_scalar(x, 2) if x._data.dtype.kind == "f" else mul(x, x)
