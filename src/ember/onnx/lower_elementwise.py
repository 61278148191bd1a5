"""Lowerings of elementwise ops: arithmetic (ONNX broadcasts as NumPy does), unary maths, activations,
comparisons, where, casts, clamps, and the in-place kernels (``relu_``, ``+=``...) that forward may run."""
import math

import numpy as np

from ..jit.ir import Value
from ..ops import activation as act
from ..ops import elementwise as ew
from ..ops import unary as un
from ..ops.gather import MaskedFill
from .registry import register, register_kernel


def _out_dtype(node):
    return node.outputs[0].dtype


def _inputs_as(g, node, dtype=None):
    dtype = _out_dtype(node) if dtype is None else dtype
    return [g.input_as(v, dtype) for v in node.inputs]


# ---- binary arithmetic ----------------------------------------------------------------------------------------
_BINARY = {ew.Add: "Add", ew.Sub: "Sub", ew.Mul: "Mul", ew.Div: "Div", ew.Maximum: "Max", ew.Minimum: "Min"}


@register(*_BINARY)
def binary(g, node):
    return g.op(_BINARY[node.op], *_inputs_as(g, node))


@register(ew.Pow)
def pow_(g, node):
    a, b = node.inputs
    return g.op("Pow", g.input_as(a, _out_dtype(node)), g.name(b))


@register(ew.PowScalar)
def pow_scalar(g, node):
    x = g.name(node.inputs[0])
    e = node.params["exponent"]
    if e == 2:
        return g.op("Mul", x, x)
    return g.op("Pow", x, g.const(e, node.inputs[0].dtype))


@register(ew.Fmod)
def fmod(g, node):
    return g.op("Mod", *_inputs_as(g, node), fmod=1)


@register(ew.Remainder)
def remainder(g, node):  # a - floor(a / b) * b: the sign of the divisor, as torch
    a, b = _inputs_as(g, node)
    if node.outputs[0].dtype.kind in "iu":
        return g.op("Mod", a, b, fmod=0)
    return g.op("Sub", a, g.op("Mul", g.op("Floor", g.op("Div", a, b)), b))


@register(ew.FloorDivide)
def floor_divide(g, node):
    a, b = _inputs_as(g, node)
    if node.outputs[0].dtype.kind in "iu":
        g.unsupported("integer floor division (ONNX Div truncates)")
    return g.op("Floor", g.op("Div", a, b))


# ---- unary maths ------------------------------------------------------------------------------------------------
_UNARY = {un.Neg: "Neg", un.Abs: "Abs", un.Sign: "Sign", un.Exp: "Exp", un.Log: "Log", un.Sqrt: "Sqrt",
          un.Reciprocal: "Reciprocal", un.Sin: "Sin", un.Cos: "Cos", un.Tan: "Tan", un.Asin: "Asin",
          un.Acos: "Acos", un.Atan: "Atan", un.Sinh: "Sinh", un.Cosh: "Cosh", un.Tanh: "Tanh",
          un.Sigmoid: "Sigmoid", un.Erf: "Erf", act.Relu: "Relu", ew.Clone: "Identity"}


@register(*_UNARY)
def unary(g, node):
    return g.op(_UNARY[node.op], g.name(node.inputs[0]))


@register(un.Rsqrt)
def rsqrt(g, node):
    return g.op("Reciprocal", g.op("Sqrt", g.name(node.inputs[0])))


def _scalar(g, node, value):
    return g.const(value, node.inputs[0].dtype)


@register(un.Log1p)
def log1p(g, node):
    return g.op("Log", g.op("Add", g.name(node.inputs[0]), _scalar(g, node, 1)))


@register(un.Expm1)
def expm1(g, node):
    return g.op("Sub", g.op("Exp", g.name(node.inputs[0])), _scalar(g, node, 1))


@register(un.Log2, un.Log10)
def log_base(g, node):
    base = 2.0 if node.op is un.Log2 else 10.0
    return g.op("Div", g.op("Log", g.name(node.inputs[0])), _scalar(g, node, math.log(base)))


@register(un.Exp2)
def exp2(g, node):
    return g.op("Pow", _scalar(g, node, 2), g.name(node.inputs[0]))


_ROUNDING = {"floor": "Floor", "ceil": "Ceil", "round": "Round", "rint": "Round"}


@register(un._Rounding)
def rounding(g, node):
    fn = getattr(node.params["fn"], "__name__", "")
    if fn not in _ROUNDING:
        g.unsupported(f"rounding function {fn}")
    return g.op(_ROUNDING[fn], g.name(node.inputs[0]))


# ---- activations -------------------------------------------------------------------------------------------------
@register(act.LeakyRelu)
def leaky_relu(g, node):
    return g.op("LeakyRelu", g.name(node.inputs[0]), alpha=float(node.params["slope"]))


@register(act.Elu)
def elu(g, node):  # scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1))
    p = node.params
    x = g.name(node.inputs[0])
    alpha, scale, input_scale = float(p["alpha"]), float(p["scale"]), float(p["input_scale"])
    if input_scale != 1:
        negative = g.op("Elu", g.op("Mul", x, _scalar(g, node, input_scale)), alpha=alpha)
        y = g.op("Where", g.op("Greater", x, _scalar(g, node, 0)), x, negative)
    elif scale != 1:
        return g.op("Selu", x, alpha=alpha, gamma=scale)
    else:
        return g.op("Elu", x, alpha=alpha)
    return y if scale == 1 else g.op("Mul", y, _scalar(g, node, scale))


@register(act.Gelu)
def gelu(g, node):
    x = g.name(node.inputs[0])
    tanh = node.params["approximate"] == "tanh"
    if g.opset >= 20:
        return g.op("Gelu", x, approximate="tanh" if tanh else "none")
    if tanh:  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Add", x, g.op("Mul", cube, _scalar(g, node, 0.044715)))
        t = g.op("Tanh", g.op("Mul", inner, _scalar(g, node, math.sqrt(2 / math.pi))))
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        t = g.op("Erf", g.op("Mul", x, _scalar(g, node, 1 / math.sqrt(2))))
    return g.op("Mul", g.op("Mul", x, _scalar(g, node, 0.5)), g.op("Add", t, _scalar(g, node, 1)))


@register(act.Silu)
def silu(g, node):
    x = g.name(node.inputs[0])
    return g.op("Mul", x, g.op("Sigmoid", x))


@register(act.Softplus)
def softplus(g, node):  # x where beta x > threshold, else log(1 + exp(beta x)) / beta
    x = g.name(node.inputs[0])
    beta, threshold = float(node.params["beta"]), float(node.params["threshold"])
    bx = x if beta == 1 else g.op("Mul", x, _scalar(g, node, beta))
    soft = g.op("Softplus", bx)
    if beta != 1:
        soft = g.op("Div", soft, _scalar(g, node, beta))
    return g.op("Where", g.op("Greater", bx, _scalar(g, node, threshold)), x, soft)


@register(act.Hardtanh)
def hardtanh(g, node):
    return g.op("Clip", g.name(node.inputs[0]), _scalar(g, node, node.params["lo"]),
                _scalar(g, node, node.params["hi"]))


@register(act.Hardsigmoid)
def hardsigmoid(g, node):
    return g.op("HardSigmoid", g.name(node.inputs[0]), alpha=1 / 6, beta=0.5)


@register(act.Hardswish)
def hardswish(g, node):
    return g.op("HardSwish", g.name(node.inputs[0]))


@register(act.LogSigmoid)
def logsigmoid(g, node):
    return g.op("Neg", g.op("Softplus", g.op("Neg", g.name(node.inputs[0]))))


# ---- comparisons, logic, selection, casts -------------------------------------------------------------------------
_COMPARE = {"equal": "Equal", "greater": "Greater", "less": "Less", "greater_equal": "GreaterOrEqual",
            "less_equal": "LessOrEqual", "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


@register(ew.Compare)
def compare(g, node):
    fn = getattr(node.params["fn"], "__name__", "")
    a, b = node.inputs
    if fn.startswith("logical_"):
        dtype = np.dtype(bool)
    else:
        dtype = np.result_type(a.dtype, b.dtype)
    x, y = g.input_as(a, dtype), g.input_as(b, dtype)
    if fn == "not_equal":
        return g.op("Not", g.op("Equal", x, y))
    if fn not in _COMPARE:
        g.unsupported(f"comparison {fn}")
    return g.op(_COMPARE[fn], x, y)


@register(ew.Unary)
def unary_logic(g, node):
    fn = getattr(node.params["fn"], "__name__", "")
    x = g.name(node.inputs[0])
    if fn == "isnan":
        return g.op("IsNaN", x)
    if fn == "isinf":
        return g.op("IsInf", x)
    if fn == "isfinite":
        return g.op("Not", g.op("Or", g.op("IsNaN", x), g.op("IsInf", x)))
    if fn == "logical_not":
        return g.op("Not", g.input_as(node.inputs[0], bool))
    g.unsupported(f"function {fn}")


@register(ew.Where, MaskedFill)
def where(g, node):
    cond, a, b = node.inputs
    dtype = _out_dtype(node)
    return g.op("Where", g.input_as(cond, bool), g.input_as(a, dtype), g.input_as(b, dtype))


@register(ew.Cast)
def cast(g, node):
    x = node.inputs[0]
    out = g.input_as(x, _out_dtype(node))
    return out if out != g.name(x) else g.op("Identity", out)


@register(ew.Clamp)
def clamp(g, node):
    dtype = node.inputs[0].dtype
    lo, hi = node.params["lo"], node.params["hi"]
    bounds = ["" if b is None else g.const(np.asarray(b).astype(dtype)) for b in (lo, hi)]
    return g.op("Clip", g.name(node.inputs[0]), *bounds)


@register(ew.ClampTensor)
def clamp_tensor(g, node):
    x, lo, hi = node.inputs
    dtype = _out_dtype(node)
    y = g.input_as(x, dtype)
    if node.params.get("has_lo", True):
        y = g.op("Max", y, g.input_as(lo, dtype))
    if node.params.get("has_hi", True):
        y = g.op("Min", y, g.input_as(hi, dtype))
    return y


# ---- in-place kernels (ember._kernels): the result is the target's new value ---------------------------------------
def _kernel_arg(g, arg, dtype):
    if isinstance(arg, Value):
        return g.input_as(arg, dtype)
    return g.const(np.asarray(arg).astype(dtype))


def _same_shape(g, name, node):
    """A kernel writes into its target, so the result keeps the target's shape (broadcast operands)."""
    target = node.inputs[0]
    return g.op("Expand", name, g.op("Shape", g.name(target)))


_KERNEL_BINARY = {"iadd": "Add", "isub": "Sub", "imul": "Mul", "idiv": "Div", "imaximum": "Max"}


@register_kernel(*_KERNEL_BINARY)
def kernel_binary(g, node):
    target = node.inputs[0]
    (arg,) = node.params["args"]
    kind = _KERNEL_BINARY[node.op.__name__]
    if target.dtype.kind in "iu" and kind == "Div":
        g.unsupported("in-place division of an integer tensor")
    return g.op(kind, g.name(target), _kernel_arg(g, arg, target.dtype))


@register_kernel("copy")
def kernel_copy(g, node):
    target = node.inputs[0]
    (src,) = node.params["args"]
    out = _kernel_arg(g, src, target.dtype)
    if tuple(getattr(src, "shape", ())) != target.shape:
        return _same_shape(g, out, node)
    return out if out != g.name(src) else g.op("Identity", out)


@register_kernel("fill")
def kernel_fill(g, node):
    target = node.inputs[0]
    (value,) = node.params["args"]
    return _same_shape(g, _kernel_arg(g, value, target.dtype), node)


@register_kernel("clip")
def kernel_clip(g, node):
    target = node.inputs[0]
    lo, hi = node.params["args"]
    bounds = ["" if b is None else _kernel_arg(g, b, target.dtype) for b in (lo, hi)]
    return g.op("Clip", g.name(target), *bounds)


@register_kernel("isqrt")
def kernel_sqrt(g, node):
    return g.op("Sqrt", g.name(node.inputs[0]))
