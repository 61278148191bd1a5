"""Elementwise ops: arithmetic, comparisons, unary maths and activations, each with its gradient.

Backward formulas use Tensor ops, so they are differentiable again (double backward) and visible to the
compile-mode tracer. Broadcasting is undone by the engine, never here.
"""
import math

import numpy as np

from .._dtype import get_default_dtype
from ..autograd.function import Op
from .._tensor import Tensor, _make

_ndarray = np.ndarray


def _t(x, like):
    """A Python scalar as a 0-d tensor of ``like``'s dtype (for use inside backward formulas)."""
    return _make(np.array(x, dtype=like._data.dtype))


# ---- dtype cast ------------------------------------------------------------------------------------------
class Cast(Op):
    def forward(ctx, x, dtype):
        ctx.src = x.dtype
        return x.astype(dtype.np)

    def backward(ctx, g):
        return cast_np(g, ctx.src)


def cast(x: Tensor, dtype) -> Tensor:
    if x._data.dtype == dtype.np:
        return x
    return Cast.apply(x, dtype=dtype)


def cast_np(x: Tensor, np_dtype) -> Tensor:
    from .._dtype import from_numpy_dtype

    return cast(x, from_numpy_dtype(np_dtype))


# ---- binary arithmetic -----------------------------------------------------------------------------------
class Add(Op):
    def forward(ctx, a, b):
        return a + b

    def backward(ctx, g):
        return g, g


class Sub(Op):
    def forward(ctx, a, b):
        return a - b

    def backward(ctx, g):
        return g, neg(g)


class Mul(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return mul(g, b), mul(g, a)


class Div(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = div(g, b)
        return ga, neg(mul(ga, div(a, b)))


class Pow(Op):
    def forward(ctx, a, b):
        y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = mul(g, mul(b, pow(a, sub(b, _t(1, b)))))
        gb = None
        if ctx.next_edges[1] is not None:
            # d/db a**b = a**b * log(a); torch defines it as 0 where a == 0 and b >= 0
            safe = where(eq(a, _t(0, a)), _t(1, a), a)
            gb = mul(g, mul(y, log(safe)))
        return ga, gb


class PowScalar(Op):
    """x ** c for a Python number c (the common case, cheaper than Pow and exact for integer c)."""

    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        ctx.save_for_backward(x)
        if exponent == 2:
            return x * x
        return np.power(x, exponent)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        c = ctx.exponent
        if c == 0:
            return mul(g, _t(0, x))
        if c == 2:
            return mul(g, mul(x, _t(2, x)))
        return mul(g, mul(pow_scalar(x, c - 1), _t(c, x)))


class Maximum(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(g, a, b, gt(a, b))


class Minimum(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(g, a, b, lt(a, b))


def _minmax_grads(g, a, b, a_wins):
    # ties split the gradient evenly, as torch does
    tie = eq(a, b)
    half = mul(g, _t(0.5, g))
    zero = _t(0, g)
    ga = where(tie, half, where(a_wins, g, zero))
    gb = where(tie, half, where(a_wins, zero, g))
    return ga, gb


class Atan2(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        denom = add(mul(a, a), mul(b, b))
        return mul(g, div(b, denom)), mul(g, div(neg(a), denom))


class Remainder(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.mod(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g, mul(g, neg(floor(div(a, b))))


class Fmod(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g, mul(g, neg(trunc(div(a, b))))


class FloorDivide(Op):
    def forward(ctx, a, b):
        return np.floor_divide(a, b)

    def backward(ctx, g):
        return mul(g, _t(0, g)), mul(g, _t(0, g))


def _binary(op_cls, name):
    from ._util import pair

    def fn(a, b):
        a, b = pair(a, b, name)
        return op_cls.apply(a, b)

    fn.__name__ = name
    return fn


_add = _binary(Add, "add")
_sub = _binary(Sub, "sub")
mul = _binary(Mul, "mul")
maximum = _binary(Maximum, "maximum")
minimum = _binary(Minimum, "minimum")
remainder = _binary(Remainder, "remainder")
fmod = _binary(Fmod, "fmod")
floor_divide = _binary(FloorDivide, "floor_divide")


def add(a, b, alpha=1):
    """a + alpha * b."""
    if alpha != 1:
        b = mul(b, alpha)
    return _add(a, b)


def sub(a, b, alpha=1):
    """a - alpha * b."""
    if alpha != 1:
        b = mul(b, alpha)
    return _sub(a, b)


def rsub(a, b, alpha=1):
    return sub(b, a, alpha=alpha)


def div(a, b, rounding_mode=None):
    """True division (integers give the default float dtype); rounding_mode 'trunc' or 'floor'."""
    from ._util import as_float, pair

    a, b = pair(a, b, "div")
    if rounding_mode is None:
        if a._data.dtype.kind != "f":
            a, b = as_float(a), as_float(b)
        return Div.apply(a, b)
    if rounding_mode == "floor":
        if a._data.dtype.kind != "f":
            return FloorDivide.apply(a, b)
        return floor(Div.apply(a, b))
    if rounding_mode == "trunc":
        if a._data.dtype.kind != "f":
            return cast(trunc(Div.apply(cast(a, get_default_dtype()), cast(b, get_default_dtype()))), _dtype_of(a))
        return trunc(Div.apply(a, b))
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


def _dtype_of(t):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(t._data.dtype)


true_divide = div


def pow(a, b):  # noqa: A001
    """a ** b for tensors and/or numbers."""
    from ._util import pair

    if isinstance(a, Tensor) and not isinstance(b, Tensor) and not isinstance(b, bool):
        if isinstance(b, int) and a._data.dtype.kind == "f" or isinstance(b, float) and a._data.dtype.kind == "f":
            return pow_scalar(a, b)
    a, b = pair(a, b, "pow")
    if a._data.dtype.kind in "iu" and (b._data < 0).any():
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(a, b)


def pow_scalar(x, exponent):
    return PowScalar.apply(x, exponent=exponent)


def atan2(a, b):
    from ._util import as_float, pair

    a, b = pair(a, b, "atan2")
    return Atan2.apply(as_float(a), as_float(b))


# ---- comparisons and logic (no gradient) ----------------------------------------------------------------
class _NoGrad(Op):
    differentiable = False


class Compare(_NoGrad):
    def forward(ctx, a, b, fn):
        return fn(a, b)


def _compare(np_fn, name):
    from ._util import pair

    def fn(a, b):
        a, b = pair(a, b, name)
        return Compare.apply(a, b, fn=np_fn)

    fn.__name__ = name
    return fn


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")
bitwise_and = _compare(np.bitwise_and, "bitwise_and")
bitwise_or = _compare(np.bitwise_or, "bitwise_or")
bitwise_xor = _compare(np.bitwise_xor, "bitwise_xor")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


class Unary(_NoGrad):
    def forward(ctx, x, fn):
        return fn(x)


def _nograd_unary(x, np_fn):
    return Unary.apply(x, fn=np_fn)


def logical_not(x):
    return _nograd_unary(x, np.logical_not)


def bitwise_not(x):
    if x._data.dtype.kind == "f":
        raise RuntimeError("bitwise_not: not implemented for floating point tensors")
    return _nograd_unary(x, np.invert)


def isnan(x):
    return _nograd_unary(x, np.isnan)


def isinf(x):
    return _nograd_unary(x, np.isinf)


def isfinite(x):
    return _nograd_unary(x, np.isfinite)


def signbit(x):
    return _nograd_unary(x, np.signbit)


def equal(a, b) -> bool:
    """True when both tensors have the same shape and values."""
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    from ._util import pair

    a, b = pair(a, b, "isclose")
    return _make(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


# ---- where ------------------------------------------------------------------------------------------------
class Where(Op):
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = _t(0, g)
        return None, where(cond, g, zero), where(cond, zero, g)


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    from ._util import pair

    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        condition = _make(np.asarray(condition))
    if condition._data.dtype != np.bool_:
        if condition._data.dtype == np.uint8:
            condition = _make(condition._data.astype(np.bool_))
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dtype_of(condition)}")
    a, b = pair(input, other, "where")
    return Where.apply(condition, a, b)


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
        return np.sign(x)

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


class Sigmoid(Op):
    def forward(ctx, x):
        # exp of a non-positive argument never overflows
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return mul(g, mul(y, sub(_t(1, y), y)))


class Erf(Op):
    def forward(ctx, x):
        from scipy.special import erf as _erf

        ctx.save_for_backward(x)
        return _erf(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, mul(exp(neg(mul(x, x))), _t(2 / math.sqrt(math.pi), x)))


class Erfinv(Op):
    def forward(ctx, x):
        from scipy.special import erfinv as _erfinv

        y = _erfinv(x)
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


class Clamp(Op):
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi) if (lo is not None or hi is not None) else x.copy()

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = None
        if ctx.lo is not None:
            keep = ge(x, ctx.lo)
        if ctx.hi is not None:
            k = le(x, ctx.hi)
            keep = k if keep is None else logical_and(keep, k)
        return where(keep, g, _t(0, g)) if keep is not None else g


class ClampTensor(Op):
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        return np.minimum(np.maximum(x, lo), hi)

    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        zero = _t(0, g)
        below, above = lt(x, lo), gt(x, hi)
        gx = where(logical_or(below, above), zero, g)
        glo = where(logical_and(below, le(lo, hi)), g, zero)
        ghi = where(logical_or(gt(lo, hi), above), g, zero)
        return gx, glo, ghi


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


neg = _unary(Neg, "neg", float_only=False)
negative = neg
abs = _unary(Abs, "abs", float_only=False)  # noqa: A001
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
    return sub(x, trunc(x))


def square(x):
    return pow_scalar(x, 2) if x._data.dtype.kind == "f" else mul(x, x)


def clamp(x, min=None, max=None):  # noqa: A002 - torch's argument names
    """Limit values to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from ._util import pair

        lo = min if min is not None else _make(np.array(-np.inf, dtype=x._data.dtype))
        hi = max if max is not None else _make(np.array(np.inf, dtype=x._data.dtype))
        x, lo = pair(x, lo, "clamp")
        x, hi = pair(x, hi, "clamp")
        return ClampTensor.apply(x, lo, hi)
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = cast(x, get_default_dtype())
    dt = x._data.dtype.type
    return Clamp.apply(x, lo=None if min is None else dt(min), hi=None if max is None else dt(max))


clip = clamp


def clamp_min(x, min):  # noqa: A002
    return clamp(x, min=min)


def clamp_max(x, max):  # noqa: A002
    return clamp(x, max=max)


def lerp(start, end, weight):
    return add(start, mul(sub(end, start), weight))


def logical_not_(x):
    return logical_not(x)



class Clone(Op):
    def forward(ctx, x):
        return np.array(x, copy=True, order="C")

    def backward(ctx, g):
        return g


def clone(x):
    return Clone.apply(x)


contiguous = clone
