"""The fused optimizer kernels (numba, ember._fused) give bitwise the NumPy path's results."""
import numpy as np
import pytest

import ember
from ember import _fused

CONFIGS = {
    "adam": lambda ps: ember.optim.Adam(ps, lr=0.01),
    "adam-l2": lambda ps: ember.optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "adamw": lambda ps: ember.optim.AdamW(ps, lr=0.01, weight_decay=0.05),
    "adam-maximize": lambda ps: ember.optim.Adam(ps, lr=0.01, maximize=True),
    "adam-far-lerp": lambda ps: ember.optim.Adam(ps, lr=0.01, betas=(0.3, 0.9)),  # 1 - beta1 >= 0.5
    "adam-eps0": lambda ps: ember.optim.Adam(ps, lr=0.01, eps=0.0),  # 0 / 0 where a gradient stays 0
    "adam-amsgrad": lambda ps: ember.optim.Adam(ps, lr=0.01, amsgrad=True),  # not fused: NumPy both times
    "sgd": lambda ps: ember.optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd-nesterov-l2": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd-dampening-maximize": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
}


def test_numba_is_available_in_the_test_environment():
    assert _fused.enabled(), "numba is a test dependency: the fused kernels must be tested"


def run(make_opt, dtype, fused, steps=6):
    rng = np.random.default_rng(0)
    shapes = [(300, 70), (5,), (), (3, 4)]
    params = [ember.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    opt = make_opt(params)
    _fused.set_enabled(fused)
    try:
        for i in range(steps):
            for p in params:
                g = rng.standard_normal(p.shape).astype(dtype)
                if p.dim() == 1:
                    g[0] = 0.0  # a coordinate whose gradient stays zero (0 / 0 with eps = 0)
                if i == 3 and p.dim() == 2 and p.shape[0] == 3:
                    g[0, 0] = np.inf
                p.grad = ember.tensor(g)
            opt.step()
    finally:
        _fused.set_enabled(True)
    return params, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_fused_and_numpy_updates_are_bitwise_equal(name, dtype):
    pf, of = run(CONFIGS[name], dtype, True)
    pn, on = run(CONFIGS[name], dtype, False)
    for a, b in zip(pf, pn):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())  # (NaN == NaN here)
    for sa, sb in zip(of.state_dict()["state"].values(), on.state_dict()["state"].values()):
        for k in sa:
            np.testing.assert_array_equal(np.asarray(sa[k].numpy() if hasattr(sa[k], "numpy") else sa[k]),
                                          np.asarray(sb[k].numpy() if hasattr(sb[k], "numpy") else sb[k]))


def test_numpy_fallback_when_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("EMBER_NO_NUMBA", "1")
    _fused.set_enabled(True)  # re-reads the environment
    try:
        assert not _fused.enabled()
    finally:
        monkeypatch.delenv("EMBER_NO_NUMBA")
        _fused.set_enabled(True)
    assert _fused.enabled()


@pytest.mark.parametrize("arrays, ok", [
    ((np.zeros(3, np.float32), np.zeros(3, np.float32)), True),
    ((np.zeros(3, np.float32), np.zeros(3, np.float64)), False),  # mixed dtypes
    ((np.zeros(3, np.float16), np.zeros(3, np.float16)), False),
    ((np.zeros((3, 2), np.float32), np.zeros((2, 3), np.float32).T), False),  # not contiguous
    ((np.zeros(3, np.float32), None), True),
])
def test_fusable(arrays, ok):
    assert _fused.fusable(*arrays) is ok
