"""The torch modules scripts touch around training on a CPU-only machine: torch.cuda's queries, torch.backends'
flags, the global precision/determinism switches, and torch.amp (GradScaler in full, autocast accepted),
compared with a CPU-only torch build (the test oracle)."""
import warnings

import numpy as np
import pytest
import torch

import ember

FRAMEWORKS = [torch, ember]


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=["torch", "ember"])
def test_the_device_idiom_and_cuda_queries(fw):
    device = fw.device("cuda" if fw.cuda.is_available() else "cpu")
    assert str(device) == "cpu"
    assert fw.cuda.device_count() == 0 and not fw.cuda.is_initialized() and not fw.cuda.is_bf16_supported()
    assert fw.cuda.memory_allocated() == 0 and fw.cuda.max_memory_allocated() == 0
    assert fw.cuda.manual_seed(1) is None and fw.cuda.manual_seed_all(1) is None and fw.cuda.empty_cache() is None
    for call in (fw.cuda.synchronize, fw.cuda.current_device, fw.cuda.get_device_name):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            call()
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        fw.randn(2).cuda()
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        fw.zeros(2, device="cuda")


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=["torch", "ember"])
def test_backend_flags_and_global_switches(fw):
    assert not fw.backends.cudnn.is_available() and fw.backends.cudnn.version() is None
    assert not fw.backends.mps.is_available() and not fw.backends.mps.is_built()
    assert fw.backends.cuda.matmul.allow_tf32 is False
    saved = fw.backends.cudnn.benchmark, fw.backends.cudnn.deterministic
    fw.backends.cudnn.benchmark, fw.backends.cudnn.deterministic = True, True
    assert fw.backends.cudnn.benchmark and fw.backends.cudnn.deterministic
    fw.backends.cudnn.benchmark, fw.backends.cudnn.deterministic = saved
    assert fw.get_float32_matmul_precision() == "highest"
    fw.set_float32_matmul_precision("high")
    assert fw.get_float32_matmul_precision() == "high"
    fw.set_float32_matmul_precision("highest")
    assert not fw.are_deterministic_algorithms_enabled()
    fw.use_deterministic_algorithms(True, warn_only=True)
    assert fw.are_deterministic_algorithms_enabled() and fw.is_deterministic_algorithms_warn_only_enabled()
    fw.use_deterministic_algorithms(False)
    assert not fw.are_deterministic_algorithms_enabled()


def test_set_float32_matmul_precision_ignores_unknown_values_with_a_warning():
    for fw in FRAMEWORKS:
        with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
            fw.set_float32_matmul_precision("low")
        assert fw.get_float32_matmul_precision() == "highest"


def _scaled_training(fw, init_scale, growth_interval, steps=6, device="cpu"):
    """A tiny regression trained through a GradScaler: (scales seen, parameters, scaler state)."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    x = fw.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    y = fw.tensor(10 * rng.standard_normal((8, 3)).astype(np.float32))  # a loss ~100
    w = fw.tensor(w0, requires_grad=True)
    opt = fw.optim.SGD([w], lr=0.05, momentum=0.9)
    scaler = fw.amp.GradScaler(device, init_scale=init_scale, growth_interval=growth_interval)
    scales, results = [], []
    for i in range(steps):
        opt.zero_grad()
        loss = ((x @ w.T - y) ** 2).mean()
        scaler.scale(loss).backward()
        if i == 2:
            scaler.unscale_(opt)  # the clipping pattern: unscale, clip, then step
            fw.nn.utils.clip_grad_norm_([w], 1.0)
        before = w.detach().numpy().copy()
        scaler.step(opt)
        results.append(not np.array_equal(before, w.detach().numpy()))  # whether the step was taken
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, w.detach().numpy().copy(), scaler.state_dict(), results


@pytest.mark.parametrize("init_scale, growth_interval", [(2.0 ** 16, 2), (2.0 ** 127, 3), (2.0 ** 126, 1),
                                                         (1.0, 1)])
def test_grad_scaler_trains_as_torch(init_scale, growth_interval):
    # 2**127 and 2**126: the scaled loss overflows, steps are skipped and the scale backs off until it fits
    s_t, w_t, st_t, taken_t = _scaled_training(torch, init_scale, growth_interval)
    s_e, w_e, st_e, taken_e = _scaled_training(ember, init_scale, growth_interval)
    assert s_e == s_t
    assert st_e == st_t
    assert taken_e == taken_t
    np.testing.assert_allclose(w_e, w_t, rtol=1e-5, atol=1e-6)
    if init_scale == 2.0 ** 127:
        assert not taken_e[0] and s_e[0] == init_scale / 2 and any(taken_e)


def test_grad_scaler_misuse_raises_as_torch():
    for fw in FRAMEWORKS:
        w = fw.ones(2, requires_grad=True)
        opt = fw.optim.SGD([w], lr=0.1)
        scaler = fw.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match="No inf checks were recorded"):
            scaler.scale(w.sum())
            scaler.update()
        scaler.scale(w.sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
            scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            fw.amp.GradScaler("cpu").step(opt, closure=lambda: 0)
        with pytest.raises(RuntimeError, match="state dict is empty"):
            fw.amp.GradScaler("cpu").load_state_dict({})


def test_grad_scaler_state_dict_round_trip():
    _, _, state, _ = _scaled_training(ember, 2.0 ** 10, 2, steps=3)
    scaler = ember.amp.GradScaler("cpu")
    scaler.load_state_dict(state)
    assert scaler.state_dict() == state and scaler.get_scale() == state["scale"]


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=["torch", "ember"])
def test_cuda_grad_scaler_disables_itself_with_torchs_warning(fw):
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
        scaler = fw.amp.GradScaler("cuda")
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    loss = fw.ones(2, requires_grad=True).sum()
    assert scaler.scale(loss) is loss
    with pytest.warns(FutureWarning, match="torch.cuda.amp.GradScaler\\(args...\\)` is deprecated"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert not fw.cuda.amp.GradScaler().is_enabled()


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=["torch", "ember"])
def test_cuda_autocast_disables_itself_with_torchs_warning(fw):
    x = fw.ones(2, 2)
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast."):
        ctx = fw.autocast(device_type="cuda", dtype=fw.float16)
    with ctx:
        y = x @ x
    assert y.dtype == fw.float32
    with fw.autocast(device_type="cuda", enabled=False):  # the `enabled=use_amp` pattern: silent
        assert (x @ x).dtype == fw.float32


def test_cpu_autocast_runs_in_float32_and_says_so():
    x = ember.ones(2, 2)
    with pytest.warns(UserWarning, match="does not lower precision"):
        with ember.autocast("cpu"):
            assert (x @ x).dtype == ember.float32
    step = ember.amp.autocast("cpu", dtype=ember.bfloat16 if hasattr(ember, "bfloat16") else None)(lambda a: a + 1)
    assert step(x).dtype == ember.float32
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        ember.autocast("tpu")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        ember.autocast(ember.device("cpu"))
