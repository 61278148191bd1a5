"""Optimizer base behaviour against torch: construction errors, param groups, zero_grad, closures, hooks,
state_dict/load_state_dict edge cases, dtype and in-place guarantees."""
import copy

import numpy as np
import pytest
import torch

import ember
import ember.optim
from oracle import assert_close

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "NAdam", "RAdam"]


def twin_params(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return ([ember.tensor(a.copy(), requires_grad=True) for a in arrays],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrays])


def outcome(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the point is to compare what each library raises)
        return type(e), str(e)
    return None, None


BAD_OPTIONS = [
    ("SGD", dict(lr=-1)),
    ("SGD", dict(momentum=-0.5)),
    ("SGD", dict(weight_decay=-1e-3)),
    ("SGD", dict(nesterov=True)),
    ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adam", dict(lr=-0.1)),
    ("Adam", dict(eps=-1.0)),
    ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))),
    ("Adam", dict(betas=(0, 0.999))),
    ("Adam", dict(weight_decay=-1)),
    ("AdamW", dict(betas=(0.9, 1.5))),
    ("Adagrad", dict(lr_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)),
    ("Adagrad", dict(eps=-1)),
    ("RMSprop", dict(alpha=-0.1)),
    ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(eps=-1)),
    ("Adadelta", dict(rho=1.5)),
    ("Adadelta", dict(lr=-2)),
    ("NAdam", dict(momentum_decay=-1)),
    ("NAdam", dict(betas=(0.9, 1.0))),
    ("RAdam", dict(eps=-1e-8)),
    ("RAdam", dict(weight_decay=-0.5)),
]


@pytest.mark.parametrize("name,kwargs", BAD_OPTIONS)
def test_invalid_options_raise_like_torch(name, kwargs):
    (pe,), (pt,) = twin_params((2,))
    et, em = outcome(lambda: getattr(ember.optim, name)([pe], **kwargs))
    tt, tm = outcome(lambda: getattr(torch.optim, name)([pt], **kwargs))
    assert tt is ValueError
    assert (et, em) == (tt, tm)


BAD_PARAMS = [
    ("a tensor instead of an iterable", lambda lib, p: p),
    ("an empty list", lambda lib, p: []),
    ("a float in the list", lambda lib, p: [p, 1.0]),
    ("a non-leaf tensor", lambda lib, p: [p * 2]),
    ("a parameter in two groups", lambda lib, p: [{"params": [p]}, {"params": [p], "lr": 0.5}]),
    ("a set of parameters", lambda lib, p: [{"params": {p}}]),
    ("names for only some parameters", lambda lib, p: [("w", p), p.detach().requires_grad_()]),
    ("groups with and without names", lambda lib, p: [{"params": [("w", p)]},
                                                      {"params": [p.detach().requires_grad_()]}]),
]


@pytest.mark.parametrize("what,make", BAD_PARAMS, ids=[c[0] for c in BAD_PARAMS])
def test_invalid_params_raise_like_torch(what, make):
    (pe,), (pt,) = twin_params((2,))
    et, em = outcome(lambda: ember.optim.SGD(make(ember, pe), lr=0.1))
    tt, tm = outcome(lambda: torch.optim.SGD(make(torch, pt), lr=0.1))
    assert tt is not None and et is tt
    assert em == tm.replace("torch.", "ember.")


def test_duplicate_parameter_within_a_group_warns_like_torch():
    (pe,), (pt,) = twin_params((2,))
    with pytest.warns(UserWarning, match="duplicate parameters") as record:
        ember.optim.SGD([pe, pe], lr=0.1)
    with pytest.warns(UserWarning) as torch_record:
        torch.optim.SGD([pt, pt], lr=0.1)
    assert str(record[0].message) == str(torch_record[0].message)


def test_add_param_group_fills_defaults_and_rejects_duplicates():
    (a, b), _ = twin_params((2,), (3,))
    opt = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["nesterov"] is False
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([a])


def test_required_option_must_be_given():
    (a,), _ = twin_params((2,))

    class Custom(ember.optim.Optimizer):
        def __init__(self, params, lr=ember.optim.optimizer.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Custom([a])
    assert Custom([{"params": [a], "lr": 0.3}]).param_groups[0]["lr"] == 0.3


def test_named_parameters_are_kept_in_groups_and_state_dict():
    (a, b), (ta, tb) = twin_params((2,), (3,))
    opt = ember.optim.Adam([("w", a), ("b", b)], lr=0.1)
    topt = torch.optim.Adam([("w", ta), ("b", tb)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == topt.state_dict()["param_groups"][0]["param_names"]


@pytest.mark.parametrize("name", NAMES)
def test_group_keys_and_defaults_match_torch(name):
    (pe,), (pt,) = twin_params((2,))
    em, th = getattr(ember.optim, name)([pe]), getattr(torch.optim, name)([pt])
    assert em.defaults == th.defaults
    assert {k: v for k, v in em.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in th.param_groups[0].items() if k != "params"}
    assert repr(em) == repr(th)


def test_zero_grad_sets_to_none_by_default_or_zeroes_in_place():
    (a, b), _ = twin_params((2,), (3,))
    opt = ember.optim.SGD([a, b], lr=0.1)
    (a.sum() * 3 + (b * b).sum()).backward()
    grad_b = b.grad
    opt.zero_grad(set_to_none=False)
    assert b.grad is grad_b and np.array_equal(b.grad.numpy(), np.zeros(3, np.float32))
    assert not b.grad.requires_grad
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_false_detaches_a_grad_with_history():
    (a,), _ = twin_params((2,))
    opt = ember.optim.SGD([a], lr=0.1)
    (a * a).sum().backward(create_graph=True)
    assert a.grad.grad_fn is not None
    opt.zero_grad(set_to_none=False)
    assert a.grad.grad_fn is None and not a.grad.requires_grad and a.grad.numpy().sum() == 0


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_step_with_closure_evaluates_with_grad_and_returns_loss(name):
    (we,), (wt,) = twin_params((4,))
    x = np.linspace(-1, 1, 4).astype(np.float32)
    em_opt, th_opt = getattr(ember.optim, name)([we], lr=0.05), getattr(torch.optim, name)([wt], lr=0.05)

    def closure(opt, w, lib):
        def run():
            opt.zero_grad()
            loss = (w * lib.tensor(x)).sum() ** 2
            loss.backward()
            return loss
        return run

    for _ in range(10):
        with ember.no_grad():  # the closure must still record a graph
            le = em_opt.step(closure(em_opt, we, ember))
        lt = th_opt.step(closure(th_opt, wt, torch))
        assert_close(le, lt.detach(), rtol=1e-5, atol=1e-6)
    assert_close(we, wt, rtol=1e-5, atol=1e-6)
    assert em_opt.step() is None


def test_step_runs_without_recording_a_graph_and_keeps_buffers_and_dtype():
    (a,), _ = twin_params((3, 2))
    opt = ember.optim.Adam([a], lr=0.1, amsgrad=True)
    buffer, version = a._data, a._version[0]
    a.grad = ember.ones(3, 2)
    opt.step()
    assert a._data is buffer and a.grad_fn is None and a.requires_grad and a._version[0] > version
    assert a.dtype == ember.float32
    assert all(v.dtype == ember.float32 for v in opt.state[a].values())
    assert ember.is_grad_enabled()


def test_step_counters_follow_the_default_dtype_like_torch():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        dtypes = []
        for lib in (ember, torch):
            p = lib.zeros(2, requires_grad=True)
            opt = lib.optim.NAdam([p])
            p.grad = lib.ones(2)
            opt.step()
            dtypes.append([str(v.dtype).split(".")[1] for v in opt.state[p].values()])
        assert dtypes[0] == dtypes[1] == ["float64"] * 4
    finally:
        torch.set_default_dtype(torch.float32)


def test_step_hooks_run_in_order_and_can_be_removed():
    (a,), _ = twin_params((2,))
    opt = ember.optim.SGD([a], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    a.grad = ember.ones(2)
    opt.step()
    pre.remove()
    opt.step()
    assert calls == [("pre", True), ("post", True), ("post", True)]


def test_state_dict_hooks():
    (a,), _ = twin_params((2,))
    opt = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append(sorted(sd)))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("post"))
    opt.load_state_dict(opt.state_dict())
    assert seen == [["extra", "param_groups", "state"], "post"]


def test_load_state_dict_rejects_mismatched_groups_like_torch():
    (a, b), (ta, tb) = twin_params((2,), (3,))
    for lib, (x, y) in ((ember, (a, b)), (torch, (ta, tb))):
        one_group = lib.optim.SGD([x, y], lr=0.1).state_dict()
        two_groups = lib.optim.SGD([{"params": [x]}, {"params": [y]}], lr=0.1)
        with pytest.raises(ValueError, match="different number of parameter groups"):
            two_groups.load_state_dict(one_group)
        bigger = lib.optim.SGD([x], lr=0.1)
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            bigger.load_state_dict(one_group)


def test_load_state_dict_restores_options_casts_state_and_keeps_adamw_decoupled():
    (a,), _ = twin_params((2,))
    src = ember.optim.Adam([a], lr=0.3, weight_decay=0.1)
    a.grad = ember.ones(2)
    src.step()
    sd = copy.deepcopy(src.state_dict())
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].double()
    (b,), _ = twin_params((2,))
    dst = ember.optim.AdamW([b], lr=0.001)
    dst.load_state_dict(sd)
    group = dst.param_groups[0]
    assert group["lr"] == 0.3 and group["params"] == [b] and group["decoupled_weight_decay"] is True
    assert dst.state[b]["exp_avg"].dtype == ember.float32 and dst.state[b]["step"].item() == 1.0
    assert sd["state"][0]["exp_avg"].dtype == ember.float64  # the source is not modified


def test_load_state_dict_accepts_numpy_arrays():
    (a,), _ = twin_params((2,))
    src = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = ember.ones(2)
    src.step()
    sd = src.state_dict()
    as_numpy = {"state": {0: {"momentum_buffer": sd["state"][0]["momentum_buffer"].numpy().copy()}},
                "param_groups": sd["param_groups"]}
    (b,), _ = twin_params((2,))
    dst = ember.optim.SGD([b], lr=0.1, momentum=0.9)
    dst.load_state_dict(as_numpy)
    assert isinstance(dst.state[b]["momentum_buffer"], ember.Tensor)
    assert np.array_equal(dst.state[b]["momentum_buffer"].numpy(), np.ones(2, np.float32))


def test_sgd_without_momentum_keeps_no_state_like_torch():
    (a,), (t,) = twin_params((2,))
    opt, topt = ember.optim.SGD([a], lr=0.1), torch.optim.SGD([t], lr=0.1)
    a.grad, t.grad = ember.ones(2), torch.ones(2)
    opt.step()
    topt.step()
    assert opt.state_dict()["state"] == {} and topt.state_dict()["state"] == {}


def test_adagrad_creates_state_at_construction_like_torch():
    (a, b), (ta, tb) = twin_params((2,), (3,))
    opt = ember.optim.Adagrad([a, b], initial_accumulator_value=0.25)
    topt = torch.optim.Adagrad([ta, tb], initial_accumulator_value=0.25)
    assert list(opt.state_dict()["state"]) == list(topt.state_dict()["state"]) == [0, 1]
    assert_close(opt.state[b]["sum"], topt.state[tb]["sum"], rtol=0, atol=0)


def test_tensor_learning_rate():
    (a,), (t,) = twin_params((3,))
    opt = ember.optim.Adam([a], lr=ember.tensor(0.01))
    topt = torch.optim.Adam([t], lr=torch.tensor(0.01), foreach=False)
    for _ in range(5):
        a.grad, t.grad = ember.ones(3), torch.ones(3)
        opt.step()
        topt.step()
    assert_close(a, t, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        ember.optim.SGD([a], lr=ember.ones(2))


def test_differentiable_is_not_supported():
    (a,), _ = twin_params((2,))
    with pytest.raises(NotImplementedError, match="differentiable"):
        ember.optim.Adam([a], differentiable=True)


def test_optim_does_not_import_nn():
    """optim sits beside nn and sees parameters as plain tensors: no module of it imports ember.nn."""
    import ast
    import pathlib

    for path in pathlib.Path(ember.optim.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert not module.startswith(("..nn", "ember.nn")), f"{path.name} imports {module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("ember.nn") for a in node.names), path.name


def test_hooks_run_once_when_a_subclass_step_calls_super():
    (a,), _ = twin_params((2,))

    class ClippedSGD(ember.optim.SGD):
        def step(self, closure=None):
            for p in self.param_groups[0]["params"]:
                p.grad.clamp_(-0.5, 0.5)
            return super().step(closure)

    opt = ClippedSGD([a], lr=1.0)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    before = a.detach().numpy().copy()
    a.grad = ember.tensor([2.0, -0.25])
    opt.step()
    assert calls == ["pre", "post"]
    assert np.allclose(a.detach().numpy(), before - np.array([0.5, -0.25], np.float32))


def test_step_hook_may_replace_arguments():
    (a,), _ = twin_params((2,))
    opt = ember.optim.SGD([a], lr=0.1)
    seen = []

    def closure():
        seen.append(True)
        return ember.tensor(3.0)

    opt.register_step_pre_hook(lambda o, args, kwargs: ((), {"closure": closure}))
    a.grad = ember.ones(2)
    assert opt.step().item() == 3.0 and seen == [True]


def test_load_state_dict_turns_plain_number_steps_into_tensors():
    (a,), _ = twin_params((2,))
    src = ember.optim.NAdam([a])
    a.grad = ember.ones(2)
    src.step()
    sd = copy.deepcopy(src.state_dict())
    sd["state"][0]["step"] = 1.0
    sd["state"][0]["mu_product"] = sd["state"][0]["mu_product"].item()
    dst = ember.optim.NAdam([a])
    dst.load_state_dict(sd)
    assert isinstance(dst.state[a]["step"], ember.Tensor) and dst.state[a]["step"].dtype == ember.float32
    dst.step()
    assert dst.state[a]["step"].item() == 2.0
