"""Resuming training from a checkpoint (``ember.io.checkpoint``) is invisible: a run interrupted at step k and
continued in a NEW process, from fresh model / optimizer / scheduler objects, gives bitwise the same losses and
final weights as the uninterrupted run. The model has dropout, the optimizer is Adam under OneCycleLR (which also
moves beta1), and the batches are drawn with ember's, NumPy's and Python's global RNGs, or by a DataLoader with
``shuffle=True`` (interrupted at an epoch boundary and in the middle of an epoch).

Also: a state_dict written by ``ember.save`` loads in torch with ``safetensors.torch.load_file`` and gives
the same outputs, and a file written by ``safetensors.torch.save_file`` loads with ``ember.load``.

Run as a script, this file is the child process: ``python test_resume.py <scenario> <checkpoint> <out>``.
"""
import json
import random
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.io.checkpoint import load_checkpoint, save_checkpoint, set_rng_states

TOTAL_STEPS = 16
N_SAMPLES, BATCH, N_FEATURES, N_CLASSES = 32, 8, 12, 4  # the DataLoader has 4 batches per epoch
ADAM = ("Adam", dict(lr=0.01, weight_decay=1e-4))
ONE_CYCLE = ("OneCycleLR", dict(max_lr=0.05, total_steps=TOTAL_STEPS))


def dataset_arrays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(np.float32)
    y = (x @ rng.standard_normal((N_FEATURES, N_CLASSES))).argmax(1)
    return x, y


def fresh_objects(seed, optimizer=ADAM, scheduler=ONE_CYCLE):
    """Model, optimizer and scheduler as a training script builds them; ``seed`` sets the initial weights."""
    ember.manual_seed(seed)
    model = ember.nn.Sequential(ember.nn.Linear(N_FEATURES, 32), ember.nn.ReLU(), ember.nn.Dropout(0.3),
                                ember.nn.Linear(32, N_CLASSES))
    opt = getattr(ember.optim, optimizer[0])(model.parameters(), **optimizer[1])
    return model, opt, getattr(ember.optim.lr_scheduler, scheduler[0])(opt, **scheduler[1])


def seed_everything(seed):
    ember.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def make_step(objects, compiled=False):
    """``step(x, y) -> loss``: forward, backward, optimizer step, then the scheduler's step."""
    model, optimizer, scheduler = objects

    def forward_backward_update(x, y):
        optimizer.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        forward_backward_update = ember.compile(forward_backward_update, fullgraph=True)

    def step(x, y):
        loss = forward_backward_update(x, y).item()
        if isinstance(scheduler, ember.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(loss)
        else:
            scheduler.step()
        return loss

    return step


def checkpoint(path, objects, epoch, step, extra=None):
    model, optimizer, scheduler = objects
    save_checkpoint(path, model_state=model.state_dict(), optimizer_state=optimizer.state_dict(),
                    scheduler_state=scheduler.state_dict(), epoch=epoch, step=step, extra=extra)


def restore(path, objects=None, **options):
    """Load the checkpoint into ``objects``, by default fresh ones built from a different seed (so nothing is
    right by accident) after scrambling every generator."""
    if objects is None:
        seed_everything(999)
        objects = fresh_objects(999, **options)
    model, optimizer, scheduler = objects
    return objects, load_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler)


# ---- scenario "global": each batch drawn with ember's, NumPy's and Python's global RNGs ----------------------
def train_global(objects, first_step, save_at=None, path=None, compiled=False, last_step=TOTAL_STEPS):
    x_all, y_all = dataset_arrays()
    step_fn = make_step(objects, compiled)
    losses = []
    for step in range(first_step, last_step):
        index = ember.randint(0, N_SAMPLES, (BATCH,)).numpy()  # ember's RNG picks the batch
        noise = np.random.standard_normal((BATCH, N_FEATURES)).astype(np.float32) * np.float32(0.05)  # NumPy's
        scale = np.float32(random.uniform(0.9, 1.1))  # Python's
        losses.append(step_fn(ember.tensor((x_all[index] + noise) * scale), ember.tensor(y_all[index])))
        if step + 1 == save_at:
            checkpoint(path, objects, epoch=0, step=step + 1)
    return losses


# ---- scenarios "loader": a DataLoader with shuffle=True, whose order comes from ember's global RNG ---------
def make_loader():
    x, y = dataset_arrays()
    data = ember.utils.data.TensorDataset(ember.tensor(x), ember.tensor(y))
    return ember.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)


def train_loader(objects, save_at=None, path=None, resume=None):
    """Epochs over a shuffling DataLoader. A mid-epoch checkpoint keeps the RNG state of the epoch's start:
    resuming replays that epoch's shuffle from it, skips the batches already trained on, then continues every
    random stream from the checkpoint's own RNG states (``load_checkpoint`` restored them, the replay moved
    ember's)."""
    loader = make_loader()
    step_fn = make_step(objects)
    step, epoch, skip = 0, 0, 0
    if resume is not None:
        step, epoch, skip = resume["step"], resume["epoch"], resume["extra"]["batch_in_epoch"]
    losses = []
    while step < TOTAL_STEPS:
        if skip:
            epoch_rng = resume["extra"]["epoch_rng"]
            ember.set_rng_state(epoch_rng)
        else:
            epoch_rng = ember.get_rng_state()
        for i, (x, y) in enumerate(loader):
            if i < skip:
                continue
            if i == skip and skip:
                set_rng_states(resume["rng_states"])
            losses.append(step_fn(x, y))
            step += 1
            if step == save_at:
                done = (i + 1) % len(loader)
                checkpoint(path, objects, epoch=epoch + (done == 0), step=step,
                           extra={"batch_in_epoch": done, "epoch_rng": epoch_rng})
            if step == TOTAL_STEPS:
                break
        epoch, skip = epoch + 1, 0
    return losses


# ---- the two processes -----------------------------------------------------------------------------------
def train(scenario, objects, save_at=None, path=None):
    if scenario == "loader":
        return train_loader(objects, save_at, path)
    return train_global(objects, 0, save_at, path, compiled=scenario == "global-compiled")


def uninterrupted(scenario):
    seed_everything(0)
    objects = fresh_objects(seed=0)
    return train(scenario, objects), objects[0].state_dict()


def first_part(scenario, save_at, path):
    """Train from the same start as ``uninterrupted``, checkpointing at step ``save_at``; the losses up to it."""
    seed_everything(0)
    return train(scenario, fresh_objects(seed=0), save_at, path)[:save_at]


def child_main(scenario, path, out):
    objects, ckpt = restore(path)
    if scenario == "loader":
        losses = train_loader(objects, resume=ckpt)
    else:
        losses = train_global(objects, ckpt["step"], compiled=scenario == "global-compiled")
    ember.save(objects[0].state_dict(), out + ".weights")
    with open(out, "w") as f:
        json.dump([float.hex(v) for v in losses], f)


def resume_in_new_process(scenario, path, tmp_path):
    out = str(tmp_path / "losses.json")
    r = subprocess.run([sys.executable, __file__, scenario, str(path), out], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        losses = [float.fromhex(v) for v in json.load(f)]
    return losses, ember.load(out + ".weights")


@pytest.mark.parametrize("scenario,save_at", [("global", 7), ("global-compiled", 7), ("loader", 8), ("loader", 10)],
                         ids=["global-rngs", "global-rngs-compiled-step", "loader-epoch-boundary", "loader-mid-epoch"])
def test_resumed_run_in_a_new_process_is_bitwise_identical(scenario, save_at, tmp_path):
    expected, expected_weights = uninterrupted(scenario)
    path = tmp_path / "ckpt.safetensors"
    before = first_part(scenario, save_at, path)
    after, weights = resume_in_new_process(scenario, path, tmp_path)
    assert len(before) == save_at and len(after) == TOTAL_STEPS - save_at
    assert before + after == expected  # Python floats: equal means bitwise equal here (no NaN, no -0.0)
    assert expected[-4:] != expected[:4]  # the run does train
    for name, value in expected_weights.items():
        assert weights[name].numpy().tobytes() == value.numpy().tobytes(), name


RESUMABLE = [  # every optimizer (state with step counters, buffers, mu_product ...), each with some scheduler
    (("SGD", dict(lr=0.1)), ("StepLR", dict(step_size=3, gamma=0.5))),
    (("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)), ONE_CYCLE),
    (("Adam", dict(lr=0.01, amsgrad=True)), ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2))),
    (("AdamW", dict(lr=0.01)), ("CyclicLR", dict(base_lr=1e-3, max_lr=1e-2, step_size_up=3))),
    (("Adagrad", dict(lr=0.05, lr_decay=0.01)), ("ExponentialLR", dict(gamma=0.9))),
    (("RMSprop", dict(lr=0.005, momentum=0.5, centered=True)), ("ReduceLROnPlateau", dict(patience=1))),
    (("Adadelta", dict(lr=1.0)), ("LinearLR", dict(start_factor=0.5, total_iters=5))),
    (("NAdam", dict(lr=0.01)), ("CosineAnnealingLR", dict(T_max=10))),
    (("RAdam", dict(lr=0.01)), ("MultiStepLR", dict(milestones=[4, 9], gamma=0.5))),
]


@pytest.mark.parametrize("optimizer,scheduler", RESUMABLE, ids=[f"{o[0]}-{s[0]}" for o, s in RESUMABLE])
def test_every_optimizer_resumes_bitwise_in_fresh_and_in_used_objects(optimizer, scheduler, tmp_path):
    """Fresh objects, and the same objects rolled back after training on past the checkpoint."""
    seed_everything(0)
    expected = train_global(fresh_objects(0, optimizer, scheduler), 0, last_step=12)
    seed_everything(0)
    objects = fresh_objects(0, optimizer, scheduler)
    before = train_global(objects, 0, save_at=5, path=tmp_path / "c", last_step=5)
    train_global(objects, 5, last_step=8)  # past the checkpoint, then back
    _, ckpt = restore(tmp_path / "c", objects)
    assert before + train_global(objects, ckpt["step"], last_step=12) == expected
    fresh, ckpt = restore(tmp_path / "c", optimizer=optimizer, scheduler=scheduler)
    assert before + train_global(fresh, ckpt["step"], last_step=12) == expected


def test_resuming_without_the_rng_states_is_not_identical(tmp_path):
    """The RNG states matter: restoring everything but them changes the dropout masks and the batches (so the
    test above checks something)."""
    expected, _ = uninterrupted("global")
    path = tmp_path / "ckpt.safetensors"
    first_part("global", 7, path)
    seed_everything(999)
    objects = fresh_objects(seed=999)
    ckpt = load_checkpoint(path, model=objects[0], optimizer=objects[1], scheduler=objects[2], restore_rng=False)
    assert ckpt["step"] == 7
    assert train_global(objects, 7) != expected[7:]


def test_restored_objects_hold_the_checkpointed_state(tmp_path):
    seed_everything(0)
    objects = fresh_objects(seed=0)
    train_global(objects, 0, save_at=5, path=tmp_path / "c")
    (model, optimizer, scheduler), ckpt = restore(tmp_path / "c")
    assert (ckpt["epoch"], ckpt["step"]) == (0, 5)
    assert scheduler.last_epoch == 5 and scheduler.get_last_lr() == ckpt["scheduler_state"]["_last_lr"]
    assert optimizer.param_groups[0]["lr"] == scheduler.get_last_lr()[0]
    assert optimizer.param_groups[0]["betas"] == tuple(ckpt["optimizer_state"]["param_groups"][0]["betas"])
    for p in model.parameters():
        assert optimizer.state[p]["step"].item() == 5
    model_state = ckpt["model_state"]
    assert all(np.array_equal(v.numpy(), model_state[k].numpy()) for k, v in model.state_dict().items())


# ---- ember.save <-> safetensors.torch ---------------------------------------------------------------------
def twin_mlps():
    import torch

    def build(nn):
        return nn.Sequential(nn.Linear(N_FEATURES, 16), nn.Tanh(), nn.Linear(16, N_CLASSES))

    return build(ember.nn), build(torch.nn)


def test_ember_save_loads_in_torch_via_safetensors(tmp_path):
    import safetensors.torch
    import torch

    ember_model, torch_model = twin_mlps()
    path = tmp_path / "mlp.safetensors"
    ember.save(ember_model.state_dict(), path)
    state = safetensors.torch.load_file(str(path))
    assert sorted(state) == sorted(torch_model.state_dict())  # safetensors files list tensors by name
    torch_model.load_state_dict(state)
    for name, value in ember_model.state_dict().items():
        assert torch_model.state_dict()[name].numpy().tobytes() == value.numpy().tobytes(), name
    x = dataset_arrays()[0]
    expected = ember_model(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(torch_model(torch.tensor(x)).detach().numpy(), expected, rtol=1e-6,
                               atol=1e-7)  # the same weights; the GEMMs round differently


def test_torch_safetensors_file_loads_in_ember(tmp_path):
    import safetensors.torch
    import torch

    ember_model, torch_model = twin_mlps()
    path = tmp_path / "mlp.safetensors"
    safetensors.torch.save_file(torch_model.state_dict(), str(path))
    state = ember.load(path)
    assert sorted(state) == sorted(ember_model.state_dict())
    ember_model.load_state_dict(state)
    for name, value in torch_model.state_dict().items():
        assert ember_model.state_dict()[name].numpy().tobytes() == value.numpy().tobytes(), name
    x = dataset_arrays()[0]
    expected = torch_model(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ember_model(ember.tensor(x)).detach().numpy(), expected, rtol=1e-6,
                               atol=1e-7)  # the same weights; the GEMMs round differently


def test_round_trip_ember_torch_ember_is_bitwise(tmp_path):
    import safetensors.torch

    ember_model, torch_model = twin_mlps()
    ember.save(ember_model.state_dict(), tmp_path / "a")
    torch_model.load_state_dict(safetensors.torch.load_file(str(tmp_path / "a")))
    safetensors.torch.save_file(torch_model.state_dict(), str(tmp_path / "b"))
    back, _ = twin_mlps()
    back.load_state_dict(ember.load(tmp_path / "b"))
    x = ember.tensor(dataset_arrays()[0])
    assert back(x).detach().numpy().tobytes() == ember_model(x).detach().numpy().tobytes()


# ---- a run started in torch continues in ember ------------------------------------------------------------
def to_ember(value):
    """A torch state dict (nested dicts / lists / tuples of tensors) with ember tensors in place of torch's."""
    import torch

    if isinstance(value, torch.Tensor):
        return ember.tensor(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: to_ember(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_ember(v) for v in value)
    return value


HANDOVER = [
    (("Adam", dict(lr=0.01)), ("OneCycleLR", dict(max_lr=0.05, total_steps=TOTAL_STEPS))),
    (("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("StepLR", dict(step_size=4, gamma=0.5))),
    (("NAdam", dict(lr=0.01)), ("ExponentialLR", dict(gamma=0.95))),
    (("Adagrad", dict(lr=0.05)), ("CosineAnnealingLR", dict(T_max=10))),
]


@pytest.mark.parametrize("optimizer,scheduler", HANDOVER, ids=[f"{o[0]}-{s[0]}" for o, s in HANDOVER])
def test_torch_training_state_continues_in_ember(optimizer, scheduler):
    """torch trains; after 6 steps its model / optimizer / scheduler state_dicts go into fresh ember objects,
    which continue with torch's losses (float64, no dropout: the two RNG streams differ)."""
    import torch

    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((BATCH, N_FEATURES)), rng.integers(0, N_CLASSES, BATCH)) for _ in range(4)]
    objects = {}
    for lib in (torch, ember):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(N_FEATURES, 16), lib.nn.Tanh(), lib.nn.Linear(16, N_CLASSES))
        model = model.double()
        opt = getattr(lib.optim, optimizer[0])(model.parameters(), **optimizer[1])
        objects[lib] = model, opt, getattr(lib.optim.lr_scheduler, scheduler[0])(opt, **scheduler[1])
    losses = {torch: [], ember: []}
    for step in range(TOTAL_STEPS):
        if step == 6:
            for theirs, ours in zip(objects[torch], objects[ember], strict=True):
                ours.load_state_dict(to_ember(theirs.state_dict()))
        for lib in (torch, ember) if step >= 6 else (torch,):
            model, opt, sched = objects[lib]
            x, y = batches[step % len(batches)]
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
            sched.step()
            losses[lib].append(loss.item())
    np.testing.assert_allclose(losses[ember], losses[torch][6:], rtol=1e-10, atol=0)
    assert objects[ember][2].get_last_lr() == objects[torch][2].get_last_lr()


if __name__ == "__main__":
    child_main(*sys.argv[1:4])
