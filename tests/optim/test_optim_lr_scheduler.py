"""Learning-rate schedulers against torch.optim.lr_scheduler: the lr sequences (and cycled momenta) must be
the same floats, step by step, for every scheduler and several settings; state_dict resume; errors."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.optim
from ember.optim import lr_scheduler as elrs
from torch.optim import lr_scheduler as tlrs


def make_optimizer(lib, name="SGD", **kwargs):
    """Two param groups with different lrs; the parameters never get gradients (steps only touch lrs)."""
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    kwargs = {"momentum": 0.9, **kwargs} if name == "SGD" else kwargs
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1, **kwargs)


def momenta(opt):
    return [(g.get("momentum"), g.get("betas")) for g in opt.param_groups]


CASES = [
    ("StepLR", lambda m, o: m.StepLR(o, step_size=7)),
    ("StepLR-gamma", lambda m, o: m.StepLR(o, step_size=3, gamma=0.7)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.5)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, T_max=10)),
    ("CosineAnnealingLR-eta_min", lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7)),
    ("CosineAnnealingWarmRestarts-T_mult", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                        eta_min=1e-4)),
    ("LinearLR", lambda m, o: m.LinearLR(o)),
    ("LinearLR-down", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=30)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o)),
    ("ConstantLR-factor", lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=13)),
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * (e % 4))),
    ("LambdaLR-per-group", lambda m, o: m.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: min(1.0, (e + 1) / 10)])),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97)),
    ("MultiplicativeLR-varying", lambda m, o: m.MultiplicativeLR(o, lambda e: 1.1 if e % 3 else 0.8)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0)),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=61)),
    ("OneCycleLR-linear", lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=70, anneal_strategy="linear",
                                                    pct_start=0.25)),
    ("OneCycleLR-three-phase", lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=6, steps_per_epoch=11,
                                                         three_phase=True, div_factor=10.0)),
    ("OneCycleLR-no-momentum", lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=65, cycle_momentum=False)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5)),
    ("CyclicLR-triangular2", lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=0.2, step_size_up=4,
                                                     step_size_down=9, mode="triangular2")),
    ("CyclicLR-exp_range", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range",
                                                   gamma=0.97, base_momentum=0.7, max_momentum=0.95)),
    ("SequentialLR", lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                     m.ExponentialLR(o, gamma=0.9)], milestones=[5])),
    ("SequentialLR-three", lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.5, total_iters=3),
                                                           m.CosineAnnealingLR(o, T_max=12),
                                                           m.StepLR(o, step_size=4, gamma=0.5)],
                                                       milestones=[3, 20])),
    ("ChainedScheduler", lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=4),
                                                          m.ExponentialLR(o, gamma=0.95)])),
    ("ChainedScheduler-cosine-step", lambda m, o: m.ChainedScheduler([m.CosineAnnealingLR(o, T_max=9),
                                                                      m.MultiStepLR(o, [10, 25], gamma=0.3)])),
]
ADAM_CASES = [
    ("OneCycleLR-adam", lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=60)),
    ("OneCycleLR-adam-three-phase", lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=80, three_phase=True,
                                                              base_momentum=0.8, max_momentum=0.9)),
    ("CyclicLR-adam", lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=7)),
]


def run_both(factory, steps=60, optimizer="SGD"):
    """Step twin optimizers and schedulers; return the per-step lrs and momenta of each."""
    histories = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib, optimizer)
        sched = factory(module, opt)
        seen = [(sched.get_last_lr(), momenta(opt))]
        for _ in range(steps):
            opt.step()
            sched.step()
            seen.append((list(sched.get_last_lr()), momenta(opt)))
            assert seen[-1][0] == [g["lr"] for g in opt.param_groups]
        histories.append(seen)
    return histories


@pytest.mark.parametrize("name,factory", CASES, ids=[c[0] for c in CASES])
def test_lr_sequence_equals_torch(name, factory):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stepping in the right order warns in neither library
        ours, theirs = run_both(factory, steps=60 if "OneCycle" not in name else 60)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"step {step}: {a} != torch {b}"


@pytest.mark.parametrize("name,factory", ADAM_CASES, ids=[c[0] for c in ADAM_CASES])
def test_cycled_betas_of_adam_equal_torch(name, factory):
    ours, theirs = run_both(factory, steps=55, optimizer="Adam")
    assert ours == theirs
    assert len({m[0][1] for _, m in ours}) > 10  # beta1 really moved


@pytest.mark.parametrize("name,factory", [c for c in CASES if c[0].split("-")[0] in
                                          ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                           "ConstantLR", "PolynomialLR", "LambdaLR")],
                         ids=lambda c: c if isinstance(c, str) else "")
def test_closed_form_with_explicit_epochs_equals_torch(name, factory):
    epochs = [0, 1, 2, 5, 3, 9, 10, 11, 30, 12, 40, 7]
    results = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib)
        sched = factory(module, opt)
        seen = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in epochs:
                opt.step()
                sched.step(e)
                seen.append(sched.get_last_lr())
        results.append(seen)
    assert results[0] == results[1]


def test_warm_restarts_with_fractional_epochs_equals_torch():
    results = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib)
        sched = module.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.001)
        seen = []
        for epoch in range(20):
            for i in range(5):
                opt.step()
                sched.step(epoch + i / 5)
                seen.append((sched.get_last_lr(), sched.T_i, sched.T_cur, sched.last_epoch))
        results.append(seen)
    assert results[0] == results[1]


PLATEAU = [
    dict(),
    dict(patience=2),
    dict(mode="max", factor=0.5, patience=1),
    dict(patience=0, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(mode="max", threshold=0.05, threshold_mode="rel", cooldown=1, patience=1, min_lr=[0.01, 0.005]),
    dict(factor=0.5, patience=1, min_lr=0.004, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_lr_on_plateau_equals_torch(kwargs):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), np.full(15, 0.5), np.linspace(0.5, 0.45, 10),
                              0.45 + 0.02 * rng.standard_normal(40)])
    results = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib)
        sched = module.ReduceLROnPlateau(opt, **kwargs)
        seen = []
        for m in metrics:
            opt.step()
            sched.step(float(m))
            seen.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
        results.append(seen)
    assert results[0] == results[1]
    assert len({tuple(s[0]) for s in results[0]}) > 1


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = make_optimizer(ember)
    sched = elrs.ReduceLROnPlateau(opt, patience=0)
    sched.step(ember.tensor(1.0))
    sched.step(ember.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.02 * 0.1]


RESUMABLE = [c for c in CASES if not c[0].startswith(("LambdaLR", "MultiplicativeLR"))]


@pytest.mark.parametrize("name,factory", RESUMABLE, ids=[c[0] for c in RESUMABLE])
def test_resume_from_state_dicts_continues_the_same_sequence(name, factory):
    opt = make_optimizer(ember)
    sched = factory(elrs, opt)
    for _ in range(13):
        opt.step()
        sched.step()
    saved_opt, saved_sched = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    resumed_opt = make_optimizer(ember)
    resumed = factory(elrs, resumed_opt)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved_sched)
    for _ in range(30):
        opt.step()
        sched.step()
        resumed_opt.step()
        resumed.step()
        assert resumed.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in resumed_opt.param_groups] == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name,factory", CASES[::4], ids=[c[0] for c in CASES[::4]])
def test_state_dict_keys_equal_torch(name, factory):
    keys = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib)
        sched = factory(module, opt)
        opt.step()
        sched.step()
        keys.append(sorted(sched.state_dict()))
    assert keys[0] == keys[1]


def test_lambda_state_dict_saves_callable_objects_but_not_functions():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = make_optimizer(ember)
    sched = elrs.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    other = elrs.LambdaLR(make_optimizer(ember), [Decay(0.9), lambda e: 1.0])
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].rate == 0.5


def test_resuming_with_last_epoch_uses_initial_lr():
    results = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = module.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        seen = [sched.get_last_lr()]
        for _ in range(12):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr())
        results.append(seen)
    assert results[0] == results[1]


def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_optimizer(ember)
    sched = elrs.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()


def test_get_lr_outside_step_warns():
    sched = elrs.ExponentialLR(make_optimizer(ember), 0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_scheduler_updates_a_tensor_lr_in_place():
    a = ember.zeros(2, requires_grad=True)
    lr = ember.tensor(0.1)
    opt = ember.optim.SGD([a], lr=lr)
    sched = elrs.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and math.isclose(lr.item(), 0.05, rel_tol=1e-6)


BAD = [
    ("not an optimizer", lambda m, o: m.StepLR(object(), 3)),
    ("LinearLR start_factor", lambda m, o: m.LinearLR(o, start_factor=0)),
    ("LinearLR end_factor", lambda m, o: m.LinearLR(o, end_factor=1.5)),
    ("ConstantLR factor", lambda m, o: m.ConstantLR(o, factor=2.0)),
    ("LambdaLR count", lambda m, o: m.LambdaLR(o, [lambda e: 1.0])),
    ("MultiplicativeLR not callable", lambda m, o: m.MultiplicativeLR(o, 0.9)),
    ("resume without initial_lr", lambda m, o: m.StepLR(o, 3, last_epoch=5)),
    ("CAWR T_0", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0)),
    ("CAWR T_mult", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0)),
    ("CAWR negative epoch", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2).step(-1)),
    ("OneCycle no length", lambda m, o: m.OneCycleLR(o, max_lr=0.1)),
    ("OneCycle total_steps", lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0)),
    ("OneCycle pct_start int", lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1)),
    ("OneCycle anneal", lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp")),
    ("OneCycle max_lr list", lambda m, o: m.OneCycleLR(o, max_lr=[0.1], total_steps=10)),
    ("CyclicLR mode", lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="square")),
    ("Plateau factor", lambda m, o: m.ReduceLROnPlateau(o, factor=1.0)),
    ("Plateau mode", lambda m, o: m.ReduceLROnPlateau(o, mode="up")),
    ("Plateau threshold_mode", lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="log")),
    ("Plateau min_lr count", lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1])),
    ("Sequential milestones", lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], milestones=[])),
    ("Sequential empty", lambda m, o: m.SequentialLR(o, [], milestones=[])),
    ("Sequential plateau", lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)], [2])),
    ("Chained empty", lambda m, o: m.ChainedScheduler([])),
]


@pytest.mark.parametrize("what,make", BAD, ids=[b[0] for b in BAD])
def test_invalid_arguments_raise_like_torch(what, make):
    outcomes = []
    for lib, module in ((ember, elrs), (torch, tlrs)):
        try:
            make(module, make_optimizer(lib))
        except Exception as e:  # noqa: BLE001
            outcomes.append((type(e), str(e).split(".")[0].split(";")[0][:60]))
        else:
            outcomes.append(None)
    assert outcomes[1] is not None
    assert outcomes[0] == outcomes[1]


def test_one_cycle_refuses_to_step_past_total_steps_like_torch():
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib)
        sched = module.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
            sched.step()


def test_cycle_momentum_needs_an_optimizer_with_momentum():
    for lib, module in ((ember, elrs), (torch, tlrs)):
        opt = make_optimizer(lib, "Adagrad")
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            module.OneCycleLR(opt, max_lr=0.1, total_steps=10)
