"""The benchmark workloads: one full training step (forward, loss, backward, optimiser step) or one inference
forward, on fixed random float32 data, written once for any framework with torch's API.

ember and torch build their models from the same code (``lib`` is the ``ember`` or the ``torch`` module: the
whole point of ``import ember as torch``), load the SAME initial weights (drawn here in NumPy, named like the
model's ``state_dict``) and see the SAME batches. JAX gets the same maths written functionally in
``jax_workloads.py``.

Each workload has ``full`` dimensions (the ones reported) and ``tiny`` ones (for the smoke tests).
Nothing in here imports a framework at module level: a worker process imports only the one it measures.
"""
import numpy as np

N_BATCHES = 4  # distinct fixed batches, cycled step after step


class Workload:
    """A benchmark case: dimensions, parameter shapes, data, model, loss and optimiser."""

    name = ""
    title = ""
    inference = False  # True: forward only under no_grad, no loss, no optimiser
    default_steps = 100
    full: dict = {}
    tiny: dict = {}

    def dims(self, size):
        return dict(self.full if size == "full" else self.tiny)

    # -- to override ---------------------------------------------------------------------------------------
    def param_specs(self, d):
        """[(state_dict name, shape, init bound)]: every parameter is drawn from U(-bound, bound)."""
        raise NotImplementedError

    def batch(self, rng, d):
        """(x, y) NumPy arrays of one batch."""
        raise NotImplementedError

    def model(self, lib, d):
        raise NotImplementedError

    def loss_fn(self, lib):
        return lib.nn.CrossEntropyLoss()

    def optimizer(self, lib, params):
        return lib.optim.Adam(params, lr=1e-3)

    def flops(self, d):
        """Floating-point operations of one step in its GEMMs (None: not reported)."""
        return None

    # -- shared ------------------------------------------------------------------------------------------
    def weights(self, d, seed=0):
        """The initial weights, {name: float32 array}, in the model's state_dict order."""
        rng = np.random.default_rng(seed)
        return {name: rng.uniform(-bound, bound, shape).astype(np.float32)
                for name, shape, bound in self.param_specs(d)}

    def batches(self, d, seed=1, n=N_BATCHES):
        rng = np.random.default_rng(seed)
        return [self.batch(rng, d) for _ in range(n)]


def _linear_specs(prefix, n_in, n_out):
    bound = 1.0 / np.sqrt(n_in)
    return [(f"{prefix}.weight", (n_out, n_in), bound), (f"{prefix}.bias", (n_out,), bound)]


def _conv_specs(prefix, c_in, c_out, k):
    bound = 1.0 / np.sqrt(c_in * k * k)
    return [(f"{prefix}.weight", (c_out, c_in, k, k), bound), (f"{prefix}.bias", (c_out,), bound)]


def _mlp_specs(sizes):
    """Specs of Sequential(Linear, ReLU, Linear, ReLU, ..., Linear): the Linears sit at even indices."""
    specs = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        specs += _linear_specs(str(2 * i), a, b)
    return specs


def _mlp(lib, sizes):
    nn = lib.nn
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _classes(rng, n, k):
    return rng.integers(0, k, n).astype(np.int64)


def _normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


class TinyMLP(Workload):
    name, title = "W1", "tiny MLP 2-4-1, batch 10, BCEWithLogits, Adam"
    default_steps = 1000
    full = tiny = dict(sizes=(2, 4, 1), batch=10)

    def param_specs(self, d):
        return _mlp_specs(d["sizes"])

    def batch(self, rng, d):
        return _normal(rng, d["batch"], d["sizes"][0]), rng.integers(0, 2, (d["batch"], 1)).astype(np.float32)

    def model(self, lib, d):
        return _mlp(lib, d["sizes"])

    def loss_fn(self, lib):
        return lib.nn.BCEWithLogitsLoss()

    def optimizer(self, lib, params):
        return lib.optim.Adam(params, lr=0.01)


class MLP(Workload):
    name, title = "W2", "MLP 784-256-128-10, batch 128, cross-entropy, Adam"
    default_steps = 300
    full = dict(sizes=(784, 256, 128, 10), batch=128)
    tiny = dict(sizes=(12, 8, 6, 4), batch=5)

    def param_specs(self, d):
        return _mlp_specs(d["sizes"])

    def batch(self, rng, d):
        return _normal(rng, d["batch"], d["sizes"][0]), _classes(rng, d["batch"], d["sizes"][-1])

    def model(self, lib, d):
        return _mlp(lib, d["sizes"])


class LeNet(Workload):
    name, title = "W3", "LeNet-5 on 1x28x28, batch 64, cross-entropy, SGD momentum 0.9"
    default_steps = 100
    full = dict(side=28, batch=64)
    tiny = dict(side=12, batch=3)

    def param_specs(self, d):
        flat = 16 * self._pooled(d) ** 2
        return (_conv_specs("0", 1, 6, 5) + _conv_specs("3", 6, 16, 5) + _linear_specs("7", flat, 120)
                + _linear_specs("9", 120, 84) + _linear_specs("11", 84, 10))

    @staticmethod
    def _pooled(d):
        return (d["side"] // 2 - 4) // 2  # conv 5x5 pad 2 keeps the side, pool halves, conv 5x5 takes 4, pool

    def batch(self, rng, d):
        return _normal(rng, d["batch"], 1, d["side"], d["side"]), _classes(rng, d["batch"], 10)

    def model(self, lib, d):
        nn = lib.nn
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(16 * self._pooled(d) ** 2, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def optimizer(self, lib, params):
        return lib.optim.SGD(params, lr=0.01, momentum=0.9)


class LSTMClassifier(Workload):
    name, title = "W4", "LSTM 32->128 over 35 steps, batch 32, last hidden -> Linear 10, cross-entropy, Adam"
    default_steps = 100
    full = dict(input=32, hidden=128, seq=35, batch=32, classes=10)
    tiny = dict(input=4, hidden=6, seq=5, batch=3, classes=3)

    def param_specs(self, d):
        h, bound = d["hidden"], 1.0 / np.sqrt(d["hidden"])
        return ([("lstm.weight_ih_l0", (4 * h, d["input"]), bound), ("lstm.weight_hh_l0", (4 * h, h), bound),
                 ("lstm.bias_ih_l0", (4 * h,), bound), ("lstm.bias_hh_l0", (4 * h,), bound)]
                + _linear_specs("fc", h, d["classes"]))

    def batch(self, rng, d):  # sequence first: (seq, batch, input)
        return _normal(rng, d["seq"], d["batch"], d["input"]), _classes(rng, d["batch"], d["classes"])

    def model(self, lib, d):
        nn = lib.nn

        class Classifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(d["input"], d["hidden"])
                self.fc = nn.Linear(d["hidden"], d["classes"])

            def forward(self, x):
                _, (h_n, _) = self.lstm(x)
                return self.fc(h_n[-1])

        return Classifier()


class WideMLP(Workload):
    name, title = "W5", "wide MLP 1024-4096-4096-1024, batch 256, MSE, SGD (compute bound)"
    default_steps = 20
    full = dict(sizes=(1024, 4096, 4096, 1024), batch=256)
    tiny = dict(sizes=(16, 32, 32, 16), batch=8)

    def param_specs(self, d):
        return _mlp_specs(d["sizes"])

    def batch(self, rng, d):
        return _normal(rng, d["batch"], d["sizes"][0]), _normal(rng, d["batch"], d["sizes"][-1])

    def model(self, lib, d):
        return _mlp(lib, d["sizes"])

    def loss_fn(self, lib):
        return lib.nn.MSELoss()

    def optimizer(self, lib, params):
        return lib.optim.SGD(params, lr=0.01)

    def flops(self, d):
        """2*B*in*out per GEMM: forward, weight gradients, input gradients (none for the first layer)."""
        s, b = d["sizes"], d["batch"]
        forward = sum(2 * b * i * o for i, o in zip(s[:-1], s[1:]))
        return 3 * forward - 2 * b * s[0] * s[1]


class Inference(Workload):
    """The forward pass of another workload's model under no_grad, in eval mode."""

    inference = True

    def __init__(self, base, name, default_steps):
        self.base, self.name, self.default_steps = base, name, default_steps
        self.title = base.title.split(",")[0] + f", batch {base.full['batch']}, forward only (no_grad)"
        self.full, self.tiny = base.full, base.tiny

    def param_specs(self, d):
        return self.base.param_specs(d)

    def batch(self, rng, d):
        return self.base.batch(rng, d)

    def model(self, lib, d):
        return self.base.model(lib, d)


WORKLOADS = {w.name: w for w in (TinyMLP(), MLP(), LeNet(), LSTMClassifier(), WideMLP())}
WORKLOADS["W2i"] = Inference(WORKLOADS["W2"], "W2i", 1000)
WORKLOADS["W3i"] = Inference(WORKLOADS["W3"], "W3i", 300)


# ---- ember and torch: one builder for both -------------------------------------------------------------------
class Runner:
    """One framework's prepared workload: ``step(i)`` runs one step on batch ``i % N_BATCHES`` and returns its
    result (the loss, or the logits for inference); ``to_numpy`` turns a result into a NumPy array."""

    def __init__(self, step, batches, to_numpy, sync=None, info=None):
        self._step, self._batches, self.to_numpy = step, batches, to_numpy
        self._sync = sync
        self.info = info or {}

    def step(self, i):
        x, y = self._batches[i % len(self._batches)]
        out = self._step(x, y)
        if self._sync is not None:
            self._sync(out)
        return out


def build_torch_like(lib, workload, size="full", compiled=False, seed=0):
    """A Runner for ``lib`` (ember or torch) with the workload's weights and batches; ``compiled`` wraps the
    step in ``lib.compile`` (a string: that compile mode)."""
    d = workload.dims(size)
    model = workload.model(lib, d)
    weights = workload.weights(d, seed)
    if list(model.state_dict()) != list(weights):
        raise RuntimeError(f"{workload.name}: model keys {list(model.state_dict())} != weight keys {list(weights)}")
    model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    del weights
    batches = [(lib.tensor(x), lib.tensor(y)) for x, y in workload.batches(d)]

    if workload.inference:
        model.eval()

        def step(x, y):
            with lib.no_grad():
                return model(x)
    else:
        loss_fn = workload.loss_fn(lib)
        opt = workload.optimizer(lib, model.parameters())

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

    if isinstance(compiled, str):
        fn = lib.compile(step, mode=compiled)
    else:
        fn = lib.compile(step) if compiled else step
    runner = Runner(fn, batches, lambda out: out.detach().numpy().copy())
    runner.compiled_fn = fn if compiled else None
    return runner
