"""Dynamic quantization (ember.ao.quantization.quantize_dynamic) against torch's: the int8 weights and their
scale, outputs bitwise equal to torch's fbgemm kernels for qint8 (close for float16), module selection,
save/load of the quantized model, errors."""
import os
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ao.quantization import quantize_dynamic

warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*")
warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")


def twins(sizes=(64, 32, 10), seed=0):
    torch.manual_seed(seed)
    layers_t, layers_e = [], []
    for a, b in zip(sizes, sizes[1:]):
        layers_t += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        layers_e += [ember.nn.Linear(a, b), ember.nn.ReLU()]
    t, e = torch.nn.Sequential(*layers_t[:-1]), ember.nn.Sequential(*layers_e[:-1])
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return e, t


def both_quantized(dtype_name="qint8", sizes=(64, 32, 10)):
    e, t = twins(sizes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tq = torch.ao.quantization.quantize_dynamic(t, {torch.nn.Linear}, dtype=getattr(torch, dtype_name))
    eq = quantize_dynamic(e, {ember.nn.Linear}, dtype=getattr(ember, dtype_name))
    return eq, tq


INPUTS = {
    "normal": lambda rng: rng.standard_normal((20, 64)),
    "large": lambda rng: rng.standard_normal((20, 64)) * 50,
    "tiny": lambda rng: rng.standard_normal((20, 64)) * 1e-3,
    "tiny positive": lambda rng: np.abs(rng.standard_normal((20, 64))) * 1e-4,
    "tiny negative": lambda rng: -np.abs(rng.standard_normal((20, 64))) * 1e-4,
    "positive (after relu)": lambda rng: np.abs(rng.standard_normal((20, 64))),
    "negative": lambda rng: -np.abs(rng.standard_normal((20, 64))) - 1,
    "all zero": lambda rng: np.zeros((4, 64)),
    "constant": lambda rng: np.full((4, 64), 3.5),
    "3-d batch": lambda rng: rng.standard_normal((3, 5, 64)),
    "one row": lambda rng: rng.standard_normal((1, 64)),
}


@pytest.mark.parametrize("name", INPUTS)
def test_qint8_outputs_are_bitwise_torchs(name):
    eq, tq = both_quantized()
    x = INPUTS[name](np.random.default_rng(1)).astype(np.float32)
    with torch.no_grad():
        expected = tq(torch.tensor(x)).numpy()
    got = eq(ember.tensor(x))
    assert got.dtype == ember.float32 and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), expected)


def test_int8_weights_and_scales_are_torchs():
    eq, tq = both_quantized()
    for i in (0, 2):
        w = tq[i].weight()
        np.testing.assert_array_equal(eq[i].weight.numpy(), w.int_repr().numpy())
        assert eq[i].weight.dtype == ember.int8
        assert eq[i].weight_scale.item() == np.float32(w.q_scale()) and w.q_zero_point() == 0


def test_float16_weights_match_torch():
    eq, tq = both_quantized("float16")
    x = np.random.default_rng(2).standard_normal((20, 64)).astype(np.float32)
    with torch.no_grad():
        expected = tq(torch.tensor(x)).numpy()
    np.testing.assert_allclose(eq(ember.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert eq[0].weight.dtype == ember.float16


def test_quantized_model_stays_close_to_the_float_model():
    e, _ = twins()
    q = quantize_dynamic(e)
    x = ember.tensor(np.random.default_rng(3).standard_normal((100, 64)).astype(np.float32))
    with ember.no_grad():
        ref, got = e(x).numpy(), q(x).numpy()
    assert np.abs(got - ref).max() < 0.05 * np.abs(ref).max()  # 7-bit activations, 8-bit weights
    assert (got.argmax(1) == ref.argmax(1)).mean() > 0.95


def test_selection_by_name_copy_and_inplace():
    e, _ = twins((8, 6, 4, 2))
    q = quantize_dynamic(e, {"2"})  # only the second Linear
    assert [type(m).__name__ for m in q] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert q[0] is not e[0] and type(q[2]).__name__ == "Linear" and q[2]._get_name() == "DynamicQuantizedLinear"
    assert all(m._get_name() != "DynamicQuantizedLinear" for m in e)  # the original is untouched
    same = quantize_dynamic(e, inplace=True)
    assert same is e and all(m._get_name() == "DynamicQuantizedLinear" for m in e if not isinstance(m, ember.nn.ReLU))


def test_repr_matches_torchs_with_ember_names():
    eq, tq = both_quantized()
    assert repr(eq).replace("ember.", "torch.") == repr(tq)


def test_saved_quantized_model_is_smaller_and_loads_back(tmp_path):
    e, _ = twins((256, 128, 10))
    q = quantize_dynamic(e)
    ember.save(e.state_dict(), tmp_path / "float.safetensors")
    ember.save(q.state_dict(), tmp_path / "int8.safetensors")
    ratio = os.path.getsize(tmp_path / "int8.safetensors") / os.path.getsize(tmp_path / "float.safetensors")
    assert ratio < 0.3
    fresh = quantize_dynamic(twins((256, 128, 10), seed=5)[0])
    fresh.load_state_dict(ember.load(tmp_path / "int8.safetensors"))
    x = ember.tensor(np.random.default_rng(4).standard_normal((7, 256)).astype(np.float32))
    np.testing.assert_array_equal(fresh(x).numpy(), q(x).numpy())


ERRORS = {
    "float32 dtype": (ValueError, "qint8 and float16", lambda: quantize_dynamic(twins()[0], dtype=ember.float32)),
    "LSTM (not quantized by ember)": (NotImplementedError, "LSTM",
                                      lambda: quantize_dynamic(twins()[0], {ember.nn.Linear, ember.nn.LSTM})),
    "wrong input width": (RuntimeError, "in_features=64", lambda: quantize_dynamic(twins()[0])(ember.ones(2, 5))),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors(case):
    exc, match, fn = ERRORS[case]
    with pytest.raises(exc, match=match):
        fn()


def test_quantized_dtypes_are_not_tensor_dtypes():
    with pytest.raises(TypeError):
        ember.zeros(3, dtype=ember.qint8)
