"""save_checkpoint / load_checkpoint: states, counters, extra data and RNG states round-trip."""
import random

import numpy as np
import pytest

import ember
from ember.io import load_checkpoint, save_checkpoint


def draws():
    return (ember.rand(3).numpy().copy(), ember.randn(2, dtype=ember.float64).numpy().copy(),
            np.random.rand(2), np.random.randn(), random.random(), random.randint(0, 10 ** 9))


def test_checkpoint_roundtrip_and_rng_resume(tmp_path):
    model_state = {"fc.weight": ember.randn(3, 2), "fc.bias": ember.zeros(3)}
    opt_state = {"state": {0: {"step": ember.tensor(5.0), "exp_avg": ember.randn(3, 2)}},
                 "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0]}]}
    sched_state = {"last_epoch": 4, "_last_lr": [0.01]}
    ember.manual_seed(7)
    np.random.seed(3)
    random.seed(11)
    np.random.randn()  # leave a cached Gaussian in NumPy's legacy state
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model_state=model_state, optimizer_state=opt_state, scheduler_state=sched_state,
                    epoch=4, step=1234, extra={"best_acc": 0.91, "config": {"lr": 0.01}})
    expected = draws()

    ember.manual_seed(999)  # scramble every generator
    np.random.seed(999)
    random.seed(999)
    ckpt = load_checkpoint(path)
    got = draws()
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    assert ckpt["epoch"] == 4 and ckpt["step"] == 1234
    assert ckpt["extra"] == {"best_acc": 0.91, "config": {"lr": 0.01}}
    assert ckpt["scheduler_state"] == sched_state
    for k, v in model_state.items():
        np.testing.assert_array_equal(ckpt["model_state"][k].numpy(), v.numpy())
    np.testing.assert_array_equal(ckpt["optimizer_state"]["state"][0]["exp_avg"].numpy(),
                                  opt_state["state"][0]["exp_avg"].numpy())
    assert ckpt["optimizer_state"]["param_groups"][0]["betas"] == (0.9, 0.999)


def test_restore_rng_false_leaves_generators_alone(tmp_path):
    save_checkpoint(tmp_path / "c", model_state={}, epoch=0, step=0)
    ember.manual_seed(5)
    expected = ember.rand(2).numpy().copy()
    ember.manual_seed(5)
    load_checkpoint(tmp_path / "c", restore_rng=False)
    np.testing.assert_array_equal(ember.rand(2).numpy(), expected)


class Loadable:
    def __init__(self):
        self.loaded = None

    def load_state_dict(self, sd):
        self.loaded = sd


def test_objects_get_load_state_dict_called(tmp_path):
    save_checkpoint(tmp_path / "c", model_state={"w": ember.ones(1)}, optimizer_state={"state": {}}, epoch=1, step=2)
    model, opt = Loadable(), Loadable()
    load_checkpoint(tmp_path / "c", model=model, optimizer=opt)
    assert model.loaded["w"].item() == 1 and opt.loaded == {"state": {}}
    with pytest.raises(ValueError, match="no scheduler_state"):
        load_checkpoint(tmp_path / "c", scheduler=Loadable())


def test_plain_save_file_is_not_a_checkpoint(tmp_path):
    ember.save({"w": ember.ones(1)}, tmp_path / "x")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "x")


def test_checkpoint_file_is_plain_safetensors(tmp_path):
    import safetensors.numpy

    save_checkpoint(tmp_path / "c", model_state={"fc.weight": ember.ones(2)}, epoch=0, step=0)
    names = set(safetensors.numpy.load_file(str(tmp_path / "c")))
    assert "model_state.fc.weight" in names
