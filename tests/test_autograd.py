"""Autograd semantics compared with torch: backward, accumulation, retain_graph, grad modes, hooks,
autograd.grad with create_graph, custom Functions, version counters, anomaly mode."""
import numpy as np
import pytest
import torch

import ember
from oracle import assert_close


def pair(data, requires_grad=True, dtype=np.float32):
    a = np.asarray(data, dtype=dtype)
    return ember.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


# ---- backward basics -------------------------------------------------------------------------------------
def test_backward_non_scalar_needs_gradient():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_backward_with_gradient_argument_matches_torch():
    e, t = pair([1.0, 2.0, 3.0])
    g = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    (e * e).backward(ember.tensor(g))
    (t * t).backward(torch.tensor(g))
    assert_close(e.grad, t.grad, 1e-6, 1e-7)


def test_gradient_shape_mismatch():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(4))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_grads_accumulate_across_backward_calls():
    e, t = pair([1.0, -2.0])
    for _ in range(3):
        (e * e).sum().backward()
        (t * t).sum().backward()
    assert_close(e.grad, t.grad, 1e-6, 1e-7)


def test_diamond_graph_accumulates_both_paths():
    e, t = pair([0.5, 1.5])
    for lib, x in ((ember, e), (torch, t)):
        y = x.exp()
        z = (y * y + y.sin()).sum()
        z.backward()
    assert_close(e.grad, t.grad, 1e-5, 1e-6)


def test_same_tensor_used_twice_in_one_op():
    e, t = pair([3.0])
    (e * e).sum().backward()
    (t * t).sum().backward()
    assert_close(e.grad, t.grad, 0, 0)


def test_leaf_grads_are_not_aliased():
    # (a + b) passes the same gradient to both inputs; in-place changes to one grad must not touch the other
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(5)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_second_backward_through_freed_graph_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    e, t = pair([1.0, 2.0])
    for x in (e, t):
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
    assert_close(e.grad, t.grad, 0, 0)


def test_long_chain_does_not_hit_recursion_limit():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    assert abs(x.grad.item() - 1.0001 ** 5000) < 1e-2


def test_broadcast_gradients_are_summed_to_input_shape():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 1, 3)).astype(np.float32)
    b = rng.standard_normal((5, 1)).astype(np.float32)
    ea, ta = pair(a)
    eb, tb = pair(b)
    (ea * eb + ea).sum().backward()
    (ta * tb + ta).sum().backward()
    assert_close(ea.grad, ta.grad, 1e-5, 1e-5)
    assert_close(eb.grad, tb.grad, 1e-5, 1e-5)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()


# ---- grad modes ------------------------------------------------------------------------------------------
def test_no_grad_context_and_decorator():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @ember.no_grad()
    def f(v):
        return v * 2

    assert not f(x).requires_grad
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        with ember.enable_grad():
            y = x * 2
    assert y.requires_grad


def test_set_grad_enabled_function_and_context():
    x = ember.ones(2, requires_grad=True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)


def test_inference_mode():
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad
        assert ember.is_inference_mode_enabled()
    assert not ember.is_inference_mode_enabled()


def test_detach_shares_memory_and_stops_gradient():
    x = ember.ones(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad
    with ember.no_grad():
        d[0] = 5.0
    assert x[0].item() == 5.0


def test_requires_grad_on_non_leaf_cannot_be_cleared():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


# ---- retain_grad and hooks -------------------------------------------------------------------------------
def test_retain_grad_on_intermediate():
    e, t = pair([1.0, 2.0])
    outs = []
    for x in (e, t):
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward()
        outs.append(y.grad)
    assert_close(outs[0], outs[1], 0, 0)
    assert (e * 3).grad is None


def test_hook_on_leaf_modifies_gradient():
    e, t = pair([1.0, 2.0])
    for x in (e, t):
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
    assert_close(e.grad, t.grad, 0, 0)


def test_hook_on_intermediate_sees_and_replaces_gradient():
    seen = {}
    e, t = pair([1.0, 2.0])
    for name, x in (("e", e), ("t", t)):
        y = x * 2
        y.register_hook(lambda g, name=name: seen.__setitem__(name, g.clone()) or g * 0.5)
        (y ** 2).sum().backward()
    assert_close(seen["e"], seen["t"], 0, 0)
    assert_close(e.grad, t.grad, 0, 0)


def test_hook_handle_remove():
    x = ember.ones(2, requires_grad=True)
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_post_accumulate_grad_hook():
    x = ember.ones(2, requires_grad=True)
    calls = []
    x.register_post_accumulate_grad_hook(lambda p: calls.append(p.grad.tolist()))
    (x * 3).sum().backward()
    assert calls == [[3.0, 3.0]]


def test_grad_fn_names_and_next_functions():
    e, t = pair([1.0])
    ye, yt = (e * 2).exp(), (t * 2).exp()
    assert ye.grad_fn.name() == yt.grad_fn.name() == "ExpBackward0"
    ne, nt = ye.grad_fn.next_functions[0][0], yt.grad_fn.next_functions[0][0]
    assert ne.name() == nt.name() == "MulBackward0"
    assert e.is_leaf and not ye.is_leaf


# ---- autograd.grad and higher order ----------------------------------------------------------------------
def test_autograd_grad_does_not_touch_leaf_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad((x ** 3).sum(), x)
    assert x.grad is None
    assert g.tolist() == [3.0, 12.0]


def test_autograd_grad_unused_input():
    x = ember.ones(2, requires_grad=True)
    y = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used"):
        ember.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = ember.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and gx.tolist() == [2.0, 2.0]


def test_autograd_grad_wrt_intermediate():
    e, t = pair([1.0, 2.0])
    ye = e * 2
    te = t * 2
    (ge,) = ember.autograd.grad((ye ** 2).sum(), ye)
    (gt,) = torch.autograd.grad((te ** 2).sum(), te)
    assert_close(ge, gt, 0, 0)


@pytest.mark.parametrize("fn", [
    lambda m, x: (x ** 3).sum(),
    lambda m, x: m.sin(x).sum(),
    lambda m, x: (m.exp(x) * x).sum(),
    lambda m, x: m.tanh(x).sum(),
    lambda m, x: m.sigmoid(x).sum(),
    lambda m, x: (x.log_softmax(0) * x).sum(),
    lambda m, x: (x / (x * x + 1)).sum(),
])
def test_second_derivative_matches_torch(fn):
    e, t = pair([0.3, -0.7, 1.2], dtype=np.float64)
    (ge,) = ember.autograd.grad(fn(ember, e), e, create_graph=True)
    (gt,) = torch.autograd.grad(fn(torch, t), t, create_graph=True)
    assert_close(ge, gt, 1e-10, 1e-12)
    (hee,) = ember.autograd.grad(ge.sum(), e)
    (htt,) = torch.autograd.grad(gt.sum(), t)
    assert_close(hee, htt, 1e-10, 1e-12)


def test_third_derivative():
    x = ember.tensor(2.0, requires_grad=True, dtype=ember.float64)
    y = x ** 4
    (g1,) = ember.autograd.grad(y, x, create_graph=True)
    (g2,) = ember.autograd.grad(g1, x, create_graph=True)
    (g3,) = ember.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)


def test_backward_create_graph_gradient_penalty():
    e, t = pair([[0.5, -1.0], [2.0, 0.1]], dtype=np.float64)
    for m, x in ((ember, e), (torch, t)):
        y = (x.tanh() * x).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g ** 2).sum().backward()
    assert_close(e.grad, t.grad, 1e-10, 1e-12)


def test_gradcheck_catches_a_wrong_gradient():
    class BadSquare(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # wrong: should be 2x

    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(BadSquare.apply, (x,))
    assert ember.autograd.gradcheck(lambda v: v * v, (x,))


def test_gradgradcheck():
    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: (v.sin() * v).sum(), (x,))


# ---- custom Function -------------------------------------------------------------------------------------
class MyExp(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        y = x.exp() * scale
        ctx.save_for_backward(y)
        ctx.scale = scale
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * y, None


def test_custom_function_forward_backward():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    y = MyExp.apply(x, 2.0)
    assert y.grad_fn.name() == "MyExpBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([0.0, 1.0]), rtol=1e-6)


def test_custom_function_mark_non_differentiable_and_multiple_outputs():
    class SortWithIdx(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = ember.tensor(np.argsort(x.detach().numpy()))
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return x[idx], idx

        @staticmethod
        def backward(ctx, g, _g_idx):
            (idx,) = ctx.saved_tensors
            out = ember.zeros(g.shape)
            out[idx] = g
            return out

    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortWithIdx.apply(x)
    assert not idx.requires_grad and vals.requires_grad
    (vals * ember.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_legacy_function_instantiation_raises():
    with pytest.raises(RuntimeError, match="static forward"):
        MyExp()


# ---- in-place and version counter -----------------------------------------------------------------------
def test_modifying_saved_input_in_place_raises_at_backward():
    a, b = ember.ones(2, requires_grad=True), ember.ones(2)
    y = a * b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_modifying_saved_output_in_place_raises():
    x = ember.ones(2, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_on_unsaved_input_is_fine_like_torch():
    e, t = pair([1.0, 2.0])
    for x in (e, t):
        y = x * 2
        z = y + 1
        y.add_(3)  # Add saves nothing, so this is legal
        (z * y).sum().backward()
    assert_close(e.grad, t.grad, 0, 0)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 3.0
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0]


def test_inplace_ops_record_gradients_like_torch():
    e, t = pair([0.5, -1.0, 2.0])
    for x in (e, t):
        y = x * 1
        y.mul_(2)
        y.add_(x, alpha=2)
        y.relu_()
        (y * 3).sum().backward()
    assert_close(e.grad, t.grad, 1e-6, 1e-7)


def test_index_assignment_gradient_flows_to_value_and_base():
    e, t = pair([1.0, 2.0, 3.0])
    ev, tv = pair([10.0])
    for x, v in ((e, ev), (t, tv)):
        y = x * 2
        y[1] = v * 3
        (y * y).sum().backward()
    assert_close(e.grad, t.grad, 0, 0)
    assert_close(ev.grad, tv.grad, 0, 0)


def test_version_counter_shared_with_views():
    x = ember.zeros(4)
    v = x[1:3]
    before = x._version[0]
    v.add_(1)
    assert x._version[0] == before + 1
    assert x.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_inplace_result_type_check():
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([1, 2]).add_(1.5)


# ---- anomaly mode ----------------------------------------------------------------------------------------
def test_anomaly_mode_names_op_and_source_line():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.sqrt()  # sqrt'(0) = inf, and 0 * inf downstream gives nan
        z = (y * 0).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0") as info:
            z.backward()
    assert "test_autograd.py" in str(info.value)


def test_anomaly_mode_off_by_default():
    assert not ember.autograd.is_anomaly_enabled()
    x = ember.tensor([0.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


def test_only_floating_outputs_require_grad_custom_function_included():
    import torch

    got = []
    for fw in (torch, ember):
        class Split(fw.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, (x > 0).long()

            @staticmethod
            def backward(ctx, g, g_int):
                return g * 2

        x = fw.tensor([0.5, -1.0, 2.0], requires_grad=True)
        values, signs = Split.apply(x)
        got.append((values.requires_grad, signs.requires_grad, (x * 3).int().requires_grad))
    assert got[1] == got[0] == (True, False, False)
