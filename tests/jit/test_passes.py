"""Each graph pass on its own: trace a small function, run one pass, check what it changed."""
import numpy as np
import pytest

import ember
from ember.jit.codegen import generate
from ember.jit.passes import cse, dce, fold, fuse, memory, pool_relu
from ember.jit.trace import trace


def traced(fn, *args):
    _, tracer = trace(fn, args, {})
    return tracer.graph


def op_names(graph):
    return [n.name for n in graph.nodes]


def run_graph(graph, *args):
    _, _, fn = generate(graph, "f")
    out = fn(*[a._data for a in args])
    return out.numpy()


X = ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 7)


def test_dce_removes_unused_ops_and_keeps_effects():
    buf = ember.zeros(4)

    def f(x):
        unused = x.exp() * 3  # noqa: F841 (dead)
        buf.add_(x.sum(0))  # an effect on state: kept
        return x + 1

    g = traced(f, X)
    assert "Exp" in op_names(g)
    dce.run(g)
    names = op_names(g)
    assert "Exp" not in names and "Mul" not in names
    assert "iadd" in names and "Sum" in names and "Add" in names


def test_cse_computes_a_repeated_expression_once():
    g = traced(lambda x: x.exp() + x.exp(), X)
    assert op_names(g).count("Exp") == 2
    expected = run_graph(g, X)
    cse.run(g)
    assert op_names(g).count("Exp") == 1
    np.testing.assert_array_equal(run_graph(g, X), expected)


def test_cse_does_not_merge_across_an_in_place_write():
    s = ember.ones(4)

    def f(x):
        a = (s * 2).sum()
        s.add_(1)
        b = (s * 2).sum()
        return a + b

    g = traced(f, X)
    cse.run(g)
    assert op_names(g).count("Mul") == 2


def test_fold_composes_transposes_and_drops_identities():
    g = traced(lambda x: ((x.t().t() * 1.0 - 0.0) / 1.0 + 0.0).reshape(4, 3).reshape(3, 4), X)
    expected = run_graph(g, X)
    fold.run(g)
    dce.run(g)
    names = op_names(g)
    assert names.count("Permute") <= 1 and "Mul" not in names and "Sub" not in names and "Div" not in names
    assert "Add" in names  # x + 0 is not an identity: -0.0 + 0 is +0.0
    assert op_names(g).count("Reshape") <= 1
    np.testing.assert_array_equal(run_graph(g, X), expected)


def test_fold_evaluates_constant_subgraphs_once():
    c = None

    def f(x):
        nonlocal c
        c = ember.ones(4) * 3 + 1  # built inside the step from constants only
        return x * c

    g = traced(f, X)
    fold.run(g)
    dce.run(g)
    assert op_names(g) == ["Mul"]
    np.testing.assert_array_equal(run_graph(g, X), (X * 4).numpy())


def test_fuse_makes_one_expression_from_an_elementwise_chain():
    w = ember.randn(4, 5)
    b = ember.randn(5)
    g = traced(lambda x: ((x @ w + b).tanh() * 2).exp(), X)
    expected = run_graph(g, X)
    fuse.run(g)
    assert [n.kind for n in g.nodes] == ["expr"]
    assert g.nodes[0].text.startswith("np.exp(np.multiply(np.tanh(np.add(np.matmul(")
    np.testing.assert_array_equal(run_graph(g, X), expected)


def test_memory_plan_reuses_buffers_and_keeps_results_exact():
    w1, w2 = ember.randn(4, 8), ember.randn(8, 4)

    def f(x):
        h = (x @ w1).tanh()
        h = (h @ w2).tanh()
        h = (h @ w1).tanh()
        return (h @ w2).sum()

    g = traced(f, X)
    expected = run_graph(g, X)
    fuse.run(g)
    memory.run(g)
    buffered = [n for n in g.nodes if "_out" in n.params]
    assert len(buffered) >= 3
    assert g.n_buffers < len(buffered)  # lifetimes do not overlap: buffers are shared
    _, _, fn = generate(g, "f")
    for _ in range(3):  # persistent buffers: repeated calls give the same answer
        np.testing.assert_array_equal(fn(X._data).numpy(), expected)


def test_memory_plan_never_buffers_a_returned_value():
    w = ember.randn(4, 4)
    g = traced(lambda x: (x @ w).tanh(), X)
    fuse.run(g)
    memory.run(g)
    assert all("_out" not in n.params for n in g.nodes)


def _relu_pool_step(p, pool_args, also_use_relu=False):
    def f(x):
        p.grad = None
        r = ember.nn.functional.relu(p * x)
        h = ember.nn.functional.max_pool2d(r, *pool_args)
        weights = ember.tensor(np.linspace(-1, 2, h.numel(), dtype=np.float32).reshape(h.shape))
        loss = (h * weights).sum() + (r.sum() if also_use_relu else 0)  # a gradient nonzero at every window
        loss.backward()
        return loss

    return f


# windows all negative, with ties, with -0.0 and zeros, and overlapping windows (3x3 stride 2)
POOL_X = ember.tensor(np.array([-1.0, 0.5, -0.0, 0.0, 2.0, 2.0, -3.0, 1.5], np.float32)[
    np.random.default_rng(0).integers(0, 8, (2, 3, 9, 9))])


@pytest.mark.parametrize("pool_args", [(2,), (3, 2, 1)])
def test_pool_relu_moves_relu_after_max_pooling_with_equal_results(pool_args):
    p = ember.tensor(np.random.default_rng(1).standard_normal((2, 3, 9, 9)).astype(np.float32),
                     requires_grad=True)
    g = traced(_relu_pool_step(p, pool_args), POOL_X)
    expected_loss = run_graph(g, POOL_X)
    expected_grad = p.grad.numpy().copy()
    pool_relu.run(g)
    dce.run(g)
    names = op_names(g)
    assert names.index("MaxPool") < names.index("Relu")  # relu now runs on the pooled values
    assert names.index("ReluGrad") < names.index("PlaneScatter")  # its mask on the pooled gradient
    relu = next(n for n in g.nodes if n.name == "Relu")
    assert relu.outputs[0].shape == next(n for n in g.nodes if n.name == "MaxPool").outputs[0].shape
    np.testing.assert_array_equal(run_graph(g, POOL_X), expected_loss)
    np.testing.assert_array_equal(p.grad.numpy(), expected_grad)  # equal values (a zero's sign may move)


def test_pool_relu_leaves_a_relu_read_elsewhere_in_place():
    p = ember.tensor(np.random.default_rng(1).standard_normal((2, 3, 9, 9)).astype(np.float32),
                     requires_grad=True)
    g = traced(_relu_pool_step(p, (2,), also_use_relu=True), POOL_X)
    before = op_names(g)
    pool_relu.run(g)
    assert op_names(g) == before


@pytest.mark.parametrize("pool_args", [(2,), (3, 2, 1), (2, 1)])
def test_pool_relu_in_inference_gives_the_eager_bits(pool_args):
    x = POOL_X._data.copy()
    x[0, 0, 0, :3] = np.nan  # NaN wins both maxima
    x = ember.tensor(x)

    def f(x):
        with ember.no_grad():
            return ember.nn.functional.max_pool2d(ember.nn.functional.relu(x), *pool_args)

    g = traced(f, x)
    expected = run_graph(g, x)
    pool_relu.run(g)
    names = op_names(g)
    assert names.index("MaxPool") < names.index("Relu")
    np.testing.assert_array_equal(run_graph(g, x).view(np.uint32), expected.view(np.uint32))


def test_pool_relu_keeps_the_order_when_the_indices_are_returned():
    def f(x):
        with ember.no_grad():
            return ember.nn.functional.max_pool2d(ember.nn.functional.relu(x), 2, return_indices=True)

    g = traced(f, POOL_X)
    expected_values, expected_indices = (t.numpy() for t in f(POOL_X))
    pool_relu.run(g)
    assert op_names(g) == ["Relu", "MaxPool"]  # indices into relu(x) differ from indices into x
    _, _, fn = generate(g, "f")
    values, indices = fn(POOL_X._data)
    np.testing.assert_array_equal(values.numpy(), expected_values)
    np.testing.assert_array_equal(indices.numpy(), expected_indices)
