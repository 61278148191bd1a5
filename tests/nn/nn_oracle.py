"""Helpers for tests of ember.nn against torch.nn: build the same layer in both, copy torch's weights into
ember through state_dict, run both and compare outputs, input gradients, parameter gradients and buffers."""
import numpy as np
import torch

import ember
import ember.nn
from oracle import assert_close, tol


def to_ember_state(th_module):
    """torch state_dict -> dict of ember tensors (same keys, same order)."""
    return {k: ember.tensor(v.detach().numpy()) for k, v in th_module.state_dict().items()}


def twin_modules(make, dtype=np.float32):
    """``make(lib)`` builds the layer with ``lib`` = torch or ember; ember's copy gets torch's weights."""
    th = make(torch)
    em = make(ember)
    if np.dtype(dtype) == np.float64:
        th.double()
        em.double()
    em.load_state_dict(to_ember_state(th))
    return em, th


def _inputs(arrays, dtype, input_grad):
    em, th = [], []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                a = a.astype(dtype)
            wanted = input_grad if isinstance(input_grad, bool) else i in input_grad
            rg = wanted and a.dtype.kind == "f"
            em.append(ember.tensor(a.copy(), requires_grad=rg))
            th.append(torch.tensor(a.copy(), requires_grad=rg))
        else:
            em.append(a)
            th.append(a)
    return em, th


def check_layer(make, *arrays, dtype=np.float32, train=True, input_grad=True, scale=1.0, grad=True, call=None):
    """Compare a layer's forward, backward (inputs and every parameter) and buffers with torch's.

    ``input_grad`` is True/False for all float inputs, or the indices of the inputs that require grad."""
    em_mod, th_mod = twin_modules(make, dtype)
    em_mod.train(train)
    th_mod.train(train)
    t = tol(dtype, scale)
    em_in, th_in = _inputs(arrays, dtype, input_grad)
    call = call or (lambda m, *xs: m(*xs))
    th_out = call(th_mod, *th_in)
    em_out = call(em_mod, *em_in)
    assert_close(em_out, th_out, t["rtol"], t["atol"], "forward")
    for (name, eb), (tname, tb) in zip(em_mod.named_buffers(), th_mod.named_buffers()):
        assert name == tname
        assert_close(eb, tb, t["rtol"], t["atol"], f"buffer {name}")
    if not grad:
        return em_mod, th_mod
    th_outs = th_out if isinstance(th_out, tuple) else (th_out,)
    em_outs = em_out if isinstance(em_out, tuple) else (em_out,)
    rng = np.random.default_rng(1)
    th_loss, em_loss = 0, 0
    for eo, to in zip(em_outs, th_outs):
        if to.requires_grad:
            w = rng.standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
            th_loss = th_loss + (to * torch.tensor(w)).sum()
            em_loss = em_loss + (eo * ember.tensor(w)).sum()
    th_loss.backward()
    em_loss.backward()
    for i, (e, th) in enumerate(zip(em_in, th_in)):
        if isinstance(th, torch.Tensor) and th.requires_grad:
            assert_close(e.grad, th.grad, t["rtol"] * 10, t["atol"] * 10, f"grad of input {i}")
    th_params = dict(th_mod.named_parameters())
    for name, p in em_mod.named_parameters():
        tp = th_params.pop(name)
        if tp.grad is None:
            assert p.grad is None, f"grad of {name}: torch has none"
        else:
            assert p.grad is not None, f"grad of {name}: ember computed none"
            assert_close(p.grad, tp.grad, t["rtol"] * 10, t["atol"] * 10, f"grad of {name}")
    assert not th_params, f"parameters missing in ember: {list(th_params)}"
    return em_mod, th_mod
