"""Table-driven op tests against torch: one ``Case`` per line (an id, a function of the framework namespace and
the input tensors, an input maker), checked by ``check_case`` (forward and gradients, float32 and float64) and
``gradcheck_case`` (numerical gradients, float64). ``fn(m, *tensors)`` gets ``m.t`` = ember or torch."""
import types

import numpy as np
import torch

import ember
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(t=ember, name="ember")
TH = types.SimpleNamespace(t=torch, name="torch")
DTYPES = [np.float32, np.float64]


def uniform(*shapes, low=-2.0, high=2.0):
    return lambda rng, dt: [np.asarray(rng.uniform(low, high, s)).astype(dt) for s in shapes]


def away_from_zero(*shapes, low=0.5, high=2.0):
    def make(rng, dt):
        return [np.asarray(rng.uniform(low, high, s) * rng.choice([-1.0, 1.0], s)).astype(dt) for s in shapes]
    return make


class Case:
    """``rtol``/``atol``: None (the oracle's defaults) or a dict by dtype."""

    def __init__(self, id, fn, make=None, gradcheck=True, grad=True, rtol=None, atol=None):
        self.id, self.fn, self.make = id, fn, make or uniform((3, 4))
        self.gradcheck, self.grad, self.rtol, self.atol = gradcheck and grad, grad, rtol or {}, atol or {}


def check_case(case, dtype):
    """The case's forward and (if ``case.grad``) gradients against torch's on the same random inputs."""
    arrays = case.make(np.random.default_rng(0), dtype)
    with np.errstate(all="ignore"):
        check_op(lambda *xs: case.fn(EM, *xs), lambda *xs: case.fn(TH, *xs), *arrays, grad=case.grad,
                 rtol=case.rtol.get(dtype), atol=case.atol.get(dtype))


def gradcheck_case(case):
    arrays = case.make(np.random.default_rng(1), np.float64)
    assert gradcheck(lambda *xs: case.fn(EM, *xs), *arrays)
