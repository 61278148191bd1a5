"""kl_divergence against torch.distributions.kl_divergence (values and gradients, float32 and float64), the
infinite and zero cases, NotImplementedError for unregistered pairs, and register_kl dispatch."""
import numpy as np
import pytest
import torch
from dist_oracle import DTYPES, arrays, lower_cholesky, pos, real, spd, uniform, unit
from oracle import check_op, gradcheck

import ember

# (id, build_p(D, *params_p), build_q(D, *params_q), generators of p's params, of q's params)
PAIRS = [
    ("normal", lambda D, m, s: D.Normal(m, s), lambda D, m, s: D.Normal(m, s), [real((3,)), pos((3,))],
     [real((2, 3)), pos((2, 3))]),
    ("bernoulli_probs", lambda D, p: D.Bernoulli(probs=p), lambda D, p: D.Bernoulli(probs=p), [unit((3,))],
     [unit((3,))]),
    ("bernoulli_logits", lambda D, lg: D.Bernoulli(logits=lg), lambda D, lg: D.Bernoulli(logits=lg), [real((3,))],
     [real((3,))]),
    ("categorical_probs", lambda D, p: D.Categorical(probs=p), lambda D, p: D.Categorical(probs=p), [pos((2, 4))],
     [pos((2, 4))]),
    ("categorical_logits", lambda D, lg: D.Categorical(logits=lg), lambda D, lg: D.Categorical(logits=lg),
     [real((2, 4))], [real((3, 2, 4))]),
    ("one_hot_categorical", lambda D, p: D.OneHotCategorical(probs=p), lambda D, lg: D.OneHotCategorical(logits=lg),
     [pos((2, 4))], [real((2, 4))]),
    ("uniform_inside", lambda D, lo, hi: D.Uniform(lo, hi), lambda D, lo, hi: D.Uniform(lo, hi),
     [uniform((3,), -1, 0), uniform((3,), 1, 2)], [uniform((3,), -3, -2), uniform((3,), 2, 3)]),
    ("uniform_outside", lambda D, lo, hi: D.Uniform(lo, hi), lambda D, lo, hi: D.Uniform(lo, hi),
     [uniform((3,), -3, -2), uniform((3,), 1, 2)], [uniform((3,), -1, 0), uniform((3,), 2, 3)]),
    ("laplace", lambda D, m, s: D.Laplace(m, s), lambda D, m, s: D.Laplace(m, s), [real((3,)), pos((3,))],
     [real((3,)), pos((3,))]),
    ("exponential", lambda D, r: D.Exponential(r), lambda D, r: D.Exponential(r), [pos((3,))], [pos((2, 3))]),
    ("lognormal", lambda D, m, s: D.LogNormal(m, s), lambda D, m, s: D.LogNormal(m, s), [real((3,)), pos((3,))],
     [real((3,)), pos((3,))]),
    ("poisson", lambda D, r: D.Poisson(r), lambda D, r: D.Poisson(r), [pos((3,))], [pos((3,))]),
    ("geometric", lambda D, p: D.Geometric(probs=p), lambda D, p: D.Geometric(probs=p), [unit((3,))], [unit((3,))]),
    ("binomial", lambda D, p: D.Binomial(8, probs=p), lambda D, p: D.Binomial(8, probs=p), [unit((3,))],
     [unit((3,))]),
    ("mvn_cov_tril", lambda D, m, c: D.MultivariateNormal(m, c), lambda D, m, s: D.MultivariateNormal(m, scale_tril=s),
     [real((2, 3)), spd(3)], [real((3,)), lower_cholesky(3)]),
    ("mvn_batched", lambda D, m, s: D.MultivariateNormal(m, scale_tril=s),
     lambda D, m, p: D.MultivariateNormal(m, precision_matrix=p), [real((3,)), lower_cholesky(3, (2,))],
     [real((4, 1, 3)), spd(3)]),
    ("independent_normal", lambda D, m, s: D.Independent(D.Normal(m, s), 1),
     lambda D, m, s: D.Independent(D.Normal(m, s), 1), [real((2, 3)), pos((2, 3))], [real((2, 3)), pos((2, 3))]),
    ("independent_bernoulli", lambda D, p: D.Independent(D.Bernoulli(probs=p), 2),
     lambda D, p: D.Independent(D.Bernoulli(probs=p), 2), [unit((2, 3))], [unit((2, 3))]),
]


def _kl_maker(build_p, build_q, n_p):
    def make(D):
        return lambda *ts: D.kl_divergence(build_p(D, *ts[:n_p]), build_q(D, *ts[n_p:]))
    return make


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", PAIRS, ids=[s[0] for s in PAIRS])
def test_kl_matches_torch(spec, dtype):
    _, build_p, build_q, gens_p, gens_q = spec
    make = _kl_maker(build_p, build_q, len(gens_p))
    rtol, atol = (2e-5, 2e-5) if dtype == np.float32 else (1e-9, 1e-10)
    check_op(make(ember.distributions), make(torch.distributions), *arrays(gens_p + gens_q, dtype), rtol=rtol,
             atol=atol)


# symmetric-matrix parameters leave their constraint under a one-entry perturbation: gradcheck the rest
GRADCHECK = [s for s in PAIRS if not s[0].startswith("mvn") and s[0] not in ("binomial", "uniform_outside")]


@pytest.mark.parametrize("spec", GRADCHECK, ids=[s[0] for s in GRADCHECK])
def test_kl_gradcheck(spec):
    _, build_p, build_q, gens_p, gens_q = spec
    fn = _kl_maker(build_p, build_q, len(gens_p))(ember.distributions)
    assert gradcheck(fn, *arrays(gens_p + gens_q, np.float64, seed=2))


def test_mvn_kl_gradcheck_symmetrised():
    def fn(m1, a, m2, s):
        D = ember.distributions
        p = D.MultivariateNormal(m1, (a + a.transpose(-2, -1)) / 2, validate_args=False)
        return D.kl_divergence(p, D.MultivariateNormal(m2, scale_tril=s, validate_args=False))
    assert gradcheck(fn, *arrays([real((2, 3)), spd(3), real((3,)), lower_cholesky(3)], np.float64, seed=2))


def test_kl_of_a_distribution_with_itself_is_zero():
    D = ember.distributions
    p = D.MultivariateNormal(ember.tensor([1.0, 2.0]), ember.tensor([[2.0, 0.3], [0.3, 1.0]]))
    np.testing.assert_allclose(D.kl_divergence(p, p).numpy(), 0.0, atol=1e-6)
    c = D.Categorical(probs=ember.tensor([0.2, 0.0, 0.8]))
    assert D.kl_divergence(c, c).item() == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("p_probs, q_probs", [([0.0, 0.3, 1.0, 0.5], [0.5, 0.0, 1.0, 1.0]),
                                              ([[0.0, 1.0], [0.5, 0.5]], [[0.5, 0.5], [1.0, 0.0]])])
def test_kl_zero_probabilities_match_torch(p_probs, q_probs):
    p, q = np.array(p_probs, np.float32), np.array(q_probs, np.float32)
    family = "Bernoulli" if p.ndim == 1 else "Categorical"
    got = ember.distributions.kl_divergence(getattr(ember.distributions, family)(probs=ember.tensor(p)),
                                            getattr(ember.distributions, family)(probs=ember.tensor(q)))
    want = torch.distributions.kl_divergence(getattr(torch.distributions, family)(probs=torch.tensor(p)),
                                             getattr(torch.distributions, family)(probs=torch.tensor(q)))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


# ---- errors and dispatch --------------------------------------------------------------------------------------
UNREGISTERED = [
    ("categorical_normal", lambda D: (D.Categorical(logits=D_t(D, [0.0, 1.0])), D.Normal(0.0, 1.0))),
    ("exponential_laplace", lambda D: (D.Exponential(1.0), D.Laplace(0.0, 1.0))),
    ("mvn_normal", lambda D: (D.MultivariateNormal(D_t(D, [0.0]), scale_tril=D_t(D, [[1.0]])), D.Normal(0.0, 1.0))),
    ("independent_normal", lambda D: (D.Independent(D.Normal(D_t(D, [0.0]), D_t(D, [1.0])), 1), D.Normal(0.0, 1.0))),
    ("independent_ndims_differ", lambda D: (D.Independent(D.Normal(D_t(D, [[0.0]]), D_t(D, [[1.0]])), 1),
                                            D.Independent(D.Normal(D_t(D, [[0.0]]), D_t(D, [[1.0]])), 2))),
]


def D_t(D, v):
    return (ember.tensor if D is ember.distributions else torch.tensor)(v)


@pytest.mark.parametrize("spec", UNREGISTERED, ids=[s[0] for s in UNREGISTERED])
def test_unregistered_pairs_raise_not_implemented(spec):
    _, make = spec
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(*make(torch.distributions))
    with pytest.raises(NotImplementedError):
        ember.distributions.kl_divergence(*make(ember.distributions))


def test_unregistered_message_names_the_types():
    D = ember.distributions
    with pytest.raises(NotImplementedError, match="p type Categorical and q type Normal"):
        D.kl_divergence(D.Categorical(logits=ember.zeros(2)), D.Normal(0.0, 1.0))


def test_mvn_event_shapes_must_agree():
    for D in (torch.distributions, ember.distributions):
        p = D.MultivariateNormal(D_t(D, [0.0, 0.0]), scale_tril=D_t(D, [[1.0, 0.0], [0.0, 1.0]]))
        q = D.MultivariateNormal(D_t(D, [0.0]), scale_tril=D_t(D, [[1.0]]))
        with pytest.raises(ValueError, match="different event shapes"):
            D.kl_divergence(p, q)


def test_register_kl_dispatches_to_most_specific_and_rejects_non_distributions():
    D = ember.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return ember.tensor(42.0)

    try:
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 2.0)).item() == 42.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0  # (Normal, Normal) applies
    finally:
        from ember.distributions import kl as kl_module

        del kl_module._KL_REGISTRY[MyNormal, D.Normal]
        kl_module._KL_MEMO.clear()
    with pytest.raises(TypeError, match="type_p"):
        D.register_kl(int, D.Normal)
