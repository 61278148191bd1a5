"""Each optimizer against torch.optim (single-tensor path): the same initial parameters and gradients give the
same parameters and state after every step, for many option combinations; state_dict resume is bitwise."""
import copy

import numpy as np
import pytest
import torch

import ember
import ember.optim
from oracle import assert_close

SHAPES = [(3, 4), (5,), ()]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99), maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.5, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5)),
    ("Adadelta", dict(lr=1.0, eps=1e-3, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.02, betas=(0.7, 0.95), eps=1e-4)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9))),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return ([ember.tensor(a.copy(), requires_grad=True) for a in arrays],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrays])


def grads_at(step, dtype):
    rng = np.random.default_rng(1000 + step)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def set_grads(params, arrays, lib):
    for p, g in zip(params, arrays):
        p.grad = lib.tensor(g.copy())


def make_optimizers(name, kwargs, em_params, th_params):
    em = getattr(ember.optim, name)(em_params, **kwargs)
    th = getattr(torch.optim, name)(th_params, foreach=False, **kwargs)
    return em, th


def assert_state_close(em_opt, th_opt, em_params, th_params, tol):
    for i, (pe, pt) in enumerate(zip(em_params, th_params)):
        se, st = em_opt.state.get(pe, {}), th_opt.state.get(pt, {})
        assert list(se) == list(st), f"param {i}: state keys {list(se)} != torch {list(st)}"
        for key in st:
            if key == "step":
                assert se[key].dtype == ember.float32 and se[key].item() == st[key].item()
            else:
                assert_close(se[key], st[key], what=f"param {i} state[{key!r}]", **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_torch_with_given_gradients(name, kwargs, dtype):
    em_params, th_params = make_params(dtype)
    em_opt, th_opt = make_optimizers(name, kwargs, em_params, th_params)
    buffers = [p._data for p in em_params]
    tol = TOL[dtype]
    for step in range(25):
        grads = grads_at(step, dtype)
        set_grads(em_params, grads, ember)
        set_grads(th_params, grads, torch)
        em_opt.step()
        th_opt.step()
        for i, (pe, pt) in enumerate(zip(em_params, th_params)):
            assert_close(pe, pt, what=f"step {step} param {i}", **tol)
    assert all(p._data is b for p, b in zip(em_params, buffers)), "the update must write into the parameters"
    assert_state_close(em_opt, th_opt, em_params, th_params, tol)


def _loss(lib, w, b, v, x):
    """A small non-quadratic objective built from ordinary ops: ((w*x).sum() + b)**2 + (v*v*x[0]).sum()."""
    return ((w * x).sum() + b) ** 2 * 0.1 + (v * v * x[0].abs()).sum()


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_torch_with_gradients_from_backward(name, kwargs):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.5 for s in [(3, 4), (), (4,)]]
    em_params = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    th_params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    em_opt, th_opt = make_optimizers(name, kwargs, em_params, th_params)
    ex, tx = ember.tensor(x), torch.tensor(x)
    for step in range(20):
        em_opt.zero_grad()
        th_opt.zero_grad()
        el, tl = _loss(ember, *em_params, ex), _loss(torch, *th_params, tx)
        assert_close(el, tl, rtol=1e-4, atol=1e-5, what=f"loss at step {step}")
        el.backward()
        tl.backward()
        em_opt.step()
        th_opt.step()
    for i, (pe, pt) in enumerate(zip(em_params, th_params)):
        assert_close(pe, pt, rtol=1e-4, atol=1e-5, what=f"param {i}")


def _snapshot(state_dict):
    """What saving to disk and reading back gives: the same structure with fresh copies of every tensor."""
    return copy.deepcopy(state_dict)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_resume_from_state_dict_is_bitwise(name, kwargs):
    dtype = np.float32
    run_params, _ = make_params(dtype)
    run_opt = getattr(ember.optim, name)(run_params, **kwargs)
    for step in range(8):
        set_grads(run_params, grads_at(step, dtype), ember)
        run_opt.step()
    saved = _snapshot(run_opt.state_dict())
    resumed_params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in run_params]
    resumed_opt = getattr(ember.optim, name)(resumed_params, **kwargs)
    resumed_opt.load_state_dict(saved)
    for step in range(8, 20):
        grads = grads_at(step, dtype)
        set_grads(run_params, grads, ember)
        set_grads(resumed_params, grads, ember)
        run_opt.step()
        resumed_opt.step()
    for a, b in zip(run_params, resumed_params):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    full, loaded = run_opt.state_dict(), resumed_opt.state_dict()
    assert full["param_groups"] == loaded["param_groups"]
    assert full["state"].keys() == loaded["state"].keys()
    for i in full["state"]:
        for key, value in full["state"][i].items():
            other = loaded["state"][i][key]
            assert other is not value and other.dtype == value.dtype
            assert np.array_equal(other.numpy(), value.numpy()), f"state[{i}][{key!r}]"


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_state_dict_layout_matches_torch(name, kwargs):
    em_params, th_params = make_params(np.float32)
    em_opt, th_opt = make_optimizers(name, kwargs, em_params, th_params)
    for step in range(3):
        grads = grads_at(step, np.float32)
        set_grads(em_params, grads, ember)
        set_grads(th_params, grads, torch)
        em_opt.step()
        th_opt.step()
    em_sd, th_sd = em_opt.state_dict(), th_opt.state_dict()
    th_groups = [dict(g, foreach=None) for g in th_sd["param_groups"]]  # we passed foreach=False to torch
    assert em_sd["param_groups"] == th_groups
    assert em_sd["state"].keys() == th_sd["state"].keys()
    for i in th_sd["state"]:
        assert list(em_sd["state"][i]) == list(th_sd["state"][i])


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] in ("SGD", "Adam", "RMSprop", "NAdam")][::2])
def test_loads_a_torch_state_dict_and_continues_like_torch(name, kwargs):
    em_params, th_params = make_params(np.float32)
    em_opt, th_opt = make_optimizers(name, kwargs, em_params, th_params)
    for step in range(6):
        set_grads(th_params, grads_at(step, np.float32), torch)
        th_opt.step()
    th_sd = th_opt.state_dict()
    em_sd = {"state": {i: {k: ember.tensor(v.numpy().copy()) for k, v in s.items()}
                       for i, s in th_sd["state"].items()},
             "param_groups": th_sd["param_groups"]}
    for pe, pt in zip(em_params, th_params):
        pe.data = ember.tensor(pt.detach().numpy().copy())
    em_opt.load_state_dict(em_sd)
    for step in range(6, 16):
        grads = grads_at(step, np.float32)
        set_grads(em_params, grads, ember)
        set_grads(th_params, grads, torch)
        em_opt.step()
        th_opt.step()
    for i, (pe, pt) in enumerate(zip(em_params, th_params)):
        assert_close(pe, pt, rtol=1e-5, atol=1e-6, what=f"param {i}")


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(momentum=0.9)), ("Adam", dict()), ("Adagrad", dict()),
                                         ("RMSprop", dict(centered=True)), ("RAdam", dict())])
def test_param_groups_with_their_own_options(name, kwargs):
    em_params, th_params = make_params(np.float32)
    extra = dict(weight_decay=0.1) if name != "Adagrad" else dict(lr_decay=0.05)

    def groups(params):
        return [{"params": params[:1], "lr": 0.05}, {"params": params[1:], "lr": 0.003, **extra}]

    em_opt = getattr(ember.optim, name)(groups(em_params), lr=0.01, **kwargs)
    th_opt = getattr(torch.optim, name)(groups(th_params), lr=0.01, foreach=False, **kwargs)
    for step in range(20):
        grads = grads_at(step, np.float32)
        set_grads(em_params, grads, ember)
        set_grads(th_params, grads, torch)
        em_opt.step()
        th_opt.step()
    for i, (pe, pt) in enumerate(zip(em_params, th_params)):
        assert_close(pe, pt, rtol=1e-5, atol=1e-6, what=f"param {i}")
    assert [g["lr"] for g in em_opt.param_groups] == [0.05, 0.003]


def test_parameters_without_gradient_are_skipped_and_get_no_state():
    em_params, th_params = make_params(np.float32)
    em_opt, th_opt = make_optimizers("Adam", dict(lr=0.1), em_params, th_params)
    before = em_params[1].detach().numpy().copy()
    for step in range(3):
        grads = grads_at(step, np.float32)
        for params, lib in ((em_params, ember), (th_params, torch)):
            set_grads(params, grads, lib)
            params[1].grad = None
        em_opt.step()
        th_opt.step()
    assert np.array_equal(em_params[1].detach().numpy(), before)
    assert em_params[1] not in em_opt.state and len(em_opt.state_dict()["state"]) == len(th_opt.state_dict()["state"])
    assert_close(em_params[0], th_params[0], rtol=1e-5, atol=1e-6)
