"""Helpers that run the same computation in ember and in torch (the oracle) and compare values and gradients.

torch is a test dependency: importing this module without torch installed fails the test run, never skips it.
"""
import numpy as np
import torch

import ember

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64, np.int64: torch.int64, np.int32: torch.int32,
               np.bool_: torch.bool, np.uint8: torch.uint8, np.int8: torch.int8, np.int16: torch.int16,
               np.float16: torch.float16}


def tol(dtype, scale=1.0):
    t = TOL[np.dtype(dtype).type]
    return dict(rtol=t["rtol"] * scale, atol=t["atol"] * scale)


def twins(*arrays, requires_grad=True):
    """The same data as ember and torch leaf tensors (float arrays require grad)."""
    em, th = [], []
    for a in arrays:
        if not isinstance(a, np.ndarray):
            em.append(a)
            th.append(a)
            continue
        rg = requires_grad and a.dtype.kind == "f"
        em.append(ember.tensor(a.copy(), requires_grad=rg))
        th.append(torch.tensor(a.copy(), requires_grad=rg))
    return em, th


def assert_close(e, t, rtol, atol, what=""):
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), f"{what}: structure differs"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_close(a, b, rtol, atol, f"{what}[{i}]")
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected an ember Tensor, got {type(e).__name__}"
        tn = t.detach().numpy(force=True)  # force: torch returns ZeroTensor grads for some ops (sgn)
        en = e.detach().numpy()
        assert tuple(en.shape) == tuple(tn.shape), f"{what}: shape {en.shape} != torch {tn.shape}"
        assert en.dtype == tn.dtype, f"{what}: dtype {en.dtype} != torch {tn.dtype}"
        np.testing.assert_allclose(en, tn, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        assert e == t or (isinstance(t, float) and np.isclose(e, t, rtol=rtol, atol=atol)), f"{what}: {e} != {t}"


def check_op(ember_fn, torch_fn, *arrays, grad=True, rtol=None, atol=None, grad_seed=0, **kwargs):
    """Run ``fn`` on twins of ``arrays``; compare outputs, then gradients of sum(out * random weights)."""
    float_dt = next((a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"), np.float32)
    t = tol(float_dt)
    rtol = t["rtol"] if rtol is None else rtol
    atol = t["atol"] if atol is None else atol
    em, th = twins(*arrays, requires_grad=grad)
    e_out = ember_fn(*em, **kwargs)
    t_out = torch_fn(*th, **kwargs)
    assert_close(e_out, t_out, rtol, atol, "forward")
    if not grad:
        return e_out, t_out
    e_outs = e_out if isinstance(e_out, (tuple, list)) else (e_out,)
    t_outs = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
    rng = np.random.default_rng(grad_seed)
    e_loss, t_loss = None, None
    for eo, to in zip(e_outs, t_outs):
        if not isinstance(to, torch.Tensor) or not to.requires_grad:
            continue
        w = rng.standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
        el = (eo * ember.tensor(w)).sum()
        tl = (to * torch.tensor(w)).sum()
        e_loss = el if e_loss is None else e_loss + el
        t_loss = tl if t_loss is None else t_loss + tl
    if t_loss is None:
        return e_out, t_out
    e_loss.backward()
    t_loss.backward()
    for i, (a, b) in enumerate(zip(em, th)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            if b.grad is None:
                assert a.grad is None or not np.any(a.grad.numpy()), f"grad of input {i}: torch has none"
                continue
            assert a.grad is not None, f"grad of input {i}: ember computed none"
            assert_close(a.grad, b.grad, rtol * 10, atol * 10, f"grad of input {i}")
    return e_out, t_out


def gradcheck(fn, *arrays, **kwargs):
    """ember's numerical gradcheck on float64 copies of ``arrays``."""
    inputs = tuple(ember.tensor(a.astype(np.float64), requires_grad=True) if isinstance(a, np.ndarray)
                   and a.dtype.kind == "f" else a for a in arrays)
    return ember.autograd.gradcheck(lambda *xs: fn(*xs, **kwargs), inputs, eps=1e-6, atol=1e-6, rtol=1e-4)
