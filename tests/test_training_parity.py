"""Training parity with PyTorch: the same model (an MLP, a small CNN, an LSTM classifier), the same initial
weights (built by torch under ``torch.manual_seed`` and copied into ember) and the same batches give the same
loss at every one of 100 optimizer steps, for every optimizer, with and without a learning-rate scheduler,
eagerly and in compile mode. Also: two ember runs with the same seed are bitwise identical (dropout, shuffling).

Tolerances. float32 losses agree to 1e-5 relative at every step; float64 losses to 1e-10 and float64
parameters after 100 steps to 1e-9 (normwise). Three combinations are the documented exception (see
``FLOAT32_RTOL``): their float32 gap is rounding, amplified by training, not a different computation.
"""
import numpy as np
import pytest
import torch

import ember

STEPS = 100
BATCH = 8
N_CLASSES = 4
INPUT_SHAPE = {"mlp": (12,), "cnn": (1, 8, 8), "lstm": (5, 6)}  # LSTM: (sequence 5, features 6)

OPTIMIZERS = [
    ("SGD", dict(lr=0.2)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.005)),
    ("Adadelta", dict(lr=3.0)),
    ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.03)),
]
SCHEDULED = [  # (optimizer, its kwargs, scheduler, its kwargs)
    ("Adam", dict(lr=0.01), "StepLR", dict(step_size=30, gamma=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9), "StepLR", dict(step_size=30, gamma=0.5)),
    ("Adam", dict(lr=0.01), "OneCycleLR", dict(max_lr=0.05, total_steps=STEPS)),  # cycles Adam's beta1 too
    ("SGD", dict(lr=0.1, momentum=0.9), "OneCycleLR", dict(max_lr=0.1, total_steps=STEPS)),  # cycles momentum
]
KINDS = ["mlp", "cnn", "lstm"]

# float32 relative tolerance on the loss: 1e-5, except for the three combinations below.
#
# Their float32 gap reaches 2.1e-5 (MLP, Adam + OneCycleLR, step 96), 1.9e-5 (CNN, SGD + OneCycleLR, step 83)
# and 1.6e-5 (LSTM, Adam + OneCycleLR, step 53). Investigated:
#  * in float64 the same runs agree to 1.4e-13, 2.8e-14 and 2.3e-14 (every case is held to 1e-10 below): ember
#    computes what torch computes. These float64 gaps are 10-100x the other cases' (~1e-15): the one-cycle
#    schedules' peak learning rates amplify rounding differences more than the gentler runs do;
#  * torch disagrees with itself by as much: torch's own float32 run started from initial weights one ulp away
#    (half of them moved by np.nextafter) moves its losses by 1.5e-5-2.1e-5, 1.1e-5-1.3e-5 and 1.5e-5-2.5e-5
#    relative (``test_float32_exceptions_are_rounding_noise_within_torch``), and torch on 2 threads instead of
#    1 moves the CNN case by 1.3e-5. In every case measured (all scheduled ones, the first four optimizers)
#    ember's gap was 0.5-1.5x torch's one-ulp gap: float32 cannot hold these runs to 1e-5, whoever computes;
#  * one float32 loss evaluation from identical weights agrees to ~1e-7: the gap is in the weights (drifting
#    by accumulated rounding, ~1e-6 of their size for the MLP, ~9e-6 for the LSTM), and it shows most where the
#    loss is ~1e-3: a confident cross-entropy is ~exp(-margin), so its relative change is the absolute change
#    of the logit margin (|logits| ~ 10);
#  * the scheduled lr and momentum / beta1 sequences equal torch's exactly (asserted in every scheduled case).
# So these three are held to 5e-5 (2.4x the largest gap seen) in float32, and to 1e-10 in float64.
FLOAT32_RTOL = {("mlp", "Adam", "OneCycleLR"): 5e-5, ("cnn", "SGD", "OneCycleLR"): 5e-5,
                ("lstm", "Adam", "OneCycleLR"): 5e-5}
FLOAT64_RTOL = 1e-10
FLOAT64_PARAM_RTOL = 1e-9


def build(lib, kind, dropout=0.0):
    """The same architecture from ``lib.nn`` (``lib`` is torch or ember)."""
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 16), nn.ReLU(),
                             nn.Linear(16, N_CLASSES))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 4 * 4, N_CLASSES))

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 16, num_layers=2 if dropout else 1, dropout=dropout, batch_first=True)
            self.fc = nn.Linear(16, N_CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    return LSTMClassifier()


def make_batches(kind, dtype, n_pool=6, seed=0):
    """``STEPS`` batches cycling through a pool of ``n_pool``, labelled by a fixed random linear teacher, so
    the models can fit them and the losses fall (a run where nothing is learned would prove little)."""
    rng = np.random.default_rng(seed)
    shape = INPUT_SHAPE[kind]
    teacher = rng.standard_normal((int(np.prod(shape)), N_CLASSES))
    pool = []
    for _ in range(n_pool):
        x = rng.standard_normal((BATCH,) + shape)
        pool.append((x.astype(dtype), (x.reshape(BATCH, -1) @ teacher).argmax(1)))
    return [pool[i % n_pool] for i in range(STEPS)]


def twin_models(kind, dtype):
    """A torch model initialised under ``torch.manual_seed`` and an ember model holding a copy of its weights."""
    torch.manual_seed(0)
    torch_model = build(torch, kind)
    ember_model = build(ember, kind)
    if dtype == np.float64:
        torch_model, ember_model = torch_model.double(), ember_model.double()
    ember_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    ember_state = ember_model.state_dict()
    assert list(ember_state) == list(torch_model.state_dict())  # same parameter names, in torch's order
    for name, p in torch_model.state_dict().items():
        assert ember_state[name].numpy().dtype == dtype and np.array_equal(p.numpy(), ember_state[name].numpy())
    return torch_model, ember_model


def hyper(group):
    """The group's scheduled hyper-parameters after a step (lr, and momentum or Adam's betas)."""
    return (group["lr"], group.get("momentum"), tuple(group["betas"]) if "betas" in group else None)


def train(lib, model, batches, opt_name, opt_kwargs, sched_name=None, sched_kwargs=None, compiled=False):
    """An ordinary PyTorch training loop; returns the loss and the scheduled hyper-parameters of every step."""
    optimizer = getattr(lib.optim, opt_name)(model.parameters(), **opt_kwargs)
    scheduler = getattr(lib.optim.lr_scheduler, sched_name)(optimizer, **sched_kwargs) if sched_name else None
    loss_fn = lib.nn.CrossEntropyLoss()

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        step = ember.compile(step, fullgraph=True)  # fullgraph: a graph break raises instead of running eagerly
    losses, schedule = [], []
    for x, y in batches:
        losses.append(step(lib.tensor(x), lib.tensor(y)).item())
        if scheduler is not None:
            scheduler.step()
        schedule.append(hyper(optimizer.param_groups[0]))
    if compiled:
        assert step.n_traces >= 1 and step.graph is not None
    return np.array(losses), schedule


def assert_runs_agree(kind, dtype, opt_name, opt_kwargs, sched_name=None, sched_kwargs=None, compiled=False):
    torch_model, ember_model = twin_models(kind, dtype)
    batches = make_batches(kind, dtype)
    expected, expected_schedule = train(torch, torch_model, batches, opt_name, opt_kwargs, sched_name, sched_kwargs)
    got, schedule = train(ember, ember_model, batches, opt_name, opt_kwargs, sched_name, sched_kwargs, compiled)

    first, last = expected[:6].mean(), expected[-6:].mean()
    assert last < 0.95 * first, f"torch's run did not learn ({first:.3f} -> {last:.3f}); the case proves little"
    assert schedule == expected_schedule, "the scheduled lr / momentum / betas differ from torch's"
    if dtype == np.float64:
        rtol = FLOAT64_RTOL
    else:
        rtol = FLOAT32_RTOL.get((kind, opt_name, sched_name), 1e-5)
    rel = np.abs(got - expected) / np.abs(expected)
    worst = int(rel.argmax())
    assert rel.max() <= rtol, (f"step {worst}: ember loss {got[worst]!r} vs torch {expected[worst]!r} (relative "
                               f"{rel[worst]:.2e} > {rtol:.0e}); steps over: {np.flatnonzero(rel > rtol)}")
    if dtype == np.float64:
        ember_state = ember_model.state_dict()
        for name, p in torch_model.state_dict().items():
            p = p.numpy()
            err = np.linalg.norm(ember_state[name].numpy() - p) / np.linalg.norm(p)
            assert err <= FLOAT64_PARAM_RTOL, f"parameter {name} after {STEPS} steps: relative error {err:.2e}"


def case_id(name, kwargs):
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("opt_name,opt_kwargs", OPTIMIZERS, ids=[case_id(*c) for c in OPTIMIZERS])
@pytest.mark.parametrize("kind", KINDS)
def test_losses_match_torch_at_every_step(kind, opt_name, opt_kwargs, dtype):
    assert_runs_agree(kind, dtype, opt_name, opt_kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("opt_name,opt_kwargs,sched_name,sched_kwargs", SCHEDULED,
                         ids=[f"{case_id(o, ok)}-{s}" for o, ok, s, _ in SCHEDULED])
@pytest.mark.parametrize("kind", KINDS)
def test_losses_match_torch_with_a_scheduler(kind, opt_name, opt_kwargs, sched_name, sched_kwargs, dtype):
    assert_runs_agree(kind, dtype, opt_name, opt_kwargs, sched_name, sched_kwargs)


@pytest.mark.parametrize("kind,opt_name,sched_name", sorted(FLOAT32_RTOL))
def test_float32_exceptions_are_rounding_noise_within_torch(kind, opt_name, sched_name):
    """The justification of ``FLOAT32_RTOL``: for these runs one ulp of difference in the initial weights
    already moves torch's own float32 losses by more than half the 1e-5 target."""
    (opt_kwargs, sched_kwargs), = [(ok, sk) for o, ok, s, sk in SCHEDULED if (o, s) == (opt_name, sched_name)]
    torch_model, _ = twin_models(kind, np.float32)
    nudged, _ = twin_models(kind, np.float32)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for p in nudged.parameters():
            w = p.numpy()
            moved = rng.random(w.shape) < 0.5
            w[moved] = np.nextafter(w[moved], np.float32(np.inf))
    batches = make_batches(kind, np.float32)
    expected, _ = train(torch, torch_model, batches, opt_name, opt_kwargs, sched_name, sched_kwargs)
    perturbed, _ = train(torch, nudged, batches, opt_name, opt_kwargs, sched_name, sched_kwargs)
    assert (np.abs(perturbed - expected) / np.abs(expected)).max() > 0.5e-5


COMPILED = [  # a whole training step (forward, backward, optimizer.step) compiled by ember.compile
    ("mlp", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), "StepLR",
     dict(step_size=30, gamma=0.5)),
    ("cnn", "Adam", dict(lr=0.01), "OneCycleLR", dict(max_lr=0.05, total_steps=STEPS)),
    ("lstm", "RMSprop", dict(lr=0.005), None, None),
]


@pytest.mark.parametrize("kind,opt_name,opt_kwargs,sched_name,sched_kwargs", COMPILED,
                         ids=[f"{k}-{o}-{s}" for k, o, _, s, _ in COMPILED])
def test_compiled_training_step_matches_torch(kind, opt_name, opt_kwargs, sched_name, sched_kwargs):
    assert_runs_agree(kind, np.float32, opt_name, opt_kwargs, sched_name, sched_kwargs, compiled=True)


# ---- determinism ---------------------------------------------------------------------------------------------
def ember_run(kind, init_seed, train_seed, epochs=3):
    """Everything random comes from ember's global generator: the initial weights (``init_seed``), then the
    dropout masks and the DataLoader's shuffling (``train_seed``)."""
    ember.manual_seed(init_seed)
    model = build(ember, kind, dropout=0.25)
    ember.manual_seed(train_seed)
    batches = make_batches(kind, np.float32, n_pool=4, seed=1)[:4]
    data = ember.utils.data.TensorDataset(ember.tensor(np.concatenate([x for x, _ in batches])),
                                          ember.tensor(np.concatenate([y for _, y in batches])))
    loader = ember.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
    optimizer = ember.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = ember.nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return np.array(losses), {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("kind", ["mlp", "lstm"])  # Dropout layer; LSTM's dropout between its two layers
def test_same_seed_gives_bitwise_identical_runs(kind):
    losses, params = ember_run(kind, init_seed=123, train_seed=5)
    again, params_again = ember_run(kind, init_seed=123, train_seed=5)
    assert losses.tobytes() == again.tobytes()
    assert params.keys() == params_again.keys()
    assert all(params[k].tobytes() == params_again[k].tobytes() for k in params)
    # the equality above is not vacuous: the dropout masks and the shuffling do depend on the generator
    other, _ = ember_run(kind, init_seed=123, train_seed=6)
    assert not np.array_equal(losses, other)
