"""Elementwise ops and activations against torch: one table line per op case (forward + gradient in float32
and float64, numerical gradcheck in float64), broadcasting properties, integer inputs and error paths."""
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from oracle import check_op, gradcheck

# The same lambda runs on both libraries: ``m.t`` is the top-level module, ``m.F`` the functional namespace.
EM = types.SimpleNamespace(t=ember, F=ember.ops, name="ember")
TH = types.SimpleNamespace(t=torch, F=torch_F, name="torch")
DTYPES = [np.float32, np.float64]


def uniform(*shapes, low=-2.0, high=2.0):
    return lambda rng, dt: [np.asarray(rng.uniform(low, high, s)).astype(dt) for s in shapes]


def away_from_zero(*shapes, low=0.5, high=2.0):
    """Magnitudes in [low, high] with random signs (divisors, reciprocals)."""
    def make(rng, dt):
        return [np.asarray(rng.uniform(low, high, s) * rng.choice([-1.0, 1.0], s)).astype(dt) for s in shapes]
    return make


def ties(*shapes):
    """Small integers stored as floats, so equal values are frequent."""
    return lambda rng, dt: [np.asarray(rng.integers(-2, 3, s)).astype(dt) for s in shapes]


def with_mask(*shapes):
    """A boolean condition followed by float operands (for where)."""
    def make(rng, dt):
        return [rng.random(shapes[0]) > 0.5] + [rng.uniform(-2, 2, s).astype(dt) for s in shapes[1:]]
    return make


def fixed(*values):
    return lambda rng, dt: [np.array(v, dtype=dt) for v in values]


class Case:
    def __init__(self, id, fn, make=None, gradcheck=True, grad=True, rtol=None, atol=None):
        self.id, self.fn, self.make = id, fn, make or uniform((3, 4))
        self.gradcheck, self.grad, self.rtol, self.atol = gradcheck and grad, grad, rtol, atol


def unary(name, low=-2.0, high=2.0, **kw):
    return Case(name, lambda m, x: getattr(m.t, name)(x), uniform((3, 4), low=low, high=high), **kw)


def method(name, *args, low=-2.0, high=2.0, **kw):
    return Case(f"Tensor.{name}", lambda m, x: getattr(x, name)(*args), uniform((3, 4), low=low, high=high), **kw)


def act(id, fn, low=-3.0, high=3.0, **kw):
    return Case(id, fn, uniform((3, 4), low=low, high=high), **kw)


CASES = [
    unary("neg"), unary("abs"), unary("exp"), unary("exp2"), unary("expm1"),
    unary("log", 0.1, 3.0), unary("log2", 0.1, 3.0), unary("log10", 0.1, 3.0), unary("log1p", -0.9, 3.0),
    unary("sqrt", 0.1, 3.0), unary("rsqrt", 0.1, 3.0), unary("square"),
    Case("reciprocal", lambda m, x: m.t.reciprocal(x), away_from_zero((3, 4))),
    unary("sin"), unary("cos"), unary("tan", -1.2, 1.2),
    unary("asin", -0.95, 0.95), unary("acos", -0.95, 0.95), unary("atan", -5, 5),
    unary("sinh"), unary("cosh"), unary("tanh", -4, 4), unary("sigmoid", -8, 8), unary("erf"),
    unary("erfinv", -0.95, 0.95),
    unary("sign"), unary("sgn"), unary("floor", -3, 3), unary("ceil", -3, 3), unary("round", -3, 3),
    unary("trunc", -3, 3), unary("frac", -3, 3),
    Case("round_decimals", lambda m, x: m.t.round(x, decimals=1), uniform((3, 4), low=-3, high=3)),
    method("exp"), method("log", low=0.1, high=3.0), method("sigmoid"), method("tanh"), method("abs"),
    method("sqrt", low=0.1, high=3), method("reciprocal", low=0.5, high=2), method("frac"),
    # activations
    act("relu", lambda m, x: m.F.relu(x)),
    act("relu_method", lambda m, x: x.relu()),
    act("gelu", lambda m, x: m.F.gelu(x)),
    act("gelu_none", lambda m, x: m.F.gelu(x, approximate="none")),
    act("gelu_tanh", lambda m, x: m.F.gelu(x, approximate="tanh")),
    act("silu", lambda m, x: m.F.silu(x)),
    act("softplus", lambda m, x: m.F.softplus(x), low=-25, high=25),
    act("softplus_beta2", lambda m, x: m.F.softplus(x, beta=2.0)),
    act("softplus_beta2_threshold1", lambda m, x: m.F.softplus(x, beta=2, threshold=1)),
    act("softplus_beta0.5_threshold3", lambda m, x: m.F.softplus(x, beta=0.5, threshold=3.0), low=-10, high=10),
    act("elu", lambda m, x: m.F.elu(x)),
    act("elu_alpha0.5", lambda m, x: m.F.elu(x, alpha=0.5)),
    act("selu", lambda m, x: m.F.selu(x)),
    act("celu", lambda m, x: m.F.celu(x)),
    act("celu_alpha2", lambda m, x: m.F.celu(x, alpha=2.0)),
    act("leaky_relu", lambda m, x: m.F.leaky_relu(x)),
    act("leaky_relu_0.2", lambda m, x: m.F.leaky_relu(x, 0.2)),
    act("hardtanh", lambda m, x: m.F.hardtanh(x)),
    act("hardtanh_range", lambda m, x: m.F.hardtanh(x, -0.5, 1.5)),
    act("relu6", lambda m, x: m.F.relu6(x), low=-2, high=8),
    act("hardsigmoid", lambda m, x: m.F.hardsigmoid(x), low=-5, high=5),
    act("hardswish", lambda m, x: m.F.hardswish(x), low=-5, high=5),
    act("mish", lambda m, x: m.F.mish(x)),
    act("logsigmoid", lambda m, x: m.F.logsigmoid(x), low=-30, high=30),
    act("softsign", lambda m, x: m.F.softsign(x)),
    act("tanhshrink", lambda m, x: m.F.tanhshrink(x)),
    act("hardshrink", lambda m, x: m.F.hardshrink(x, 0.7)),
    act("softshrink", lambda m, x: m.F.softshrink(x, 0.7)),
    act("threshold", lambda m, x: m.F.threshold(x, 0.3, -2.0)),
    act("sigmoid_saturated", lambda m, x: m.t.sigmoid(x), low=-40, high=40),
    # clamp
    act("clamp", lambda m, x: m.t.clamp(x, -0.5, 0.5)),
    act("clamp_min_only", lambda m, x: m.t.clamp(x, min=-0.5)),
    act("clamp_max_only", lambda m, x: m.t.clamp(x, max=0.5)),
    act("clamp_min_above_max", lambda m, x: m.t.clamp(x, min=1.0, max=-1.0)),
    act("clip", lambda m, x: m.t.clip(x, -1, 1)),
    act("clamp_min", lambda m, x: x.clamp_min(0.25)),
    act("clamp_max", lambda m, x: x.clamp_max(0.25)),
    Case("clamp_tensors", lambda m, x, lo, hi: m.t.clamp(x, lo, hi), uniform((3, 4), (3, 4), (4,))),
    Case("clamp_tensor_min", lambda m, x, lo: m.t.clamp(x, min=lo), uniform((3, 4), (3, 1))),
    Case("clamp_tensor_max", lambda m, x, hi: m.t.clamp(x, max=hi), uniform((3, 4), (4,))),
    # pow
    act("pow_2", lambda m, x: x ** 2),
    act("pow_3", lambda m, x: m.t.pow(x, 3)),
    act("pow_0", lambda m, x: m.t.pow(x, 0)),
    act("pow_neg2", lambda m, x: m.t.pow(x, -2), low=0.5, high=2),
    act("pow_half", lambda m, x: x ** 0.5, low=0.1, high=3),
    act("pow_neg1.5", lambda m, x: x.pow(-1.5), low=0.1, high=3),
    act("scalar_pow_tensor", lambda m, x: 2 ** x),
    act("float_scalar_pow_tensor", lambda m, x: m.t.pow(2.5, x)),
    Case("pow_tensor_tensor", lambda m, a, b: m.t.pow(a, b), uniform((3, 4), (3, 4), low=0.2, high=2)),
    Case("pow_tensor_tensor_broadcast", lambda m, a, b: a ** b, uniform((3, 4), (4,), low=0.2, high=2)),
    # binary arithmetic
    Case("add", lambda m, a, b: m.t.add(a, b), uniform((3, 4), (3, 4))),
    Case("add_alpha", lambda m, a, b: m.t.add(a, b, alpha=2.5), uniform((3, 4), (4,))),
    Case("add_scalar_alpha", lambda m, a: m.t.add(a, 2, alpha=3)),
    Case("add_method_alpha", lambda m, a, b: a.add(b, alpha=-1), uniform((3, 4), (3, 1))),
    Case("sub", lambda m, a, b: m.t.sub(a, b), uniform((3, 4), (3, 4))),
    Case("sub_alpha", lambda m, a, b: m.t.sub(a, b, alpha=0.5), uniform((3, 4), (1, 4))),
    Case("rsub_scalar", lambda m, a: 3 - a),
    Case("mul", lambda m, a, b: m.t.mul(a, b), uniform((3, 4), (3, 4))),
    Case("mul_broadcast", lambda m, a, b: a * b, uniform((3, 1), (1, 4))),
    Case("mul_0dim", lambda m, a, b: a * b, uniform((3, 4), ())),
    Case("div", lambda m, a, b: m.t.div(a, b), away_from_zero((3, 4), (3, 4))),
    Case("rdiv_scalar", lambda m, a: 1.5 / a, away_from_zero((3, 4))),
    Case("div_floor", lambda m, a, b: m.t.div(a, b, rounding_mode="floor"), away_from_zero((3, 4), (3, 4))),
    Case("div_trunc", lambda m, a, b: m.t.div(a, b, rounding_mode="trunc"), away_from_zero((3, 4), (3, 4))),
    # torch has no derivative for floor_divide (ember's is zero): compare values only
    Case("floor_divide", lambda m, a, b: m.t.floor_divide(a, b), away_from_zero((3, 4), (4,)), grad=False),
    Case("floordiv_operator", lambda m, a: a // 0.3, uniform((3, 4)), grad=False),
    Case("floor_divide_inexact", lambda m, a: m.t.floor_divide(a, 0.1), fixed([1.0, -1.0, 0.3, 0.7]), grad=False),
    Case("div_floor_inexact", lambda m, a: m.t.div(a, 0.1, rounding_mode="floor"), fixed([1.0, -1.0, 0.3, 0.7]),
         gradcheck=False),
    Case("remainder", lambda m, a, b: m.t.remainder(a, b), away_from_zero((3, 4), (3, 4), low=0.3)),
    Case("remainder_scalar", lambda m, a: a % 0.7),
    Case("fmod", lambda m, a, b: m.t.fmod(a, b), away_from_zero((3, 4), (3, 4), low=0.3)),
    Case("atan2", lambda m, a, b: m.t.atan2(a, b), away_from_zero((3, 4), (3, 4), low=0.1)),
    Case("maximum", lambda m, a, b: m.t.maximum(a, b), uniform((3, 4), (3, 4))),
    Case("minimum", lambda m, a, b: m.t.minimum(a, b), uniform((3, 4), (4,))),
    Case("maximum_ties", lambda m, a, b: m.t.maximum(a, b), ties((4, 5), (4, 5)), gradcheck=False),
    Case("minimum_ties", lambda m, a, b: m.t.minimum(a, b), ties((4, 5), (5,)), gradcheck=False),
    Case("max_binary", lambda m, a, b: m.t.max(a, b), uniform((3, 4), (3, 4))),
    Case("where", lambda m, c, a, b: m.t.where(c, a, b), with_mask((3, 4), (3, 4), (3, 4))),
    Case("where_broadcast", lambda m, c, a, b: m.t.where(c, a, b), with_mask((3, 4), (4,), (3, 1))),
    Case("where_scalar_other", lambda m, c, a: m.t.where(c, a, 0.5), with_mask((3, 4), (3, 4))),
    Case("where_method", lambda m, c, a, b: a.where(c, b), with_mask((3, 4), (3, 4), (3, 4))),
    Case("lerp", lambda m, a, b: m.t.lerp(a, b, 0.3), uniform((3, 4), (3, 4))),
    # comparisons and logic (no gradient; outputs are bool)
    *[Case(f"{name}_ties", (lambda n: lambda m, a, b: getattr(m.t, n)(a, b))(name), ties((4, 5), (4, 5)))
      for name in ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"]],
    Case("lt_scalar", lambda m, a: a < 0.5),
    Case("ge_broadcast", lambda m, a, b: a >= b, ties((4, 5), (5,))),
    Case("eq_operator", lambda m, a, b: a == b, ties((4, 5), (1, 5))),
    Case("logical_not", lambda m, a: m.t.logical_not(a), ties((4, 5))),
    Case("isclose", lambda m, a, b: m.t.isclose(a, b), ties((4, 5), (4, 5))),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_torch(case, dtype):
    arrays = case.make(np.random.default_rng(0), dtype)
    check_op(lambda *xs: case.fn(EM, *xs), lambda *xs: case.fn(TH, *xs), *arrays, grad=case.grad, rtol=case.rtol,
             atol=case.atol)


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda c: c.id)
def test_gradcheck(case):
    arrays = case.make(np.random.default_rng(1), np.float64)
    assert gradcheck(lambda *xs: case.fn(EM, *xs), *arrays)


SECOND_ORDER = ["exp", "log", "tanh", "sigmoid", "sin", "sqrt", "gelu_tanh", "gelu", "silu", "softplus_beta2",
                "elu", "mish", "pow_3", "pow_tensor_tensor", "div", "atan2", "mul_broadcast", "erf", "logsigmoid",
                "hardswish", "hardsigmoid", "clamp_tensors", "maximum", "erfinv", "rsqrt", "softsign"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SECOND_ORDER], ids=lambda c: c.id)
def test_gradgradcheck(case):
    arrays = case.make(np.random.default_rng(2), np.float64)
    inputs = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert ember.autograd.gradgradcheck(lambda *xs: case.fn(EM, *xs), tuple(inputs))


def test_tables_cover_every_op_of_the_brief():
    ids = {c.id for c in CASES}
    wanted = ["neg", "abs", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos",
              "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu", "gelu_none", "gelu_tanh",
              "silu", "softplus_beta2_threshold1", "elu", "selu", "celu", "leaky_relu", "hardtanh", "relu6",
              "hardsigmoid", "hardswish", "mish", "logsigmoid", "softsign", "sign", "floor", "ceil", "round", "trunc",
              "frac", "clamp", "clamp_tensors", "clamp_min_only", "clamp_max_only", "pow_3", "pow_tensor_tensor",
              "scalar_pow_tensor", "reciprocal", "erf", "erfinv", "where", "maximum_ties", "minimum_ties", "atan2",
              "remainder", "fmod", "floor_divide", "div_floor", "div_trunc", "add_alpha", "sub_alpha"]
    assert not [w for w in wanted if w not in ids]


# ---- softmax family -------------------------------------------------------------------------------------------
SOFTMAX = [
    ("softmax", 0), ("softmax", 1), ("softmax", -1), ("log_softmax", 0), ("log_softmax", 2), ("log_softmax", -1),
    ("softmin", 1), ("softmin", -1),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,dim", SOFTMAX)
def test_softmax_family(name, dim, dtype):
    x = np.random.default_rng(0).uniform(-3, 3, (3, 4, 5)).astype(dtype)
    check_op(lambda t: getattr(ember.ops, name)(t, dim), lambda t: getattr(torch_F, name)(t, dim), x)


@pytest.mark.parametrize("name,dim", SOFTMAX)
def test_softmax_family_gradcheck(name, dim):
    x = np.random.default_rng(1).uniform(-3, 3, (2, 3, 4))
    assert gradcheck(lambda t: getattr(ember.ops, name)(t, dim), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_method_and_dtype_argument(name):
    x = np.random.default_rng(0).uniform(-3, 3, (3, 4)).astype(np.float32)
    check_op(lambda t: getattr(t, name)(1, dtype=ember.float64), lambda t: getattr(t, name)(1, dtype=torch.float64), x)


def test_softmax_large_values_are_stable():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1001.0]], dtype=np.float32)
    check_op(lambda t: ember.ops.log_softmax(t, 1), lambda t: torch_F.log_softmax(t, 1), x)
    check_op(lambda t: ember.ops.softmax(t, 1), lambda t: torch_F.softmax(t, 1), x)


# ---- integer and bool inputs (dtype of the result follows torch) ------------------------------------------------
INT_CASES = [
    ("exp", lambda m, x: m.t.exp(x)), ("sqrt", lambda m, x: m.t.sqrt(x)), ("sigmoid", lambda m, x: m.t.sigmoid(x)),
    ("neg", lambda m, x: m.t.neg(x)), ("abs", lambda m, x: m.t.abs(x)), ("sign", lambda m, x: m.t.sign(x)),
    ("floor", lambda m, x: m.t.floor(x)), ("round", lambda m, x: m.t.round(x)), ("relu", lambda m, x: m.F.relu(x)),
    ("div", lambda m, x: x / 2), ("div_int_tensors", lambda m, x: x / (x + 10)),
    ("div_floor", lambda m, x: m.t.div(x, 3, rounding_mode="floor")),
    ("div_trunc", lambda m, x: m.t.div(x, 3, rounding_mode="trunc")),
    ("div_trunc_negative_divisor", lambda m, x: m.t.div(x, -3, rounding_mode="trunc")),
    ("floordiv", lambda m, x: x // 4), ("remainder", lambda m, x: x % 3), ("fmod", lambda m, x: m.t.fmod(x, 3)),
    ("pow_int", lambda m, x: x ** 2), ("pow_float", lambda m, x: x ** 0.5),
    ("scalar_pow_int", lambda m, x: 2 ** m.t.abs(x)), ("mul_float_scalar", lambda m, x: x * 1.5),
    ("add_int_scalar", lambda m, x: x + 3), ("clamp_int", lambda m, x: m.t.clamp(x, -2, 3)),
    ("clamp_float_bound", lambda m, x: m.t.clamp(x, min=-2.5)), ("maximum", lambda m, x: m.t.maximum(x, x.flip(0))),
    ("clamp_tensor_min_int", lambda m, x: m.t.clamp(x, min=x.flip(0))),
    ("clamp_tensor_max_int", lambda m, x: m.t.clamp(x, max=x.flip(0))),
    ("atan2", lambda m, x: m.t.atan2(x, x + 20)), ("lt_float", lambda m, x: x < 0.5),
    ("hardtanh_int", lambda m, x: m.F.hardtanh(x, -2.5, 2.5) if x.dtype != m.t.uint8 else m.F.hardtanh(x, 0, 2)),
    ("relu6_int", lambda m, x: m.F.relu6(x)),
    ("where_int", lambda m, x: m.t.where(x > 2, x, 0)), ("sum", lambda m, x: x.sum()),
    ("pow_tensor_negative_int", lambda m, x: m.t.pow(m.t.abs(x) % 3, -m.t.abs(x))),
]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint8])
@pytest.mark.parametrize("name,fn", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_integer_inputs(name, fn, dtype):
    x = np.random.default_rng(0).integers(-7, 8, (9,))
    if dtype == np.uint8:
        x = np.abs(x)
    if name == "pow_float" and dtype != np.uint8:
        x = np.abs(x)
    x = x.astype(dtype)
    check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), x, grad=False)


BOOL_CASES = [
    ("add", lambda a, b: a + b), ("mul", lambda a, b: a * b), ("div", lambda a, b: a / (b + 1)),
    ("and", lambda a, b: a & b), ("or", lambda a, b: a | b), ("xor", lambda a, b: a ^ b), ("invert", lambda a, b: ~a),
    ("sign", lambda a, b: a.sign()), ("mul_int", lambda a, b: a * 3), ("add_float", lambda a, b: a + 0.5),
    ("sum", lambda a, b: a.sum()), ("eq", lambda a, b: a == b), ("maximum", lambda a, b: a.maximum(b)),
]


@pytest.mark.parametrize("name,fn", BOOL_CASES, ids=[c[0] for c in BOOL_CASES])
def test_bool_inputs(name, fn):
    rng = np.random.default_rng(0)
    check_op(fn, fn, rng.random(8) > 0.5, rng.random(8) > 0.5, grad=False)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.int8])
def test_bitwise_integers(name, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, 8).astype(dtype), rng.integers(0, 100, 8).astype(dtype)
    check_op(getattr(ember, name), getattr(torch, name), a, b, grad=False)


def test_float_results_keep_float32():
    x = ember.ones(3)
    for y in [x * 0.1, x + 1e-3, x / 3.0, x ** 2.5, 2.5 ** x, x - 1, x.clamp(0.1, 0.2), ember.where(x > 0, x, 0.5),
              ember.ops.softplus(x, beta=0.3), ember.ops.elu(x, alpha=0.1), ember.ops.gelu(x, approximate="tanh")]:
        assert y.dtype is ember.float32


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sigmoid", "tanh", "neg", "reciprocal", "erf", "erfinv"])
def test_float16_unary(name):
    x = np.random.default_rng(0).uniform(0.05, 0.95, (6,)).astype(np.float16)
    e, t = getattr(ember, name)(ember.tensor(x)), getattr(torch, name)(torch.tensor(x))
    assert e.dtype is ember.float16
    np.testing.assert_allclose(e.numpy().astype(np.float32), t.float().numpy(), rtol=2e-3, atol=1e-3)


# ---- edge values --------------------------------------------------------------------------------------------
EDGE = [
    ("abs_at_zero", lambda m, x: m.t.abs(x), [0.0, -0.0, 1.0, -2.0]),
    ("relu_at_zero", lambda m, x: m.F.relu(x), [0.0, -1.0, 2.0]),
    ("sqrt_at_zero", lambda m, x: m.t.sqrt(x), [0.0, 4.0]),
    ("pow_zero_base_tensor_exponent", lambda m, x: m.t.pow(x, x.detach() * 0 + 2.0), [0.0, 1.5]),
    ("hardtanh_edges", lambda m, x: m.F.hardtanh(x), [-1.0, 1.0, 0.5, -3.0]),
    ("clamp_edges", lambda m, x: m.t.clamp(x, -1.0, 1.0), [-1.0, 1.0, 0.5, -3.0]),
    ("leaky_relu_zero", lambda m, x: m.F.leaky_relu(x, 0.1), [0.0, -1.0]),
    ("elu_zero", lambda m, x: m.F.elu(x), [0.0, -1.0]),
    ("softplus_at_threshold", lambda m, x: m.F.softplus(x), [20.0, 19.99, -50.0]),
    ("exp_overflow", lambda m, x: m.t.exp(x), [100.0, -200.0]),
    ("log_nonpositive", lambda m, x: m.t.log(x), [0.0, -1.0, 1.0]),
    ("erfinv_bounds", lambda m, x: m.t.erfinv(x), [1.0, -1.0, 0.0]),
    ("sign_zero", lambda m, x: m.t.sign(x), [0.0, -0.0, 3.0]),
    ("round_half_even", lambda m, x: m.t.round(x), [0.5, 1.5, 2.5, -0.5, -1.5]),
    ("atan2_zero", lambda m, x: m.t.atan2(x, x.detach() * 0 + 1.0), [0.0, -0.0]),
    ("remainder_negative", lambda m, x: m.t.remainder(x, -1.5), [4.0, -4.0, 3.0]),
    ("maximum_nan", lambda m, x: m.t.maximum(x, x.detach() * 0 + 1.0), [float("nan"), 0.0, 2.0]),
    ("logsigmoid_large", lambda m, x: m.F.logsigmoid(x), [-200.0, 200.0, 0.0]),
    ("silu_large", lambda m, x: m.F.silu(x), [-200.0, 200.0]),
    ("mish_large", lambda m, x: m.F.mish(x), [-200.0, 200.0]),
    ("elu_large", lambda m, x: m.F.elu(x), [-200.0, 200.0]),
    ("softplus_large", lambda m, x: m.F.softplus(x), [-100.0, 100.0]),
    ("softmax_inf", lambda m, x: m.F.softmax(x, 0), [-float("inf"), 0.0, 1.0]),
    ("softmax_0dim", lambda m, x: m.F.softmax(x[0], 0), [2.0]),
    ("clamp_nan", lambda m, x: m.t.clamp(x, 0.0, 1.0), [float("nan"), 2.0, 0.5]),
    ("pow_negative_base_fraction", lambda m, x: x ** 0.5, [-2.0, 4.0]),
    ("round_decimals_negative", lambda m, x: m.t.round(x, decimals=-1), [125.0, 135.0, 150.0]),
    ("hardswish_edges", lambda m, x: m.F.hardswish(x), [-3.0, 3.0, float("nan")]),
    ("hardsigmoid_edges", lambda m, x: m.F.hardsigmoid(x), [-3.0, 3.0, float("nan")]),
    ("sign_nan", lambda m, x: m.t.sign(x), [float("nan"), -1.0]),
    ("abs_nan", lambda m, x: m.t.abs(x), [float("nan"), -1.0]),
    *[(f"{n}_nan", (lambda n: lambda m, x: getattr(m.F, n)(x))(n), [float("nan"), -1.0, 1.0])
      for n in ["relu", "elu", "selu", "celu", "hardtanh", "relu6", "hardshrink", "softshrink", "leaky_relu", "silu",
                "softplus", "gelu", "mish", "logsigmoid", "softsign"]],
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,fn,values", EDGE, ids=[e[0] for e in EDGE])
def test_edge_values(name, fn, values, dtype):
    with np.errstate(all="ignore"):
        check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), np.array(values, dtype=dtype))


# ---- broadcasting (hypothesis) ---------------------------------------------------------------------------------
BROADCAST_OPS = {
    "add": (lambda m, a, b: a + b, uniform), "sub_alpha": (lambda m, a, b: m.t.sub(a, b, alpha=2), uniform),
    "mul": (lambda m, a, b: a * b, uniform), "div": (lambda m, a, b: a / b, away_from_zero),
    "maximum": (lambda m, a, b: m.t.maximum(a, b), uniform), "atan2": (lambda m, a, b: m.t.atan2(a, b), away_from_zero),
    "pow": (lambda m, a, b: m.t.abs(a) ** b, away_from_zero),
    "where": (lambda m, a, b: m.t.where(a > 0, a, b), uniform),
    "remainder": (lambda m, a, b: a % b, away_from_zero),
}


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BROADCAST_OPS)), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2 ** 16))
def test_broadcasting_binary_ops(shapes, op, dtype, seed):
    fn, make = BROADCAST_OPS[op]
    arrays = make(*shapes.input_shapes)(np.random.default_rng(seed), dtype)
    e_out, t_out = check_op(lambda a, b: fn(EM, a, b), lambda a, b: fn(TH, a, b), *arrays)
    assert tuple(e_out.shape) == tuple(t_out.shape) == shapes.result_shape


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcast_gradient_shapes(shapes):
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal(shapes.input_shapes[0]), requires_grad=True)
    b = ember.tensor(rng.standard_normal(shapes.input_shapes[1]), requires_grad=True)
    (a * b + a - b).sum().backward()
    assert tuple(a.grad.shape) == shapes.input_shapes[0] and tuple(b.grad.shape) == shapes.input_shapes[1]


# ---- error paths ---------------------------------------------------------------------------------------------------
ERRORS = [
    ("neg_bool", lambda m: -m.t.tensor([True, False]), RuntimeError, "Negation"),
    ("sub_bool", lambda m: m.t.tensor([True]) - m.t.tensor([False]), RuntimeError, "Subtraction"),
    ("bitwise_float", lambda m: m.t.ones(2) & m.t.ones(2), NotImplementedError, "bitwise_and"),
    ("bitwise_not_float", lambda m: m.t.bitwise_not(m.t.ones(2)), NotImplementedError, "bitwise_not"),
    ("gelu_approximate", lambda m: m.F.gelu(m.t.ones(2), approximate="bad"), RuntimeError, "approximate"),
    ("clamp_no_bounds", lambda m: m.t.clamp(m.t.ones(2)), RuntimeError, "clamp"),
    ("pow_int_negative", lambda m: m.t.tensor([2, 3]) ** -1, RuntimeError, "negative integer powers"),
    ("div_rounding_mode", lambda m: m.t.div(m.t.ones(2), 2, rounding_mode="bad"), RuntimeError, "rounding_mode"),
    ("int_floor_divide_by_zero", lambda m: m.t.tensor([5, -5]) // 0, RuntimeError, "ZeroDivisionError"),
    ("int_trunc_divide_by_zero", lambda m: m.t.div(m.t.tensor([5]), 0, rounding_mode="trunc"), RuntimeError,
     "ZeroDivisionError"),
    ("int_remainder_by_zero", lambda m: m.t.tensor([5]) % 0, RuntimeError, "ZeroDivisionError"),
    ("hardtanh_bounds", lambda m: m.F.hardtanh(m.t.ones(2), 1.0, 0.0), ValueError, "min_val"),
    ("hardtanh_unsigned", lambda m: m.F.hardtanh(m.t.ones(2, dtype=m.t.uint8)), RuntimeError, "unsigned"),
    ("softmax_dim", lambda m: m.F.softmax(m.t.ones(2, 3), 2), IndexError, "Dimension out of range"),
    ("where_float_condition", lambda m: m.t.where(m.t.ones(2), m.t.ones(2), m.t.ones(2)), RuntimeError, "where"),
    ("add_shapes", lambda m: m.t.ones(2, 3) + m.t.ones(4), RuntimeError, "size"),
    ("int_alpha_float", lambda m: m.t.tensor([1]).add(m.t.tensor([2]), alpha=0.5), RuntimeError, "alpha"),
    ("frac_int", lambda m: m.t.frac(m.t.tensor([1, 2])), NotImplementedError, "frac"),
    ("abs_bool", lambda m: m.t.abs(m.t.tensor([True])), NotImplementedError, "abs"),
]


@pytest.mark.parametrize("name,fn,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, exc, match):
    with pytest.raises(exc) as torch_err:
        fn(TH)
    with pytest.raises(exc, match=match) as ember_err:
        fn(EM)
    assert type(ember_err.value) is type(torch_err.value) is exc


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")  # inf * 0 on the NumPy path
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_relu_grad_fused_is_bitwise_the_numpy_path(dtype):
    from ember import _fused

    assert _fused.enabled(), "numba is a test dependency: the fused kernels must be tested"
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 37)).astype(dtype)
    assert x.size >= _fused.MIN_SIZE  # (smaller arrays take the NumPy path either way)
    x[0, :6] = [np.nan, -np.nan, 0.0, -0.0, np.inf, -np.inf]
    g = rng.standard_normal(x.shape).astype(dtype)  # negative g where relu is flat: -0.0 in both paths
    g[1, :6] = [np.nan, -np.nan, np.inf, -np.inf, np.nan, -np.inf]
    g[0, 6:12] = [np.nan, np.inf, np.nan, np.inf, -np.nan, -np.inf]
    results = []
    for fused in (True, False):
        _fused.set_enabled(fused)
        try:
            xt, gt = ember.tensor(x, requires_grad=True), ember.tensor(g, requires_grad=True)
            (gx,) = ember.autograd.grad(ember.relu(xt), xt, gt, create_graph=True)
            (ggt,) = ember.autograd.grad(gx, gt, ember.tensor(g[::-1].copy()))  # ReluGrad's own backward
            results.append([(a.dtype, a.tobytes()) for a in (gx.detach().numpy(), ggt.numpy())])
        finally:
            _fused.set_enabled(True)
    assert results[0] == results[1]
