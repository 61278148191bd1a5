"""Ops that exist to make a backward pass shorter (one op where the formula took several): Mean's gradient
(MeanGrad), binary_cross_entropy_with_logits' input gradient (BCEWithLogitsInputGrad) and a linear layer's
weight gradient (TransposedMatmul). First- and second-order gradients against torch, float32 and float64, and
ember's numerical gradgradcheck in float64."""
import numpy as np
import pytest
import torch

import ember
from ember.ops.linalg import TransposedMatmul
from oracle import assert_close, tol

R = np.random.default_rng(0)


def _double_backward(lib, fn, tensors):
    """Gradients of fn wrt tensors (create_graph), then the gradients of sum(w_i * grad_i) wrt tensors."""
    out = fn(lib, *tensors)
    rng = np.random.default_rng(1)
    dt = tensors[0].detach().numpy().dtype
    # the output's weights require grad too: the second pass then also runs each op's backward as a function
    # of the incoming gradient (for Mean, whose first-order gradient does not depend on the input, only that)
    w_out = lib.tensor(rng.standard_normal(tuple(out.shape)).astype(dt), requires_grad=True)
    grads = lib.autograd.grad((out * w_out).sum(), tensors, create_graph=True)
    total = None
    for g in grads:
        w = lib.tensor(rng.standard_normal(tuple(g.shape)).astype(dt))
        term = (g * w).sum()
        total = term if total is None else total + term
    second = lib.autograd.grad(total, list(tensors) + [w_out], allow_unused=True)
    return out, grads, second


def _compare(fn, arrays, dtype):
    em = [ember.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    th = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    e_out, e_g, e_gg = _double_backward(ember, fn, em)
    t_out, t_g, t_gg = _double_backward(torch, fn, th)
    t = tol(dtype, 10)
    assert_close(e_out, t_out, what="forward", **t)
    assert_close(list(e_g), list(t_g), what="grad", **t)
    for i, (a, b) in enumerate(zip(e_gg, t_gg)):
        if b is None:
            assert a is None or not np.any(a.numpy()), f"second-order grad {i}: torch has none"
        else:
            assert_close(a, b, what=f"second-order grad {i}", **t)


def _linear(lib, x, w, b):
    return lib.nn.functional.linear(x, w, b)


def _bce(reduction, weight=None):
    """(weight is a constant: torch refuses a weight that requires grad)"""
    def fn(lib, x, t):
        w = None if weight is None else lib.tensor(weight.astype(x.detach().numpy().dtype))
        return lib.nn.functional.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction)
    return fn


def _mean(dim, keepdim):
    def fn(lib, x):
        return x.mean() if dim is None else x.mean(dim=dim, keepdim=keepdim)
    return fn


CASES = [
    ("linear", _linear, [R.standard_normal((5, 3)), R.standard_normal((4, 3)), R.standard_normal(4)]),
    ("linear_3d_input", _linear, [R.standard_normal((2, 5, 3)), R.standard_normal((4, 3)), R.standard_normal(4)]),
    ("bce_mean", _bce("mean"), [R.standard_normal((6, 2)) * 3, R.uniform(0, 1, (6, 2))]),
    ("bce_sum_weighted", _bce("sum", R.uniform(0, 2, (2,))), [R.standard_normal((6, 2)) * 3, R.uniform(0, 1, (6, 2))]),
    ("bce_none", _bce("none"), [R.standard_normal((4,)) * 30, R.uniform(0, 1, (4,))]),
    ("mean_all", _mean(None, False), [R.standard_normal((3, 4))]),
    ("mean_dim", _mean(1, False), [R.standard_normal((3, 4, 2))]),
    ("mean_dims_keepdim", _mean((0, 2), True), [R.standard_normal((3, 4, 2))]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_first_and_second_order_gradients_match_torch(name, fn, arrays, dtype):
    _compare(fn, arrays, dtype)


@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck(name, fn, arrays):
    inputs = tuple(ember.tensor(a.astype(np.float64), requires_grad=True) for a in arrays)
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, *xs), inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_the_fused_ops_are_the_ones_recorded():
    """The backward graphs use the one-op forms (a refactor back to the multi-op formulas fails here)."""
    x = ember.randn(5, 3, requires_grad=True)
    w = ember.randn(4, 3, requires_grad=True)
    t = ember.rand(5, 4)
    loss = ember.nn.functional.binary_cross_entropy_with_logits(ember.nn.functional.linear(x, w), t)
    seed = ember.ones((), requires_grad=True)  # (so that Mean's backward is recorded too)
    (gx, gw) = ember.autograd.grad(loss, (x, w), grad_outputs=seed, create_graph=True)
    names = set()
    stack = [gx.grad_fn, gw.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or type(node).__name__ in names:
            continue
        names.add(type(node).__name__)
        stack.extend(f for f, _ in node.next_functions if f is not None and hasattr(f, "next_edges"))
    assert {"MeanGrad", "BCEWithLogitsInputGrad", "TransposedMatmul"} <= names


def test_transposed_matmul_is_a_transposed_product():
    a, b = R.standard_normal((5, 3)).astype(np.float32), R.standard_normal((5, 2)).astype(np.float32)
    out = TransposedMatmul.apply(ember.tensor(a), ember.tensor(b))
    np.testing.assert_array_equal(out.numpy(), np.matmul(a.T, b))


def test_mean_of_an_empty_tensor_has_an_empty_gradient():
    x = ember.zeros(0, 3, requires_grad=True)
    x.mean(dim=0).sum().backward()
    assert x.grad.shape == (0, 3)
    xt = torch.zeros(0, 3, requires_grad=True)
    xt.mean(dim=0).sum().backward()
    assert tuple(xt.grad.shape) == (0, 3)
