"""Bernoulli, Categorical, OneHotCategorical, Poisson, Geometric and Binomial against torch.distributions:
log_prob, entropy, moments and mode (values and gradients, float32 and float64), probs <-> logits, sample
shapes, sample frequencies and moments, enumerate_support."""
import numpy as np
import pytest
import torch
from dist_oracle import (
    DTYPES,
    check_method,
    counts,
    gradcheck_method,
    indices,
    one_hot,
    pos,
    real,
    spec_cases,
    unit,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember

BINARY = ["log_prob", "entropy", "mean", "variance", "stddev", "mode"]

# (id, build(D, *params), param generators, value generator, methods)
SPECS = [
    ("bernoulli_probs", lambda D, p: D.Bernoulli(probs=p), [unit((3,))], counts((2, 3), 2), BINARY),
    ("bernoulli_logits", lambda D, lg: D.Bernoulli(logits=lg), [real((3,))], counts((2, 3), 2),
     BINARY + ["probs"]),
    ("bernoulli_probs_logits", lambda D, p: D.Bernoulli(probs=p), [unit((3,))], None, ["logits"]),
    ("categorical_probs", lambda D, p: D.Categorical(probs=p), [pos((3, 4))], indices((2, 3), 4),
     ["log_prob", "entropy", "mean", "variance", "mode", "logits", "probs"]),
    ("categorical_logits", lambda D, lg: D.Categorical(logits=lg), [real((3, 4))], indices((2, 3), 4),
     ["log_prob", "entropy", "mode", "logits", "probs"]),
    ("categorical_1d", lambda D, lg: D.Categorical(logits=lg), [real((5,))], indices((4,), 5),
     ["log_prob", "entropy", "mode"]),
    ("one_hot_probs", lambda D, p: D.OneHotCategorical(probs=p), [pos((3, 4))], one_hot((2, 3, 4)),
     ["log_prob", "entropy", "mean", "variance", "mode"]),
    ("one_hot_logits", lambda D, lg: D.OneHotCategorical(logits=lg), [real((3, 4))], one_hot((3, 4)),
     ["log_prob", "entropy", "mean", "logits"]),
    ("poisson", lambda D, r: D.Poisson(r), [pos((3,), 0.5, 6.0)], counts((2, 3), 9),
     ["log_prob", "mean", "variance", "stddev", "mode"]),
    ("geometric_probs", lambda D, p: D.Geometric(probs=p), [unit((3,))], counts((2, 3), 6), BINARY),
    ("geometric_logits", lambda D, lg: D.Geometric(logits=lg), [real((3,))], counts((2, 3), 6), BINARY),
    ("binomial_probs", lambda D, p: D.Binomial(10, probs=p), [unit((3,))], counts((2, 3), 11),
     ["log_prob", "entropy", "mean", "variance", "mode"]),
    ("binomial_logits_counts", lambda D, n, lg: D.Binomial(n, logits=lg), [counts((3,), 7), real((3,))],
     counts((2, 3), 1), ["log_prob", "mean", "variance", "mode"]),
]

# (total_count must stay a whole number, so the case with a tensor count is compared with torch only)
GRADCHECK = [(s, m) for s in SPECS for m in ("log_prob", "entropy") if m in s[4] and s[0] != "binomial_logits_counts"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec, method", spec_cases(SPECS))
def test_method_matches_torch(spec, method, dtype):
    _, build, gens, value_gen, _ = spec
    check_method(build, gens, value_gen, method, dtype)


@pytest.mark.parametrize("spec, method", [pytest.param(s, m, id=f"{s[0]}-{m}") for s, m in GRADCHECK])
def test_gradcheck(spec, method):
    _, build, gens, value_gen, _ = spec
    gradcheck_method(build, gens, value_gen, method, perturb_value=False)


def test_categorical_zero_probability_entropy_and_log_prob():
    p = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]], np.float32)
    e = ember.distributions.Categorical(probs=ember.tensor(p))
    t = torch.distributions.Categorical(probs=torch.tensor(p))
    np.testing.assert_allclose(e.entropy().numpy(), t.entropy().numpy(), rtol=1e-6)
    v = np.array([0, 2])
    np.testing.assert_allclose(e.log_prob(ember.tensor(v)).numpy(), t.log_prob(torch.tensor(v)).numpy(), rtol=1e-6)


def test_bernoulli_mode_is_nan_at_one_half():
    m = ember.distributions.Bernoulli(probs=ember.tensor([0.2, 0.5, 0.9])).mode
    np.testing.assert_array_equal(m.numpy(), [0.0, np.nan, 1.0])


# ---- shapes --------------------------------------------------------------------------------------------------
SHAPE_FAMILIES = {
    "Bernoulli": lambda D, a: D.Bernoulli(logits=a),
    "Geometric": lambda D, a: D.Geometric(logits=a),
    "Poisson": lambda D, a: D.Poisson(a.abs() + 0.5),
    "Binomial": lambda D, a: D.Binomial(5, logits=a),
    "Categorical": lambda D, a: D.Categorical(logits=a),
    "OneHotCategorical": lambda D, a: D.OneHotCategorical(logits=a),
}


@settings(max_examples=20, deadline=None)
@given(family=st.sampled_from(sorted(SHAPE_FAMILIES)),
       shapes=mutually_broadcastable_shapes(num_shapes=1, min_dims=1, max_dims=3, max_side=3),
       sample_shape=st.lists(st.integers(1, 3), max_size=2).map(tuple))
def test_sample_shapes_match_torch(family, shapes, sample_shape):
    build = SHAPE_FAMILIES[family]
    a = np.random.default_rng(0).standard_normal(shapes.input_shapes[0]).astype(np.float32)
    e, t = build(ember.distributions, ember.tensor(a)), build(torch.distributions, torch.tensor(a))
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    x, xt = e.sample(sample_shape), t.sample(sample_shape)
    assert tuple(x.shape) == tuple(xt.shape) and x.dtype.name == str(xt.dtype).split(".")[-1]
    assert not x.requires_grad
    lp = e.log_prob(x)
    assert tuple(lp.shape) == tuple(t.log_prob(torch.tensor(x.numpy())).shape)
    new_shape = (2,) + tuple(e.batch_shape)
    want = t.expand(new_shape).sample(sample_shape).shape
    assert tuple(e.expand(new_shape).sample(sample_shape).shape) == tuple(want)


@pytest.mark.parametrize("family", ["Bernoulli", "Categorical", "OneHotCategorical", "Binomial"])
def test_enumerate_support_matches_torch(family):
    a = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    e, t = SHAPE_FAMILIES[family](ember.distributions, ember.tensor(a)), SHAPE_FAMILIES[family](torch.distributions,
                                                                                            torch.tensor(a))
    for expand in (True, False):
        got, want = e.enumerate_support(expand), t.enumerate_support(expand)
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# ---- sample frequencies and moments: 20000 seeded draws --------------------------------------------------------
MOMENTS = [
    ("bernoulli", lambda D, T: D.Bernoulli(probs=T([0.1, 0.5, 0.97]))),
    ("poisson", lambda D, T: D.Poisson(T([0.3, 4.0, 25.0]))),
    ("geometric", lambda D, T: D.Geometric(probs=T([0.2, 0.6, 0.95]))),
    ("binomial", lambda D, T: D.Binomial(T([1.0, 10.0, 40.0]), probs=T([0.5, 0.3, 0.9]))),
    ("one_hot", lambda D, T: D.OneHotCategorical(probs=T([0.1, 0.2, 0.7]))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", MOMENTS, ids=[s[0] for s in MOMENTS])
def test_sample_moments(spec, dtype):
    _, build = spec
    ember.manual_seed(99)
    e = build(ember.distributions, lambda v: ember.tensor(np.array(v, dtype)))
    t = build(torch.distributions, lambda v: torch.tensor(np.array(v, dtype)))
    n = 20000
    draws = e.sample((n,))
    assert draws.numpy().dtype == dtype
    x = draws.numpy().astype(np.float64)
    mean, var = t.mean.numpy().astype(np.float64), t.variance.numpy().astype(np.float64)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / n) + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    assert np.all(t.support.check(torch.tensor(x)).numpy())


def test_categorical_frequencies_and_zero_probability():
    ember.manual_seed(5)
    p = np.array([[0.0, 0.25, 0.75, 0.0], [0.5, 0.0, 0.0, 0.5]], np.float32)
    x = ember.distributions.Categorical(probs=ember.tensor(p)).sample((20000,)).numpy()
    assert x.dtype == np.int64 and x.shape == (20000, 2)
    freq = np.stack([(x == k).mean(0) for k in range(4)], -1)
    assert np.all(freq[p == 0] == 0)
    np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / 20000) + 1e-12)


def test_categorical_sample_unnormalised_logits():
    ember.manual_seed(0)
    x = ember.distributions.Categorical(logits=ember.tensor([0.0, 0.0, np.log(2.0)])).sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(x, minlength=3) / 20000, [0.25, 0.25, 0.5], atol=0.02)
