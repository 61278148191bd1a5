"""Reductions against torch: one table line per case (forward + gradient in float32 and float64, numerical
gradcheck in float64), ties and zeros, integer inputs and error paths."""
import math
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes

import ember
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(t=ember, name="ember")
TH = types.SimpleNamespace(t=torch, name="torch")
DTYPES = [np.float32, np.float64]
INF = math.inf


def uniform(shape=(3, 4, 5), low=-2.0, high=2.0):
    return lambda rng, dt: [rng.uniform(low, high, shape).astype(dt)]


def ties(shape=(4, 5)):
    return lambda rng, dt: [rng.integers(-2, 3, shape).astype(dt)]


def with_zeros(shape=(4, 5), n_zeros=(1, 2)):
    """Nonzero values with rows holding one zero, two zeros, or none (prod/cumprod backward)."""
    def make(rng, dt):
        x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
        x[0, 1] = 0.0
        if 2 in n_zeros:
            x[1, 0] = x[1, 3] = 0.0
        x[2, -1] = 0.0
        return [x.astype(dt)]
    return make


class Case:
    def __init__(self, id, fn, make=None, gradcheck=True):
        self.id, self.fn, self.make, self.gradcheck = id, fn, make or uniform(), gradcheck


def red(name, **kw):
    """``m.t.<name>(x, **kw)`` as a case, named after its arguments."""
    args = ",".join(f"{k}={v}" for k, v in kw.items())
    return Case(f"{name}({args})", lambda m, x: getattr(m.t, name)(x, **kw))


CASES = [
    red("sum"), red("sum", dim=0), red("sum", dim=-1), red("sum", dim=(0, 2)), red("sum", dim=1, keepdim=True),
    red("sum", dim=[-1, 0], keepdim=True),
    Case("sum(dtype=float64)", lambda m, x: m.t.sum(x, 1, dtype=m.t.float64)),
    Case("Tensor.sum", lambda m, x: x.sum(-2)),
    red("mean"), red("mean", dim=1), red("mean", dim=(0, 1)), red("mean", dim=-1, keepdim=True),
    Case("Tensor.mean", lambda m, x: x.mean((1, 2), keepdim=True)),
    red("prod"), red("prod", dim=0), red("prod", dim=-1, keepdim=True),
    Case("prod_zeros_dim1", lambda m, x: m.t.prod(x, 1), with_zeros()),
    Case("prod_zeros_dim0", lambda m, x: m.t.prod(x, 0), with_zeros()),
    Case("prod_zeros_all", lambda m, x: m.t.prod(x), with_zeros(n_zeros=(1,))),
    Case("prod_two_zeros_all", lambda m, x: m.t.prod(x), with_zeros()),
    Case("max", lambda m, x: m.t.max(x)), Case("min", lambda m, x: x.min()),
    Case("max_ties", lambda m, x: m.t.max(x), ties(), gradcheck=False),
    Case("min_ties", lambda m, x: m.t.min(x), ties(), gradcheck=False),
    Case("max_dim", lambda m, x: m.t.max(x, 1)), Case("max_dim_keepdim", lambda m, x: m.t.max(x, -1, keepdim=True)),
    Case("min_dim", lambda m, x: m.t.min(x, 0)), Case("min_dim_method", lambda m, x: x.min(dim=2, keepdim=True)),
    Case("max_dim_values", lambda m, x: m.t.max(x, 1).values), Case("min_dim_indices", lambda m, x: x.min(1).indices),
    Case("max_dim_ties", lambda m, x: m.t.max(x, 1), ties(), gradcheck=False),
    Case("min_dim_ties", lambda m, x: m.t.min(x, 0), ties(), gradcheck=False),
    red("amax", dim=1), red("amax", dim=(0, 2)), red("amin", dim=-1, keepdim=True), red("amin", dim=(0, 1)),
    Case("amax_all", lambda m, x: m.t.amax(x)),
    Case("amax_ties", lambda m, x: m.t.amax(x, 1), ties(), gradcheck=False),
    Case("amin_ties_all", lambda m, x: m.t.amin(x, (0, 1)), ties(), gradcheck=False),
    Case("argmax", lambda m, x: m.t.argmax(x)), Case("argmax_dim", lambda m, x: m.t.argmax(x, 1)),
    Case("argmin_keepdim", lambda m, x: m.t.argmin(x, -1, keepdim=True)),
    Case("argmax_ties", lambda m, x: m.t.argmax(x, 0), ties()), Case("argmin_ties", lambda m, x: x.argmin(1), ties()),
    Case("argmin_ties_all", lambda m, x: x.argmin(), ties()),
    red("var"), red("var", dim=1), red("var", dim=(0, 2), keepdim=True), red("var", dim=1, unbiased=False),
    red("var", dim=-1, correction=0), red("var", dim=-1, correction=2), red("std"), red("std", dim=2),
    red("std", dim=(1, 2), unbiased=False), red("std", dim=0, correction=0, keepdim=True),
    Case("Tensor.var", lambda m, x: x.var(1, keepdim=True)),
    Case("var_mean", lambda m, x: m.t.var_mean(x, 1)), Case("std_mean", lambda m, x: m.t.std_mean(x, (0, 2))),
    red("logsumexp", dim=1), red("logsumexp", dim=(0, 2)), red("logsumexp", dim=-1, keepdim=True),
    Case("logsumexp_large", lambda m, x: m.t.logsumexp(x, 1), uniform(low=500.0, high=900.0)),
    Case("norm", lambda m, x: m.t.norm(x)),
    *[Case(f"norm_p{p}", (lambda p: lambda m, x: m.t.norm(x, p=p, dim=1))(p)) for p in [2, 1, INF, -INF, 0, 3, 1.5]],
    Case("norm_fro_dims", lambda m, x: m.t.norm(x, p="fro", dim=(0, 2))),
    Case("norm_keepdim", lambda m, x: m.t.norm(x, 2, dim=-1, keepdim=True)),
    Case("norm_inf_all", lambda m, x: x.norm(INF)), Case("norm_p1_all", lambda m, x: x.norm(1)),
    Case("norm_inf_ties", lambda m, x: m.t.norm(x, INF, dim=1), ties(), gradcheck=False),
    red("cumsum", dim=0), red("cumsum", dim=-1), red("cumprod", dim=1), red("cumprod", dim=0),
    Case("Tensor.cumsum", lambda m, x: x.cumsum(1)),
    Case("cumprod_zeros", lambda m, x: m.t.cumprod(x, 1), with_zeros()),
    Case("cumprod_zeros_dim0", lambda m, x: m.t.cumprod(x, 0), with_zeros()),
    Case("all", lambda m, x: m.t.all(x > -1.9)), Case("all_dim", lambda m, x: m.t.all(x > -1, dim=1)),
    Case("any_dim_keepdim", lambda m, x: m.t.any(x > 1.5, 0, keepdim=True)), Case("any", lambda m, x: (x > 1.9).any()),
    Case("count_nonzero", lambda m, x: m.t.count_nonzero(x)),
    Case("count_nonzero_dim", lambda m, x: m.t.count_nonzero(x, dim=1), ties()),
    Case("count_nonzero_dims", lambda m, x: m.t.count_nonzero(x, dim=(0, 1)), ties()),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_torch(case, dtype):
    arrays = case.make(np.random.default_rng(0), dtype)
    check_op(lambda *xs: case.fn(EM, *xs), lambda *xs: case.fn(TH, *xs), *arrays)


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda c: c.id)
def test_gradcheck(case):
    arrays = case.make(np.random.default_rng(1), np.float64)
    if case.make.__name__ == "<lambda>" and arrays[0].size > 30:  # keep the numerical Jacobian small
        arrays = [a[:2, :3, :4] if a.ndim == 3 else a for a in arrays]
    assert gradcheck(lambda *xs: case.fn(EM, *xs), *arrays)


SECOND_ORDER = ["sum(dim=0)", "mean(dim=1)", "prod(dim=0)", "prod_zeros_dim1", "max_dim_values", "amax(dim=1)",
                "var(dim=1)", "std(dim=2)", "logsumexp(dim=1)", "norm_p3", "norm_p2", "cumsum(dim=0)",
                "cumprod(dim=1)", "cumprod_zeros"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SECOND_ORDER], ids=lambda c: c.id)
def test_gradgradcheck(case):
    (x,) = case.make(np.random.default_rng(2), np.float64)
    x = x[:2, :3, :2] if x.ndim == 3 else x[:3, :4]
    t = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: case.fn(EM, v), (t,))


def test_second_order_table_names_exist():
    assert {c.id for c in CASES} >= set(SECOND_ORDER)


def test_max_dim_returns_named_pair():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    r = ember.max(x, dim=1)
    values, indices = r
    assert values is r.values and indices is r.indices and r[0] is r.values
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype is ember.int64
    assert not indices.requires_grad


def test_norm_of_zero_vector_has_zero_gradient():
    for p in [2, 3, "fro"]:
        check_op(lambda t: ember.norm(t, p=p), lambda t: torch.norm(t, p=p), np.zeros(4, dtype=np.float64))


def test_std_of_constant_has_torch_gradient():
    check_op(lambda t: t.std(0), lambda t: t.std(0), np.ones((3, 2), dtype=np.float64))


def test_logsumexp_of_all_minus_inf():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]], dtype=np.float32)
    check_op(lambda t: ember.logsumexp(t, 1), lambda t: torch.logsumexp(t, 1), x)


def test_reductions_of_0dim_tensor():
    x = np.array(1.5, dtype=np.float32)
    for fn in [lambda m, t: m.t.sum(t, 0), lambda m, t: m.t.max(t, 0), lambda m, t: m.t.mean(t, -1, keepdim=True),
               lambda m, t: m.t.amax(t), lambda m, t: m.t.cumsum(t, 0), lambda m, t: m.t.prod(t, 0),
               lambda m, t: m.t.argmax(t, 0), lambda m, t: m.t.norm(t), lambda m, t: m.t.logsumexp(t, 0)]:
        check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), x)


def test_empty_reductions():
    x = np.zeros((0, 3), dtype=np.float32)
    for fn in [lambda m, t: m.t.sum(t, 0), lambda m, t: m.t.prod(t, 0), lambda m, t: m.t.mean(t, 1),
               lambda m, t: m.t.sum(t), lambda m, t: m.t.amax(t, 1), lambda m, t: m.t.cumsum(t, 0)]:
        check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), x)


NAN = float("nan")
EDGE = [
    ("logsumexp_empty_dim", lambda m, x: m.t.logsumexp(x, 1), np.ones((2, 0))),
    ("logsumexp_inf", lambda m, x: m.t.logsumexp(x, 0), [np.inf, 1.0]),
    ("max_dim_nan", lambda m, x: m.t.max(x, 1), [[1.0, NAN, 3.0], [2.0, 1.0, 0.0]]),
    ("argmax_nan", lambda m, x: m.t.argmax(x), [1.0, NAN, 3.0]),
    ("amax_nan", lambda m, x: m.t.amax(x), [1.0, NAN, 3.0]),
    ("min_nan", lambda m, x: x.min(), [1.0, NAN]),
    ("prod_empty", lambda m, x: x.prod(), np.ones(0)),
    ("sum_empty", lambda m, x: x.sum(), np.ones(0)),
    ("mean_empty", lambda m, x: x.mean(), np.ones(0)),
    ("var_single", lambda m, x: x.var(), [2.0]),
    ("var_fractional_correction", lambda m, x: m.t.var(x, correction=0.5), [1.0, 2.0, 4.0]),
    ("norm_negative_p", lambda m, x: m.t.norm(x, p=-1), [1.0, 2.0, -4.0]),
    ("cumsum_with_inf", lambda m, x: m.t.cumsum(x, 0), [1.0, np.inf, 2.0]),
    ("std_near_float32_limit", lambda m, x: m.t.std(x), [1e30, 1e30, -1e30, 5.0]),
    ("logsumexp_huge_ties", lambda m, x: m.t.logsumexp(x, 0), [1e30, 1e30, -1e30, 5.0]),
    ("norm0_with_nan", lambda m, x: m.t.norm(x, 0), [NAN, 0.0, 2.0]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,fn,values", EDGE, ids=[e[0] for e in EDGE])
def test_edge_values(name, fn, values, dtype):
    with np.errstate(all="ignore"):
        check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), np.asarray(values, dtype=dtype))


def test_max_min_repr_names_the_op():
    x = ember.ones(2, 2)
    assert repr(ember.max(x, 1)).startswith("ember.return_types.max(")
    assert repr(ember.min(x, 1)).startswith("ember.return_types.min(")


# ---- integer and bool inputs ----------------------------------------------------------------------------------
INT_CASES = [
    ("sum", lambda m, x: m.t.sum(x)), ("sum_dim", lambda m, x: x.sum(1)), ("prod", lambda m, x: m.t.prod(x, 0)),
    ("prod_all", lambda m, x: m.t.prod(x)), ("max", lambda m, x: m.t.max(x)), ("max_dim", lambda m, x: m.t.max(x, 1)),
    ("amin", lambda m, x: m.t.amin(x, 0)), ("argmax", lambda m, x: m.t.argmax(x, 1)),
    ("cumsum", lambda m, x: m.t.cumsum(x, 1)), ("cumprod", lambda m, x: m.t.cumprod(x, 0)),
    ("all", lambda m, x: m.t.all(x)), ("any_dim", lambda m, x: m.t.any(x, 1)),
    ("count_nonzero", lambda m, x: m.t.count_nonzero(x, 0)),
    ("mean_dtype", lambda m, x: m.t.mean(x, 1, dtype=m.t.float64)),
    ("sum_dtype", lambda m, x: m.t.sum(x, 0, dtype=m.t.float32)), ("logsumexp", lambda m, x: m.t.logsumexp(x, 1)),
]


INT_PARAMS = [pytest.param(name, fn, dt, id=f"{name}-{np.dtype(dt).name}") for name, fn in INT_CASES
              for dt in [np.int64, np.int32, np.uint8, np.bool_]
              if not (name == "argmax" and dt == np.bool_)]  # torch refuses bool argmax (see the error table)


@pytest.mark.parametrize("name,fn,dtype", INT_PARAMS)
def test_integer_and_bool_inputs(name, fn, dtype):
    x = np.random.default_rng(0).integers(0, 4, (3, 4)).astype(dtype)
    check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), x, grad=False)


# ---- hypothesis: random shapes and dims -------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data(),
       op=st.sampled_from(["sum", "mean", "amax", "var", "logsumexp", "norm", "prod"]), keepdim=st.booleans())
def test_random_dims(shape, data, op, keepdim):
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    x = np.random.default_rng(0).uniform(0.5, 2.0, shape)
    if op == "prod":
        fn = lambda m, t: m.t.prod(t, dims[0], keepdim=keepdim)  # noqa: E731 - prod takes one dim
    elif op == "norm":  # p=2: the default 'fro' refuses more than two dims
        fn = lambda m, t: m.t.norm(t, 2, dim=tuple(dims), keepdim=keepdim)  # noqa: E731
    else:
        fn = lambda m, t: getattr(m.t, op)(t, dim=tuple(dims), keepdim=keepdim)  # noqa: E731
    check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), x)


# ---- error paths -------------------------------------------------------------------------------------------------
ERRORS = [
    ("sum_dim", lambda m: m.t.ones(2, 3).sum(2), IndexError, "Dimension out of range"),
    ("mean_dim", lambda m: m.t.ones(2).mean(dim=3), IndexError, "Dimension out of range"),
    ("max_dim", lambda m: m.t.max(m.t.ones(2, 3), -3), IndexError, "Dimension out of range"),
    ("argmax_dim", lambda m: m.t.argmax(m.t.ones(2, 3), 2), IndexError, "Dimension out of range"),
    ("cumsum_dim", lambda m: m.t.cumsum(m.t.ones(2, 3), 5), IndexError, "Dimension out of range"),
    ("var_dim", lambda m: m.t.var(m.t.ones(2, 3), 2), IndexError, "Dimension out of range"),
    ("mean_int", lambda m: m.t.tensor([1, 2]).mean(), RuntimeError, "mean"),
    ("max_empty", lambda m: m.t.ones(0).max(), RuntimeError, "numel"),
    ("max_empty_dim", lambda m: m.t.max(m.t.ones(0, 3), 0), IndexError, "non-zero size"),
    ("argmax_empty", lambda m: m.t.argmax(m.t.ones(0)), IndexError, "argmax"),
    ("argmin_empty_dim", lambda m: m.t.argmin(m.t.ones(2, 0), 1), IndexError, "argmin"),
    ("argmax_bool", lambda m: m.t.argmax(m.t.ones(2, dtype=m.t.bool)), RuntimeError, "argmax"),
    ("amax_empty", lambda m: m.t.amax(m.t.ones(0, 3), 0), IndexError, "amax"),
    ("norm_int", lambda m: m.t.norm(m.t.tensor([1, 2])), RuntimeError, "floating point"),
    ("sum_repeated_dim", lambda m: m.t.ones(2, 3).sum((0, 0)), RuntimeError, "multiple times"),
    ("var_int", lambda m: m.t.var(m.t.tensor([1, 2])), RuntimeError, "var"),
    ("norm_fro_3_dims", lambda m: m.t.norm(m.t.ones(2, 2, 2), "fro", dim=(0, 1, 2)), RuntimeError, "2-tuple"),
    ("norm_nuc_3d", lambda m: m.t.norm(m.t.ones(2, 2, 2), "nuc"), RuntimeError, "2-tuple"),
]


@pytest.mark.parametrize("name,fn,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, exc, match):
    with pytest.raises(exc) as torch_err:
        fn(TH)
    with pytest.raises(exc, match=match) as ember_err:
        fn(EM)
    assert type(ember_err.value) is type(torch_err.value) is exc
