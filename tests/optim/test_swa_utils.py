"""ember.optim.swa_utils against torch.optim.swa_utils: the averaged weights after N updates from the same
weights (SWA, EMA, custom and multi-tensor averaging functions, with and without buffers), SWALR's lr sequence,
update_bn's running statistics, and the errors."""
import numpy as np
import pytest
import torch
from torch.optim import swa_utils as TS

import ember
import ember.nn as enn
from ember.optim import swa_utils as ES


def pair_of_models():
    """The same MLP with BatchNorm in torch and ember, with torch's initial weights."""
    torch.manual_seed(0)
    th = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    em = enn.Sequential(enn.Linear(4, 6), enn.BatchNorm1d(6), enn.ReLU(), enn.Linear(6, 2))
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in th.state_dict().items()})
    return th, em


def perturb_both(th, em, rng):
    """New weights and buffers (as a training step would leave them), the same in both models."""
    with torch.no_grad():
        for t in th.parameters():
            t.add_(torch.tensor(rng.standard_normal(tuple(t.shape)).astype(np.float32)))
        for t in (th[1].running_mean, th[1].running_var):  # (positive: the variance stays a variance)
            t.add_(torch.tensor(rng.uniform(0, 1, tuple(t.shape)).astype(np.float32)))
        th[1].num_batches_tracked += 1
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in th.state_dict().items()})


AVERAGING = {  # name -> (kwargs for torch, kwargs for ember)
    "swa": ({}, {}),
    "ema": (dict(avg_fn=TS.get_ema_avg_fn(0.9)), dict(avg_fn=ES.get_ema_avg_fn(0.9))),
    "ema_default_decay": (dict(avg_fn=TS.get_ema_avg_fn()), dict(avg_fn=ES.get_ema_avg_fn())),
    "custom": (dict(avg_fn=lambda a, m, n: 0.25 * a + 0.75 * m), dict(avg_fn=lambda a, m, n: 0.25 * a + 0.75 * m)),
    "swa_buffers": (dict(use_buffers=True), dict(use_buffers=True)),
    "ema_buffers": (dict(avg_fn=TS.get_ema_avg_fn(0.8), use_buffers=True),
                    dict(avg_fn=ES.get_ema_avg_fn(0.8), use_buffers=True)),
    "ema_multi": (dict(multi_avg_fn=TS.get_ema_multi_avg_fn(0.9)), dict(multi_avg_fn=ES.get_ema_multi_avg_fn(0.9))),
    "swa_multi": (dict(multi_avg_fn=TS.get_swa_multi_avg_fn()), dict(multi_avg_fn=ES.get_swa_multi_avg_fn())),
}


@pytest.mark.parametrize("name", list(AVERAGING))
def test_averaged_model_after_updates(name):
    rng = np.random.default_rng(0)
    th, em = pair_of_models()
    kw_t, kw_e = AVERAGING[name]
    avg_t, avg_e = TS.AveragedModel(th, **kw_t), ES.AveragedModel(em, **kw_e)
    for _ in range(6):
        perturb_both(th, em, rng)
        avg_t.update_parameters(th)
        avg_e.update_parameters(em)
    st, se = avg_t.state_dict(), avg_e.state_dict()
    assert list(se) == list(st)
    # torch's multi-tensor lerp rounds once (a fused multiply-add); ember's lerp rounds twice: 1 ulp apart
    tol = dict(rtol=1e-6, atol=1e-6) if "multi" in name else dict(rtol=0, atol=0)
    for k in st:
        assert se[k].dtype == ember.tensor(st[k].numpy()).dtype, k
        np.testing.assert_allclose(se[k].numpy(), st[k].numpy(), err_msg=k, **tol)
    assert int(avg_e.n_averaged) == 6
    x = rng.standard_normal((5, 4)).astype(np.float32)
    avg_t.eval()
    avg_e.eval()
    np.testing.assert_allclose(avg_e(ember.tensor(x)).detach().numpy(), avg_t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_averaged_model_is_a_copy_and_a_module():
    _, em = pair_of_models()
    avg = ES.AveragedModel(em)
    assert isinstance(avg, enn.Module) and avg.module is not em
    assert avg.module[0].weight is not em[0].weight
    assert [n for n, _ in avg.named_parameters()] == ["module." + n for n, _ in em.named_parameters()]
    assert int(avg.n_averaged) == 0 and avg.n_averaged.dtype == ember.int64
    avg.update_parameters(em)
    with ember.no_grad():
        em[0].weight.add_(1.0)
    # the first update copied the weights (no sharing)
    assert not np.array_equal(avg.module[0].weight.detach().numpy(), em[0].weight.detach().numpy())


def test_averaged_model_trains_alongside_an_optimizer():
    """A short SWA run: the average's weights are the mean of the weights after each step."""
    model = enn.Linear(3, 1)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    avg = ES.AveragedModel(model)
    snapshots = []
    for step in range(4):
        x = ember.randn(8, 3)
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        avg.update_parameters(model)
        snapshots.append(model.weight.detach().numpy().copy())
    np.testing.assert_allclose(avg.module.weight.detach().numpy(), np.mean(snapshots, axis=0), rtol=1e-6, atol=1e-7)


def test_update_bn_matches_torch():
    rng = np.random.default_rng(1)
    th, em = pair_of_models()
    th.eval()
    em.eval()
    batches = [rng.standard_normal((7, 4)).astype(np.float32) for _ in range(5)]
    TS.update_bn([(torch.tensor(b), 0) for b in batches], th)
    ES.update_bn([(ember.tensor(b), 0) for b in batches], em)
    bt, be = th[1], em[1]
    np.testing.assert_allclose(be.running_mean.numpy(), bt.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(be.running_var.numpy(), bt.running_var.numpy(), rtol=1e-5, atol=1e-6)
    assert int(be.num_batches_tracked) == int(bt.num_batches_tracked) == 5
    assert be.momentum == bt.momentum == 0.1
    assert not em.training  # the mode is restored


def test_update_bn_on_plain_batches_and_without_batchnorm():
    em = enn.Sequential(enn.Linear(3, 3), enn.BatchNorm1d(3))
    data = [ember.randn(4, 3) for _ in range(3)]
    ES.update_bn(data, em)
    with ember.no_grad():
        h = ember.cat([em[0](d) for d in data])
    np.testing.assert_allclose(em[1].running_mean.numpy(), h.mean(0).numpy(), rtol=1e-5, atol=1e-6)
    lin = enn.Linear(3, 3)
    ES.update_bn(data, lin)  # nothing to do
    assert lin.training


SCHEDULES = [("cos", 3, 0.05), ("linear", 2, 0.05), ("cos", 0, 0.01), ("linear", 5, [0.05, 0.2]),
             ("cos", 10, [0.3, 0.01])]


@pytest.mark.parametrize("strategy,anneal_epochs,swa_lr", SCHEDULES)
def test_swalr_lr_sequence_matches_torch(strategy, anneal_epochs, swa_lr):
    sequences = []
    for lib, mod in ((torch, TS), (ember, ES)):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.5)
        sched = mod.SWALR(opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
        seq = [sched.get_last_lr()]
        for _ in range(14):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        sequences.append(seq)
    assert sequences[1] == sequences[0]


def test_swalr_after_another_scheduler_and_state_dict():
    opt = ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=1.0)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    lrs = []
    for o, lrs_mod, mod in ((opt, ember.optim.lr_scheduler, ES), (topt, torch.optim.lr_scheduler, TS)):
        cos = lrs_mod.CosineAnnealingLR(o, T_max=10)
        swa = mod.SWALR(o, swa_lr=0.1, anneal_epochs=4)
        seq = []
        for epoch in range(12):
            o.step()
            (swa if epoch >= 5 else cos).step()
            seq.append(o.param_groups[0]["lr"])
        lrs.append(seq)
    assert lrs[0] == lrs[1]
    sd = swa.state_dict()
    assert "anneal_func" not in sd and "optimizer" not in sd
    fresh = ES.SWALR(ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=1.0), swa_lr=0.5,
                     anneal_strategy="linear")
    fresh.load_state_dict(sd)
    assert fresh.anneal_func(0.5) == pytest.approx(0.5) and fresh._anneal_strategy == "cos"


ERRORS = [
    (lambda m, lib: m.get_ema_avg_fn(1.5), ValueError, "Invalid decay value 1.5"),
    (lambda m, lib: m.get_ema_multi_avg_fn(-0.1), ValueError, "Invalid decay value -0.1"),
    (lambda m, lib: m.SWALR(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0), 0.1, anneal_strategy="exp"),
     ValueError, "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda m, lib: m.SWALR(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0), 0.1, anneal_epochs=-1),
     ValueError, "anneal_epochs must be equal or greater than 0"),
    (lambda m, lib: m.SWALR(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0), 0.1, anneal_epochs=2.0),
     ValueError, "anneal_epochs must be equal or greater than 0"),
    (lambda m, lib: m.SWALR(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0), [0.1, 0.2]),
     ValueError, "swa_lr must have the same length as optimizer.param_groups"),
    (lambda m, lib: m.AveragedModel(lib.nn.Linear(1, 1), avg_fn=m.get_swa_avg_fn(),
                                    multi_avg_fn=m.get_swa_multi_avg_fn()),
     AssertionError, "Only one of avg_fn and multi_avg_fn should be provided"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS)
def test_errors_as_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call(TS, torch)
    with pytest.raises(exc, match=match):
        call(ES, ember)


def test_reachable_as_attribute():
    import ember.optim

    assert ember.optim.swa_utils is ES
