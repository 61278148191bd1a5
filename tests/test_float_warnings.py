"""inf and NaN come silently, as in torch: NumPy's floating-point RuntimeWarnings ("divide by zero encountered in
log") are ignored when ember's own code triggers them (ember._backend), forward and backward; NumPy calls in
user code still warn."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember

CASES = {
    "log of 0 and -1": lambda m: m.log(m.tensor([0.0, -1.0])),
    "divide by 0": lambda m: m.tensor([1.0, 0.0]) / m.tensor([0.0, 0.0]),
    "sqrt of -1": lambda m: m.sqrt(m.tensor([-1.0])),
    "0 ** -1": lambda m: m.tensor([0.0]) ** -1.0,
    "exp overflow": lambda m: m.exp(m.tensor([1000.0])),
    "acos of 2": lambda m: m.acos(m.tensor([2.0])),
    "rsqrt of 0": lambda m: m.rsqrt(m.tensor([0.0])),
    "reciprocal of 0": lambda m: m.reciprocal(m.tensor([0.0])),
    "inf * 0": lambda m: m.tensor([float("inf")]) * 0,
    "float32 overflow": lambda m: m.tensor([3e38]) * 10,
    "fmod by 0": lambda m: m.fmod(m.tensor([1.0]), 0.0),
    "atanh of 1": lambda m: m.atanh(m.tensor([1.0])),
    "log1p of -1": lambda m: m.log1p(m.tensor([-1.0])),
    "NaN to int64": lambda m: m.tensor([float("nan")]).long(),
}


def _grad(m, fn, x):
    t = m.tensor(x, requires_grad=True)
    fn(m, t).sum().backward()
    return t.grad


GRAD_CASES = {
    "log at 0": lambda m: _grad(m, lambda m, t: m.log(t), [0.0]),
    "sqrt at 0": lambda m: _grad(m, lambda m, t: m.sqrt(t), [0.0]),
    "norm at 0": lambda m: _grad(m, lambda m, t: t.norm(), [0.0, 0.0]),
}


_SCRIPT = """
import json, sys, warnings
import numpy as np
import ember
import test_float_warnings as cases
out = {}
for name, fn in {**cases.CASES, **cases.GRAD_CASES}.items():
    with warnings.catch_warnings(record=True) as caught:  # keeps the filters ember installed at import
        fn(ember)
    out[name] = [str(w.message) for w in caught]
with warnings.catch_warnings(record=True) as caught:
    warnings.filterwarnings("always", category=RuntimeWarning, module="__main__")
    np.log(np.float32(0))
out["numpy in user code"] = [str(w.message) for w in caught]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def warned():
    """The warnings each case raised in a fresh process that imported ember at its top, as a script does (here,
    pytest's per-test warning capture would drop the filter an import inside a test installs)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", [*CASES, *GRAD_CASES])
def test_inf_and_nan_come_without_warnings(name, warned):
    assert warned[name] == []


@pytest.mark.parametrize("name", [*CASES, *GRAD_CASES])
def test_inf_and_nan_values_equal_torch(name):
    fn = CASES.get(name) or GRAD_CASES[name]
    np.testing.assert_array_equal(fn(ember).numpy(), fn(torch).numpy())


def test_numpy_in_user_code_still_warns(warned):
    assert "divide by zero encountered in log" in warned["numpy in user code"]
