"""MultivariateNormal (covariance, precision, scale_tril) and Independent against torch.distributions: log_prob,
entropy, moments and the three matrix forms (values and gradients), rsample gradients, shapes, sample moments."""
import numpy as np
import pytest
import torch
from dist_oracle import (
    DTYPES,
    arrays,
    check_method,
    check_rsample_grad,
    counts,
    lower_cholesky,
    pos,
    real,
    spd,
    spec_cases,
    unit,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import gradcheck

import ember

MVN = ["log_prob", "entropy", "mean", "mode", "variance", "covariance_matrix", "precision_matrix", "scale_tril"]

# (id, build(D, *params), param generators, value generator, methods)
SPECS = [
    ("mvn_cov", lambda D, m, c: D.MultivariateNormal(m, covariance_matrix=c), [real((2, 3)), spd(3)],
     real((4, 2, 3)), MVN),
    ("mvn_precision", lambda D, m, p: D.MultivariateNormal(m, precision_matrix=p), [real((3,)), spd(3)],
     real((2, 3)), MVN),
    ("mvn_scale_tril", lambda D, m, s: D.MultivariateNormal(m, scale_tril=s), [real((3,)), lower_cholesky(3)],
     real((2, 3)), MVN),
    ("mvn_batched_tril", lambda D, m, s: D.MultivariateNormal(m, scale_tril=s),
     [real((2, 1, 3)), lower_cholesky(3, (4,))], real((5, 2, 4, 3)), MVN),
    ("mvn_batched_cov_1d_loc", lambda D, m, c: D.MultivariateNormal(m, c), [real((2,)), spd(2, (3,))],
     real((2,)), ["log_prob", "entropy", "variance", "covariance_matrix"]),
    ("independent_normal", lambda D, m, s: D.Independent(D.Normal(m, s), 1), [real((2, 3)), pos((2, 3))],
     real((4, 2, 3)), ["log_prob", "entropy", "mean", "mode", "variance", "stddev"]),
    ("independent_normal_2", lambda D, m, s: D.Independent(D.Normal(m, s), 2), [real((2, 3)), pos((2, 3))],
     real((4, 2, 3)), ["log_prob", "entropy"]),
    ("independent_bernoulli", lambda D, p: D.Independent(D.Bernoulli(probs=p), 1), [unit((2, 3))],
     counts((2, 3), 2), ["log_prob", "entropy", "mean"]),
    ("independent_mvn", lambda D, m, s: D.Independent(D.MultivariateNormal(m, scale_tril=s), 1),
     [real((2, 3)), lower_cholesky(3)], real((2, 3)), ["log_prob", "entropy"]),
]

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec, method", spec_cases(SPECS))
def test_method_matches_torch(spec, method, dtype):
    _, build, gens, value_gen, _ = spec
    rtol, atol = (2e-5, 2e-5) if dtype == np.float32 else (1e-9, 1e-10)
    check_method(build, gens, value_gen, method, dtype, rtol=rtol, atol=atol)


def _sym(a):
    return (a + a.transpose(-2, -1)) / 2


# numerical gradchecks in float64: (id, fn(D, *inputs), input generators). A covariance or precision matrix is
# symmetrised first (a perturbation of one entry leaves the symmetric matrices; torch's gradient is symmetric)
GRADCHECK = [
    ("mvn_cov_log_prob", lambda D, m, a, x: D.MultivariateNormal(m, _sym(a), validate_args=False).log_prob(x),
     [real((2, 3)), spd(3), real((4, 2, 3))]),
    ("mvn_precision_log_prob",
     lambda D, m, a, x: D.MultivariateNormal(m, precision_matrix=_sym(a), validate_args=False).log_prob(x),
     [real((3,)), spd(3), real((2, 3))]),
    ("mvn_tril_log_prob", lambda D, m, s, x: D.MultivariateNormal(m, scale_tril=s, validate_args=False).log_prob(x),
     [real((2, 3)), lower_cholesky(3, (2,)), real((2, 3))]),
    ("mvn_tril_entropy", lambda D, s: D.MultivariateNormal(D_zeros(3), scale_tril=s, validate_args=False).entropy(),
     [lower_cholesky(3)]),
    ("independent_log_prob", lambda D, m, s, x: D.Independent(D.Normal(m, s), 1).log_prob(x),
     [real((2, 3)), pos((2, 3)), real((4, 2, 3))]),
    ("independent_entropy", lambda D, m, s: D.Independent(D.Normal(m, s), 2).entropy(), [real((2, 3)), pos((2, 3))]),
]


def D_zeros(n):
    return ember.zeros(n, dtype=ember.float64)


@pytest.mark.parametrize("spec", GRADCHECK, ids=[s[0] for s in GRADCHECK])
def test_gradcheck(spec):
    _, fn, gens = spec
    assert gradcheck(lambda *xs: fn(ember.distributions, *xs), *arrays(gens, np.float64, seed=1))


def test_mvn_rsample_gradients_scale_tril():
    def to_noise(p, x):
        return np.linalg.solve(p[1], (x - p[0])[..., None])[..., 0]

    def from_noise(p, z):
        return p[0] + (p[1] @ z.unsqueeze(-1)).squeeze(-1)

    for dtype in DTYPES:
        check_rsample_grad(lambda D, m, s: D.MultivariateNormal(m, scale_tril=s), [real((3,)), lower_cholesky(3)],
                           to_noise, from_noise, dtype, sample_shape=(4,))


def test_mvn_rsample_gradients_covariance():
    def to_noise(p, x):
        return np.linalg.solve(np.linalg.cholesky(p[1]), (x - p[0])[..., None])[..., 0]

    def from_noise(p, z):
        return p[0] + (torch.linalg.cholesky(p[1]) @ z.unsqueeze(-1)).squeeze(-1)

    for dtype in DTYPES:
        check_rsample_grad(lambda D, m, c: D.MultivariateNormal(m, c), [real((2, 3)), spd(3)], to_noise, from_noise,
                           dtype, sample_shape=(4,))


@settings(max_examples=20, deadline=None)
@given(loc_batch=st.sampled_from([(), (2,), (3, 1), (1, 2)]), cov_batch=st.sampled_from([(), (2,), (3, 1)]),
       n=st.integers(1, 3), sample_shape=st.lists(st.integers(1, 3), max_size=2).map(tuple))
def test_mvn_shapes_match_torch(loc_batch, cov_batch, n, sample_shape):
    try:
        np.broadcast_shapes(loc_batch, cov_batch)
    except ValueError:
        return
    rng = np.random.default_rng(0)
    loc = rng.standard_normal(loc_batch + (n,)).astype(np.float32)
    cov = spd(n, cov_batch)(rng, np.float32)
    e = ember.distributions.MultivariateNormal(ember.tensor(loc), ember.tensor(cov))
    t = torch.distributions.MultivariateNormal(torch.tensor(loc), torch.tensor(cov))
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    for draw in ("sample", "rsample"):
        x = getattr(e, draw)(sample_shape)
        assert tuple(x.shape) == tuple(getattr(t, draw)(sample_shape).shape) and x.dtype == ember.float32
        got = e.log_prob(x)
        want = t.log_prob(torch.tensor(x.detach().numpy()))
        np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-4, atol=1e-4)
    new_shape = (2,) + tuple(e.batch_shape)
    want = t.expand(new_shape).sample(sample_shape).shape
    assert tuple(e.expand(new_shape).sample(sample_shape).shape) == tuple(want)


def test_independent_shapes_and_flags():
    base = ember.distributions.Normal(ember.zeros(4, 2, 3), ember.ones(4, 2, 3))
    d = ember.distributions.Independent(base, 2)
    assert tuple(d.batch_shape) == (4,) and tuple(d.event_shape) == (2, 3)
    assert d.has_rsample and not d.has_enumerate_support
    assert tuple(d.rsample((5,)).shape) == (5, 4, 2, 3)
    assert tuple(d.expand((3, 4)).sample().shape) == (3, 4, 2, 3)
    assert repr(d).startswith("Independent(Normal(")
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        ember.distributions.Independent(base, 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mvn_sample_moments(dtype):
    ember.manual_seed(3)
    loc = np.array([1.0, -2.0, 0.5], dtype)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]], dtype)
    d = ember.distributions.MultivariateNormal(ember.tensor(loc), ember.tensor(cov))
    draws = d.sample((20000,))
    assert draws.numpy().dtype == dtype
    x = draws.numpy().astype(np.float64)
    np.testing.assert_array_less(np.abs(x.mean(0) - loc), 5 * np.sqrt(np.diag(cov) / 20000))
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)
