"""More elementwise maths: inverse hyperbolics, erfc, angle conversions, fmax/fmin, bit shifts, frexp/ldexp,
nextafter, float_power, the is* predicates, torch's aliases (multiply, divide, subtract, arc*) and the no-op
complex helpers of real tensors (conj, resolve_conj ...). Each differentiable op has its gradient.
"""
import math

import numpy as np

from .._dtype import float64
from .._tensor import Tensor
from ..autograd.function import Op
from ._util import as_float, pair
from .elementwise import (Unary, _nograd_unary, _t, _type_name, add, apply_binary, atan2, cast, div, exp, ge,
                          isnan, le, logical_or, mul, neg, pow, rsqrt, sub, where)
from .linalg_decomp import _result
from .unary import _unary

__all__ = ["acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "arctan2", "erfc", "rad2deg", "deg2rad",
           "fmax", "fmin", "isposinf", "isneginf", "isreal", "positive", "bitwise_left_shift",
           "bitwise_right_shift", "frexp", "ldexp", "nextafter", "float_power", "multiply", "divide", "subtract",
           "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "is_complex"]
# (compare_as_self and float_power_ serve Tensor methods only: not in the torch namespace)


# ---- inverse hyperbolic functions and erfc -----------------------------------------------------------------------
class Acosh(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, rsqrt(sub(mul(x, x), _t(1, x))))


class Asinh(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, rsqrt(add(mul(x, x), _t(1, x))))


class Atanh(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return div(g, sub(_t(1, x), mul(x, x)))


class Erfc(Op):
    def forward(ctx, x):
        from scipy.special import erfc as _erfc

        ctx.save_for_backward(x)
        return _erfc(x).astype(x.dtype, copy=False)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, mul(exp(neg(mul(x, x))), _t(-2 / math.sqrt(math.pi), x)))


acosh = arccosh = _unary(Acosh, "acosh")
asinh = arcsinh = _unary(Asinh, "asinh")
atanh = arctanh = _unary(Atanh, "atanh")
erfc = _unary(Erfc, "erfc")
arctan2 = atan2


def rad2deg(input):  # noqa: A002 - torch's argument name
    return mul(as_float(input), 180.0 / math.pi)


def deg2rad(input):  # noqa: A002
    return mul(as_float(input), math.pi / 180.0)


# ---- fmax / fmin: maximum and minimum that ignore NaN --------------------------------------------------------------
class Fmax(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmax(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _nan_aware_grads(g, logical_or(ge(a, b), isnan(b)))


class Fmin(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmin(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _nan_aware_grads(g, logical_or(le(a, b), isnan(b)))


def _nan_aware_grads(g, a_wins):
    # torch: a tie or a NaN in b gives the whole gradient to a; everything else goes to b
    zero = _t(0, g)
    return where(a_wins, g, zero), where(a_wins, zero, g)


def _tensor_pair(a, b, op):
    for i, v in enumerate((a, b)):
        if not isinstance(v, Tensor):
            name = ("input", "other")[i]
            raise TypeError(f"{op}(): argument '{name}' (position {i + 1}) must be Tensor, not {type(v).__name__}")
    return pair(a, b, op)


def fmax(input, other):  # noqa: A002
    """Elementwise maximum; where one side is NaN the other is taken."""
    a, b = _tensor_pair(input, other, "fmax")
    return apply_binary(Fmax, a, b)


def fmin(input, other):  # noqa: A002
    """Elementwise minimum; where one side is NaN the other is taken."""
    a, b = _tensor_pair(input, other, "fmin")
    return apply_binary(Fmin, a, b)


# ---- predicates ------------------------------------------------------------------------------------------------------
def _all_true(a):
    return np.ones(a.shape, dtype=np.bool_)


def isposinf(input):  # noqa: A002
    return _nograd_unary(input, np.isposinf)


def isneginf(input):  # noqa: A002
    return _nograd_unary(input, np.isneginf)


def isreal(input):  # noqa: A002
    """True everywhere: ember's tensors are real."""
    return Unary.apply(input, fn=_all_true)


def is_complex(input) -> bool:  # noqa: A002
    return False


def is_conj(input) -> bool:  # noqa: A002
    return False


def is_neg(input) -> bool:  # noqa: A002
    return False


def conj(input):  # noqa: A002
    """The conjugate of a real tensor: the tensor itself (as torch returns it)."""
    return input


conj_physical = resolve_conj = resolve_neg = conj


def positive(input):  # noqa: A002
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---- bit shifts ------------------------------------------------------------------------------------------------------
class Shift(Op):
    """a << b or a >> b with torch's rule for shifts outside [0, bits): 0 to the left, the sign to the right."""

    differentiable = False

    def forward(ctx, a, b, left):
        bits = a.dtype.itemsize * 8
        outside = (b < 0) | (b >= bits)
        amount = np.where(outside, bits - 1, b).astype(a.dtype)
        if left:
            return np.where(outside, a.dtype.type(0), np.left_shift(a, amount))
        out = np.right_shift(a, amount)  # bits - 1 fills with the sign bit
        if a.dtype.kind == "u":
            return np.where(outside, a.dtype.type(0), out)
        return out


def _shift(a, b, left, op, kernel):
    a, b = pair(a, b, op)
    if a._data.dtype.kind in "fb":
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_type_name(a)}\'')
    return apply_binary(Shift, a, b, left=left)


def bitwise_left_shift(input, other):  # noqa: A002
    return _shift(input, other, True, "bitwise_left_shift", "lshift")


def bitwise_right_shift(input, other):  # noqa: A002
    return _shift(input, other, False, "bitwise_right_shift", "rshift")


# ---- frexp / ldexp / nextafter ---------------------------------------------------------------------------------------
FrexpResult = _result("frexp", ["mantissa", "exponent"])


class Frexp(Op):
    non_differentiable = (1,)

    def forward(ctx, x):
        mantissa, exponent = np.frexp(x)
        exponent = exponent.astype(np.int32)
        ctx.save_for_backward(exponent)
        return mantissa, exponent

    def backward(ctx, g_mantissa, g_exponent):
        (exponent,) = ctx.saved_tensors  # x = mantissa * 2**exponent
        return div(g_mantissa, pow(2.0, cast(exponent, g_mantissa.dtype)))


def frexp(input):  # noqa: A002
    """(mantissa, exponent) with input = mantissa * 2**exponent and 0.5 <= |mantissa| < 1."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return FrexpResult(*Frexp.apply(input))


def ldexp(input, other):  # noqa: A002
    """input * 2**other."""
    _tensor_pair(input, other, "ldexp")
    return mul(input, pow(2.0, other))


class NextAfter(Op):
    def forward(ctx, a, b):
        return np.nextafter(a, b)

    def backward(ctx, g):  # torch's: the gradient passes to input, none to other
        return g, mul(g, _t(0, g))


def nextafter(input, other):  # noqa: A002
    """The next representable value after ``input`` towards ``other``."""
    a, b = _tensor_pair(input, other, "nextafter")
    if a._data.dtype.kind != "f":
        raise NotImplementedError(f'"nextafter_cpu" not implemented for \'{_type_name(a)}\'')
    return apply_binary(NextAfter, a, b)


# ---- float_power and torch's arithmetic aliases ---------------------------------------------------------------------
def float_power(input, exponent):  # noqa: A002
    """input ** exponent computed in float64."""
    if isinstance(input, Tensor):
        input = cast(input, float64)  # noqa: A001
    elif not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected at least one Tensor argument")
    if isinstance(exponent, Tensor):
        exponent = cast(exponent, float64)
    elif isinstance(input, Tensor) and not isinstance(exponent, bool):
        exponent = float(exponent)
    return pow(input, exponent)


def multiply(input, other):  # noqa: A002
    return mul(input, other)


def divide(input, other, *, rounding_mode=None):  # noqa: A002
    return div(input, other, rounding_mode=rounding_mode)


def subtract(input, other, *, alpha=1):  # noqa: A002
    return sub(input, other, alpha=alpha)


# ---- comparisons written back into a tensor of another dtype (x.lt_(y)) ----------------------------------------------
class CompareAs(Op):
    """fn(a, b) as 0/1 of ``dtype``: the value of an in-place comparison. Its gradient is zero (torch keeps the
    tensor in the graph)."""

    def forward(ctx, a, b, fn, dtype, torch_name):
        ctx.torch_name = torch_name
        return fn(a, b).astype(dtype)

    def backward(ctx, g):
        zero = mul(g, _t(0, g))
        return zero, zero

    def name(self):
        return self.torch_name + "Backward0"


_COMPARISONS = {"eq": (np.equal, "Eq"), "ne": (np.not_equal, "Ne"), "lt": (np.less, "Lt"),
                "le": (np.less_equal, "Le"), "gt": (np.greater, "Gt"), "ge": (np.greater_equal, "Ge"),
                "logical_and": (np.logical_and, "LogicalAnd"), "logical_or": (np.logical_or, "LogicalOr"),
                "logical_xor": (np.logical_xor, "LogicalXor")}


def _logical_not_first(a, _):
    return np.logical_not(a)


def compare_as_self(x, other, op):
    """The comparison ``op`` ('lt', 'logical_and' ...; 'logical_not' ignores ``other``) of x and other, with
    torch's promotion, as 0/1 values of x's own dtype (the value of ``x.lt_(other)``)."""
    dtype = x._data.dtype
    if op == "logical_not":
        return CompareAs.apply(x, x, fn=_logical_not_first, dtype=dtype, torch_name="LogicalNot")
    fn, torch_name = _COMPARISONS[op]
    a, b = pair(x, other, op)
    return apply_binary(CompareAs, a, b, fn=fn, dtype=dtype, torch_name=torch_name)


def float_power_(x, exponent):
    """x **= exponent in float64: torch requires x to be float64 already."""
    from .inplace import apply_inplace

    if x._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_type_name(x)} but the operation's result "
                           "requires dtype Double")
    return apply_inplace(x, float_power, exponent, name="float_power_")
