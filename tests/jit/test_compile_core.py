"""Compile mode on plain tensors: traced steps give eager's results, guards re-trace, graph breaks fall back."""
import numpy as np
import pytest

import ember
from ember.jit.ir import Graph


def make_params(seed=0):
    g = ember.Generator().manual_seed(seed)
    W1 = ember.randn(6, 8, generator=g).requires_grad_()
    b1 = ember.zeros(8, requires_grad=True)
    W2 = ember.randn(8, 3, generator=g).requires_grad_()
    return [W1, b1, W2]


def sgd_step(params, lr=0.05):
    def step(x, y):
        for p in params:
            p.grad = None
        h = (x @ params[0] + params[1]).tanh()
        out = h @ params[2]
        loss = ((out - y) ** 2).mean() + 0.01 * (params[0] * params[0]).sum()
        loss.backward()
        with ember.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=lr)
        return loss
    return step


def batches(n, seed=1, rows=5):
    rng = np.random.default_rng(seed)
    return [(ember.tensor(rng.standard_normal((rows, 6)).astype(np.float32)),
             ember.tensor(rng.standard_normal((rows, 3)).astype(np.float32))) for _ in range(n)]


@pytest.mark.parametrize("passes", [(), ("fold",), ("cse",), ("dce",), ("fold", "cse", "dce", "fuse"),
                                    ("fold", "cse", "dce", "fuse", "memory")])
def test_compiled_training_is_bitwise_equal_to_eager(passes):
    data = batches(6)
    pe = make_params()
    eager = sgd_step(pe)
    el = [eager(x, y).item() for x, y in data]
    pc = make_params()
    compiled = ember.compile(sgd_step(pc), passes=passes)
    cl = [compiled(x, y).item() for x, y in data]
    assert cl == el
    for a, b in zip(pe, pc):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    # the second call starts with .grad set (sgd_step empties it by assignment, which tracing cannot see,
    # unlike zero_grad()), so it is traced once more; then the cache holds
    assert compiled.n_traces == 2


def test_graph_and_source_are_readable():
    step = ember.compile(sgd_step(make_params()))
    x, y = batches(1)[0]
    step(x, y)
    text = str(step.graph)
    assert text.startswith("graph(%x1: f32[5,6], %x2: f32[5,3]):")
    assert "state" in text and ".grad = " in text and "isub(" in text
    src = step.source
    assert src.startswith("def step(x1, x2):") and "np.matmul(" in src
    compile(src, "<check>", "exec")


def test_shape_change_retraces():
    params = make_params()
    step = ember.compile(sgd_step(params))
    for x, y in batches(2, rows=5) + batches(2, seed=3, rows=7) + batches(1, seed=4, rows=5):
        step(x, y)
    # rows=5, then rows=5 again because .grad was None only at the very first call (sgd_step empties .grad by
    # assignment, which the tracer cannot see, unlike zero_grad()), then rows=7; rows=5 is cached after that
    assert step.n_traces == 3


def test_zero_grad_inside_the_step_needs_a_single_trace():
    params = make_params()
    opt = ember.optim.SGD(params, lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = (((x @ params[0] + params[1]) @ params[2] - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    cf = ember.compile(step)
    for x, y in batches(4):
        cf(x, y)
    assert cf.n_traces == 1


def test_accumulating_gradients_across_calls_matches_eager():
    w = ember.ones(3, requires_grad=True)
    f = ember.compile(lambda x: (w * x).sum().backward())
    x = ember.tensor([1.0, 2.0, 3.0])
    for _ in range(3):
        f(x)
    assert w.grad.tolist() == [3.0, 6.0, 9.0]


def test_freezing_a_parameter_retraces():
    w = ember.ones(3, requires_grad=True)
    v = ember.ones(3, requires_grad=True)

    def f(x):
        loss = (w * v * x).sum()
        loss.backward()
        return loss

    cf = ember.compile(f)
    x = ember.ones(3)
    cf(x)
    v.requires_grad_(False)
    v.grad = None
    cf(x)
    assert v.grad is None and cf.n_traces == 2


def test_grad_mode_change_retraces():
    w = ember.ones(3, requires_grad=True)
    f = ember.compile(lambda x: (x * w).sum())
    x = ember.ones(3)
    assert f(x).item() == 3.0
    with ember.no_grad():
        assert f(x).item() == 3.0
    assert f.n_traces == 2


def test_value_read_falls_back_to_eager_with_one_warning():
    w = ember.ones(3, requires_grad=True)

    def f(x):
        s = (x * w).sum()
        if s.item() > 0:  # data-dependent control flow
            return s * 2
        return s

    cf = ember.compile(f)
    with pytest.warns(RuntimeWarning, match=r"item\(\) reads a tensor's value.*test_compile_core.py"):
        assert cf(ember.ones(3)).item() == 6.0
    assert cf(-ember.ones(3)).item() == -3.0  # eager from now on: the other branch is taken


def test_fallback_error_mode_names_the_read():
    f = ember.compile(lambda x: x * 2 if bool((x > 0).all()) else x, fallback="error")
    with pytest.raises(RuntimeError, match=r"bool\(\) reads a tensor's value"):
        f(ember.ones(2))


def test_random_ops_are_replayed_not_frozen():
    cf = ember.compile(lambda x: ember.nn.functional.dropout(x, 0.5, True))
    x = ember.ones(1000)
    a = cf(x).numpy().copy()
    b = cf(x).numpy().copy()
    assert not np.array_equal(a, b), "dropout mask must be drawn anew at every call"


@pytest.mark.parametrize("factory", [ember.rand_like, ember.randn_like])
def test_random_factories_are_replayed_not_frozen(factory):
    cf = ember.compile(lambda x: x + factory(x))
    x = ember.zeros(100)
    cf(x)
    a = cf(x).numpy().copy()
    b = cf(x).numpy().copy()
    assert not np.array_equal(a, b)


def test_tensor_created_inside_and_written_in_place_starts_fresh_each_call():
    def f(x):
        buf = ember.zeros(3)
        buf.add_(x)
        return buf * 1

    cf = ember.compile(f)
    for _ in range(3):
        assert cf(ember.ones(3)).tolist() == [1.0, 1.0, 1.0]


def test_compiled_dropout_matches_eager_rng_stream():
    def f(x):
        return ember.nn.functional.dropout(x * 3, 0.3, True).sum()

    x = ember.ones(200)
    ember.manual_seed(5)
    eager = [f(x).item() for _ in range(3)]
    ember.manual_seed(5)
    cf = ember.compile(f)
    comp = [cf(x).item() for _ in range(3)]
    assert comp == eager


def test_returns_pytrees():
    f = ember.compile(lambda a, b: {"sum": a + b, "pair": (a * b, 3)})
    out = f(ember.ones(2), ember.full((2,), 2.0))
    out = f(ember.ones(2), ember.full((2,), 2.0))
    assert out["sum"].tolist() == [3.0, 3.0] and out["pair"][0].tolist() == [2.0, 2.0] and out["pair"][1] == 3


def test_nothing_compiled_yet():
    f = ember.compile(lambda x: x)
    with pytest.raises(RuntimeError, match="call the function once"):
        _ = f.graph


def test_compile_rejects_non_callables():
    with pytest.raises(TypeError, match="function or a module"):
        ember.compile(3)


def test_graph_listing_empty():
    assert str(Graph()).startswith("graph():")


@pytest.mark.parametrize("make_opt", [
    lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: ember.optim.Adam(ps, lr=0.01),
    lambda ps: ember.optim.AdamW(ps, lr=0.01),
    lambda ps: ember.optim.RMSprop(ps, lr=0.01, centered=True),
    lambda ps: ember.optim.Adagrad(ps, lr=0.1),
])
def test_compiled_step_with_optimizer_matches_eager(make_opt):
    data = batches(5)
    runs = []
    for compiled in (False, True):
        params = make_params()
        opt = make_opt(params)

        def step(x, y):
            opt.zero_grad()
            loss = (((x @ params[0] + params[1]).relu() @ params[2] - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = ember.compile(step) if compiled else step
        losses = [fn(x, y).item() for x, y in data]
        runs.append((losses, [p.detach().numpy().copy() for p in params], opt.state_dict()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_optimizer_closure_is_a_graph_break():
    params = make_params()
    opt = ember.optim.SGD(params, lr=0.1)
    x, y = batches(1)[0]

    def step(x, y):
        def closure():
            opt.zero_grad()
            loss = ((x @ params[0] + params[1]) @ params[2] - y).pow(2).mean()
            loss.backward()
            return loss
        return opt.step(closure)

    cf = ember.compile(step)
    with pytest.warns(RuntimeWarning, match="closure"):
        cf(x, y)


@pytest.mark.parametrize("bad", [3, -2])
def test_a_compiled_step_checks_class_targets_as_eager_mode_does(bad):
    """The range check of nll_loss's targets runs in the op, so a compiled step (which replays ops, not the
    Python around them) refuses a bad target too, instead of NumPy wrapping a negative index around."""
    lin = ember.nn.Linear(3, 3)
    x = ember.randn(6, 3)
    g = ember.compile(lambda x, y: ember.nn.functional.cross_entropy(lin(x), y))
    good = ember.tensor(np.array([0, 1, 2, 0, 1, 2]))
    g(x, good)
    g(x, good)
    assert g.n_traces == 1
    with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
        g(x, ember.tensor(np.array([0, 1, bad, 0, 1, 2])))


def test_view_as_another_dtype_is_replayed_and_shares_the_version_counter():
    g = ember.compile(lambda x: x.view(ember.int32) + 0)
    a, b = ember.tensor([1.0, 2.0]), ember.tensor([3.0, -4.0])
    g(a)
    g(a)
    np.testing.assert_array_equal(g(b).numpy(), b.numpy().view(np.int32))
    v = b.view(ember.int32)
    b.add_(1)
    assert v._version is b._version and v[0].item() == np.float32(4.0).view(np.int32)
