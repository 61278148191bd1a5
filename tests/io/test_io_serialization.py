"""ember.save / ember.load round trips, interop with PyTorch's safetensors, and argument handling."""
import collections
import io
import math
import os

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import ember


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


def assert_same(a, b):
    """Deep equality that also checks container types, key types and tensor dtypes."""
    assert type(a) is type(b), f"{type(a)} != {type(b)}"
    if isinstance(a, ember.Tensor):
        assert a.dtype is b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            assert type(ka) is type(kb)
            assert_same(va, vb)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


DTYPES = [ember.float16, ember.float32, ember.float64, ember.int8, ember.int16, ember.int32, ember.int64,
          ember.uint8, ember.bool]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 4)])
def test_tensor_roundtrip_every_dtype_and_shape(dtype, shape):
    rng = np.random.default_rng(0)
    arr = np.asarray(rng.standard_normal(shape) * 50).astype(dtype.np)
    t = ember.from_numpy(arr)
    assert_same(t, roundtrip(t))


def test_non_contiguous_tensor_saves_its_values():
    t = ember.arange(12).reshape(3, 4).t()
    assert not t.is_contiguous()
    out = roundtrip(t)
    np.testing.assert_array_equal(out.numpy(), np.arange(12).reshape(3, 4).T)


def test_state_dict_keeps_order_and_type():
    sd = collections.OrderedDict([("layer2.weight", ember.randn(3, 2)), ("layer1.bias", ember.zeros(3)),
                                  ("layer1.weight", ember.randn(3, 4))])
    out = roundtrip(sd)
    assert_same(sd, out)
    assert isinstance(out, collections.OrderedDict)


def test_optimizer_state_dict_keeps_int_keys_tuples_and_scalars():
    state = {
        "state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.randn(4), "exp_avg_sq": ember.rand(4)},
                  1: {"momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                          "maximize": False, "foreach": None, "capturable": False, "params": [0, 1],
                          "name": "group 0", "initial_lr": float("inf")}],
    }
    out = roundtrip(state)
    assert_same(state, out)
    assert list(out["state"]) == [0, 1] and isinstance(out["param_groups"][0]["betas"], tuple)


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2 ** 80, 1.5, -0.0, float("nan"), float("-inf"), "text ünïcödé \ud800", b"\x00\xff",
    (1, (2, 3.0)), [1, [2, "x"]], {"a": 1, 2: "b", 3.5: None, None: 0, (1, 2): "tuple key", True: "bool"},
    collections.OrderedDict([(2, 1), (1, 2)]), {1, 2, 3}, frozenset({"a"}), 1 + 2j, [], {}, (),
], ids=repr)
def test_python_values_roundtrip(value):
    assert_same(value, roundtrip(value))


def test_numpy_values_keep_their_types():
    obj = {"arr": np.arange(6, dtype=np.int32).reshape(2, 3), "f32": np.float32(2.5), "i8": np.int8(-3),
           "b": np.bool_(True), "f64": np.float64(0.1)}
    out = roundtrip(obj)
    assert_same(obj, out)
    for k in obj:
        assert type(out[k]) is type(obj[k])


def test_dtype_and_size_values():
    obj = {"dtype": ember.float64, "size": ember.zeros(2, 3).shape}
    out = roundtrip(obj)
    assert out["dtype"] is ember.float64
    assert out["size"] == (2, 3) and isinstance(out["size"], ember.Size)


def test_shared_tensor_stays_shared():
    t = ember.ones(3)
    out = roundtrip({"a": t, "b": [t]})
    assert out["a"] is out["b"][0]


def test_requires_grad_is_kept_and_loads_as_leaf():
    w = ember.randn(3, requires_grad=True)
    y = w * 2
    out = roundtrip({"w": w, "y": y, "plain": ember.ones(1)})
    assert out["w"].requires_grad and out["w"].is_leaf
    assert out["y"].requires_grad and out["y"].is_leaf
    np.testing.assert_array_equal(out["y"].detach().numpy(), (w * 2).detach().numpy())
    assert not out["plain"].requires_grad


def test_loaded_tensors_are_writable_and_independent():
    t = ember.zeros(3)
    out = roundtrip(t)
    out.add_(1)
    assert t.sum().item() == 0 and out.sum().item() == 3


@pytest.mark.parametrize("obj, match", [
    (object(), "object"),
    ({"f": lambda x: x}, "function"),
    ({ember.ones(1): 1}, "dict keys"),
    (np.array(["a", "b"]), "dtype"),
    (np.zeros(2, dtype=np.complex64), "dtype"),
])
def test_unsupported_values_raise_type_error(obj, match):
    with pytest.raises(TypeError, match=match):
        ember.save(obj, io.BytesIO())


def test_path_str_pathlike_and_file_object(tmp_path):
    sd = {"w": ember.randn(2, 2)}
    ember.save(sd, str(tmp_path / "a.safetensors"))
    ember.save(sd, tmp_path / "b.safetensors")
    with open(tmp_path / "c.safetensors", "wb") as f:
        ember.save(sd, f)
    for name in "abc":
        assert_same(sd, ember.load(tmp_path / f"{name}.safetensors"))
        with open(tmp_path / f"{name}.safetensors", "rb") as f:
            assert_same(sd, ember.load(f))
        assert_same(sd, ember.load(str(tmp_path / f"{name}.safetensors")))
    assert sorted(os.listdir(tmp_path)) == ["a.safetensors", "b.safetensors", "c.safetensors"]


def test_file_permissions_follow_umask(tmp_path):
    ember.save(ember.ones(1), tmp_path / "x")
    old = os.umask(0)
    os.umask(old)
    assert (tmp_path / "x").stat().st_mode & 0o777 == 0o666 & ~old


def test_save_rejects_bad_target():
    with pytest.raises(TypeError, match="path or a binary file"):
        ember.save(ember.ones(1), 3)


@pytest.mark.parametrize("map_location", [None, "cpu", ember.device("cpu"), torch.device("cpu"), {"cuda:0": "cpu"}])
def test_map_location_cpu_accepted(map_location):
    assert_same(ember.ones(2), roundtrip(ember.ones(2), map_location=map_location))


@pytest.mark.parametrize("map_location", ["cuda", "cuda:0", "meta", {"cpu": "cuda:1"}, lambda s, loc: s])
def test_map_location_other_devices_rejected(map_location):
    with pytest.raises(RuntimeError, match="map_location"):
        roundtrip(ember.ones(2), map_location=map_location)


@pytest.mark.parametrize("weights_only", [True, False, None])
def test_weights_only_accepted(weights_only):
    assert_same({"a": (1, 2)}, roundtrip({"a": (1, 2)}, weights_only=weights_only))


# ---- interop with PyTorch through safetensors -----------------------------------------------------------------

def test_ember_state_dict_loads_in_torch(tmp_path):
    rng = np.random.default_rng(1)
    sd = collections.OrderedDict([("0.weight", rng.standard_normal((4, 3)).astype(np.float32)),
                                  ("0.bias", rng.standard_normal(4).astype(np.float32)),
                                  ("1.weight", rng.random(4).astype(np.float32) + 0.5),
                                  ("1.bias", rng.standard_normal(4).astype(np.float32)),
                                  ("1.running_mean", rng.standard_normal(4).astype(np.float32)),
                                  ("1.running_var", rng.random(4).astype(np.float32) + 0.5),
                                  ("1.num_batches_tracked", np.array(7, dtype=np.int64))])
    path = tmp_path / "model.safetensors"
    ember.save(collections.OrderedDict((k, ember.from_numpy(v)) for k, v in sd.items()), path)
    loaded = safetensors.torch.load_file(str(path))
    for k, v in sd.items():
        assert loaded[k].dtype == torch.from_numpy(v).dtype and tuple(loaded[k].shape) == v.shape
        np.testing.assert_array_equal(loaded[k].numpy(), v)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).eval()
    model.load_state_dict(loaded)  # strict: exactly the right keys, shapes and dtypes
    x = rng.standard_normal((2, 3)).astype(np.float32)
    h = x @ sd["0.weight"].T + sd["0.bias"]
    expected = (h - sd["1.running_mean"]) / np.sqrt(sd["1.running_var"] + 1e-5) * sd["1.weight"] + sd["1.bias"]
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_mixed_dtypes_load_in_torch(tmp_path):
    arrays = {"mask": np.array([True, False]), "half": np.ones(3, np.float16), "f64": np.arange(2.0),
              "i8": np.array([-1, 2], np.int8), "u8": np.array([255], np.uint8), "scalar": np.array(1.5, np.float32)}
    ember.save({k: ember.from_numpy(v) for k, v in arrays.items()}, tmp_path / "m.safetensors")
    loaded = safetensors.torch.load_file(str(tmp_path / "m.safetensors"))
    for k, v in arrays.items():
        torch.testing.assert_close(loaded[k], torch.from_numpy(v))


def test_torch_safetensors_file_loads_in_ember(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    sd = model.state_dict()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(sd, str(path), metadata={"format": "pt"})
    loaded = ember.load(path)
    assert isinstance(loaded, dict) and set(loaded) == set(sd)
    for k, v in sd.items():
        assert isinstance(loaded[k], ember.Tensor)
        assert str(loaded[k].dtype).split(".")[1] == str(v.dtype).split(".")[1]
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())
    assert list(loaded) == list(safetensors.torch.load_file(str(path)))  # same order as safetensors gives
    assert list(ember.io.load_file(path)) == list(loaded)


def test_torch_bfloat16_widens_exactly_to_float32(tmp_path):
    t = torch.tensor([1.5, -2.25, 3e38, 1e-38, float("inf")], dtype=torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file({"x": t, "y": torch.arange(3)}, str(path))
    out = ember.load(path)
    assert out["x"].dtype is ember.float32
    np.testing.assert_array_equal(out["x"].numpy(), t.float().numpy())
    np.testing.assert_array_equal(out["y"].numpy(), [0, 1, 2])


def test_torch_unsigned16_is_a_clear_error(tmp_path):
    path = tmp_path / "u16.safetensors"
    safetensors.torch.save_file({"x": torch.ones(2, dtype=torch.uint16)}, str(path))
    with pytest.raises(ValueError, match=r"u16\.safetensors.*dtype 'U16'"):
        ember.load(path)


def test_save_file_load_file_mirror_safetensors_api(tmp_path):
    tensors = {"b": ember.ones(2, dtype=ember.int32), "a": ember.zeros(1)}
    ember.io.save_file(tensors, tmp_path / "x.safetensors", metadata={"k": "v"})
    with safetensors.safe_open(str(tmp_path / "x.safetensors"), framework="numpy") as f:
        assert f.metadata() == {"k": "v"}
    out = ember.io.load_file(tmp_path / "x.safetensors")
    assert list(out) == list(safetensors.numpy.load_file(str(tmp_path / "x.safetensors")))
    assert out["b"].dtype is ember.int32
    blob = ember.io.safetensors.save(tensors)
    assert set(safetensors.numpy.load(blob)) == {"a", "b"}
    assert set(ember.io.safetensors.load(blob)) == {"a", "b"}


def test_nested_tensor_names_are_readable(tmp_path):
    ember.save({"state": {0: {"exp_avg": ember.ones(1)}}, "w": [ember.ones(1), ember.zeros(1)]}, tmp_path / "n")
    names = set(safetensors.numpy.load_file(str(tmp_path / "n")))
    assert names == {"state.0.exp_avg", "w.0", "w.1"}


def test_name_collisions_get_distinct_names():
    obj = {"a.b": ember.ones(1), "a": {"b": ember.zeros(1)}}
    out = roundtrip(obj)
    assert out["a.b"].item() == 1 and out["a"]["b"].item() == 0
