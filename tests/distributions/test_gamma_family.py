"""Gamma, Beta and Dirichlet against torch.distributions: log_prob, entropy, moments, mode and Gamma's cdf (values
and gradients), the implicit reparameterization gradient of gamma draws (against SciPy's incomplete gamma and
torch's approximation), expected rsample gradients, sample shapes and moments, KL divergences, validation."""
import numpy as np
import pytest
import scipy.special as sp
import torch
from dist_oracle import (
    DTYPES,
    arrays,
    check_method,
    gradcheck_method,
    pos,
    spec_cases,
    uniform,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import check_op

import ember

MOMENTS_AND_MODE = ["mean", "variance", "stddev", "mode"]


def simplex(shape):
    def gen(rng, dt):
        v = rng.uniform(0.1, 1.0, shape)
        return (v / v.sum(-1, keepdims=True)).astype(dt)
    return gen


# (id, build(D, *params), param generators, value generator, methods)
SPECS = [
    ("gamma", lambda D, a, r: D.Gamma(a, r), [pos((3,), 0.5, 4.0), pos((3,))], pos((2, 3), 0.1, 4.0),
     ["log_prob", "entropy"] + MOMENTS_AND_MODE),
    ("gamma_number_rate", lambda D, a: D.Gamma(a, 2.0), [pos((3,), 0.5, 4.0)], pos((3,), 0.1, 4.0),
     ["log_prob", "entropy", "mean"]),
    ("beta", lambda D, a, b: D.Beta(a, b), [pos((3,), 0.5, 4.0), pos((3,), 0.5, 4.0)], uniform((2, 3), 0.05, 0.95),
     ["log_prob", "entropy", "mean", "variance", "concentration1", "concentration0"]),
    ("beta_mode", lambda D, a, b: D.Beta(a, b), [pos((3,), 1.5, 4.0), pos((3,), 1.5, 4.0)], None, ["mode"]),
    ("dirichlet", lambda D, a: D.Dirichlet(a), [pos((2, 4), 0.5, 4.0)], simplex((3, 2, 4)),
     ["log_prob", "entropy"] + MOMENTS_AND_MODE),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec, method", spec_cases(SPECS))
def test_method_matches_torch(spec, method, dtype):
    _, build, gens, value_gen, _ = spec
    rtol, atol = (2e-5, 2e-5) if dtype == np.float32 else (1e-9, 1e-10)
    check_method(build, gens, value_gen, method, dtype, rtol=rtol, atol=atol)


GRADCHECK = [(s, m) for s in SPECS for m in ("log_prob", "entropy") if m in s[4]]


@pytest.mark.parametrize("spec, method", [pytest.param(s, m, id=f"{s[0]}-{m}") for s, m in GRADCHECK])
def test_gradcheck(spec, method):
    _, build, gens, value_gen, _ = spec
    gradcheck_method(build, gens, value_gen, method, perturb_value=False)


def test_mode_with_small_concentrations_matches_torch():
    c = np.array([[0.2, 0.5, 0.3], [2.0, 3.0, 0.5]], np.float32)
    got = ember.distributions.Dirichlet(ember.tensor(c)).mode.numpy()
    np.testing.assert_allclose(got, torch.distributions.Dirichlet(torch.tensor(c)).mode.numpy(), rtol=1e-6)
    a, b = np.array([0.5, 2.0, 0.7], np.float32), np.array([1.0, 3.0, 0.4], np.float32)
    got = ember.distributions.Beta(ember.tensor(a), ember.tensor(b)).mode.numpy()
    np.testing.assert_allclose(got, torch.distributions.Beta(torch.tensor(a), torch.tensor(b)).mode.numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gamma_cdf_values_and_gradients(dtype):
    """cdf against torch; its gradient in the value and the rate against torch (torch has none in the
    concentration; ember's is checked against SciPy's incomplete gamma by central differences)."""
    a, rate, x = arrays([pos((3,), 0.5, 30.0), pos((3,)), pos((2, 3), 0.1, 20.0)], dtype)
    check_op(lambda r, v: ember.distributions.Gamma(ember.tensor(a), r).cdf(v),
             lambda r, v: torch.distributions.Gamma(torch.tensor(a), r).cdf(v), rate, x,
             rtol=2e-5 if dtype == np.float32 else 1e-9, atol=1e-6 if dtype == np.float32 else 1e-11)
    conc = ember.tensor(a.astype(np.float64), requires_grad=True)
    ember.distributions.Gamma(conc, ember.tensor(rate.astype(np.float64))).cdf(ember.tensor(x.astype(np.float64))) \
        .sum().backward()
    h = 1e-6 * a.astype(np.float64)
    z = rate.astype(np.float64) * x.astype(np.float64)
    want = ((sp.gammainc(a + h, z) - sp.gammainc(a - h, z)) / (2 * h)).sum(0)
    np.testing.assert_allclose(conc.grad.numpy(), want, rtol=1e-6, atol=1e-9)


# ---- rsample: the implicit reparameterization gradient -----------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.05, 0.5, 1.0, 3.0, 30.0, 400.0])
def test_standard_gamma_gradient_matches_implicit_derivative(alpha):
    """dx/dalpha at ember's own draws x: SciPy's -dP/dalpha / density by central differences (tight), and torch's
    _standard_gamma_grad (an approximation, loose)."""
    a = ember.tensor(np.full(300, alpha), requires_grad=True)
    x = ember.distributions.Gamma(a, ember.ones(300, dtype=ember.float64)).rsample()
    x.sum().backward()
    xs = x.detach().numpy()
    h = 1e-6 * alpha
    dp = (sp.gammainc(alpha + h, xs) - sp.gammainc(alpha - h, xs)) / (2 * h)
    want = -dp / np.exp((alpha - 1) * np.log(xs) - xs - sp.gammaln(alpha))
    np.testing.assert_allclose(a.grad.numpy(), want, rtol=2e-5)
    approx = torch._standard_gamma_grad(torch.tensor(a.detach().numpy()), torch.tensor(xs)).numpy()
    np.testing.assert_allclose(a.grad.numpy(), approx, rtol=2e-3)


def test_gamma_rsample_gradient_in_rate():
    a = np.array([0.7, 2.0, 5.0])
    rate = ember.tensor([0.5, 1.0, 3.0], dtype=ember.float64, requires_grad=True)
    x = ember.distributions.Gamma(ember.tensor(a), rate).rsample((4,))
    (x * x).sum().backward()
    xs = x.detach().numpy()
    np.testing.assert_allclose(rate.grad.numpy(), (2 * xs * -xs / rate.detach().numpy()).sum(0), rtol=1e-10)


# (id, build(D, T, params) -> distribution, statistic(x), d statistic-mean / d params for the parameters given)
EXPECTED_GRADS = [
    ("gamma", lambda D, p: D.Gamma(p[0], p[1]), lambda x: x, [np.array([0.6, 3.0]), np.array([2.0, 0.5])],
     lambda p: [1 / p[1], -p[0] / p[1] ** 2]),
    ("beta", lambda D, p: D.Beta(p[0], p[1]), lambda x: x, [np.array([0.6, 3.0]), np.array([2.0, 0.8])],
     lambda p: [p[1] / (p[0] + p[1]) ** 2, -p[0] / (p[0] + p[1]) ** 2]),
    ("dirichlet", lambda D, p: D.Dirichlet(p[0]), lambda x: x[..., 0], [np.array([0.7, 2.0, 1.5])],
     lambda p: [np.array([p[0][1:].sum(), -p[0][0], -p[0][0]]) / p[0].sum() ** 2]),
]


@pytest.mark.parametrize("spec", EXPECTED_GRADS, ids=[s[0] for s in EXPECTED_GRADS])
def test_rsample_gradient_is_unbiased(spec):
    """The gradient of the sample mean of a statistic over 20000 reparameterized draws is near the gradient of
    its expectation."""
    _, build, stat, params, exact = spec
    ember.manual_seed(11)
    ps = [ember.tensor(p, requires_grad=True) for p in params]
    d = build(ember.distributions, ps)
    x = d.rsample((20000,))
    assert x.requires_grad
    stat(x).mean(0).sum().backward()
    for p, want in zip(ps, exact(params)):
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=0.05, atol=2e-3)


# ---- samples: shapes, dtypes, moments -----------------------------------------------------------------------
SHAPE_FAMILIES = {
    "Gamma": lambda D, a: D.Gamma(a.abs() + 0.3, 2.0),
    "Beta": lambda D, a: D.Beta(a.abs() + 0.3, a.abs() + 1.0),
    "Dirichlet": lambda D, a: D.Dirichlet(a.abs() + 0.3),
}


@settings(max_examples=20, deadline=None)
@given(family=st.sampled_from(sorted(SHAPE_FAMILIES)), shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       sample_shape=st.lists(st.integers(1, 3), max_size=2).map(tuple))
def test_sample_shapes_match_torch(family, shape, sample_shape):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    e = SHAPE_FAMILIES[family](ember.distributions, ember.tensor(a))
    t = SHAPE_FAMILIES[family](torch.distributions, torch.tensor(a))
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    for draw in ("sample", "rsample"):
        x = getattr(e, draw)(sample_shape)
        assert tuple(x.shape) == tuple(getattr(t, draw)(sample_shape).shape) and x.dtype == ember.float32
        assert tuple(e.log_prob(x).shape) == tuple(t.log_prob(torch.tensor(x.detach().numpy())).shape)
    new_shape = (2,) + tuple(e.batch_shape)
    want = t.expand(new_shape).sample(sample_shape).shape
    assert tuple(e.expand(new_shape).sample(sample_shape).shape) == tuple(want)


MOMENTS = [
    ("gamma", lambda D, T: D.Gamma(T([0.3, 2.0, 50.0]), T([1.0, 0.5, 4.0]))),
    ("beta", lambda D, T: D.Beta(T([0.5, 2.0, 10.0]), T([0.5, 5.0, 1.0]))),
    ("dirichlet", lambda D, T: D.Dirichlet(T([0.3, 1.0, 4.0]))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", MOMENTS, ids=[s[0] for s in MOMENTS])
def test_sample_moments(spec, dtype):
    _, build = spec
    ember.manual_seed(21)
    e = build(ember.distributions, lambda v: ember.tensor(np.array(v, dtype)))
    t = build(torch.distributions, lambda v: torch.tensor(np.array(v, dtype)))
    draws = e.sample((20000,))
    assert draws.numpy().dtype == dtype
    x = draws.numpy().astype(np.float64)
    mean, var = t.mean.numpy().astype(np.float64), t.variance.numpy().astype(np.float64)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / 20000))
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    assert np.all(t.support.check(torch.tensor(x)).numpy())


# ---- KL and validation ------------------------------------------------------------------------------------------
KL_PAIRS = [
    ("gamma", lambda D, a, b, c, d: (D.Gamma(a, b), D.Gamma(c, d)), [pos((3,))] * 4),
    ("beta", lambda D, a, b, c, d: (D.Beta(a, b), D.Beta(c, d)), [pos((3,))] * 4),
    ("dirichlet", lambda D, a, b: (D.Dirichlet(a), D.Dirichlet(b)), [pos((2, 3)), pos((2, 3))]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", KL_PAIRS, ids=[s[0] for s in KL_PAIRS])
def test_kl_matches_torch(spec, dtype):
    _, build, gens = spec
    rtol, atol = (2e-5, 2e-5) if dtype == np.float32 else (1e-9, 1e-10)
    check_op(lambda *ts: ember.distributions.kl_divergence(*build(ember.distributions, *ts)),
             lambda *ts: torch.distributions.kl_divergence(*build(torch.distributions, *ts)),
             *arrays(gens, dtype), rtol=rtol, atol=atol)


INVALID = [
    ("gamma_concentration", lambda D, L: D.Gamma(L([-1.0]), L([1.0])), "Expected parameter concentration"),
    ("gamma_rate", lambda D, L: D.Gamma(1.0, 0.0), "Expected parameter rate"),
    ("beta", lambda D, L: D.Beta(L([1.0]), L([0.0])), "Expected parameter concentration"),
    ("dirichlet_0d", lambda D, L: D.Dirichlet(L(1.0)), "at least one-dimensional"),
    ("dirichlet_negative", lambda D, L: D.Dirichlet(L([1.0, -1.0])), "Expected parameter concentration"),
    ("gamma_value", lambda D, L: D.Gamma(1.0, 1.0).log_prob(L(-1.0)), "Expected value argument"),
    ("beta_value", lambda D, L: D.Beta(1.0, 1.0).log_prob(L(1.5)), "Expected value argument"),
    ("dirichlet_value", lambda D, L: D.Dirichlet(L([1.0, 1.0])).log_prob(L([0.5, 0.6])), "Expected value argument"),
]


@pytest.mark.parametrize("spec", INVALID, ids=[s[0] for s in INVALID])
def test_invalid_raise_value_error(spec):
    _, make, fragment = spec
    with pytest.raises(ValueError, match=fragment):
        make(torch.distributions, torch.tensor)
    with pytest.raises(ValueError, match=fragment):
        make(ember.distributions, ember.tensor)
