"""Helpers for the distribution tests: parameter generators and the runners that evaluate one distribution
method in ember.distributions and in torch.distributions (values and gradients through tests/oracle.py)."""
import numpy as np
import torch
from oracle import check_op, gradcheck

import ember
import ember.distributions

DTYPES = [np.float32, np.float64]
VALUE_METHODS = ("log_prob", "cdf", "icdf")


# ---- parameter and value generators: gen(rng, dtype) -> array -------------------------------------------------
def real(shape):
    return lambda rng, dt: rng.standard_normal(shape).astype(dt)


def uniform(shape, lo, hi):
    return lambda rng, dt: rng.uniform(lo, hi, shape).astype(dt)


def pos(shape, lo=0.5, hi=2.0):
    return uniform(shape, lo, hi)


def unit(shape, lo=0.05, hi=0.95):
    return uniform(shape, lo, hi)


def counts(shape, high):
    """Whole numbers in [0, high) stored as floats (the values of count distributions)."""
    return lambda rng, dt: rng.integers(0, high, shape).astype(dt)


def indices(shape, high):
    return lambda rng, dt: rng.integers(0, high, shape).astype(np.int64)


def one_hot(shape):
    """One-hot vectors along the last dim of ``shape``."""
    def gen(rng, dt):
        idx = rng.integers(0, shape[-1], shape[:-1])
        return np.eye(shape[-1], dtype=dt)[idx]
    return gen


def spd(n, batch=()):
    """Symmetric positive-definite matrices A A^T + n I."""
    def gen(rng, dt):
        a = rng.standard_normal(batch + (n, n))
        return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dt)
    return gen


def lower_cholesky(n, batch=()):
    """Lower-triangular matrices with a positive diagonal in [0.5, 1.5]."""
    def gen(rng, dt):
        m = np.tril(rng.standard_normal(batch + (n, n)) * 0.5, -1)
        return (m + np.eye(n) * rng.uniform(0.5, 1.5, batch + (n, 1))).astype(dt)
    return gen


def arrays(gens, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [g(rng, dtype) for g in gens]


# ---- running one method in both libraries ----------------------------------------------------------------------
def method_maker(build, n_params, method):
    """make(D) -> fn(*params, [value]) evaluating ``method`` (a method taking a value, entropy, or a property)
    of ``build(D, *params)``, for D = ember.distributions or torch.distributions."""
    def make(D):
        def fn(*ts):
            d = build(D, *ts[:n_params])
            if method in VALUE_METHODS:
                return getattr(d, method)(ts[n_params])
            if method == "entropy":
                return d.entropy()
            return getattr(d, method)
        return fn
    return make


def method_inputs(gens, value_gen, method):
    if method == "icdf":
        return list(gens) + [unit((2,) + _shape_hint(value_gen))]
    if method in VALUE_METHODS:
        return list(gens) + [value_gen]
    return list(gens)


def _shape_hint(value_gen):
    return np.shape(value_gen(np.random.default_rng(0), np.float64))[1:]


def check_method(build, gens, value_gen, method, dtype, rtol=None, atol=None):
    """Values and gradients of one method against torch."""
    make = method_maker(build, len(gens), method)
    inputs = arrays(method_inputs(gens, value_gen, method), dtype)
    return check_op(make(ember.distributions), make(torch.distributions), *inputs, rtol=rtol, atol=atol)


def gradcheck_method(build, gens, value_gen, method, perturb_value=True):
    """Numerical gradcheck in float64; a discrete value (``perturb_value=False``) is held fixed."""
    make = method_maker(build, len(gens), method)
    inputs = arrays(method_inputs(gens, value_gen, method), np.float64, seed=1)
    if not perturb_value and method in VALUE_METHODS:
        inputs[-1] = ember.tensor(inputs[-1])
    assert gradcheck(make(ember.distributions), *inputs)


def spec_cases(specs):
    """(spec id, method) pairs for parametrize."""
    return [pytest_param(s, m) for s in specs for m in s[4]]


def pytest_param(spec, method):
    import pytest

    return pytest.param(spec, method, id=f"{spec[0]}-{method}")


def check_rsample_grad(build, gens, to_noise, from_noise, dtype, sample_shape=(5,)):
    """Gradients of sum(w * x^2) for x = rsample(sample_shape) against torch on the same noise: ``to_noise``
    recovers the standard draw from ember's sample (NumPy, float64) and ``from_noise`` rebuilds x in torch."""
    params = arrays(gens, dtype)
    e_params = [ember.tensor(p, requires_grad=True) for p in params]
    t_params = [torch.tensor(p, requires_grad=True) for p in params]
    x = build(ember.distributions, *e_params).rsample(sample_shape)
    assert x.dtype == e_params[0].dtype
    z = to_noise([p.astype(np.float64) for p in params], x.detach().numpy().astype(np.float64))
    xt = from_noise(t_params, torch.tensor(z.astype(dtype)))
    w = np.random.default_rng(3).standard_normal(tuple(x.shape)).astype(dtype)
    (x * x * ember.tensor(w)).sum().backward()
    (xt * xt * torch.tensor(w)).sum().backward()
    tols = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-10}
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **tols)
