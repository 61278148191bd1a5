"""dtype objects and torch's type promotion: every dtype pair, with sized / 0-dim / Python-scalar operands, for
add, mul, div and comparisons. Result dtypes (and values) must equal torch's."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from oracle import assert_close

NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
E = {n: getattr(ember, n) for n in NAMES}
T = {n: getattr(torch, n) for n in NAMES}
SCALARS = [True, False, 0, 1, 3, -2, 2.5, -0.5, 1e-3]
OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "lt": lambda a, b: a < b, "eq": lambda a, b: a == b, "ge": lambda a, b: a >= b,
    "torch.add": lambda a, b, m=None: (ember if isinstance(a, ember.Tensor) or isinstance(b, ember.Tensor)
                                       else torch).add(a, b),
}


def operand(lib, kind, name, rng):
    """A tensor of dtype ``name``: ``sized`` (shape (4,)) or ``0dim``; small values so no op overflows."""
    dt = (E if lib is ember else T)[name]
    shape = (4,) if kind == "sized" else ()
    values = rng.integers(0, 2, shape).astype(bool) if name == "bool" else rng.integers(1, 5, shape)
    return lib.tensor(values.tolist(), dtype=dt)


def result_dtype_name(x):
    return str(x.dtype).split(".")[-1]


# ---- every dtype pair, every tensor-kind combination ------------------------------------------------------------
KINDS = [("sized", "sized"), ("sized", "0dim"), ("0dim", "sized"), ("0dim", "0dim")]


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("kinds", KINDS, ids=["-".join(k) for k in KINDS])
def test_tensor_tensor_promotion_all_pairs(op, kinds):
    fn = OPS[op]
    mismatches = []
    for na, nb in itertools.product(NAMES, NAMES):
        rng = np.random.default_rng(0)
        ea, eb = operand(ember, kinds[0], na, rng), operand(ember, kinds[1], nb, rng)
        ta, tb = torch.tensor(ea.numpy()), torch.tensor(eb.numpy())
        e, t = fn(ea, eb), fn(ta, tb)
        if result_dtype_name(e) != result_dtype_name(t):
            mismatches.append((na, nb, result_dtype_name(e), result_dtype_name(t)))
            continue
        assert_close(e, t, rtol=1e-3, atol=1e-3, what=f"{op}({na}, {nb})")
    assert not mismatches, mismatches


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("kind", ["sized", "0dim"])
def test_tensor_scalar_promotion_all_dtypes(op, kind):
    fn = OPS[op]
    mismatches = []
    for name, scalar, scalar_first in itertools.product(NAMES, SCALARS, [False, True]):
        et = operand(ember, kind, name, np.random.default_rng(0))
        tt = torch.tensor(et.numpy())
        if scalar_first:
            e, t = fn(scalar, et), fn(scalar, tt)
        else:
            e, t = fn(et, scalar), fn(tt, scalar)
        if result_dtype_name(e) != result_dtype_name(t):
            mismatches.append((name, scalar, scalar_first, result_dtype_name(e), result_dtype_name(t)))
            continue
        assert_close(e, t, rtol=1e-3, atol=1e-3, what=f"{op}({name}, {scalar!r})")
    assert not mismatches, mismatches


def test_promote_types_all_pairs():
    for a, b in itertools.product(NAMES, NAMES):
        assert ember.promote_types(E[a], E[b]).name == str(torch.promote_types(T[a], T[b])).split(".")[-1], (a, b)


def test_result_type_matches_torch():
    for a, b in itertools.product(NAMES, NAMES):
        for ka, kb in KINDS:
            ea = ember.ones(2 if ka == "sized" else (), dtype=E[a])
            eb = ember.ones(2 if kb == "sized" else (), dtype=E[b])
            ta, tb = torch.tensor(ea.numpy()), torch.tensor(eb.numpy())
            assert result_dtype_name(ember.ones(1, dtype=ember.result_type(ea, eb))) == \
                str(torch.result_type(ta, tb)).split(".")[-1], (a, b, ka, kb)
        for s in [True, 2, 2.5]:
            ea = ember.ones(2, dtype=E[a])
            assert ember.result_type(ea, s).name == str(torch.result_type(torch.ones(2, dtype=T[a]), s)).split(".")[-1]


# ---- hypothesis: random dtype pairs, operand kinds and values -------------------------------------------------------
OPERAND = st.sampled_from(["sized", "0dim", "scalar"])


@settings(max_examples=25, deadline=None)
@given(na=st.sampled_from(NAMES), nb=st.sampled_from(NAMES), ka=OPERAND, kb=OPERAND, op=st.sampled_from(sorted(OPS)),
       scalar=st.sampled_from(SCALARS), seed=st.integers(0, 1000))
def test_promotion_random(na, nb, ka, kb, op, scalar, seed):
    if ka == "scalar" and kb == "scalar":
        kb = "sized"
    rng = np.random.default_rng(seed)
    ops_e, ops_t = [], []
    for kind, name in ((ka, na), (kb, nb)):
        if kind == "scalar":
            ops_e.append(scalar)
            ops_t.append(scalar)
        else:
            t = operand(ember, kind, name, rng)
            ops_e.append(t)
            ops_t.append(torch.tensor(t.numpy()))
    e, t = OPS[op](*ops_e), OPS[op](*ops_t)
    assert result_dtype_name(e) == result_dtype_name(t)
    assert_close(e, t, rtol=1e-3, atol=1e-3, what=op)


# ---- the rules users meet most -------------------------------------------------------------------------------------
def test_python_float_never_upcasts_float32_or_float16():
    for name in ["float32", "float16"]:
        x = ember.ones(3, dtype=E[name])
        for y in [x + 0.1, 0.1 + x, x * 1e-8, x / 3.0, 3.0 / x, x - 2.5, x ** 2.0, x + 1e30, x * True, x + 7]:
            assert y.dtype is E[name]
        for y in [x < 0.5, x == 1e-9]:
            assert y.dtype is ember.bool
    x = ember.ones(2, dtype=ember.float32)
    assert (x + ember.tensor(1.0, dtype=ember.float64)).dtype is ember.float32  # a 0-dim float64 does not upcast
    assert (x + ember.ones(2, dtype=ember.float64)).dtype is ember.float64


def test_integer_results():
    i = ember.tensor([1, 2])
    assert (i + 1).dtype is ember.int64 and (i * True).dtype is ember.int64 and (i / 2).dtype is ember.float32
    assert (i + 1.5).dtype is ember.float32 and (i // 2).dtype is ember.int64
    assert (ember.tensor([1], dtype=ember.uint8) + ember.tensor([1], dtype=ember.int8)).dtype is ember.int16
    assert (ember.tensor([True]) + 1).dtype is ember.int64 and (ember.tensor([True]) + True).dtype is ember.bool
    assert (ember.tensor([1], dtype=ember.int32) + ember.tensor(5)).dtype is ember.int32


def test_integer_scalars_wrap_like_torch():
    for name, value in [("uint8", -1), ("uint8", 300), ("int8", 300), ("int8", -200), ("int16", 70000)]:
        e, t = ember.tensor([7, 0], dtype=E[name]), torch.tensor([7, 0], dtype=T[name])
        assert_close(e + value, t + value, 0, 0, f"{name} + {value}")
        assert_close(e < value, t < value, 0, 0, f"{name} < {value}")


# ---- dtype objects -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    e, t = E[name], T[name]
    assert e.is_floating_point == t.is_floating_point
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert not e.is_complex
    assert repr(e) == f"ember.{name}"
    assert ember.ones(1, dtype=e).dtype is e
    assert ember.tensor(np.zeros(1, dtype=e.np)).dtype is e


def test_dtype_aliases():
    assert ember.float is ember.float32 and ember.double is ember.float64 and ember.half is ember.float16
    assert ember.long is ember.int64 and ember.int is ember.int32 and ember.short is ember.int16
    for alias in ["float", "double", "half", "long", "int", "short"]:
        assert getattr(ember, alias).name == str(getattr(torch, alias)).split(".")[-1]


@pytest.mark.parametrize("to", NAMES)
def test_can_cast(to):
    for frm in NAMES:
        assert ember.can_cast(E[frm], E[to]) == torch.can_cast(T[frm], T[to]), (frm, to)


def test_tensor_dtype_conversions():
    x = ember.tensor([1.7, -2.2])
    t = torch.tensor([1.7, -2.2])
    for m in ["float", "double", "half", "long", "int", "short", "char", "byte", "bool"]:
        assert_close(getattr(x, m)(), getattr(t, m)(), 1e-3, 1e-3, m)
    assert_close(x.to(ember.int64), t.to(torch.int64), 0, 0, "to")
    assert x.type_as(ember.ones(1, dtype=ember.float64)).dtype is ember.float64


def test_python_types_as_dtypes():
    for py in [float, int, bool]:
        assert ember.zeros(1, dtype=py).dtype.name == str(torch.zeros(1, dtype=py).dtype).split(".")[-1]
    ember.set_default_dtype(ember.float64)
    assert ember.zeros(1, dtype=float).dtype is ember.float64  # Python float is double, not the default dtype


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo(name):
    e, t = ember.finfo(E[name]), torch.finfo(T[name])
    for attr in ["bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"]:
        assert getattr(e, attr) == getattr(t, attr), attr
    assert e.dtype == t.dtype


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo(name):
    e, t = ember.iinfo(E[name]), torch.iinfo(T[name])
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)


def test_finfo_default_and_errors():
    assert ember.finfo().dtype == torch.finfo().dtype
    with pytest.raises(TypeError):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError):
        ember.iinfo(ember.float32)


@pytest.mark.parametrize("target", ["long", "int", "short", "bool", "uint8", "float", "double", "half"])
def test_a_cast_requires_grad_only_to_a_floating_dtype(target):
    import torch

    got = []
    for fw in (torch, ember):
        x = fw.tensor([0.5, -1.5, 2.0], dtype=fw.float32, requires_grad=True)
        y = x.to(getattr(fw, target)) if target == "uint8" else getattr(x, target)()
        got.append((y.requires_grad, y.grad_fn is None))
    assert got[1] == got[0]
