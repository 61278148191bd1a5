"""Compiled training steps of real models equal eager ones, bitwise: MLP, CNN (batch norm, dropout), LSTM,
with each optimizer; module mode switches re-trace; ember.compile(model) for inference."""
import numpy as np
import pytest

import ember
import ember.nn as nn


def mlp():
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 16), nn.GELU(),
                         nn.LayerNorm(16), nn.Linear(16, 4))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Dropout2d(0.1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(6, 4))


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 16, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


MODELS = {"mlp": (mlp, (6, 12)), "cnn": (cnn, (6, 1, 8, 8)), "lstm": (LSTMClassifier, (6, 7, 5))}
OPTIMIZERS = {
    "sgd": lambda p: ember.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: ember.optim.Adam(p, lr=0.01),
    "adamw": lambda p: ember.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: ember.optim.RMSprop(p, lr=0.01),
}


def run(model_name, opt_name, compiled, steps=5):
    """Losses, model and step function of a short training run; ``compiled``: False (eager), True, or an
    ember.compile mode."""
    make, shape = MODELS[model_name]
    ember.manual_seed(0)
    model = make()
    opt = OPTIMIZERS[opt_name](model.parameters())
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = (ember.compile(step, mode=compiled) if isinstance(compiled, str) else ember.compile(step)) if compiled \
        else step
    rng = np.random.default_rng(1)
    ember.manual_seed(1)  # same dropout draws in both runs
    losses = []
    for _ in range(steps):
        x = ember.tensor(rng.standard_normal(shape).astype(np.float32))
        y = ember.tensor(rng.integers(0, 4, shape[0]))
        losses.append(fn(x, y).item())
    return losses, model, fn


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_compiled_training_equals_eager_bitwise(model_name, opt_name):
    le, me, _ = run(model_name, opt_name, False)
    lc, mc, fn = run(model_name, opt_name, True)
    assert lc == le
    for (name, a), (_, b) in zip(me.state_dict().items(), mc.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert fn.n_traces == 1


def test_train_eval_switch_retraces_and_matches_eager():
    ember.manual_seed(0)
    model = cnn()
    fwd = ember.compile(model)
    x = ember.randn(3, 1, 8, 8)
    with ember.no_grad():
        train_out = fwd(x)
    model.eval()
    with ember.no_grad():
        compiled_eval = fwd(x)
        compiled_eval = fwd(x)
        eager_eval = model(x)
    np.testing.assert_array_equal(compiled_eval.numpy(), eager_eval.numpy())
    assert fwd._forward.n_traces == 2
    assert train_out.shape == (3, 4)


def test_a_compiled_model_trains_as_the_eager_model():
    """``model = torch.compile(model)`` and then an ordinary training loop: calls that record gradients run the
    module eagerly, so losses and parameters are those of the uncompiled model; no_grad calls are compiled."""
    results = []
    for compiled in (False, True):
        ember.manual_seed(0)
        model = mlp()
        run = ember.compile(model) if compiled else model
        opt = ember.optim.Adam(run.parameters(), lr=1e-2)
        x, y = ember.randn(16, 12), ember.randn(16, 4)
        losses = []
        for _ in range(4):
            opt.zero_grad()
            loss = nn.functional.mse_loss(run(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with ember.no_grad():
            run(x)
            evaluated = run(x)
        results.append((losses, evaluated.numpy(), [p.detach().numpy().copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    for a, b in zip(results[0][2], results[1][2]):
        np.testing.assert_array_equal(a, b)
    assert run._forward.n_traces == 1  # only the no_grad calls were traced


def test_batchnorm_running_stats_update_like_eager():
    outs = []
    for compiled in (False, True):
        ember.manual_seed(0)
        bn = nn.BatchNorm1d(5)
        f = ember.compile(bn) if compiled else bn
        rng = np.random.default_rng(0)
        for _ in range(4):
            f(ember.tensor(rng.standard_normal((8, 5)).astype(np.float32)))
        outs.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(),
                     int(bn.num_batches_tracked.item())))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    assert outs[0][2] == outs[1][2] == 4


def test_compiled_model_inference_matches_eager():
    ember.manual_seed(0)
    model = mlp().eval()
    fast = ember.compile(model)
    x = ember.randn(4, 12)
    with ember.no_grad():
        for _ in range(3):
            out = fast(x)
        np.testing.assert_array_equal(out.numpy(), model(x).numpy())
    assert "np.matmul" in fast.source or "Linear" in fast.source
    assert fast.training is False  # attributes pass through to the module


def _small_mlp_run(compiled, make_opt, between=None, n=5, seed=5, sizes=(4, 6, 1)):
    """n training steps of a small MLP, eager or compiled; ``between(model, opt, i)`` runs before step i.
    Returns the losses, the parameters after the last step and the step function."""
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]))
    opt = make_opt(model.parameters())
    x, y = ember.randn(8, sizes[0]), ember.randn(8, sizes[2])

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    fn = ember.compile(step) if compiled else step
    losses = []
    for i in range(n):
        if between is not None:
            between(model, opt, i)
        losses.append(fn(x, y).item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()], fn


def _replacement_run(compiled, replace):
    """SGD steps; ``replace(model)`` swaps part of the model before step 2."""
    losses, _, fn = _small_mlp_run(compiled, lambda ps: ember.optim.SGD(ps, lr=0.1),
                                   lambda model, opt, i: replace(model) if i == 2 else None, n=4, seed=3,
                                   sizes=(6, 8, 2))
    return losses, fn


@pytest.mark.parametrize("replace", [
    lambda m: setattr(m[2], "weight", nn.Parameter(ember.ones(2, 8))),
    lambda m: m.__setitem__(0, nn.Linear(6, 8)),
    lambda m: m[2]._parameters.__setitem__("bias", nn.Parameter(ember.full((2,), 0.5))),
], ids=["parameter", "submodule", "parameters-dict"])
def test_replacing_a_parameter_or_submodule_retraces(replace):
    eager, _ = _replacement_run(False, replace)
    compiled, fn = _replacement_run(True, replace)
    # trace 2 at the replacement; trace 3 on the next call: the new parameter is not in the optimizer, so
    # zero_grad leaves its .grad set and backward now accumulates into it (the .grad guard)
    assert compiled == eager and fn.n_traces == 3


def test_creating_modules_inside_the_step_does_not_retrace():
    ember.manual_seed(0)
    lin = nn.Linear(3, 2)
    fn = ember.compile(lambda x: nn.MSELoss()(lin(x), ember.zeros(4, 2)))  # a new loss module each call
    x = ember.randn(4, 3)
    for _ in range(3):
        fn(x)
    assert fn.n_traces == 1


def test_numpy_read_inside_the_step_is_a_graph_break():
    def f(y):
        return y * 2 if y.detach().numpy().sum() > 0 else y * -1

    cf = ember.compile(f, fallback="quiet")
    assert cf(ember.tensor([3.0])).item() == 6.0
    assert cf(ember.tensor([-3.0])).item() == 3.0


def _adam_steps(compiled, between=None):
    return _small_mlp_run(compiled, lambda ps: ember.optim.Adam(ps, lr=0.05),
                          None if between is None else lambda model, opt, i: between(opt, i))


def test_compiled_step_updates_the_optimizer_flat_buffers_in_generated_code():
    losses, params, fn = _adam_steps(True)
    eager_losses, eager_params, _ = _adam_steps(False)
    assert "Adam._update(" in fn.source and "O" in fn.source.split("Adam._update(")[0]
    assert losses == eager_losses
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)


def _hook_after_two(calls):
    def between(opt, i):
        if i == 2:
            opt.register_step_post_hook(lambda *a: calls.append(1))
    return between


def _reload_state_after_two(opt, i):
    if i == 2:
        opt.load_state_dict(opt.state_dict())


@pytest.mark.parametrize("between", ["hook", "load_state_dict"])
def test_flat_update_falls_back_to_step_when_the_optimizer_changes(between):
    calls_c, calls_e = [], []
    make = (lambda calls: _hook_after_two(calls)) if between == "hook" else (lambda calls: _reload_state_after_two)
    losses, params, fn = _adam_steps(True, make(calls_c))
    eager_losses, eager_params, _ = _adam_steps(False, make(calls_e))
    assert losses == eager_losses and calls_c == calls_e and fn.n_traces == 1
    if between == "hook":
        assert len(calls_c) == 3
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)


class _RebindsItsBuffer(nn.Module):
    """Re-binds a buffer at every call (an out-of-place running statistic): every call needs a new trace."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.register_buffer("seen", ember.zeros(3))

    def forward(self, x):
        self.seen = self.seen * 0.9 + x.detach().mean(0) * 0.1
        return self.lin(x)


def test_rebinding_module_state_inside_the_step_is_a_graph_break():
    ember.manual_seed(0)
    model, twin = _RebindsItsBuffer(), _RebindsItsBuffer()
    twin.load_state_dict(model.state_dict())
    fn = ember.compile(lambda x: model(x).sum())
    xs = [ember.randn(4, 3) for _ in range(4)]
    with pytest.warns(RuntimeWarning, match="re-bound a parameter, buffer or submodule"):
        got = [fn(x).item() for x in xs]
    assert fn._eager and got == [twin(x).sum().item() for x in xs]
    np.testing.assert_array_equal(model.seen.numpy(), twin.seen.numpy())  # the side effect happened every call


def test_a_function_retraced_at_every_call_falls_back_to_eager_with_one_warning():
    from ember.jit.api import RETRACE_LIMIT

    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    fn = ember.compile(lambda x: model(x).sum())
    x = ember.randn(5, 3)
    with pytest.warns(RuntimeWarning, match="traced on 8 calls in a row") as record:
        for i in range(RETRACE_LIMIT + 4):
            model.train(i % 2 == 0)  # a training flag that changes at every call
            fn(x)
    assert len([w for w in record if "in a row" in str(w.message)]) == 1
    assert fn.n_traces == RETRACE_LIMIT and fn._eager


def test_switching_train_and_eval_between_epochs_keeps_compiling():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    fn = ember.compile(lambda x: model(x).sum())
    x = ember.randn(5, 3)
    for _ in range(12):  # 12 epochs of: 3 training calls, 1 evaluation call
        model.train()
        for _ in range(3):
            fn(x)
        model.eval()
        fn(x)
    assert not fn._eager and fn.n_traces == 24


@pytest.mark.parametrize("compiled_forward", [True, False], ids=["forward", "train-step"])
def test_lazy_layers_materialising_during_the_first_call_compile_correctly(compiled_forward):
    # the first call gives the lazy weight a new array (a one-off layout change): that trace is not kept
    def run(compiled):
        ember.manual_seed(0)
        model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 1))
        x, y = ember.randn(5, 3), ember.randn(5, 1)
        if compiled_forward:
            fn = lambda x, y: model(x).sum()  # noqa: E731
        else:
            model(x)  # torch's pattern: a dry run materialises the parameters before the optimizer is built
            opt = ember.optim.SGD(model.parameters(), lr=0.1)

            def fn(x, y):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                opt.step()
                return loss
        fn = ember.compile(fn) if compiled else fn
        return [fn(x, y).item() for _ in range(4)], fn

    eager, _ = run(False)
    compiled, fn = run(True)
    assert compiled == eager and not fn._eager


def test_giving_a_parameter_an_array_of_another_shape_retraces():
    """``conv.weight.data = <another kernel size>`` leaves the inputs' shapes alone: the compiled code, which
    bakes in the traced shapes, must not run on it (a guard on the state's shapes after any re-pointing)."""
    def run(compiled):
        ember.manual_seed(0)
        conv = nn.Conv2d(1, 2, 3)
        x = ember.randn(2, 1, 6, 6)

        def step(x):
            return conv(x).sum(dim=(1, 2, 3))

        fn = ember.compile(step) if compiled else step
        outs = [fn(x).detach().numpy().copy()]
        conv.weight.data = ember.randn(2, 1, 5, 5)
        outs.append(fn(x).detach().numpy().copy())
        return outs, fn

    (eager_before, eager_after), _ = run(False)
    (comp_before, comp_after), fn = run(True)
    np.testing.assert_array_equal(comp_before, eager_before)
    np.testing.assert_array_equal(comp_after, eager_after)
    assert fn.n_traces == 2
