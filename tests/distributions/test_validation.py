"""constraints (check, repr, flags) against torch.distributions.constraints; argument and sample validation
(same exception types as torch), Distribution.set_default_validate_args; sampling under ember.compile."""
import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as ED


def _t(lib, v, dtype=None):
    return (ember.tensor if lib is ember else torch.tensor)(v) if dtype is None else \
        (ember.tensor(v, dtype=getattr(ember, dtype)) if lib is ember else torch.tensor(v, dtype=getattr(torch, dtype)))


# ---- constraints ---------------------------------------------------------------------------------------------
VEC = [-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, math.nan, math.inf]
MATS = [[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.2], [0.2, 1.0]], [[1.0, 2.0], [2.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]],
        [[1.0, 0.3], [0.0, 1.0]]]

# (id, make(C, lib) -> constraint, value)
CONSTRAINTS = [
    ("real", lambda C, L: C.real, VEC),
    ("positive", lambda C, L: C.positive, VEC),
    ("nonnegative", lambda C, L: C.nonnegative, VEC),
    ("unit_interval", lambda C, L: C.unit_interval, VEC),
    ("boolean", lambda C, L: C.boolean, VEC),
    ("nonnegative_integer", lambda C, L: C.nonnegative_integer, VEC),
    ("positive_integer", lambda C, L: C.positive_integer, VEC),
    ("interval", lambda C, L: C.interval(-1.0, 1.0), VEC),
    ("interval_tensor_bounds", lambda C, L: C.interval(_t(L, [0.0] * 9), _t(L, [1.0] * 9)), VEC),
    ("half_open_interval", lambda C, L: C.half_open_interval(0.0, 1.0), VEC),
    ("greater_than", lambda C, L: C.greater_than(0.5), VEC),
    ("greater_than_tensor", lambda C, L: C.greater_than(_t(L, 0.5)), VEC),
    ("greater_than_eq", lambda C, L: C.greater_than_eq(0.5), VEC),
    ("less_than", lambda C, L: C.less_than(1.0), VEC),
    ("integer_interval", lambda C, L: C.integer_interval(0, 2), VEC),
    ("simplex", lambda C, L: C.simplex, [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1], [1.0, 0.0]]),
    ("one_hot", lambda C, L: C.one_hot, [[0.0, 1.0], [1.0, 1.0], [0.5, 0.5], [1.0, 0.0]]),
    ("real_vector", lambda C, L: C.real_vector, [[0.0, 1.0], [math.nan, 1.0]]),
    ("independent_positive", lambda C, L: C.independent(C.positive, 1), [[1.0, 2.0], [1.0, -1.0]]),
    ("lower_triangular", lambda C, L: C.lower_triangular, MATS),
    ("lower_cholesky", lambda C, L: C.lower_cholesky, MATS),
    ("square", lambda C, L: C.square, MATS),
    ("symmetric", lambda C, L: C.symmetric, MATS),
    ("positive_definite", lambda C, L: C.positive_definite, MATS),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", CONSTRAINTS, ids=[s[0] for s in CONSTRAINTS])
def test_constraint_check_matches_torch(spec, dtype):
    _, make, value = spec
    ec, tc = make(ED.constraints, ember), make(TD.constraints, torch)
    got, want = ec.check(_t(ember, value, dtype)), tc.check(_t(torch, value, dtype))
    assert got.dtype == ember.bool and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert (ec.is_discrete, ec.event_dim) == (tc.is_discrete, tc.event_dim)
    if "tensor" not in spec[0]:
        assert repr(ec) == repr(tc)


def test_constraint_check_on_integer_values():
    v = [0, 1, 2, 5]
    for c in ("nonnegative_integer", "boolean"):
        got = getattr(ED.constraints, c).check(ember.tensor(v))
        np.testing.assert_array_equal(got.numpy(), getattr(TD.constraints, c).check(torch.tensor(v)).numpy())
    got = ED.constraints.integer_interval(0, 3).check(ember.tensor(v))
    np.testing.assert_array_equal(got.numpy(), [True, True, True, False])


def test_dependent_constraints():
    assert ED.constraints.is_dependent(ED.constraints.dependent)
    assert ED.constraints.is_dependent(ED.Uniform.support)  # a dependent_property read on the class
    assert repr(ED.Uniform(0.0, 2.0).support) == "Interval(lower_bound=0.0, upper_bound=2.0)"
    with pytest.raises(ValueError, match="dependent"):
        ED.constraints.dependent.check(ember.zeros(1))
    with pytest.raises(NotImplementedError):
        _ = ED.constraints.dependent.event_dim


# ---- argument validation: ValueError as torch ----------------------------------------------------------------
# (id, make(D, lib) builds an invalid distribution, message fragment)
INVALID_ARGS = [
    ("normal_scale", lambda D, L: D.Normal(0.0, -1.0), "Expected parameter scale"),
    ("normal_loc_nan", lambda D, L: D.Normal(_t(L, [0.0, math.nan]), 1.0), "Expected parameter loc"),
    ("lognormal_scale", lambda D, L: D.LogNormal(0.0, 0.0), "Expected parameter scale"),
    ("laplace_scale", lambda D, L: D.Laplace(_t(L, [0.0]), _t(L, [-2.0])), "Expected parameter scale"),
    ("exponential_rate", lambda D, L: D.Exponential(_t(L, [1.0, 0.0])), "Expected parameter rate"),
    ("uniform_low_high", lambda D, L: D.Uniform(1.0, 0.0), "Expected parameter low"),
    ("bernoulli_probs", lambda D, L: D.Bernoulli(probs=1.5), "Expected parameter probs"),
    ("bernoulli_both", lambda D, L: D.Bernoulli(probs=0.5, logits=0.0), "Either `probs` or `logits`"),
    ("bernoulli_neither", lambda D, L: D.Bernoulli(), "Either `probs` or `logits`"),
    ("categorical_negative", lambda D, L: D.Categorical(probs=_t(L, [-0.1, 1.1])), "Expected parameter probs"),
    ("categorical_0d", lambda D, L: D.Categorical(probs=_t(L, 0.5)), "at least one-dimensional"),
    ("categorical_logits_nan", lambda D, L: D.Categorical(logits=_t(L, [0.0, math.nan])), "Expected parameter"),
    ("one_hot_negative", lambda D, L: D.OneHotCategorical(probs=_t(L, [[-1.0, 2.0]])), "Expected parameter probs"),
    ("poisson_rate", lambda D, L: D.Poisson(_t(L, [-1.0])), "Expected parameter rate"),
    ("geometric_zero", lambda D, L: D.Geometric(probs=_t(L, [0.0, 0.5])), "to be positive"),
    ("geometric_above_one", lambda D, L: D.Geometric(probs=_t(L, [1.5])), "Expected parameter probs"),
    ("binomial_count", lambda D, L: D.Binomial(2.5, probs=_t(L, [0.5])), "Expected parameter total_count"),
    ("binomial_both", lambda D, L: D.Binomial(3, probs=_t(L, [0.5]), logits=_t(L, [0.0])), "Either"),
    ("mvn_loc_0d", lambda D, L: D.MultivariateNormal(_t(L, 0.0), _t(L, [[1.0]])), "loc must be at least"),
    ("mvn_two_matrices", lambda D, L: D.MultivariateNormal(_t(L, [0.0]), _t(L, [[1.0]]), scale_tril=_t(L, [[1.0]])),
     "Exactly one of"),
    ("mvn_no_matrix", lambda D, L: D.MultivariateNormal(_t(L, [0.0])), "Exactly one of"),
    ("mvn_tril_1d", lambda D, L: D.MultivariateNormal(_t(L, [0.0]), scale_tril=_t(L, [1.0])),
     "scale_tril matrix must be at least two-dimensional"),
    ("mvn_cov_1d", lambda D, L: D.MultivariateNormal(_t(L, [0.0]), _t(L, [1.0])),
     "covariance_matrix must be at least two-dimensional"),
    ("mvn_cov_not_pd", lambda D, L: D.MultivariateNormal(_t(L, [0.0, 0.0]), _t(L, MATS[2])),
     "Expected parameter covariance_matrix"),
    ("mvn_precision_not_symmetric", lambda D, L: D.MultivariateNormal(_t(L, [0.0, 0.0]),
                                                                      precision_matrix=_t(L, MATS[4])),
     "Expected parameter precision_matrix"),
    ("mvn_tril_upper", lambda D, L: D.MultivariateNormal(_t(L, [0.0, 0.0]), scale_tril=_t(L, MATS[1])),
     "Expected parameter scale_tril"),
    ("independent_ndims", lambda D, L: D.Independent(D.Normal(_t(L, [0.0]), 1.0), 2), "reinterpreted_batch_ndims"),
]


@pytest.mark.parametrize("spec", INVALID_ARGS, ids=[s[0] for s in INVALID_ARGS])
def test_invalid_arguments_raise_value_error(spec):
    _, make, fragment = spec
    with pytest.raises(ValueError, match=fragment):
        make(TD, torch)
    with pytest.raises(ValueError, match=fragment):
        make(ED, ember)


def test_argument_message_names_the_constraint():
    with pytest.raises(ValueError, match=r"Normal\(loc: 0.0, scale: -1.0\) to satisfy the constraint "
                                         r"GreaterThan\(lower_bound=0.0\), but found invalid values"):
        ED.Normal(0.0, -1.0)


# (id, make(D, lib) -> (distribution, value), message fragment)
INVALID_SAMPLES = [
    ("not_a_tensor", lambda D, L: (D.Normal(0.0, 1.0), 3.0), "must be a Tensor"),
    ("not_broadcastable", lambda D, L: (D.Normal(_t(L, [0.0] * 3), 1.0), _t(L, [0.0, 1.0])), "not broadcastable"),
    ("event_shape", lambda D, L: (D.MultivariateNormal(_t(L, [0.0, 0.0]), _t(L, MATS[1])), _t(L, [0.0, 1.0, 2.0])),
     "right-most size of value must match event_shape"),
    ("exponential_negative", lambda D, L: (D.Exponential(1.0), _t(L, -1.0)), "Expected value argument"),
    ("lognormal_negative", lambda D, L: (D.LogNormal(0.0, 1.0), _t(L, [-1.0])), "Expected value argument"),
    ("uniform_outside", lambda D, L: (D.Uniform(0.0, 1.0), _t(L, 2.0)), "Expected value argument"),
    ("bernoulli_half", lambda D, L: (D.Bernoulli(0.3), _t(L, 0.5)), "Expected value argument"),
    ("categorical_range", lambda D, L: (D.Categorical(logits=_t(L, [0.0, 0.0, 0.0])), _t(L, 3)),
     "Expected value argument"),
    ("one_hot_two_ones", lambda D, L: (D.OneHotCategorical(logits=_t(L, [0.0, 0.0, 0.0])), _t(L, [1.0, 1.0, 0.0])),
     "Expected value argument"),
    ("poisson_fraction", lambda D, L: (D.Poisson(_t(L, [2.0])), _t(L, [1.5])), "Expected value argument"),
    ("geometric_negative", lambda D, L: (D.Geometric(_t(L, [0.5])), _t(L, [-1.0])), "Expected value argument"),
    ("binomial_above_count", lambda D, L: (D.Binomial(5, _t(L, [0.5])), _t(L, [6.0])), "Expected value argument"),
    ("independent_normal_nan", lambda D, L: (D.Independent(D.Normal(_t(L, [0.0, 0.0]), 1.0), 1),
                                             _t(L, [0.0, math.nan])), "Expected value argument"),
]


@pytest.mark.parametrize("spec", INVALID_SAMPLES, ids=[s[0] for s in INVALID_SAMPLES])
def test_invalid_values_raise_value_error(spec):
    _, make, fragment = spec
    for D, lib in ((TD, torch), (ED, ember)):
        d, value = make(D, lib)
        with pytest.raises(ValueError, match=fragment):
            d.log_prob(value)


def test_validate_args_false_and_default_switch():
    assert ED.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    assert ED.Exponential(1.0, validate_args=False).log_prob(ember.tensor(-1.0)).item() == pytest.approx(1.0)
    ED.Distribution.set_default_validate_args(False)
    try:
        d = ED.Normal(0.0, -1.0)
        assert not d._validate_args
        assert math.isnan(d.log_prob(ember.tensor(0.0)).item())
    finally:
        ED.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        ED.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        ED.Distribution.set_default_validate_args("yes")


@pytest.mark.parametrize("call", ["binomial_entropy", "poisson_entropy", "independent_enumerate", "base_mode"])
def test_not_implemented_as_torch(call):
    makes = {
        "binomial_entropy": lambda D, L: D.Binomial(_t(L, [2.0, 3.0]), _t(L, [0.5, 0.5])).entropy(),
        "poisson_entropy": lambda D, L: D.Poisson(_t(L, [2.0])).entropy(),
        "independent_enumerate": lambda D, L: D.Independent(D.Bernoulli(_t(L, [0.5])), 1).enumerate_support(),
        "base_mode": lambda D, L: D.Distribution(validate_args=False).mode,
    }
    with pytest.raises(NotImplementedError):
        makes[call](TD, torch)
    with pytest.raises(NotImplementedError):
        makes[call](ED, ember)


# ---- compile mode: draws happen inside ops, so a compiled step draws anew at each call --------------------------
def test_compiled_sampling_follows_eager_draws():
    def step(loc, scale, logits):
        d = ED.Normal(loc, scale)
        x = d.rsample((3,))
        return (x, d.log_prob(x), ED.Categorical(logits=logits).sample((4,)), ED.Bernoulli(logits=logits).sample(),
                ED.MultivariateNormal(loc, scale_tril=ember.diag_embed(scale)).rsample((2,)),
                ED.Laplace(loc, scale).rsample(), ED.Exponential(scale).rsample(), ED.Poisson(scale).sample(),
                ED.Gamma(scale, 2.0).rsample((2,)), ED.Dirichlet(scale).rsample(), ED.Uniform(loc, scale + 1).rsample())

    compiled = ember.compile(step, fallback="error")
    args = [ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]), ember.tensor([0.1, 0.2])]
    ember.manual_seed(0)
    eager = [step(*args) for _ in range(3)]
    ember.manual_seed(0)
    got = [compiled(*args) for _ in range(3)]
    assert compiled.n_traces == 1
    for e_out, c_out in zip(eager, got):
        for a, b in zip(e_out, c_out):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(got[1][0].numpy(), got[2][0].numpy())


def test_import_paths():
    import ember.distributions.normal as normal_module
    from ember.distributions.kl import kl_divergence

    assert normal_module.Normal is ember.distributions.Normal and kl_divergence is ED.kl_divergence
    assert ember.distributions is ED


def test_compiled_training_step_through_rsample_follows_eager():
    def run(compiled):
        a = ember.tensor([0.5, 2.0], requires_grad=True)
        m = ember.tensor([0.0, 1.0], requires_grad=True)
        opt = ember.optim.SGD([a, m], lr=0.01)

        def step():
            opt.zero_grad()
            x = ED.Gamma(a, 1.0).rsample((3,))
            y = ED.Normal(m, a).rsample((3,))
            loss = (x * x).sum() + (y * y).sum() - ED.Normal(m, a).entropy().sum()
            loss.backward()
            opt.step()
            return loss

        fn = ember.compile(step, fallback="error") if compiled else step
        ember.manual_seed(0)
        losses = [fn().item() for _ in range(4)]
        return losses, a.detach().numpy().copy(), m.detach().numpy().copy()

    eager, compiled = run(False), run(True)
    assert eager[0] == compiled[0]
    np.testing.assert_array_equal(eager[1], compiled[1])
    np.testing.assert_array_equal(eager[2], compiled[2])
