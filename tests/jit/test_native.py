"""The native pass (ember.compile(..., mode="reduce-overhead")): runs of small-array ops as one numba kernel.
Results are compared with eager mode within float32 rounding (the kernels' transcendentals are libm's and
their sums run left to right), never bitwise; the default mode stays bitwise (tests in test_compile_*.py)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn as nn
from ember.jit.passes import native

RO = "reduce-overhead"


def native_nodes(fn):
    return [n for n in fn.graph.nodes if n.kind == "native"]


def train(model, loss_fn, opt, x, y, steps, mode):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = ember.compile(step, mode=mode) if mode != "eager" else step
    losses = [fn(x, y).item() for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], fn


def twin_runs(make, loss_fn, opt_cls, x, y, steps=6, dtype=ember.float32, **opt_kw):
    """The same model trained eagerly and compiled with mode='reduce-overhead', from the same weights."""
    ember.manual_seed(0)
    a = make().to(dtype)
    b = make().to(dtype)
    b.load_state_dict(a.state_dict())
    ea = train(a, loss_fn, opt_cls(a.parameters(), **opt_kw), x, y, steps, "eager")
    eb = train(b, loss_fn, opt_cls(b.parameters(), **opt_kw), x, y, steps, RO)
    return ea, eb


def trained_alike(make, loss_fn, opt_cls, x, y, dtype=ember.float32, **opt_kw):
    """``twin_runs``, checking that both runs' losses and parameters agree; returns (compiled fn, losses)."""
    (la, pa, _), (lb, pb, fn) = twin_runs(make, loss_fn, opt_cls, x, y, dtype=dtype, **opt_kw)
    close(la, lb, dtype)
    for p, q in zip(pa, pb):
        close(p, q, dtype)
    return fn, la


def close(a, b, dtype):
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == ember.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_tiny_mlp_with_bce_and_adam_runs_as_one_kernel(dtype):
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((10, 2)), dtype=dtype)
    y = ember.tensor((rng.random((10, 1)) > 0.5).astype(np.float64), dtype=dtype)
    fn, la = trained_alike(lambda: nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)),
                                          nn.BCEWithLogitsLoss(), ember.optim.Adam, x, y, dtype=dtype, lr=0.01)
    nodes = native_nodes(fn)
    assert len(nodes) == 1  # forward, loss and backward: every op of the step but the optimizer's
    assert nodes[0].params["ops"] == ("Linear", "Relu", "Linear", "BinaryCrossEntropyWithLogits", "Mean",
                                      "BCEWithLogitsInputGrad", "Matmul", "TransposedMatmul", "Sum", "ReluGrad",
                                      "TransposedMatmul", "Sum")
    assert not [n for n in fn.graph.nodes if n.kind == "op"]
    assert "@numba.njit\ndef native_" in fn.source and "def step(" in fn.source
    assert la[-1] < la[0]


@pytest.mark.parametrize("act, loss_fn, n_out, opt_cls", [
    (nn.Tanh, nn.MSELoss(), 2, ember.optim.SGD),
    (nn.Sigmoid, nn.MSELoss(), 3, ember.optim.Adam),
    (nn.ReLU, nn.L1Loss(), 2, ember.optim.SGD),
])
def test_other_small_models_match_eager(act, loss_fn, n_out, opt_cls):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = ember.tensor(rng.standard_normal((16, n_out)).astype(np.float32))
    fn, la = trained_alike(lambda: nn.Sequential(nn.Linear(3, 8), act(), nn.Linear(8, n_out)),
                                          loss_fn, opt_cls, x, y, lr=0.05)
    assert native_nodes(fn)


def classifier_data(seed, n=16, classes=3):
    rng = np.random.default_rng(seed)
    return (ember.tensor(rng.standard_normal((n, 3)).astype(np.float32)),
            ember.tensor(rng.integers(0, classes, n)))


def test_a_small_classifier_with_cross_entropy_is_one_kernel():
    x, y = classifier_data(2)
    fn, la = trained_alike(lambda: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 3)),
                                          nn.CrossEntropyLoss(), ember.optim.SGD, x, y, lr=0.1)
    (kernel,) = native_nodes(fn)
    assert {"LogSoftmax", "NllLoss", "NllLossGradWeights", "LogSoftmaxGrad"} <= set(kernel.params["ops"])
    assert not [n for n in fn.graph.nodes if n.kind == "op"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_ignore_index_and_reductions_match_eager(reduction):
    x, y = classifier_data(4, n=12, classes=4)
    y._data[[1, 5, 6]] = -1  # ignored rows
    lin = nn.Linear(3, 4)
    lf = nn.CrossEntropyLoss(ignore_index=-1, reduction=reduction)

    def f(x, y):
        out = lin(x)
        loss = lf(out, y)
        (loss if reduction != "none" else loss.sum()).backward()
        grad = lin.weight.grad.clone()
        lin.weight.grad = None
        return loss, grad

    want = f(x, y)
    g = ember.compile(f, mode=RO)
    g(x, y)
    got = g(x, y)
    assert native_nodes(g)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-6, atol=1e-7)


def test_an_out_of_range_class_target_raises_instead_of_reading_outside_the_array():
    x, y = classifier_data(5)
    lin = nn.Linear(3, 3)
    g = ember.compile(lambda x, y: nn.functional.cross_entropy(lin(x), y), mode=RO)
    with ember.no_grad():
        g(x, y)
        g(x, y)
        assert native_nodes(g)
        for bad in (3, -2):
            y2 = ember.tensor(y._data.copy())
            y2._data[4] = bad  # the compiled step has no Python-level check: the kernel's own check raises
            with pytest.raises(IndexError, match="out of bounds"):
                g(x, y2)


def test_an_unsupported_op_splits_the_run_and_large_arrays_stay_numpy():
    x, y = classifier_data(2)
    fn, la = trained_alike(lambda: nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(), nn.Linear(8, 3)),
                                          nn.CrossEntropyLoss(), ember.optim.SGD, x, y, lr=0.1)
    ops = [n.name for n in fn.graph.nodes if n.kind == "op"]
    assert "LeakyRelu" in ops  # no lowering: stays NumPy code (so does the lone Linear before it)
    assert [n.params["ops"][-2:] for n in native_nodes(fn)] == [("TransposedMatmul", "Sum")] * 2

    big = ember.tensor(np.random.default_rng(3).standard_normal((128, 64)).astype(np.float32))
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
    f = ember.compile(lambda t: model(t).sum(), mode=RO)
    with ember.no_grad():
        eager = model(big).sum()
        f(big)
        got = f(big)
    assert not native_nodes(f)  # 128 x 64 values: above MAX_ELEMENTS, NumPy's calls are the fast way
    assert got.item() == eager.item()


def test_at_most_max_kernels_runs_become_kernels_the_longest_first(monkeypatch):
    monkeypatch.setattr(native, "MAX_KERNELS", 1)
    x, y = classifier_data(3)
    fn, la = trained_alike(lambda: nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(), nn.Linear(8, 3)),
                                          nn.CrossEntropyLoss(), ember.optim.SGD, x, y, lr=0.1)
    (kernel,) = native_nodes(fn)  # the run from the second Linear to the first backward sums (8 ops), not the
    assert kernel.params["ops"][0] == "Linear" and len(kernel.params["ops"]) == 8  # 2-op run at the end
    assert [n.name for n in fn.graph.nodes if n.kind == "op"][-2:] == ["TransposedMatmul", "Sum"]


def test_without_numba_the_mode_gives_the_default_passes(monkeypatch):
    monkeypatch.setattr(native, "available", lambda: False)
    x = ember.tensor(np.linspace(-2, 2, 8, dtype=np.float32).reshape(4, 2))
    lin = nn.Linear(2, 3)
    f = ember.compile(lambda t: ember.relu(lin(t)).mean(), mode=RO)
    with ember.no_grad():
        f(x)
        got = f(x)
        want = ember.relu(lin(x)).mean()
    assert not native_nodes(f)
    assert got.item() == want.item()  # then bitwise eager's


def test_unknown_mode_is_refused():
    with pytest.raises(RuntimeError, match="Unrecognized mode=fastest"):
        ember.compile(lambda t: t, mode="fastest")


SPECIAL = [0.0, -0.0, 1.5, -2.25, 30.0, -30.0, float("inf"), float("-inf"), float("nan")]
UNARY = {"neg": lambda a: -a, "exp": ember.exp, "log": ember.log, "tanh": ember.tanh, "sqrt": ember.sqrt,
         "relu": ember.relu, "sigmoid": ember.sigmoid}
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "maximum": ember.maximum, "minimum": ember.minimum}
shapes = st.sampled_from([((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((5,), (5,)), ((4, 3), ()),
                          ((), (2, 2)), ((1, 3), (2, 1))])


@settings(max_examples=25, deadline=None)
@given(shapes=shapes, unary=st.sampled_from(sorted(UNARY)), binary=st.sampled_from(sorted(BINARY)),
       seed=st.integers(0, 2**16))
def test_elementwise_lowerings_broadcast_like_numpy(shapes, unary, binary, seed):
    """A chain unary(binary(a, b)) * a over broadcast shapes, with special values, as eager computes it (NaN
    where eager has NaN; exp/log/tanh within float32 rounding)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        v = rng.choice(SPECIAL, size=shape) if rng.random() < 0.5 else rng.standard_normal(shape) * 3
        arrays.append(ember.tensor(np.asarray(v, dtype=np.float32)))
    u, b = UNARY[unary], BINARY[binary]

    def f(p, q):
        return u(b(p, q)) * p

    want = f(*arrays).numpy()
    g = ember.compile(f, mode=RO, fallback="error")
    g(*arrays)
    got = g(*arrays).numpy()
    assert native_nodes(g), g.graph
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=3e-6, atol=0, equal_nan=True)


CACHE_SCRIPT = """
import ember, ember.nn as nn
ember.manual_seed(0)
m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
opt = ember.optim.Adam(m.parameters(), lr=0.01)
lf = nn.BCEWithLogitsLoss()
def step(x, y):
    opt.zero_grad(); l = lf(m(x), y); l.backward(); opt.step(); return l
f = ember.compile(step, mode="reduce-overhead")
x = ember.randn(10, 2); y = (ember.rand(10, 1) > 0.5).float()
f(x, y); loss = f(x, y).item()
(k,) = [n.op for n in f.graph.nodes if n.kind == "native"]
print(sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()), repr(loss))
"""


def run_cache_script(cache_dir):
    env = dict(os.environ, EMBER_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", CACHE_SCRIPT], capture_output=True, text=True, env=env, check=True)
    hits, misses, loss = out.stdout.split()
    return int(hits), int(misses), loss


def test_kernels_are_cached_on_disk_for_the_next_process(tmp_path):
    cold = run_cache_script(tmp_path)
    warm = run_cache_script(tmp_path)
    assert cold[:2] == (0, 1) and warm[:2] == (1, 0)  # compiled, then loaded from the cache
    assert cold[2] == warm[2]
    (src,) = (tmp_path / "native").glob("native_*.py")
    assert oct((tmp_path / "native").stat().st_mode & 0o777) == "0o700"
    assert src.read_text().startswith("def native_")
    original = src.read_text()
    src.write_text(original.replace("_z = _T(0)", "_z = _T(1)"))  # a copy that differs is replaced, not used
    assert run_cache_script(tmp_path)[2] == cold[2]
    assert src.read_text() == original


def test_an_empty_cache_dir_setting_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", "")
    assert native.cache_dir() is None
    assert run_cache_script("")[0] == 0
    assert run_cache_script("")[0] == 0  # compiled in memory each time: nothing was kept


def test_numba_is_not_imported_when_nothing_is_small_enough():
    script = """
import sys, ember
w = ember.randn(256, 256)
f = ember.compile(lambda x: (x @ w).sum(), mode="reduce-overhead")
x = ember.randn(128, 256)
f(x); f(x)
assert not [n for n in f.graph.nodes if n.kind == "native"]
print("numba" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("opt_name", ["sgd", "adam", "rmsprop"])
@pytest.mark.parametrize("model_name", ["mlp", "cnn", "lstm"])
def test_the_compile_suites_models_train_alike_in_reduce_overhead_mode(model_name, opt_name):
    """The MLP (dropout, GELU, LayerNorm), CNN (batch norm, pooling, dropout) and LSTM of test_compile_models:
    their small linear heads and cross entropy run natively between NumPy ops, within float32 rounding."""
    from test_compile_models import run

    le, me, _ = run(model_name, opt_name, False)
    lr, mr, fn = run(model_name, opt_name, RO)
    np.testing.assert_allclose(lr, le, rtol=1e-5)
    for (name, a), (_, b) in zip(me.state_dict().items(), mr.state_dict().items()):
        if model_name == "cnn" and name in ("0.bias", "1.running_mean") and opt_name != "sgd":
            # the conv bias before batch norm (and the running mean it shifts): its gradient is 0 up to
            # rounding noise, which Adam and RMSprop scale to full-size steps of either sign, so any change of
            # rounding moves it (eager with another summation order would too); it cannot change the loss
            continue
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    assert native_nodes(fn) and fn.n_traces == 1


def test_a_cache_dir_writable_by_others_is_not_used(tmp_path):
    (tmp_path / "native").mkdir(mode=0o777)
    os.chmod(tmp_path / "native", 0o777)  # (mkdir's mode is masked by the umask)
    assert run_cache_script(tmp_path)[:2] == (0, 1)
    assert not list((tmp_path / "native").iterdir())  # nothing written there: compiled in memory
