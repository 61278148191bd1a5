"""Elementwise ops: dtype casts, binary arithmetic (with torch's promotion), comparisons and logic, where,
clamp; each with its gradient. Unary maths live in ``unary.py`` and are re-exported from here.

Backward formulas use Tensor ops, so they are differentiable again (double backward) and visible to the
compile-mode tracer. Broadcasting is undone by the engine, never here.
"""
import numbers

import numpy as np

from .._dtype import get_default_dtype
from .._memory_format import contiguous_format, is_laid_out, lay_out, preserve_format
from ..autograd.function import Op
from .._tensor import Tensor, _make, _notify_value_read

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
    """(A cast to an integer or bool dtype never requires grad: Op.apply's rule for non-float outputs.)"""
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
        # like torch, keep each operand only if the other one's gradient needs it
        ctx.save_for_backward(a if ctx.needs_grad(1) else None, b if ctx.needs_grad(0) else None)
        return a * b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return mul(g, b) if b is not None else None, mul(g, a) if a is not None else None


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
        if a.dtype.kind in "iu" and (b < 0).any():
            y = _int_power_negative(a, b)
        else:
            y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.next_edges[0] is not None:  # b * a**(b-1), defined as 0 where b == 0 (torch)
            ga = where(eq(b, _t(0, b)), _t(0, g), mul(g, mul(b, pow(a, sub(b, _t(1, b))))))
        if ctx.next_edges[1] is not None:  # a**b * log(a), defined as 0 where a == 0 and b >= 0 (torch)
            zero_base = logical_and(eq(a, _t(0, a)), ge(b, _t(0, b)))
            gb = where(zero_base, _t(0, g), mul(g, mul(y, log(a))))
        return ga, gb


def _int_power_negative(a, b):
    """Integer a ** b where some b < 0 (NumPy refuses): 1 and -1 keep magnitude 1, other bases give 0."""
    neg = b < 0
    y = np.power(a, np.where(neg, 0, b).astype(b.dtype))
    odd = (b % 2) != 0
    inv = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(neg, inv, y).astype(y.dtype)


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
        return _minmax_grads(g, a, b, lt(a, b), gt(a, b))


class Minimum(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(g, a, b, gt(a, b), lt(a, b))


def _minmax_grads(g, a, b, a_loses, b_loses):
    # ties split the gradient evenly and a NaN operand keeps it, as torch does
    tie = eq(a, b)
    half = mul(g, _t(0.5, g))
    zero = _t(0, g)
    ga = where(tie, half, where(a_loses, zero, g))
    gb = where(tie, half, where(b_loses, zero, g))
    return ga, gb


class Atan2(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        denom = add(mul(a, a), mul(b, b))
        at_origin = eq(denom, _t(0, denom))  # torch's gradient at (0, 0) is 0
        ga = where(at_origin, _t(0, g), mul(g, div(b, denom)))
        gb = where(at_origin, _t(0, g), mul(g, div(neg(a), denom)))
        return ga, gb


def _check_int_divisor(b):
    if b.dtype.kind in "iub" and not b.all():
        raise RuntimeError("ZeroDivisionError")


class Remainder(Op):
    def forward(ctx, a, b):
        _check_int_divisor(b)
        ctx.save_for_backward(a, b)
        return np.mod(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g, mul(g, neg(FloorDivide.apply(a, b)))  # floor_divide, not floor(a / b): 0.5 // -inf == -1


class Fmod(Op):
    def forward(ctx, a, b):
        _check_int_divisor(b)
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g, mul(g, neg(trunc(div(a, b))))


class FloorDivide(Op):
    def forward(ctx, a, b):
        _check_int_divisor(b)
        return np.floor_divide(a, b)

    def backward(ctx, g):
        return mul(g, _t(0, g)), mul(g, _t(0, g))


class TruncDivide(Op):
    """Division rounding toward zero: trunc(a / b) for floats (as torch), exact integer arithmetic for ints."""

    def forward(ctx, a, b):
        if a.dtype.kind == "f":
            return np.trunc(a / b)
        _check_int_divisor(b)
        q = np.floor_divide(a, b)
        if a.dtype.kind == "u":
            return q
        # floor and trunc differ by one where the division is inexact and the signs differ
        fix = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return q + fix.astype(q.dtype)

    def backward(ctx, g):
        return mul(g, _t(0, g)), mul(g, _t(0, g))


def broadcast_error(a, b):
    """torch's message for operands whose shapes do not broadcast (None when they do)."""
    return broadcast_shape_error(a._data.shape, b._data.shape)


def broadcast_shape_error(sa, sb):
    n = len(sa) if len(sa) > len(sb) else len(sb)
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
            return RuntimeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                                f"non-singleton dimension {d}")
    return None


def apply_binary(op_cls, a, b, **params):
    """``op_cls.apply(a, b)``, turning NumPy's broadcast ValueError into torch's RuntimeError."""
    try:
        return op_cls.apply(a, b, **params)
    except ValueError:
        err = broadcast_error(a, b)
        if err is None:
            raise
        raise err from None


def _binary(op_cls, name):
    from ._util import pair

    def fn(a, b):
        a, b = pair(a, b, name)
        return apply_binary(op_cls, a, b)

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


def _scaled(a, b, alpha, op):
    """(a, b * alpha) promoted together; alpha follows torch's rules for integral and bool results."""
    from ._util import pair

    a, b = pair(a, b, op)
    kind = a._data.dtype.kind
    if kind in "iub" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if kind == "b":
        return a, b if alpha else mul(b, False)
    return a, mul(b, alpha)


def add(a, b, alpha=1):
    """a + alpha * b."""
    if alpha != 1:
        a, b = _scaled(a, b, alpha, "add")
    return _add(a, b)


def _is_bool(x):
    return isinstance(x, bool) or (isinstance(x, Tensor) and x._data.dtype == np.bool_)


def sub(a, b, alpha=1):
    """a - alpha * b."""
    if _is_bool(a) or _is_bool(b):
        if _is_bool(a) and _is_bool(b):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                               "`logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    if alpha != 1:
        a, b = _scaled(a, b, alpha, "sub")
    return _sub(a, b)


def rsub(a, b, alpha=1):
    return sub(b, a, alpha=alpha)


def div(a, b, rounding_mode=None):
    """True division (integers give the default float dtype); rounding_mode 'trunc' or 'floor'."""
    from ._util import as_float, pair

    if rounding_mode is not None and rounding_mode not in ("floor", "trunc"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    if rounding_mode is None and isinstance(a, Tensor) != isinstance(b, Tensor):
        # true division runs in floating point: an integer scalar is not first converted to an integer dtype
        # (torch.tensor([1], dtype=torch.uint8) / -2 is -0.5)
        if isinstance(a, Tensor):
            a = as_float(a)
        else:
            b = as_float(b)
    a, b = pair(a, b, "div")
    if rounding_mode is None:
        if a._data.dtype.kind != "f":
            a, b = as_float(a), as_float(b)
        return apply_binary(Div, a, b)
    if rounding_mode == "floor":
        # not floor(a / b): NumPy's floor_divide rounds like torch (1 // 0.1 == 9); the gradient is zero
        return apply_binary(FloorDivide, a, b)
    return apply_binary(TruncDivide, a, b)


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
    if isinstance(b, numbers.Integral) and b < 0 and isinstance(a, Tensor) and a._data.dtype.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    a, b = pair(a, b, "pow")
    return apply_binary(Pow, a, b)


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
        return apply_binary(Compare, a, b, fn=np_fn)

    fn.__name__ = name
    return fn


def _bitwise(np_fn, name):
    from ._util import pair

    def fn(a, b):
        a, b = pair(a, b, name)
        if a._data.dtype.kind == "f":
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_type_name(a)}\'')
        return apply_binary(Compare, a, b, fn=np_fn)

    fn.__name__ = name
    return fn


def _type_name(t):
    """torch's ScalarType name of a tensor's dtype ('Float', 'Long', 'Bool' ...), used in error messages."""
    return {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
            "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}[t._data.dtype.name]


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")
bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
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
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{_type_name(x)}\'')
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
    _notify_value_read(a, "allclose")  # a Python bool from tensor values (compile mode: a graph break)
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


class IsClose(_NoGrad):
    def forward(ctx, a, b, rtol, atol, equal_nan):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    from ._util import pair

    a, b = pair(a, b, "isclose")
    return IsClose.apply(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


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
            condition = condition.bool()  # (a traced cast: compile mode replays it on new conditions)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_type_name(condition)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _scalar_tensor(input, other)
    a, b = pair(input, other, "where")
    try:
        return Where.apply(condition, a, b)
    except ValueError:
        err = broadcast_error(condition, a) or broadcast_error(condition, b) or broadcast_error(a, b)
        if err is None:
            raise
        raise err from None


def _scalar_tensor(value, other):
    """A 0-d tensor for a Python scalar, typed as torch types a pair of scalars (float > int > bool)."""
    from .._dtype import bool_, int64
    from ._util import scalar_category

    cat = max(scalar_category(value), scalar_category(other))
    dt = (bool_, int64, get_default_dtype())[cat]
    return _make(np.array(value, dtype=dt.np))


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
    """Clamp to tensor bounds; a missing bound arrives as +-inf (or the integer extreme) with has_lo/has_hi False."""

    def forward(ctx, x, lo, hi, has_lo=True, has_hi=True):
        ctx.has_lo, ctx.has_hi = has_lo, has_hi
        ctx.save_for_backward(x, lo, hi)
        return np.minimum(np.maximum(x, lo), hi)

    def backward(ctx, g):
        # torch's rules: x gets the gradient where lo <= x <= hi (not at NaN); with both bounds, lo only where
        # x < lo < hi, and hi where x > hi or hi < lo
        x, lo, hi = ctx.saved_tensors
        zero = _t(0, g)
        gx = where(logical_and(ge(x, lo), le(x, hi)), g, zero)
        below, above = lt(x, lo), gt(x, hi)
        if ctx.has_lo and ctx.has_hi:
            below, above = logical_and(below, lt(lo, hi)), logical_or(above, lt(hi, lo))
        glo = where(below, g, zero) if ctx.has_lo else None
        ghi = where(above, g, zero) if ctx.has_hi else None
        return gx, glo, ghi


def clamp(x, min=None, max=None):  # noqa: A002 - torch's argument names
    """Limit values to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from ._util import pair

        if min is not None:
            x, min = pair(x, min, "clamp")
        if max is not None:
            x, max = pair(x, max, "clamp")
        lo, hi = _bound(x, min, -1), _bound(x, max, 1)
        return ClampTensor.apply(x, lo, hi, has_lo=min is not None, has_hi=max is not None)
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = cast(x, get_default_dtype())
    from ._util import scalar_array

    lo = None if min is None else scalar_array(min, x._data.dtype)
    hi = None if max is None else scalar_array(max, x._data.dtype)
    return Clamp.apply(x, lo=lo, hi=hi)


def _bound(x, b, sign):
    """A clamp bound as a tensor of x's dtype; a missing bound is -inf/+inf (or the integer extreme)."""
    if b is not None:
        return cast(b, _dtype_of(x))
    dt = x._data.dtype
    if dt.kind == "f":
        return _make(np.array(sign * np.inf, dtype=dt))
    if dt.kind == "b":
        return _make(np.array(sign > 0))
    info = np.iinfo(dt)
    return _make(np.array(info.max if sign > 0 else info.min, dtype=dt))


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
    """A copy in a memory format (``ember._memory_format``)."""

    def forward(ctx, x, memory_format, op="clone"):
        return lay_out(x, memory_format, op)

    def backward(ctx, g):
        return g


def clone(x, memory_format=preserve_format):
    """A copy; by default in ``x``'s own memory layout, as torch's ``preserve_format``."""
    return Clone.apply(x, memory_format=memory_format)


def contiguous(x, memory_format=contiguous_format):
    """``x`` if it is contiguous in ``memory_format``, else a copy that is."""
    if is_laid_out(x._data, memory_format, "contiguous"):
        return x
    return Clone.apply(x, memory_format=memory_format, op="contiguous")


from .unary import *  # noqa: E402,F401,F403  (unary maths live there; this module re-exports them)
from .unary import abs, round  # noqa: E402,F401,A004
