"""nn.utils: gradient clipping and parameter <-> vector conversion, against torch.nn.utils."""
import numpy as np
import pytest
import torch

import ember
import ember.nn
from oracle import assert_close, tol

SHAPES = [(3, 4), (5,), (2, 2, 2), ()]


def twin_params(dtype=np.float32, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    e, t = [], []
    for i, shape in enumerate(SHAPES):
        data = np.asarray(rng.standard_normal(shape), dtype=dtype)
        grad = np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)
        ep, tp = ember.nn.Parameter(ember.tensor(data)), torch.nn.Parameter(torch.tensor(data))
        if i != 1:  # one parameter without a gradient
            ep.grad, tp.grad = ember.tensor(grad), torch.tensor(grad)
        e.append(ep)
        t.append(tp)
    return e, t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5, 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    e, t = twin_params(dtype)
    e_total = ember.nn.utils.clip_grad_norm_(e, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t, max_norm, norm_type=norm_type)
    k = tol(dtype, 10)
    assert_close(e_total, t_total, k["rtol"], k["atol"], "total norm")
    for i, (a, b) in enumerate(zip(e, t)):
        if b.grad is None:
            assert a.grad is None
        else:
            assert_close(a.grad, b.grad, k["rtol"], k["atol"], f"grad {i}")


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = ember.nn.Parameter(ember.ones(4))
    p.grad = ember.full((4,), 3.0)
    total = ember.nn.utils.clip_grad_norm_(p, 1.0)
    assert isinstance(total, ember.Tensor) and abs(total.item() - 6.0) < 1e-6
    assert abs(float(p.grad.norm()) - 1.0) < 1e-5
    empty = ember.nn.utils.clip_grad_norm_([ember.nn.Parameter(ember.ones(2))], 1.0)
    assert empty.item() == torch.nn.utils.clip_grad_norm_([torch.nn.Parameter(torch.ones(2))], 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_nonfinite(bad):
    msgs = []
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.ones(3))
        p.grad = lib.tensor([1.0, bad, 2.0])
        with pytest.raises(RuntimeError) as info:
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        msgs.append(str(info.value))
        p.grad = lib.tensor([1.0, bad, 2.0])
        total = lib.nn.utils.clip_grad_norm_([p], 1.0)  # without the flag: no error, non-finite total
        assert not np.isfinite(float(total))
    assert msgs[0] == msgs[1]


def test_clip_grad_value_matches_torch():
    e, t = twin_params(scale=3.0)
    assert ember.nn.utils.clip_grad_value_(e, 1.5) is None
    torch.nn.utils.clip_grad_value_(t, 1.5)
    for a, b in zip(e, t):
        if b.grad is not None:
            assert_close(a.grad, b.grad, 0, 0, "clipped grad")


def test_get_total_norm_and_clip_grads_with_norm():
    e, t = twin_params(seed=3)
    e_total = ember.nn.utils.get_total_norm([p.grad for p in e if p.grad is not None], 2.0)
    t_total = torch.nn.utils.get_total_norm([p.grad for p in t if p.grad is not None], 2.0)
    assert_close(e_total, t_total, 1e-5, 1e-6, "total")
    ember.nn.utils.clip_grads_with_norm_(e, 0.1, e_total)
    torch.nn.utils.clip_grads_with_norm_(t, 0.1, t_total)
    for a, b in zip(e, t):
        if b.grad is not None:
            assert_close(a.grad, b.grad, 1e-5, 1e-6, "grad")


def test_parameters_to_vector_and_back():
    e, t = twin_params()
    ev = ember.nn.utils.parameters_to_vector(e)
    tv = torch.nn.utils.parameters_to_vector(t)
    assert_close(ev, tv, 0, 0, "vector")
    new = ember.arange(ev.numel(), dtype=ember.float32)
    ember.nn.utils.vector_to_parameters(new, e)
    torch.nn.utils.vector_to_parameters(torch.arange(tv.numel(), dtype=torch.float32), t)
    for a, b in zip(e, t):
        assert_close(a.detach(), b.detach(), 0, 0, "param")
        assert isinstance(a, ember.nn.Parameter)
    new[0] = 100.0  # parameters now view the vector's memory, as in torch
    assert e[0][0, 0].item() == 100.0


def test_parameters_to_vector_grad_flows():
    lin = ember.nn.Linear(3, 2)
    v = ember.nn.utils.parameters_to_vector(lin.parameters())
    (v * 2).sum().backward()
    assert (lin.weight.grad.numpy() == 2).all() and (lin.bias.grad.numpy() == 2).all()


def test_vector_to_parameters_type_error():
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        ember.nn.utils.vector_to_parameters([1.0], [ember.nn.Parameter(ember.ones(1))])
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        torch.nn.utils.vector_to_parameters([1.0], [torch.nn.Parameter(torch.ones(1))])
