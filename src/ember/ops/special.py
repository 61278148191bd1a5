"""Special functions (lgamma, digamma, polygamma, i0, sinc, logit) and further elementwise maths (hypot,
logaddexp, copysign, xlogy, addcmul, nan_to_num, gcd ...), each with its gradient where torch has one.

The special functions NumPy lacks are computed by ``_special_kernels`` in float64 and cast back, so float32 in
gives float32 out. ``ember.special`` (this module) also answers for ``torch.special``'s names of these
functions (``gammaln``, ``psi``, ``i1``, ``expit``).
"""
import math

import numpy as np

from .._dtype import from_numpy_dtype
from ..autograd.function import Op
from .._tensor import Tensor, _make
from . import _special_kernels as _kern
from ._util import as_float, pair, scalar_array
from .elementwise import (_t, _type_name, add, broadcast_shape_error, cast, clone, cos, div, eq, exp, exp2,
                          isfinite, le, logical_and, logical_or, lt, gt, mul, neg, sigmoid, sin, sub, where)
from .inplace import apply_inplace

__all__ = ["nan_to_num", "nan_to_num_", "addcmul", "addcdiv", "hypot", "logaddexp", "logaddexp2", "copysign",
           "xlogy", "logit", "heaviside", "sinc", "lgamma", "digamma", "polygamma", "i0", "gcd", "lcm"]


# ---- argument helpers -------------------------------------------------------------------------------------
def _tensor_arg(x, op, name="input", position=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__}")


def _two_tensors(a, b, op, other="other"):
    _tensor_arg(a, op)
    _tensor_arg(b, op, other, 2)
    return pair(a, b, op)


def _float_only(x, op):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'{_type_name(x)}\'')


def _dtype(t):
    return from_numpy_dtype(t._data.dtype)


def _binary(cls, a, b, **params):
    """``cls.apply(a, b)`` with torch's message for shapes that do not broadcast."""
    try:
        return cls.apply(a, b, **params)
    except ValueError:
        err = broadcast_shape_error(a._data.shape, b._data.shape)
        if err is None:
            raise
        raise err from None


def _pair_as_float(a, b, op):
    """(a, b) promoted together, then integers to the default float dtype; a number next to an integer tensor
    keeps its value (torch computes these ops in floating point: copysign(uint8 tensor, -1) is negative)."""
    if not isinstance(a, Tensor):
        b = as_float(b)
    elif not isinstance(b, Tensor):
        a = as_float(a)
    a, b = pair(a, b, op)
    return as_float(a), as_float(b)


def _via_float64(fn, x, *args):
    """``fn`` of x computed in float64, cast back to x's dtype (values beyond its range become inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(fn(np.asarray(x, dtype=np.float64), *args)).astype(x.dtype, copy=False)


# ---- nan_to_num ---------------------------------------------------------------------------------------------
class NanToNum(Op):
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    def backward(ctx, g):  # torch: grad * isfinite(x)
        (x,) = ctx.saved_tensors
        return mul(g, cast(isfinite(x), _dtype(g)))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002 - torch's argument names
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default the dtype's largest and
    smallest finite values); integer and bool tensors come back unchanged (as a copy)."""
    _tensor_arg(input, "nan_to_num")
    dt = input._data.dtype
    if dt.kind != "f":
        return clone(input)
    info = np.finfo(dt)
    return NanToNum.apply(input, nan=scalar_array(nan, dt)[()],
                          posinf=scalar_array(info.max if posinf is None else posinf, dt)[()],
                          neginf=scalar_array(info.min if neginf is None else neginf, dt)[()])


def nan_to_num_(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    return apply_inplace(input, nan_to_num, nan, posinf, neginf, name="nan_to_num_")


# ---- addcmul / addcdiv --------------------------------------------------------------------------------------
class Addcmul(Op):
    def forward(ctx, x, t1, t2, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_grad(2) else None, t2 if ctx.needs_grad(1) else None)
        return x + value * t1 * t2  # torch's order: (value * t1) * t2

    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        g1 = mul(g, mul(t2, _t(v, t2))) if t2 is not None else None
        g2 = mul(g, mul(t1, _t(v, t1))) if t1 is not None else None
        return g, g1, g2


class Addcdiv(Op):
    def forward(ctx, x, t1, t2, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_grad(2) else None, t2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return x + value * t1 / t2

    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        g1 = mul(g, div(_t(v, t2), t2)) if ctx.needs_grad(1) else None
        g2 = div(mul(mul(neg(g), _t(v, g)), t1), mul(t2, t2)) if t1 is not None else None
        return g, g1, g2


def _promote3(a, b, c, op):
    b, c = pair(b, c, op)
    a, b = pair(a, b, op)
    if c._data.dtype != b._data.dtype:
        c = cast(c, _dtype(b))
    return a, b, c


_C_TYPE = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
           "float32": "float"}


def _value_scalar(value, np_dtype, op):
    """``value`` in the result's dtype, converted as torch converts the scalar: integer results truncate it, and
    a value out of the dtype's range is an error (float16 alone overflows to inf)."""
    if np_dtype.kind == "b":
        raise NotImplementedError(f'"{op}_cpu_out" not implemented for \'Bool\'')
    if np_dtype.kind in "iu":
        v = int(value)
        if v.bit_length() > 64:
            raise OverflowError("int too big to convert")
        info = np.iinfo(np_dtype)
        if not info.min <= v <= info.max:
            raise RuntimeError(f"value cannot be converted to type {_C_TYPE[np_dtype.name]} without overflow")
        return np_dtype.type(v)
    if np_dtype == np.float32 and math.isfinite(value) and abs(value) > float(np.finfo(np.float32).max):
        raise RuntimeError("value cannot be converted to type float without overflow")
    return scalar_array(value, np_dtype)[()]


def _ternary(cls, op, input, tensor1, tensor2, value):  # noqa: A002
    for pos, (name, t) in enumerate((("input", input), ("tensor1", tensor1), ("tensor2", tensor2)), start=1):
        _tensor_arg(t, op, name, pos)
    x, t1, t2 = _promote3(input, tensor1, tensor2, op)
    v = _value_scalar(value, x._data.dtype, op)
    try:
        return cls.apply(x, t1, t2, value=v)
    except ValueError:
        s = [t._data.shape for t in (x, t1, t2)]
        err = broadcast_shape_error(s[1], s[2])
        if err is None:
            err = broadcast_shape_error(s[0], np.broadcast_shapes(s[1], s[2]))
        if err is None:
            raise
        raise err from None


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 * tensor2."""
    return _ternary(Addcmul, "addcmul", input, tensor1, tensor2, value)


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 / tensor2 (a true division; integer tensor1 and tensor2 are refused, as torch)."""
    if (isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor) and tensor1._data.dtype.kind in "biu"
            and tensor2._data.dtype.kind in "biu"):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
                           "tensor2), for all dtypes.")
    return _ternary(Addcdiv, "addcdiv", input, tensor1, tensor2, value)


# ---- binary maths -------------------------------------------------------------------------------------------
class Hypot(Op):
    def forward(ctx, a, b):
        y = np.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    def backward(ctx, g):  # torch: grad * a / result (NaN at the origin)
        a, b, y = ctx.saved_tensors
        ga = div(mul(g, a), y) if ctx.needs_grad(0) else None
        gb = div(mul(g, b), y) if ctx.needs_grad(1) else None
        return ga, gb


class LogAddExp(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.logaddexp(a, b)

    def backward(ctx, g):  # grad / (1 + exp(b - a)) and grad / (1 + exp(a - b))
        a, b = ctx.saved_tensors
        ga = div(g, add(exp(sub(b, a)), _t(1, a))) if ctx.needs_grad(0) else None
        gb = div(g, add(exp(sub(a, b)), _t(1, b))) if ctx.needs_grad(1) else None
        return ga, gb


class LogAddExp2(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.logaddexp2(a, b)

    def backward(ctx, g):  # grad / (1 + 2^(b - a)) and grad / (1 + 2^(a - b))
        a, b = ctx.saved_tensors
        ga = div(g, add(exp2(sub(b, a)), _t(1, a))) if ctx.needs_grad(0) else None
        gb = div(g, add(exp2(sub(a, b)), _t(1, b))) if ctx.needs_grad(1) else None
        return ga, gb


def _float_binary(cls, op):
    def fn(input, other):  # noqa: A002
        a, b = _two_tensors(input, other, op)
        _float_only(a, op)
        return _binary(cls, a, b)

    fn.__name__ = op
    return fn


hypot = _float_binary(Hypot, "hypot")
logaddexp = _float_binary(LogAddExp, "logaddexp")
logaddexp2 = _float_binary(LogAddExp2, "logaddexp2")


class Copysign(Op):
    def forward(ctx, a, b):
        y = np.copysign(a, b)
        ctx.b_shape = b.shape
        ctx.save_for_backward(a, y)
        return y

    def backward(ctx, g):  # torch: grad * (result / a), 0 where a == 0; zeros for the sign tensor
        a, y = ctx.saved_tensors
        ga = None
        if ctx.needs_grad(0):
            zero = eq(a, _t(0, a))
            ga = mul(g, where(zero, _t(0, y), div(y, where(zero, _t(1, a), a))))
        gb = _make(np.zeros(ctx.b_shape, dtype=g._data.dtype)) if ctx.needs_grad(1) else None
        return ga, gb


def copysign(input, other):  # noqa: A002
    """|input| with the sign of ``other`` (a tensor or a number); integers become the default float dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    a, b = _pair_as_float(input, other, "copysign")
    return _binary(Copysign, a, b)


class XLogY(Op):
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), x.dtype.type(0), out)

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_grad(0):  # torch: xlogy(grad, y), 0 where x == 0 and y <= 0
            gx = where(logical_and(eq(x, _t(0, x)), le(y, _t(0, y))), _t(0, g), xlogy(g, y))
        if ctx.needs_grad(1):  # grad * x / y
            gy = div(mul(g, x), y)
        return gx, gy


def xlogy(input, other):  # noqa: A002
    """input * log(other), 0 where input is 0 (unless other is NaN); either may be a number."""
    a, b = _pair_as_float(input, other, "xlogy")
    return _binary(XLogY, a, b)


class Heaviside(Op):
    def forward(ctx, x, values):
        return np.where(x == 0, values, x > 0).astype(x.dtype, copy=False)

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input, values):  # noqa: A002
    """0 where input < 0, 1 where input > 0, ``values`` where input == 0 (NaN gives 0, as torch)."""
    _tensor_arg(input, "heaviside")
    _tensor_arg(values, "heaviside", "values", 2)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return _binary(Heaviside, input, values)


class _IntBinary(Op):
    differentiable = False

    def forward(ctx, a, b, fn):
        return fn(a, b)


def _int_binary(np_fn, op):
    def fn(input, other):  # noqa: A002
        a, b = _two_tensors(input, other, op)
        if a._data.dtype.kind not in "iu":
            raise NotImplementedError(f'"{op}_cpu" not implemented for \'{_type_name(a)}\'')
        return _binary(_IntBinary, a, b, fn=np_fn)

    fn.__name__ = op
    return fn


gcd = _int_binary(np.gcd, "gcd")
lcm = _int_binary(np.lcm, "lcm")


# ---- unary special functions ------------------------------------------------------------------------------------
class Logit(Op):
    def forward(ctx, x, eps):
        ctx.eps = eps
        ctx.save_for_backward(x)
        one = x.dtype.type(1)
        if eps is not None:
            lo, hi = eps, one - eps
            x = np.where(x < lo, lo, np.where(x > hi, hi, x))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x / (one - x))

    def backward(ctx, g):
        # torch: g / (x (1 - x)) inside the domain; outside it NaN (no eps) or 0 (x clamped to [eps, 1 - eps])
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        lo, hi = (0, 1) if eps is None else (eps, 1 - eps)
        outside = logical_or(lt(x, _t(lo, x)), gt(x, _t(hi, x)))
        inner = div(g, mul(x, sub(_t(1, x), x)))
        return where(outside, _t(math.nan if eps is None else 0, g), inner)


def logit(input, eps=None):  # noqa: A002
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given (a negative eps means none)."""
    _tensor_arg(input, "logit")
    x = as_float(input)
    e = None if eps is None or eps < 0 else scalar_array(eps, x._data.dtype)[()]
    return Logit.apply(x, eps=e)


class Sinc(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        p = x.dtype.type(math.pi) * x
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.sin(p) / p
        return np.where(x == 0, x.dtype.type(1), y)

    def backward(ctx, g):  # (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at x == 0
        (x,) = ctx.saved_tensors
        px = mul(x, _t(math.pi, x))
        denom = mul(mul(x, x), _t(math.pi, x))
        zero = eq(denom, _t(0, denom))
        d = div(mul(g, sub(mul(px, cos(px)), sin(px))), where(zero, _t(1, denom), denom))
        return where(zero, _t(0, g), d)


class Lgamma(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _via_float64(_kern.lgamma, x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, digamma(x))


class Digamma(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _via_float64(_kern.digamma, x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, polygamma(1, x))


class Polygamma(Op):
    def forward(ctx, x, n):
        ctx.n = n
        ctx.save_for_backward(x)
        return _via_float64(lambda a: _kern.polygamma(n, a), x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, polygamma(ctx.n + 1, x))


class I0(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _via_float64(np.i0, x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return mul(g, i1(x))


class I1(Op):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _via_float64(_kern.i1, x)

    def backward(ctx, g):  # i1'(x) = i0(x) - i1(x) / x, 1/2 at 0
        (x,) = ctx.saved_tensors
        zero = eq(x, _t(0, x))
        d = sub(i0(x), div(i1(x), where(zero, _t(1, x), x)))
        return mul(g, where(zero, _t(0.5, x), d))


def _float_unary(cls, op):
    def fn(input):  # noqa: A002
        _tensor_arg(input, op)
        return cls.apply(as_float(input))

    fn.__name__ = op
    return fn


sinc = _float_unary(Sinc, "sinc")
lgamma = _float_unary(Lgamma, "lgamma")
digamma = _float_unary(Digamma, "digamma")
i0 = _float_unary(I0, "i0")
i1 = _float_unary(I1, "i1")


def polygamma(n, input):  # noqa: A002
    """The n-th derivative of digamma (n = 0 is digamma itself)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    _tensor_arg(input, "polygamma", "input", 2)
    if n == 0:
        return digamma(input)
    return Polygamma.apply(as_float(input), n=int(n))


# torch.special's names (ember.special is this module)
gammaln = lgamma
psi = digamma
expit = sigmoid
