"""examples/regularization.py runs, learns the digits, and its regularisers do what it says they do."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "regularization.py"


def load_example():
    spec = importlib.util.spec_from_file_location("regularization_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results():
    r = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "3"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    rows = re.findall(r"^(none|L2|L1)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", r.stdout, re.M)
    columns = ("train", "test", "l1", "l2", "small")
    table = {kind: dict(zip(columns, map(float, values), strict=True)) for kind, *values in rows}
    assert set(table) == {"none", "L2", "L1"}, r.stdout
    return table


def test_every_run_learns_the_digits(results):
    for kind, r in results.items():
        assert r["train"] >= 0.9 and r["test"] >= 0.85, (kind, r)


def test_l2_shrinks_the_weights_l2_norm(results):
    assert results["L2"]["l2"] < 0.95 * results["none"]["l2"]


def test_l1_shrinks_the_weights_l1_norm_and_sparsifies(results):
    assert results["L1"]["l1"] < 0.95 * results["none"]["l1"]
    assert results["L1"]["small"] > results["none"]["small"]


def test_weight_decay_is_the_gradient_of_half_the_squared_norm():
    """What the example claims for L2: one SGD step with weight_decay=wd on the weights equals one step on
    loss + wd/2 * sum ||W||^2 (biases untouched)."""
    example = load_example()
    wd, lr = 0.1, 0.5
    x, y = ember.rand(16, 1, 8, 8), ember.randint(0, 10, (16,))
    ember.manual_seed(1)
    decayed, explicit = example.make_model(), example.make_model()
    explicit.load_state_dict(decayed.state_dict())

    opt = ember.optim.SGD(example.param_groups(decayed, wd), lr=lr)
    ember.nn.functional.cross_entropy(decayed(x), y).backward()
    opt.step()

    opt = ember.optim.SGD(explicit.parameters(), lr=lr)
    loss = ember.nn.functional.cross_entropy(explicit(x), y)
    (loss + wd / 2 * sum((w * w).sum() for w in example.weights_of(explicit))).backward()
    opt.step()
    for (name, a), b in zip(decayed.named_parameters(), explicit.parameters(), strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


def test_l1_penalty_is_the_sum_of_absolute_weights_with_sign_gradient():
    example = load_example()
    model = example.make_model()
    penalty = example.l1_penalty(model)
    weights = example.weights_of(model)
    assert len(weights) == 2 and all(w.dim() == 2 for w in weights)
    expected = sum(np.abs(w.detach().numpy()).astype(np.float64).sum() for w in weights)
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-5)
    penalty.backward()
    for w in weights:
        np.testing.assert_array_equal(w.grad.numpy(), np.sign(w.detach().numpy()))
    assert all(p.grad is None for name, p in model.named_parameters() if name.endswith("bias"))
