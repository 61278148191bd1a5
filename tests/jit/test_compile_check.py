"""ember.compile(check_trace=True): the first two calls of a signature are traced and compared (jit/check.py)."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.jit import TracingCheckError
from ember.jit.check import compare_graphs
from ember.jit.trace import trace

from test_compile_follows_inputs import CASES

F = nn.functional


def _two_calls(f, first, later, **options):
    g = ember.compile(f, check_trace=True, fallback="error", **options)
    with ember.no_grad():
        g(*map(ember.tensor, first))
        return g, g(*map(ember.tensor, later))


@pytest.mark.parametrize("name", list(CASES))
def test_ember_functions_trace_the_same_graph_for_other_inputs(name):
    # the table of functions whose index/mask handling once froze a first call's values into the trace
    f, a, b = CASES[name]
    g, got = _two_calls(f, a, b)
    assert g.n_traces == 2 and not g._eager
    with ember.no_grad():
        want = f(*map(ember.tensor, b))
        again = g(*map(ember.tensor, b))  # now the compiled graph
    for out in (got, again):
        out, ref = (out, want) if isinstance(out, tuple) else ((out,), (want,))
        for x, y in zip(out, ref):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert g.n_traces == 2


def test_numpy_randomness_in_the_step_is_reported_with_its_line():
    rng = np.random.default_rng(0)

    def noisy(x):
        return x + ember.from_numpy(rng.standard_normal(4).astype(np.float32))  # frozen by a plain trace

    g = ember.compile(noisy, check_trace=True)
    g(ember.randn(4))
    with pytest.raises(TracingCheckError, match=r"input 1 of Add, a constant .*f32\[4\].* differs between the "
                                                r"two calls \(4 of 4 elements\).*test_compile_check.py:\d+"):
        g(ember.randn(4))
    assert issubclass(TracingCheckError, RuntimeError)
    x = ember.randn(4)
    assert not np.array_equal(g(x).numpy(), g(x).numpy())  # after the error: eager mode, fresh noise each call


def test_control_flow_on_python_state_is_reported():
    calls = [0]

    def flips(x):
        calls[0] += 1
        return x * 2 if calls[0] % 2 else x + 1

    g = ember.compile(flips, check_trace=True)
    g(ember.randn(3))
    with pytest.raises(TracingCheckError, match="the first trace ran Mul, the second Add"):
        g(ember.randn(3))


def test_without_the_check_a_plain_trace_freezes_the_value():
    # what the check guards against: the same function compiled without it replays the first call's noise
    rng = np.random.default_rng(0)
    g = ember.compile(lambda x: x + ember.from_numpy(rng.standard_normal(4).astype(np.float32)))
    x = ember.zeros(4)
    g(x)
    np.testing.assert_array_equal(g(x).numpy(), g(x).numpy())


@pytest.mark.parametrize("draw", [
    lambda x: x + ember.randn(4),
    lambda x: x + ember.empty(4).normal_(),
    lambda x: ember.bernoulli(x.sigmoid()),
    lambda x: x[ember.randperm(4)],
])
def test_ember_random_ops_are_traced_not_frozen(draw):
    g = ember.compile(draw, check_trace=True, fallback="error")
    x = ember.randn(4)
    for _ in range(2):
        g(x)
    outs = [g(x).numpy() for _ in range(4)]
    assert g.n_traces == 2 and not g._eager
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("mode", [None, "reduce-overhead"])
def test_a_training_step_passes_the_check_and_trains_as_eager(mode):
    def run(compiled):
        ember.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Dropout(0.2), nn.Linear(12, 4))
        opt = ember.optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = ember.compile(step, mode=mode, check_trace=True, fallback="error") if compiled else step
        rng = np.random.default_rng(1)
        ember.manual_seed(1)
        losses = [fn(ember.tensor(rng.standard_normal((5, 1, 4, 4)).astype(np.float32)),
                     ember.tensor(rng.integers(0, 4, 5))).item() for _ in range(6)]
        return losses, fn

    eager, _ = run(False)
    compiled, fn = run(True)
    assert not fn._eager and fn.n_traces <= 3  # (Adam's first step lays its state out: one more trace)
    if mode is None:
        assert compiled == eager
    else:
        np.testing.assert_allclose(compiled, eager, rtol=1e-5)


def test_the_environment_variable_turns_the_check_on(monkeypatch):
    monkeypatch.setenv("EMBER_COMPILE_CHECK", "1")
    assert ember.compile(lambda x: x).check_trace
    monkeypatch.setenv("EMBER_COMPILE_CHECK", "0")
    assert not ember.compile(lambda x: x).check_trace
    assert ember.compile(lambda x: x, check_trace=True).check_trace


def test_a_guard_change_between_the_two_calls_is_not_a_difference():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    g = ember.compile(lambda x: model(x), check_trace=True, fallback="error")
    x = ember.randn(2, 3)
    with ember.no_grad():
        g(x)
        model.eval()  # another signature: this call starts its own check
        g(x)
        g(x)
        model.train()
        g(x)
    assert g.n_traces == 4 and not g._eager


def test_compare_graphs_directly():
    w = np.arange(4, dtype=np.float32)

    def f(x):
        return x * ember.from_numpy(w.copy()) + 1

    def graph(arr):
        return trace(f, (ember.tensor(arr),), {})[1].graph

    a, b = graph(np.ones(4, np.float32)), graph(np.zeros(4, np.float32))
    assert compare_graphs(a, b) is None
    w[2] = 7
    assert "input 1 of Mul, a constant" in compare_graphs(a, graph(np.ones(4, np.float32)))
    c = trace(lambda x: x * 2, (ember.ones(4),), {})[1].graph
    assert compare_graphs(a, c) is not None
