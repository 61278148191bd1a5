"""ember.testing against torch.testing: assert_close passes and fails on the same inputs, with the same exception
type and the same message (up to the "torch."/"ember." prefix of dtype and Size reprs); make_tensor's ranges,
dtypes, flags and errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember.testing import assert_allclose, assert_close, make_tensor

DTYPES = {torch.float32: ember.float32, torch.float64: ember.float64, torch.float16: ember.float16,
          torch.int64: ember.int64, torch.int32: ember.int32, torch.int8: ember.int8, torch.uint8: ember.uint8,
          torch.int16: ember.int16, torch.bool: ember.bool}


def to_ember(x):
    """The same structure with every torch tensor replaced by an ember tensor of the same dtype and values."""
    if isinstance(x, torch.Tensor):
        if x.dim() == 2 and not x.is_contiguous():  # a transposed matrix: keep its strides
            return to_ember(x.t().contiguous()).t()
        return ember.tensor(x.numpy(), dtype=DTYPES[x.dtype])
    if isinstance(x, (list, tuple)):
        return type(x)(to_ember(v) for v in x)
    if isinstance(x, dict):
        return {k: to_ember(v) for k, v in x.items()}
    return x


def outcome(fn, actual, expected, kwargs):
    try:
        fn(actual, expected, **kwargs)
    except Exception as e:  # noqa: BLE001 (the exception type is what is compared)
        text = str(e).replace("torch.", "").replace("ember.", "")
        return type(e).__name__, text.replace("<class 'Tensor'>", "<Tensor>").replace("<class '_tensor.Tensor'>",
                                                                                      "<Tensor>")
    return "passed", ""


T = torch.tensor
NAN, INF = float("nan"), float("inf")
CASES = [
    (T([1.0, 2.0, 3.0]), T([1.0, 2.5, 3.0]), {}),
    (T([[1.0, 2.0], [3.0, 4.0]]), T([[1.0, 2.0], [3.0, 5.0]]), {}),
    (T([1.0, 2.0, 3.0]), T([0.0, 2.0, 3.5]), {}),
    (T([1.0, 2.0, 3.0]), T([2.0, 3.0, 4.0]), {}),
    (T([[1.0, 2.0, 3.0], [4, 5, 6]]), T([[1.0, 2.0, 3.0], [4, 5, 6]]) * (1 + 1e-6), {}),
    (T([[1.0, 2.0, 3.0], [4, 5, 6]]), T([[1.0, 2.0, 3.0], [4, 5, 6]]) * (1 + 2e-6), {}),
    (T([0.0]), T([0.1]), {}),
    (T([0.0, 1.0]), T([1e-6, 2.0]), {}),
    (T([1.0, 2.0], dtype=torch.float64), T([1.0, 2.0 + 1e-7], dtype=torch.float64), {}),
    (T([1.0, 2.0], dtype=torch.float64), T([1.0, 2.0 + 1e-6], dtype=torch.float64), {}),
    (T([1.0, 2.0], dtype=torch.float16), T([1.0, 2.001], dtype=torch.float16), {}),
    (T([1.0, 2.0], dtype=torch.float16), T([1.0, 2.01], dtype=torch.float16), {}),
    (T([1, 2, 3]), T([1, 2, 4]), {}),
    (T([1, 2, 3], dtype=torch.int32), T([1, 2, 7], dtype=torch.int32), {}),
    (T([100, 2]), T([1, 2]), {}),
    (T([1, 5]), T([1, 6]), dict(rtol=0.2, atol=0.0)),
    (T([1, 5]), T([1, 7]), dict(rtol=0.2, atol=0.0)),
    (T([3, 200], dtype=torch.uint8), T([3, 201], dtype=torch.uint8), {}),
    (T([True, False]), T([True, True]), {}),
    (T(True), T(False), {}),
    (T(3), T(3.0), {}),
    (T(NAN), T(NAN), {}),
    (T([NAN, 1.0]), T([NAN, 2.0]), {}),
    (T([NAN, 1.0]), T([NAN, 2.0]), dict(equal_nan=True)),
    (T([NAN, 1.0]), T([NAN, 1.0]), dict(equal_nan=True)),
    (T([INF]), T([INF]), {}),
    (T([-INF, 1.0]), T([INF, 1.0]), {}),
    (T([1.0, 2.0]), T([1.0, 2.0], dtype=torch.float64), {}),
    (T([1.0, 2.0]), T([1.0, 2.00001], dtype=torch.float64), dict(check_dtype=False)),
    (T([1, 2]), T([1.0, 2.5]), dict(check_dtype=False)),
    (T([1.0, 2.0]), T([1.0, 2.0, 3.0]), {}),
    (T([1.0, 2.0]), T([1.0, 2.0]).reshape(2, 1), {}),
    (T([[1.0, 2.0], [3.0, 4.0]]).t(), T([[1.0, 3.0], [2.0, 4.0]]), dict(check_stride=True)),
    (T([[1.0, 2.0], [3.0, 4.0]]).t(), T([[1.0, 3.0], [2.0, 4.0]]), {}),
    (T([1.0]), T([1.1]), dict(rtol=0.0)),
    (T([1.0, 2.0]), T([1.0, 2.1]), dict(rtol=1e-1, atol=0)),
    (T([1.0, 2.0]), T([1.0, 2.1]), dict(rtol=1e-2, atol=1e-2)),
    (T([1.0, 3.0]), T([1.0, 2.0]), dict(msg="custom")),
    (T([1.0, 2.0]), T([1.0, 2.0]), dict(msg="custom")),
    (T([1.0, 3.0]), T([1.0, 2.0]), dict(msg=lambda m: "prefix " + m)),
    (T([]), T([]), {}),
    (1.0, 1.1, {}),
    (1.0, 1.0 + 1e-8, {}),
    (1, 2, {}),
    (1, 1.0, {}),
    (1, 2.0, dict(check_dtype=False)),
    (1.0, NAN, {}),
    (NAN, NAN, dict(equal_nan=True)),
    (np.float32(1.0), 1.0, {}),
    (True, False, {}),
    (np.bool_(True), True, {}),
    (None, None, {}),
    (None, 1, {}),
    ("a", "a", {}),
    (T(1.0), 1.0, {}),
    (T([1.0]), [1.0], {}),
    ([T(1.0)], [T(2.0)], {}),
    ([T([1.0, 3.0]), 1], [T([1.0, 2.0]), None], {}),
    ((T([1.0]), [T([2.0]), T([3.0])]), (T([1.0]), [T([2.0]), T([3.5])]), {}),
    ({"a": T(1.0)}, {"a": T(2.0)}, {}),
    ({"a": [1, 2]}, {"a": (1, 2)}, {}),
    ({"a": 1}, {"b": 1}, {}),
    ([1, 2], [1, 2, 3], {}),
    (np.array([1.0, 2.0]), np.array([1.0, 2.1]), {}),
    (np.array([1, 2]), np.array([1, 2]), {}),
]


@pytest.mark.parametrize("actual,expected,kwargs", CASES, ids=[str(i) for i in range(len(CASES))])
def test_assert_close_like_torch(actual, expected, kwargs):
    want = outcome(torch.testing.assert_close, actual, expected, kwargs)
    got = outcome(assert_close, to_ember(actual), to_ember(expected), kwargs)
    assert got == want


def test_tolerances_must_come_in_pairs():
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted"):
        assert_close(ember.ones(2), ember.ones(2), rtol=1e-3)


def test_parameter_is_a_tensor_subclass():
    p = ember.nn.Parameter(ember.ones(2))
    assert_close(p, ember.ones(2))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(p, ember.ones(2), allow_subclasses=False)


def test_requires_grad_tensors_and_non_contiguous_views():
    a = ember.arange(12.0).reshape(3, 4).requires_grad_()
    assert_close(a.t() * 1, ember.arange(12.0).reshape(3, 4).t().contiguous())
    with pytest.raises(AssertionError, match="Greatest absolute difference: 1.0 at index \\(3, 2\\)"):
        assert_close(a.t() * 1, ember.arange(12.0).reshape(3, 4).t() + (ember.arange(12.0).reshape(4, 3) == 11))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, width=32), min_size=1, max_size=6), st.integers(0, 5),
       st.sampled_from([0.0, 1e-6, 1e-5, 1e-3, 0.5]))
def test_random_perturbations_like_torch(values, where, delta):
    base = np.array(values, dtype=np.float32)
    other = base.copy()
    other[where % len(values)] += np.float32(delta)
    want = outcome(torch.testing.assert_close, torch.tensor(base), torch.tensor(other), {})
    got = outcome(assert_close, ember.tensor(base), ember.tensor(other), {})
    assert got == want


def test_assert_allclose_is_deprecated_but_works():
    with pytest.warns(FutureWarning, match="assert_allclose"):
        assert_allclose(ember.tensor([1.0, 2.0]), [1.0, 2.00001])
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="Tensor-likes are not close"):
        assert_allclose(ember.tensor([1.0, 2.0]), [1.0, 2.1])


def test_reachable_as_ember_testing():
    assert ember.testing.assert_close is assert_close
    assert ember.testing.make_tensor is make_tensor


# ------------------------------------------------------------------------------------------------ make_tensor
RANGES = [  # dtype, low, high
    (torch.float32, None, None), (torch.float64, -1, 1), (torch.float16, 0, 0.5), (torch.int64, None, None),
    (torch.int8, -200, 200), (torch.uint8, None, None), (torch.uint8, -5, 3), (torch.int32, 2, 5),
    (torch.bool, None, None), (torch.int16, 1.5, 4.2),
]


@pytest.mark.parametrize("dtype,low,high", RANGES)
def test_make_tensor_range_and_dtype_as_torch(dtype, low, high):
    shape = (50, 40) if dtype.is_floating_point else (200, 100)
    t = torch.testing.make_tensor(shape, dtype=dtype, device="cpu", low=low, high=high)
    e = make_tensor(shape, dtype=DTYPES[dtype], device="cpu", low=low, high=high)
    assert e.dtype is DTYPES[dtype] and tuple(e.shape) == tuple(t.shape) == shape
    en, tn = e.numpy().astype(np.float64), t.numpy().astype(np.float64)
    if dtype.is_floating_point:  # same interval, drawn uniformly over it
        lo, hi = (-9, 9) if low is None else (low, high)
        assert lo <= en.min() and en.max() < hi or dtype == torch.float16 and en.max() <= hi
        assert abs(en.mean() - (lo + hi) / 2) < (hi - lo) / 20
    else:  # integers: the same values are drawn (20000 draws hit each of at most 256 values; a miss is ~1e-30)
        assert set(np.unique(en)) == set(np.unique(tn))


def test_make_tensor_shapes_flags_and_layout():
    assert tuple(make_tensor(2, 3, dtype=ember.float32, device="cpu").shape) == (2, 3)
    assert tuple(make_tensor([4], dtype=ember.float32, device="cpu").shape) == (4,)
    assert tuple(make_tensor((), dtype=ember.float32, device="cpu").shape) == ()
    g = make_tensor((3, 4), dtype=ember.float64, device="cpu", requires_grad=True)
    assert g.requires_grad and g.is_leaf
    nc = make_tensor((3, 4), dtype=ember.float32, device="cpu", noncontiguous=True)
    tn = torch.testing.make_tensor((3, 4), dtype=torch.float32, device="cpu", noncontiguous=True)
    assert tuple(nc.shape) == (3, 4) and not nc.is_contiguous() and not tn.is_contiguous()
    assert nc.stride() == tn.stride()
    z = make_tensor((400,), dtype=ember.int64, device="cpu", low=-1, high=2, exclude_zero=True)
    assert 0 not in z.numpy()
    zf = make_tensor((400,), dtype=ember.float16, device="cpu", low=0, high=1e-7, exclude_zero=True)
    assert (zf.numpy() != 0).all()


ERRORS = [
    dict(dtype="int64", requires_grad=True),
    dict(dtype="bool", requires_grad=True),
    dict(dtype="float32", low=2, high=1),
    dict(dtype="float32", low=NAN),
    dict(dtype="int64", low=5, high=5),
    dict(dtype="uint8", low=-10, high=-1),
    dict(dtype="float32", noncontiguous=True, memory_format="channels_last"),
]


@pytest.mark.parametrize("kwargs", ERRORS)
def test_make_tensor_errors_as_torch(kwargs):
    kwargs = dict(kwargs)
    name = kwargs.pop("dtype")
    if kwargs.get("memory_format"):
        t_kwargs = dict(kwargs, memory_format=torch.channels_last)
    else:
        t_kwargs = kwargs
    with pytest.raises(Exception) as t_err:
        torch.testing.make_tensor((2, 2, 2, 2), dtype=getattr(torch, name), device="cpu", **t_kwargs)
    with pytest.raises(t_err.type) as e_err:
        make_tensor((2, 2, 2, 2), dtype=getattr(ember, name), device="cpu", **kwargs)
    key = str(t_err.value).split(",")[0].split(" but ")[0]
    assert key in str(e_err.value)


def test_make_tensor_low_equal_high_float_warns_as_torch():
    with pytest.warns(FutureWarning, match="low==high"):
        t = make_tensor((3,), dtype=ember.float32, device="cpu", low=2, high=2)
    assert (t.numpy() == 2).all()
