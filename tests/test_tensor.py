"""Tensor attributes, conversions and Python operators, compared with torch."""
import copy

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close


def both(data, **kw):
    return ember.tensor(data, **kw), torch.tensor(data, **{k: getattr(torch, v.name) if k == "dtype" else v
                                                        for k, v in kw.items()})


def test_attributes_match_torch():
    e, t = both([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert tuple(e.shape) == tuple(t.shape) and e.size() == (2, 3) and e.size(1) == t.size(1) == 3
    assert e.size(-1) == 3
    assert e.dim() == e.ndim == 2 and e.numel() == 6
    assert e.dtype is ember.float32 and str(e.device) == "cpu"
    assert e.is_leaf and e.grad is None and e.grad_fn is None and not e.requires_grad
    assert e.T.shape == t.T.shape and e.mT.shape == t.mT.shape
    assert e.stride() == t.stride() and e.is_contiguous() and not e.T.is_contiguous()
    assert e.element_size() == t.element_size()
    assert isinstance(e.shape, tuple) and e.shape.numel() == 6


def test_size_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.zeros(2, 3).size(2)
    with pytest.raises(IndexError):
        torch.zeros(2, 3).size(2)


@pytest.mark.parametrize("method", ["float", "double", "long", "int", "bool", "half", "short", "byte", "char"])
def test_dtype_conversion_methods(method):
    e, t = both([[1.5, -2.0], [0.0, 3.7]])
    re, rt = getattr(e, method)(), getattr(t, method)()
    assert re.dtype.name == str(rt.dtype).replace("torch.", "")
    np.testing.assert_array_equal(re.numpy(), rt.numpy())


def test_to_and_type():
    e = ember.tensor([1.0, 2.0])
    assert e.to(ember.float64).dtype is ember.float64
    assert e.to("cpu") is e
    assert e.to(ember.float32) is e
    assert e.to(ember.float32, copy=True) is not e
    assert e.to(ember.zeros(1, dtype=ember.int64)).dtype is ember.int64
    assert e.type() == "ember.FloatTensor"
    assert e.type(ember.int32).dtype is ember.int32
    assert e.type("torch.DoubleTensor").dtype is ember.float64
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):  # torch's type and words
        e.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only.*'mps'"):
        e.to("mps")


def test_numpy_and_from_numpy_share_memory():
    a = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(a)
    a[0] = 7
    assert t[0].item() == 7
    t.numpy()[1] = 5
    assert a[1] == 5
    assert ember.as_tensor(a).numpy() is a
    assert ember.tensor(a).numpy() is not a  # tensor() copies


def test_numpy_of_tensor_requiring_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert np.asarray(x.detach()).tolist() == [1.0, 1.0]


def test_item_tolist_and_python_conversions():
    assert ember.tensor(2.5).item() == 2.5
    assert ember.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(ember.tensor([1.5])) == 1.5 and int(ember.tensor(3)) == 3
    assert bool(ember.tensor([True]))
    with pytest.raises(RuntimeError, match="elements cannot be converted to Scalar"):
        ember.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.tensor([1.0, 2.0]))
    assert [1, 2, 3][ember.tensor(1)] == 2


def test_dtype_inference_matches_torch():
    cases = [[1.0, 2.0], [1, 2], [True, False], 3.5, 7, np.array([1.0, 2.0]), np.array([1, 2], dtype=np.int32),
             np.float32(1.5), [[1, 2.5]]]
    for c in cases:
        assert ember.tensor(c).dtype.name == str(torch.tensor(c).dtype).replace("torch.", ""), c


def test_bad_data_raises_type_error():
    with pytest.raises(TypeError):
        ember.tensor("abc")
    with pytest.raises(TypeError):
        ember.tensor([1, "a"])


def test_detach_clone_contiguous():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None and c.numpy(force=True) is not x.numpy(force=True)
    tt = x.detach().T
    cc = tt.contiguous()
    assert cc.is_contiguous() and cc.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert x.contiguous() is x


def test_deepcopy_copies_data_and_grad():
    x = ember.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.requires_grad and y.grad.tolist() == [2.0, 2.0]
    with ember.no_grad():
        y.add_(1)
    assert x.tolist() == [1.0, 1.0]


def test_pickle_is_refused():
    import pickle

    with pytest.raises(TypeError, match="ember.save"):
        pickle.dumps(ember.ones(2))


OPS = [
    ("add", lambda a, b: a + b), ("radd", lambda a, b: 2 + a), ("sub", lambda a, b: a - b),
    ("rsub", lambda a, b: 1.5 - a), ("mul", lambda a, b: a * b), ("rmul", lambda a, b: 3 * a),
    ("div", lambda a, b: a / b), ("rdiv", lambda a, b: 2 / b), ("pow", lambda a, b: a.abs() ** b),
    ("rpow", lambda a, b: 2 ** a), ("neg", lambda a, b: -a), ("abs", lambda a, b: abs(a)),
    ("matmul", lambda a, b: a @ b.T), ("floordiv", lambda a, b: a // b), ("mod", lambda a, b: a % b),
]


@pytest.mark.parametrize("name,fn", OPS)
def test_python_operators_match_torch(name, fn):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    b = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    assert_close(fn(ember.tensor(a), ember.tensor(b)), fn(torch.tensor(a), torch.tensor(b)), 1e-6, 1e-6, name)


@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_return_bool_tensors(op):
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    e = getattr(ember.tensor(a), op)(2.0)
    t = getattr(torch.tensor(a), op)(2.0)
    assert e.dtype is ember.bool and e.tolist() == t.tolist()


def test_inplace_operators_keep_identity_and_dtype():
    x = ember.ones(3)
    y = x
    x += 1
    x *= 3
    x -= 1
    x /= 5
    assert y is x and x.dtype is ember.float32
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0, 1.0])
    i = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2


def test_logical_operators_on_bool():
    a, b = ember.tensor([True, False]), ember.tensor([True, True])
    assert (a & b).tolist() == [True, False] and (a | b).tolist() == [True, True]
    assert (a ^ b).tolist() == [False, True] and (~a).tolist() == [False, True]


def test_len_and_iteration():
    x = ember.arange(6).reshape(3, 2)
    assert len(x) == 3
    assert [r.tolist() for r in x] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError):
        len(ember.tensor(1.0))


def test_numpy_array_on_the_left_defers_to_tensor():
    out = np.ones(2, dtype=np.float32) + ember.ones(2)
    assert isinstance(out, ember.Tensor)


def test_set_default_dtype():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.0]).dtype is ember.float64
        assert ember.zeros(2).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)


def test_generator_reproducible_and_state_roundtrip():
    g = ember.Generator().manual_seed(123)
    a = ember.randn(5, generator=g)
    state = g.get_state()
    b = ember.randn(5, generator=g)
    g.set_state(state)
    c = ember.randn(5, generator=g)
    assert c.tolist() == b.tolist() and a.tolist() != b.tolist()
    ember.manual_seed(7)
    d1 = ember.rand(3)
    ember.manual_seed(7)
    assert ember.rand(3).tolist() == d1.tolist()
    s = ember.get_rng_state()
    e1 = ember.rand(2)
    ember.set_rng_state(s)
    assert ember.rand(2).tolist() == e1.tolist()
    assert s.dtype is ember.uint8
