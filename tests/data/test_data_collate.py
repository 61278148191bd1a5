"""default_collate / default_convert against torch.utils.data's: same structure, shapes and dtypes."""
import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate
from torch.utils.data import default_convert as torch_convert

import ember
from ember.utils.data import default_collate, default_convert

Point = collections.namedtuple("Point", "x y")


def to_ember(obj):
    """The same sample with torch tensors replaced by ember tensors."""
    if isinstance(obj, torch.Tensor):
        return ember.from_numpy(obj.numpy().copy())
    if isinstance(obj, Point):
        return Point(*(to_ember(v) for v in obj))
    if isinstance(obj, dict):
        return type(obj)((k, to_ember(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ember(v) for v in obj)
    return obj


def assert_matches(e, t, path="batch"):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: {type(e)}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)} != {tuple(t.shape)}"
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1], f"{path}: {e.dtype} != {t.dtype}"
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        return
    assert type(e) is type(t), f"{path}: {type(e).__name__} != {type(t).__name__}"
    if isinstance(t, dict):
        assert list(e) == list(t)
        for k in t:
            assert_matches(e[k], t[k], f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t)
        for i, (a, b) in enumerate(zip(e, t)):
            assert_matches(a, b, f"{path}[{i}]")
    else:
        assert e == t or (isinstance(t, np.ndarray) and np.array_equal(e, t))


rng = np.random.default_rng(0)
SAMPLES = {
    "float tensors": [torch.randn(3, 2) for _ in range(4)],
    "int64 tensors": [torch.arange(3) + i for i in range(2)],
    "0-d tensors": [torch.tensor(1.5), torch.tensor(2.5)],
    "python floats": [0.5, 1.25, -3.0],
    "python ints": [1, 2, 3],
    "python bools": [True, False],
    "ints then float": [1, 2.5],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "numpy float32": [rng.standard_normal((2, 2)).astype(np.float32) for _ in range(3)],
    "numpy float64": [rng.standard_normal(3) for _ in range(2)],
    "numpy uint8 images": [rng.integers(0, 255, (4, 4, 3), dtype=np.uint8) for _ in range(2)],
    "numpy scalars f64": [np.float64(1.5), np.float64(2.0)],
    "numpy scalars f32": [np.float32(1.5), np.float32(2.0)],
    "numpy scalars i32": [np.int32(1), np.int32(2)],
    "numpy bool scalars": [np.bool_(True), np.bool_(False)],
    "tuples (image, label)": [(torch.randn(2), 3), (torch.randn(2), 4)],
    "lists": [[1, 2.0, "a"], [3, 4.0, "b"]],
    "dicts": [{"x": torch.ones(2), "y": 1, "name": "a"}, {"x": torch.zeros(2), "y": 2, "name": "b"}],
    "ordered dicts": [collections.OrderedDict(b=1.0, a=2), collections.OrderedDict(b=3.0, a=4)],
    "namedtuples": [Point(torch.tensor(1.0), 2), Point(torch.tensor(3.0), 4)],
    "nested": [{"img": (torch.randn(1, 2), np.float32(0.5)), "meta": {"id": 1, "tags": ["a", "b"]}},
               {"img": (torch.randn(1, 2), np.float32(1.5)), "meta": {"id": 2, "tags": ["c", "d"]}}],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name):
    batch = SAMPLES[name]
    assert_matches(default_collate(to_ember(batch)), torch_collate(batch))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_convert_matches_torch(name):
    sample = SAMPLES[name][0]
    assert_matches(default_convert(to_ember(sample)), torch_convert(sample))


@pytest.mark.parametrize("batch, exc, match", [
    ([object(), object()], TypeError, "default_collate: batch must contain"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "default_collate: batch must contain"),
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
])
def test_collate_errors_match_torch(batch, exc, match):
    with pytest.raises(exc, match=match):
        torch_collate(batch)
    with pytest.raises(exc, match=match):
        default_collate(batch)


def test_unequal_tensors_raise_runtime_error_like_torch():
    with pytest.raises(RuntimeError):
        torch_collate([torch.ones(2), torch.ones(3)])
    with pytest.raises(RuntimeError):
        default_collate([ember.ones(2), ember.ones(3)])


def test_collate_keeps_autograd():
    a = ember.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3, 3])
