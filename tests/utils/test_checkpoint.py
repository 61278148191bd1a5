"""ember.utils.checkpoint: gradients equal to the model run without checkpointing (dropout masks replayed from
the saved RNG state), torch's results on the same weights, torch's warnings and errors, and the activations of
the checkpointed forward really freed."""
import warnings
import weakref

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import ember
import ember.nn as nn
from ember.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

MODES = [True, False]  # use_reentrant


def mlp(p_drop=0.5):
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(p_drop), nn.Linear(16, 16), nn.Tanh(),
                         nn.Dropout(p_drop), nn.Linear(16, 3))


def grads_of(model, x, run, seed=7):
    """Loss, parameter grads and input grad of ``run(model, x)`` from a fresh state, with the RNG at ``seed``."""
    model.zero_grad()
    x = x.detach().requires_grad_(x.requires_grad)
    ember.manual_seed(seed)
    out = run(model, x)
    (out * ember.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
    return out.detach(), [p.grad.clone() for p in model.parameters()], x.grad


def assert_same(a, b):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def torch_twin(em_model, th_model):
    """Copy ember's weights into the torch model of the same architecture."""
    th_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in em_model.state_dict().items()})
    return th_model


@pytest.mark.parametrize("use_reentrant", MODES)
def test_mlp_with_dropout_same_grads_as_plain(use_reentrant):
    model, x = mlp(), ember.randn(5, 6, requires_grad=True)
    plain = grads_of(model, x, lambda m, t: m(t))
    ckpt = grads_of(model, x, lambda m, t: checkpoint(m, t, use_reentrant=use_reentrant))
    assert_same(plain[0], ckpt[0])
    for a, b in zip(plain[1], ckpt[1]):
        assert_same(a, b)
    assert_same(plain[2], ckpt[2])


@pytest.mark.parametrize("use_reentrant", MODES)
def test_without_preserved_rng_the_dropout_masks_differ(use_reentrant):
    model, x = mlp(), ember.randn(5, 6, requires_grad=True)
    plain = grads_of(model, x, lambda m, t: m(t))
    ckpt = grads_of(model, x, lambda m, t: checkpoint(m, t, use_reentrant=use_reentrant, preserve_rng_state=False))
    assert_same(plain[0], ckpt[0])  # the forward is the same run
    assert not np.array_equal(plain[1][0].numpy(), ckpt[1][0].numpy())  # the recomputation drew new masks


@pytest.mark.parametrize("use_reentrant", MODES)
def test_backward_leaves_the_outer_rng_stream_alone(use_reentrant):
    model, x = mlp(), ember.randn(5, 6)
    ember.manual_seed(3)
    model(x).sum().backward()
    expected = ember.rand(4)
    ember.manual_seed(3)
    checkpoint(model, x.requires_grad_(), use_reentrant=use_reentrant).sum().backward()
    assert_same(ember.rand(4), expected)


def conv_block(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
                             lib.nn.Conv2d(4, 3, 3), lib.nn.Tanh())


@pytest.mark.parametrize("use_reentrant", MODES)
def test_conv_block_matches_plain_and_torch(use_reentrant):
    em = conv_block(ember)
    th = torch_twin(em, conv_block(torch))
    xa = np.random.default_rng(1).standard_normal((2, 2, 8, 8)).astype(np.float32)
    plain = grads_of(em, ember.tensor(xa, requires_grad=True), lambda m, t: m(t))
    ckpt = grads_of(em, ember.tensor(xa, requires_grad=True),
                    lambda m, t: checkpoint(m, t, use_reentrant=use_reentrant))
    for a, b in zip(plain[1] + [plain[2]], ckpt[1] + [ckpt[2]]):
        assert_same(a, b)
    xt = torch.tensor(xa, requires_grad=True)
    out = tcp.checkpoint(th, xt, use_reentrant=use_reentrant)
    (out * torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
    np.testing.assert_allclose(ckpt[0].numpy(), out.detach().numpy(), rtol=1e-5, atol=1e-5)
    for a, p in zip(ckpt[1] + [ckpt[2]], list(th.parameters()) + [xt]):
        np.testing.assert_allclose(a.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_input_without_grad_non_reentrant_still_trains_the_parameters():
    model, x = mlp(), ember.randn(5, 6)
    plain = grads_of(model, x, lambda m, t: m(t))
    ckpt = grads_of(model, x, lambda m, t: checkpoint(m, t, use_reentrant=False))
    for a, b in zip(plain[1], ckpt[1]):
        assert_same(a, b)
    assert ckpt[2] is None


def test_input_without_grad_reentrant_warns_and_has_no_graph_as_torch():
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(mlp(), ember.randn(5, 6), use_reentrant=True)
    th = torch.nn.Linear(6, 3)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out_t = tcp.checkpoint(th, torch.randn(5, 6), use_reentrant=True)
    assert out.requires_grad is out_t.requires_grad is False


def test_autograd_grad_with_non_reentrant():
    model, x = mlp(0.0), ember.randn(4, 6, requires_grad=True)
    params = list(model.parameters())
    expected = ember.autograd.grad(model(x).pow(2).sum(), params + [x])
    got = ember.autograd.grad(checkpoint(model, x, use_reentrant=False).pow(2).sum(), params + [x])
    for a, b in zip(got, expected):
        assert_same(a, b)


@pytest.mark.parametrize("use_reentrant", MODES)
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_same_grads_as_plain_and_torch(use_reentrant, segments):
    em = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 4), nn.Tanh())
    th = torch_twin(em, torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8),
                                            torch.nn.Sigmoid(), torch.nn.Linear(8, 4), torch.nn.Tanh()))
    xa = np.random.default_rng(2).standard_normal((3, 6)).astype(np.float32)
    plain = grads_of(em, ember.tensor(xa, requires_grad=True), lambda m, t: m(t))
    ckpt = grads_of(em, ember.tensor(xa, requires_grad=True),
                    lambda m, t: checkpoint_sequential(m, segments, t, use_reentrant=use_reentrant))
    for a, b in zip(plain[1] + [plain[2]], ckpt[1] + [ckpt[2]]):
        assert_same(a, b)
    xt = torch.tensor(xa, requires_grad=True)
    out = tcp.checkpoint_sequential(th, segments, xt, use_reentrant=use_reentrant)
    (out * torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
    for a, p in zip(ckpt[1] + [ckpt[2]], list(th.parameters()) + [xt]):
        np.testing.assert_allclose(a.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_checkpoint_sequential_on_a_list_of_functions():
    layers = [nn.Linear(3, 3), ember.tanh, nn.Linear(3, 2)]
    x = ember.randn(2, 3, requires_grad=True)
    out = checkpoint_sequential(layers, 2, x, use_reentrant=False)
    expected = layers[2](ember.tanh(layers[0](x)))
    assert_same(out.detach(), expected.detach())
    (gx,) = ember.autograd.grad(out.sum(), x)
    (ex,) = ember.autograd.grad(expected.sum(), x)
    assert_same(gx, ex)


@pytest.mark.parametrize("use_reentrant", MODES)
def test_non_tensor_args_and_tuple_outputs(use_reentrant):
    w = ember.randn(4, 4, dtype=ember.float64, requires_grad=True)

    def fn(x, scale, mode):
        h = (x @ w) * scale
        return (h.tanh() if mode == "tanh" else h.sin()), h.argmax(1), "note"

    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    y, idx, note = checkpoint(fn, x, 0.5, "tanh", use_reentrant=use_reentrant)
    assert note == "note" and idx.dtype == ember.int64 and not idx.requires_grad
    y.sum().backward()
    gx, gw = x.grad, w.grad
    x.grad = w.grad = None
    fn(x, 0.5, "tanh")[0].sum().backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy(), rtol=1e-12)


def test_keyword_arguments_and_nested_tensors_non_reentrant():
    def fn(x, pair, *, bias, power=2):
        return (x * pair[0] + pair[1]) ** power + bias

    x, a, b, bias = (ember.randn(3, dtype=ember.float64, requires_grad=True) for _ in range(4))
    out = checkpoint(fn, x, (a, b), bias=bias, power=3, use_reentrant=False)
    got = ember.autograd.grad(out.sum(), [x, a, b, bias])
    expected = ember.autograd.grad(fn(x, (a, b), bias=bias, power=3).sum(), [x, a, b, bias])
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)


def test_keyword_arguments_rejected_by_reentrant_as_torch():
    with pytest.raises(ValueError, match="Unexpected keyword arguments: bias"):
        checkpoint(lambda x, bias: x + bias, ember.ones(2, requires_grad=True), bias=1.0, use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: bias"):
        tcp.checkpoint(lambda x, bias: x + bias, torch.ones(2, requires_grad=True), bias=1.0, use_reentrant=True)


def test_double_backward_non_reentrant():
    w = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)

    def f(x):
        return ((x @ w).sin() * x).sum()

    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(checkpoint(f, x, use_reentrant=False), x, create_graph=True)
    hx, hw = ember.autograd.grad((g ** 2).sum(), [x, w])
    (g2,) = ember.autograd.grad(f(x), x, create_graph=True)
    ex, ew = ember.autograd.grad((g2 ** 2).sum(), [x, w])
    np.testing.assert_allclose(hx.numpy(), ex.numpy(), rtol=1e-12)
    np.testing.assert_allclose(hw.numpy(), ew.numpy(), rtol=1e-12)


def recording_fn(refs, weight):
    def fn(x):
        h1 = x @ weight
        h2 = h1.tanh()
        h3 = h2 * h1
        refs.extend(weakref.ref(t) for t in (h1, h2, h3))
        return h3.sum(1)

    return fn


@pytest.mark.parametrize("use_reentrant", MODES)
def test_forward_intermediates_are_freed(use_reentrant):
    weight = ember.randn(8, 8, requires_grad=True)
    x = ember.randn(4, 8, requires_grad=True)
    plain_refs = []
    plain_out = recording_fn(plain_refs, weight)(x)
    assert all(r() is not None for r in plain_refs[:2])  # the graph keeps what backward needs (h1, h2)
    refs = []
    out = checkpoint(recording_fn(refs, weight), x, use_reentrant=use_reentrant)
    assert out.requires_grad and len(refs) == 3
    assert [r() for r in refs] == [None, None, None]  # nothing of the forward survives, not even in a cycle
    out.sum().backward()
    assert len(refs) == 6 and [r() for r in refs[3:]] == [None, None, None]  # nor of the recomputation
    plain_out.sum().backward()


def test_recomputation_that_changes_shape_raises_as_torch():
    for lib, cp in ((ember, checkpoint), (torch, tcp.checkpoint)):
        calls = []

        def fn(x):
            calls.append(1)
            return (x[: 4 - len(calls)] * 2).sin()

        out = cp(fn, lib.ones(4, requires_grad=True), use_reentrant=False)
        with pytest.raises(RuntimeError, match="Recomputed values for the following tensors have different metadata"):
            out.sum().backward()
    assert issubclass(CheckpointError, RuntimeError)


def test_use_reentrant_not_given_warns_as_torch():
    lin = nn.Linear(2, 2)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint(lin, ember.ones(1, 2, requires_grad=True))
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint_sequential(nn.Sequential(lin, nn.ReLU()), 1, ember.ones(1, 2, requires_grad=True))
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        tcp.checkpoint(torch.nn.Linear(2, 2), torch.ones(1, 2, requires_grad=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lin, ember.ones(1, 2, requires_grad=True), use_reentrant=False)


@pytest.mark.parametrize("use_reentrant", MODES)
def test_under_no_grad_just_runs(use_reentrant):
    lin = nn.Linear(3, 2)
    x = ember.randn(2, 3, requires_grad=True)
    with ember.no_grad():
        out = checkpoint(lin, x, use_reentrant=use_reentrant)
    assert not out.requires_grad
    assert_same(out, lin(x).detach())


def test_context_fn_and_invalid_options():
    entered = []

    class Note:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            entered.append(self.name)

        def __exit__(self, *exc):
            return False

    x = ember.ones(2, requires_grad=True)
    checkpoint(lambda t: t * 2, x, use_reentrant=False, context_fn=lambda: (Note("fwd"), Note("re"))).sum().backward()
    assert entered == ["fwd", "re"]
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, context_fn=lambda: (Note("a"), Note("b")))
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="shapes")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: extra"):
        checkpoint_sequential([nn.Linear(2, 2)], 1, x, use_reentrant=True, extra=1)
