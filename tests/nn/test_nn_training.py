"""Training parity: the same model and initial weights in ember and torch, the same batches and optimizer;
losses and parameters agree after several steps (float64, so differences are rounding, not drift)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn
import ember.optim
from nn_oracle import twin_modules
from oracle import assert_close


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.0), nn.Linear(16, 16), nn.GELU(),
                         nn.LayerNorm(16), nn.Linear(16, 3))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.GroupNorm(2, 6), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(6, 3))


@pytest.mark.parametrize("make,shape", [(mlp, (8, 6)), (cnn, (4, 1, 8, 8))], ids=["mlp", "cnn"])
@pytest.mark.parametrize("opt", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01))],
                         ids=["sgd", "adam"])
def test_training_steps_match_torch(make, shape, opt):
    torch.manual_seed(0)  # fixed initial weights: Adam amplifies rounding noise on near-zero gradients
    em, th = twin_modules(make, np.float64)
    name, kwargs = opt
    em_opt = getattr(ember.optim, name)(em.parameters(), **kwargs)
    th_opt = getattr(torch.optim, name)(th.parameters(), **kwargs)
    em_loss_fn, th_loss_fn = ember.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    for step in range(5):
        x = rng.standard_normal(shape)
        y = rng.integers(0, 3, size=shape[0])
        em_opt.zero_grad()
        th_opt.zero_grad()
        em_loss = em_loss_fn(em(ember.tensor(x)), ember.tensor(y))
        th_loss = th_loss_fn(th(torch.tensor(x)), torch.tensor(y))
        em_loss.backward()
        th_loss.backward()
        em_opt.step()
        th_opt.step()
        assert_close(em_loss, th_loss, 1e-9, 1e-11, f"loss at step {step}")
    for (name, ep), (_, tp) in zip(em.state_dict().items(), th.state_dict().items()):
        assert_close(ep, tp, 1e-8, 1e-10, name)
    em.eval()
    th.eval()
    x = rng.standard_normal(shape)
    assert_close(em(ember.tensor(x)), th(torch.tensor(x)), 1e-9, 1e-11, "eval output")
