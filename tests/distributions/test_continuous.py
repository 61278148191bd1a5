"""Normal, LogNormal, Laplace, Exponential and Uniform against torch.distributions: log_prob, cdf, icdf, entropy,
moments and mode (values and gradients, float32 and float64), rsample gradients, sample shapes, sample moments."""
import numpy as np
import pytest
import torch
from dist_oracle import (
    DTYPES,
    check_method,
    check_rsample_grad,
    gradcheck_method,
    pos,
    real,
    spec_cases,
    uniform,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember

ALL = ["log_prob", "cdf", "icdf", "entropy", "mean", "variance", "stddev", "mode"]

# (id, build(D, *params), param generators, value generator, methods)
SPECS = [
    ("normal", lambda D, m, s: D.Normal(m, s), [real((3,)), pos((3,))], real((2, 3)), ALL),
    ("normal_broadcast", lambda D, m, s: D.Normal(m, s), [real((2, 1)), pos((3,))], real((3,)),
     ["log_prob", "cdf", "entropy", "mean", "stddev"]),
    ("normal_number_scale", lambda D, m: D.Normal(m, 2.0), [real((3,))], real((3,)), ["log_prob", "entropy"]),
    ("lognormal", lambda D, m, s: D.LogNormal(m, s), [real((3,)), pos((3,), 0.2, 0.8)], pos((2, 3), 0.1, 3.0), ALL),
    ("laplace", lambda D, m, s: D.Laplace(m, s), [real((3,)), pos((3,))], real((2, 3)), ALL),
    ("exponential", lambda D, r: D.Exponential(r), [pos((3,))], pos((2, 3), 0.1, 3.0), ALL),
    ("uniform", lambda D, lo, hi: D.Uniform(lo, hi), [uniform((3,), -2, -1), uniform((3,), 1, 2)],
     uniform((2, 3), -0.9, 0.9), ALL),
]

GRADCHECK = [(s, m) for s in SPECS for m in ("log_prob", "entropy", "cdf", "icdf") if m in s[4]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec, method", spec_cases(SPECS))
def test_method_matches_torch(spec, method, dtype):
    _, build, gens, value_gen, _ = spec
    check_method(build, gens, value_gen, method, dtype)


@pytest.mark.parametrize("spec, method", [pytest.param(s, m, id=f"{s[0]}-{m}") for s, m in GRADCHECK])
def test_gradcheck(spec, method):
    _, build, gens, value_gen, _ = spec
    gradcheck_method(build, gens, value_gen, method)


def test_uniform_log_prob_outside_support_is_minus_inf():
    lo, hi, x = np.array([0.0, 0.0], np.float32), np.array([1.0, 1.0], np.float32), np.array([1.5, -0.5], np.float32)
    e = ember.distributions.Uniform(ember.tensor(lo), ember.tensor(hi), validate_args=False)
    t = torch.distributions.Uniform(torch.tensor(lo), torch.tensor(hi), validate_args=False)
    np.testing.assert_array_equal(e.log_prob(ember.tensor(x)).numpy(), t.log_prob(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(e.cdf(ember.tensor(x)).numpy(), t.cdf(torch.tensor(x)).numpy())


# ---- rsample: gradients flow to the parameters through the reparameterization -------------------------------
# (id, build, params, noise from ember's draw (NumPy), torch's draw from that noise)
RSAMPLE = [
    ("normal", lambda D, m, s: D.Normal(m, s), [real((3,)), pos((3,))],
     lambda p, x: (x - p[0]) / p[1], lambda p, z: p[0] + z * p[1]),
    ("lognormal", lambda D, m, s: D.LogNormal(m, s), [real((3,)), pos((3,), 0.2, 0.8)],
     lambda p, x: (np.log(x) - p[0]) / p[1], lambda p, z: (p[0] + z * p[1]).exp()),
    ("laplace", lambda D, m, s: D.Laplace(m, s), [real((3,)), pos((3,))],
     lambda p, x: (x - p[0]) / p[1], lambda p, z: p[0] + z * p[1]),
    ("exponential", lambda D, r: D.Exponential(r), [pos((3,))], lambda p, x: x * p[0], lambda p, z: z / p[0]),
    ("uniform", lambda D, lo, hi: D.Uniform(lo, hi), [uniform((3,), -2, -1), uniform((3,), 1, 2)],
     lambda p, x: (x - p[0]) / (p[1] - p[0]), lambda p, z: p[0] + z * (p[1] - p[0])),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", RSAMPLE, ids=[s[0] for s in RSAMPLE])
def test_rsample_gradients(spec, dtype):
    _, build, gens, to_noise, from_noise = spec
    check_rsample_grad(build, gens, to_noise, from_noise, dtype)


@pytest.mark.parametrize("spec", RSAMPLE, ids=[s[0] for s in RSAMPLE])
def test_sample_has_no_graph_and_rsample_has(spec):
    _, build, gens, _, _ = spec
    params = [ember.tensor(g(np.random.default_rng(0), np.float32), requires_grad=True) for g in gens]
    d = build(ember.distributions, *params)
    assert d.has_rsample
    assert not d.sample((2,)).requires_grad
    assert d.rsample((2,)).requires_grad


# ---- shapes: sample_shape + broadcast batch shape -------------------------------------------------------------
SHAPE_FAMILIES = {
    "Normal": (lambda D, a, b: D.Normal(a, b.abs() + 0.5)),
    "LogNormal": (lambda D, a, b: D.LogNormal(a, b.abs() + 0.5)),
    "Laplace": (lambda D, a, b: D.Laplace(a, b.abs() + 0.5)),
    "Uniform": (lambda D, a, b: D.Uniform(a - 2, b.abs() + 2)),
    "Exponential": (lambda D, a, b: D.Exponential(a.abs() + b.abs() + 0.5)),
}


@settings(max_examples=20, deadline=None)
@given(family=st.sampled_from(sorted(SHAPE_FAMILIES)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       sample_shape=st.lists(st.integers(1, 3), max_size=2).map(tuple))
def test_sample_shapes_match_torch(family, shapes, sample_shape):
    build = SHAPE_FAMILIES[family]
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes.input_shapes)
    e = build(ember.distributions, ember.tensor(a), ember.tensor(b))
    t = build(torch.distributions, torch.tensor(a), torch.tensor(b))
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    for draw in ("sample", "rsample"):
        x = getattr(e, draw)(sample_shape)
        assert tuple(x.shape) == tuple(getattr(t, draw)(sample_shape).shape)
        assert x.dtype == ember.float32
        assert tuple(e.log_prob(x).shape) == tuple(t.log_prob(torch.tensor(x.detach().numpy())).shape)
    assert tuple(e.entropy().shape) == tuple(t.entropy().shape)
    new_shape = (2,) + tuple(e.batch_shape)
    expanded = e.expand(new_shape)
    assert tuple(expanded.batch_shape) == new_shape
    assert tuple(expanded.sample(sample_shape).shape) == tuple(t.expand(new_shape).sample(sample_shape).shape)


def test_expand_keeps_parameters_and_validation_flag():
    d = ember.distributions.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]), validate_args=False)
    e = d.expand((3, 2))
    assert tuple(e.loc.shape) == (3, 2) and not e._validate_args
    np.testing.assert_array_equal(e.scale.numpy()[2], [1.0, 2.0])


# ---- sample moments: 20000 seeded draws -------------------------------------------------------------------------
MOMENTS = [
    ("normal", lambda D, T: D.Normal(T([0.5, -2.0]), T([1.0, 3.0]))),
    ("lognormal", lambda D, T: D.LogNormal(T([0.0, 0.5]), T([0.25, 0.5]))),
    ("laplace", lambda D, T: D.Laplace(T([1.0, -1.0]), T([0.5, 2.0]))),
    ("exponential", lambda D, T: D.Exponential(T([0.5, 4.0]))),
    ("uniform", lambda D, T: D.Uniform(T([-1.0, 2.0]), T([3.0, 2.5]))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", MOMENTS, ids=[s[0] for s in MOMENTS])
def test_sample_moments(spec, dtype):
    _, build = spec
    ember.manual_seed(1234)
    e = build(ember.distributions, lambda v: ember.tensor(np.array(v, dtype)))
    t = build(torch.distributions, lambda v: torch.tensor(np.array(v, dtype)))
    n = 20000
    draws = e.sample((n,))
    assert draws.numpy().dtype == dtype
    x = draws.numpy().astype(np.float64)
    mean, var = t.mean.numpy().astype(np.float64), t.variance.numpy().astype(np.float64)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / n))
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    assert np.all(t.support.check(torch.tensor(x)).numpy())


def test_icdf_inverts_cdf():
    d = ember.distributions.Laplace(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 0.5]))
    x = ember.tensor([[-1.0, 1.5], [0.3, 0.9]])
    np.testing.assert_allclose(d.icdf(d.cdf(x)).numpy(), x.numpy(), rtol=1e-5, atol=1e-5)


def test_same_seed_same_draws():
    d = ember.distributions.Normal(ember.zeros(3), ember.ones(3))
    ember.manual_seed(7)
    a = d.sample((4,))
    ember.manual_seed(7)
    b = d.sample((4,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
