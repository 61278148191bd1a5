"""Tensor factories against torch: values, shapes and dtypes (one table line per call), memory sharing,
dtype inference and the default dtype, and seeded random tensors (reproducibility, moments and bounds; ember's
random streams are not torch's, so draws themselves are never compared)."""
import math

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close


def same(e, t):
    """ember and torch results agree in shape, dtype and values (exactly for integers)."""
    assert_close(e, t, rtol=1e-6, atol=1e-7, what="factory")


# Each line calls the same factory on both libraries (``m`` is ember or torch).
FACTORIES = [
    ("zeros", lambda m: m.zeros(2, 3)), ("zeros_tuple", lambda m: m.zeros((2, 3))),
    ("zeros_list", lambda m: m.zeros([4])), ("zeros_size_kw", lambda m: m.zeros(size=(2, 1))),
    ("zeros_int", lambda m: m.zeros(3, dtype=m.int32)), ("zeros_0dim", lambda m: m.zeros(())),
    ("zeros_empty", lambda m: m.zeros(0, 3)), ("ones", lambda m: m.ones(2, 2)),
    ("ones_bool", lambda m: m.ones(3, dtype=m.bool)), ("ones_f64", lambda m: m.ones((1, 2), dtype=m.float64)),
    ("empty_shape", lambda m: m.empty(2, 3).shape), ("empty_dtype", lambda m: m.empty(2, dtype=m.int16).dtype),
    ("full_int", lambda m: m.full((2,), 3)), ("full_float", lambda m: m.full((2, 2), 1.5)),
    ("full_bool", lambda m: m.full((2,), True)), ("full_dtype", lambda m: m.full([3], 1.5, dtype=m.int32)),
    ("full_f16", lambda m: m.full((2,), 3, dtype=m.float16)),
    ("zeros_like", lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int32))),
    ("ones_like_dtype", lambda m: m.ones_like(m.zeros(2), dtype=m.float64)),
    ("full_like", lambda m: m.full_like(m.ones(2, dtype=m.int32), 2.7)),
    ("full_like_float", lambda m: m.full_like(m.ones(2, 2), -0.5)),
    ("empty_like", lambda m: m.empty_like(m.ones(2, dtype=m.int8)).dtype),
    ("arange_int", lambda m: m.arange(5)), ("arange_start_end", lambda m: m.arange(2, 7)),
    ("arange_step", lambda m: m.arange(1, 10, 3)), ("arange_negative_step", lambda m: m.arange(10, 0, -3)),
    ("arange_float", lambda m: m.arange(1, 4, 0.5)), ("arange_float_negative", lambda m: m.arange(5, 0, -1.5)),
    ("arange_inexact", lambda m: m.arange(0, 1, 0.1)), ("arange_negative_start", lambda m: m.arange(-1.0, 1.0, 0.3)),
    ("arange_float_end", lambda m: m.arange(5.0)), ("arange_dtype", lambda m: m.arange(5, dtype=m.float64)),
    ("arange_empty", lambda m: m.arange(3, 3)), ("arange_f64_default", lambda m: m.arange(0, 2, 0.25, dtype=m.float64)),
    ("linspace", lambda m: m.linspace(0, 1, 5)), ("linspace_negative", lambda m: m.linspace(-3, 7, 7)),
    ("linspace_decreasing", lambda m: m.linspace(2, -2, 9)),
    ("linspace_int", lambda m: m.linspace(0, 10, 4, dtype=m.int64)),
    ("linspace_one", lambda m: m.linspace(0, 1, 1)), ("linspace_zero", lambda m: m.linspace(0, 1, 0)),
    ("linspace_f64", lambda m: m.linspace(0, 1, 11, dtype=m.float64)),
    ("linspace_many", lambda m: m.linspace(-1, 1, 101)),
    ("logspace", lambda m: m.logspace(0, 2, 3)), ("logspace_base2", lambda m: m.logspace(0, 3, 4, base=2)),
    ("logspace_negative", lambda m: m.logspace(-2, 1, 7)),
    ("logspace_int", lambda m: m.logspace(0, 2, 3, dtype=m.int64)),
    ("eye", lambda m: m.eye(3)), ("eye_rect", lambda m: m.eye(3, 2)), ("eye_wide", lambda m: m.eye(2, 4)),
    ("eye_int", lambda m: m.eye(2, dtype=m.int64)), ("eye_empty", lambda m: m.eye(0)),
]


@pytest.mark.parametrize("name,fn", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_factories_match_torch(name, fn):
    e, t = fn(ember), fn(torch)
    if isinstance(t, torch.Size):
        assert tuple(e) == tuple(t)
    elif isinstance(t, torch.dtype):
        assert e.name == str(t).split(".")[-1]
    else:
        same(e, t)


DEFAULT_DTYPE_FACTORIES = ("zeros", "ones", "full_float", "arange_float", "linspace", "eye", "logspace")


@pytest.mark.parametrize("name,fn", [pytest.param(*f, id=f[0]) for f in FACTORIES if f[0] in DEFAULT_DTYPE_FACTORIES])
def test_factories_follow_default_dtype(name, fn):
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        e, t = fn(ember), fn(torch)
    finally:
        torch.set_default_dtype(torch.float32)
    assert e.dtype is ember.float64
    same(e, t)


@pytest.mark.parametrize("name,fn", [
    ("requires_grad", lambda m: m.zeros(2, requires_grad=True)),
    ("ones_rg", lambda m: m.ones(2, 2, requires_grad=True)),
    ("arange_rg", lambda m: m.arange(3.0, requires_grad=True)),
    ("linspace_rg", lambda m: m.linspace(0, 1, 3, requires_grad=True)),
    ("rand_rg", lambda m: m.rand(2, requires_grad=True)), ("full_rg", lambda m: m.full((2,), 1.0, requires_grad=True)),
])
def test_requires_grad_leaf(name, fn):
    e, t = fn(ember), fn(torch)
    assert e.requires_grad == t.requires_grad is True and e.is_leaf and e.grad_fn is None


# ---- tensor(): dtype inference from Python and NumPy data ---------------------------------------------------------
DATA = [
    ("float_list", [1.0, 2.5]), ("int_list", [1, 2]), ("bool_list", [True, False]), ("mixed_int_float", [1, 2.5]),
    ("mixed_bool_int", [True, 2]), ("float_scalar", 3.5), ("int_scalar", 3), ("bool_scalar", True),
    ("nested", [[1, 2], [3, 4]]), ("nested_float", [[1.0], [2.0]]), ("empty", []), ("empty_nested", [[]]),
    ("tuple", (1.5, 2)), ("np_float64", np.array([1.0, 2.0])), ("np_float32", np.array([1.0], dtype=np.float32)),
    ("np_int32", np.array([1, 2], dtype=np.int32)), ("np_uint8", np.array([1], dtype=np.uint8)),
    ("np_bool", np.array([True])), ("np_scalar_f64", np.float64(2.0)), ("np_scalar_i32", np.int32(2)),
    ("np_scalar_f16", np.float16(1.5)), ("negative_zero", [-0.0]), ("large_int", [2 ** 40]),
]


@pytest.mark.parametrize("name,data", DATA, ids=[d[0] for d in DATA])
def test_tensor_dtype_inference(name, data):
    same(ember.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("name,data", [pytest.param(*d, id=d[0]) for d in DATA if isinstance(d[1], (list, float))])
def test_tensor_inference_with_float64_default(name, data):
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        same(ember.tensor(data), torch.tensor(data))
    finally:
        torch.set_default_dtype(torch.float32)


def test_set_default_dtype_changes_inference_and_promotion():
    assert ember.get_default_dtype() is ember.float32
    assert ember.tensor([1.0]).dtype is ember.float32 and ember.tensor([1]).dtype is ember.int64
    ember.set_default_dtype(ember.float64)
    assert ember.get_default_dtype() is ember.float64
    assert ember.tensor([1.0]).dtype is ember.float64
    assert ember.tensor([1]).dtype is ember.int64 and ember.tensor([True]).dtype is ember.bool
    assert (ember.tensor([1, 2]) * 0.5).dtype is ember.float64
    assert (ember.tensor([1, 2]) / 2).dtype is ember.float64
    assert ember.tensor([1, 2]).exp().dtype is ember.float64
    assert ember.rand(2).dtype is ember.float64 and ember.randn(2).dtype is ember.float64
    assert (ember.ones(2, dtype=ember.float32) * 0.5).dtype is ember.float32
    ember.set_default_dtype(ember.float32)
    assert ember.tensor([1.0]).dtype is ember.float32


def test_tensor_with_explicit_dtype():
    for data, dt in [([1.7, -2.7], "int64"), ([1, 0, 2], "bool"), ([1, 2], "float16"), (3.5, "float64")]:
        same(ember.tensor(data, dtype=getattr(ember, dt)), torch.tensor(data, dtype=getattr(torch, dt)))


def test_tensor_from_tensors():
    same(ember.tensor([ember.tensor(1.0), ember.tensor(2.0)]), torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))


# ---- memory sharing -----------------------------------------------------------------------------------------------
def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 100.0
    assert t[0, 0].item() == 100.0
    t[1, 2] = -5.0
    assert a[1, 2] == -5.0
    assert t.dtype is ember.float32 and tuple(t.shape) == (2, 3)
    assert ember.from_numpy(np.arange(3)).dtype is ember.int64


def test_as_tensor_shares_when_no_conversion():
    a = np.zeros(3, dtype=np.float64)
    t = ember.as_tensor(a)
    a[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 0.0] and t.dtype is ember.float64
    converted = ember.as_tensor(a, dtype=ember.float32)
    a[2] = 3.0
    assert converted.tolist() == [0.0, 7.0, 0.0] and converted.dtype is ember.float32
    x = ember.ones(2)
    assert ember.as_tensor(x) is x
    assert ember.as_tensor([1, 2]).dtype is ember.int64


def test_tensor_copies():
    a = np.zeros(3, dtype=np.float32)
    t = ember.tensor(a)
    a[0] = 1.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    src = ember.ones(2)
    c = ember.tensor(src)
    src.add_(1)
    assert c.tolist() == [1.0, 1.0]


def test_from_numpy_rejects_non_arrays_and_bad_dtypes():
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError):
        ember.from_numpy(np.array([1 + 2j]))
    with pytest.raises(TypeError):
        ember.from_numpy(np.array([1], dtype=np.uint16))


# ---- random tensors ------------------------------------------------------------------------------------------
RANDOM = [
    ("rand", lambda g=None: ember.rand(3, 4, generator=g)), ("randn", lambda g=None: ember.randn(5, generator=g)),
    ("randint", lambda g=None: ember.randint(0, 10, (6,), generator=g)),
    ("randperm", lambda g=None: ember.randperm(8, generator=g)),
    ("normal", lambda g=None: ember.normal(1.0, 2.0, (4,), generator=g)),
    ("normal_tensor", lambda g=None: ember.normal(ember.zeros(4), ember.ones(4), generator=g)),
]


@pytest.mark.parametrize("name,fn", RANDOM, ids=[r[0] for r in RANDOM])
def test_manual_seed_reproduces_draws(name, fn):
    ember.manual_seed(123)
    a = fn()
    b = fn()
    ember.manual_seed(123)
    c = fn()
    assert np.array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name,fn", RANDOM, ids=[r[0] for r in RANDOM])
def test_generator_is_independent_of_global_stream(name, fn):
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    a = fn(g1)
    ember.manual_seed(0)
    fn()  # draws from the global generator do not move g2
    b = fn(g2)
    assert np.array_equal(a.numpy(), b.numpy())
    assert g1.initial_seed() == 7


def test_generator_state_round_trip():
    g = ember.Generator().manual_seed(3)
    state = g.get_state()
    a = ember.rand(5, generator=g)
    g.set_state(state)
    assert np.array_equal(a.numpy(), ember.rand(5, generator=g).numpy())
    ember.manual_seed(5)
    s = ember.get_rng_state()
    x = ember.randn(4)
    ember.set_rng_state(s)
    assert np.array_equal(x.numpy(), ember.randn(4).numpy())


N = 20000


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_rand_bounds_and_moments(dtype):
    x = ember.rand(N, dtype=getattr(ember, dtype))
    assert x.dtype is getattr(ember, dtype)
    a = x.numpy().astype(np.float64)
    assert a.min() >= 0.0 and a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.var() - 1 / 12) < 0.005


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_randn_moments(dtype):
    a = ember.randn(N, dtype=getattr(ember, dtype)).numpy().astype(np.float64)
    assert abs(a.mean()) < 0.03 and abs(a.std() - 1) < 0.03
    assert abs(((a - a.mean()) ** 3).mean()) < 0.1  # symmetric


def test_randint_bounds_and_coverage():
    x = ember.randint(-3, 4, (N,))
    assert x.dtype is ember.int64
    a = x.numpy()
    assert a.min() == -3 and a.max() == 3
    counts = np.bincount(a + 3)
    assert len(counts) == 7 and counts.min() > N / 7 * 0.85
    assert ember.randint(5, (3, 2)).shape == (3, 2)
    assert ember.randint(0, 3, (4,), dtype=ember.float32).dtype is ember.float32


def test_randperm_is_a_permutation():
    for n in [0, 1, 10, 100]:
        p = ember.randperm(n)
        assert p.dtype is ember.int64 and sorted(p.tolist()) == list(range(n))


def test_normal_moments_and_broadcast():
    a = ember.normal(2.0, 3.0, (N,)).numpy().astype(np.float64)
    assert abs(a.mean() - 2) < 0.1 and abs(a.std() - 3) < 0.1
    mean = ember.tensor([[-10.0], [10.0]])
    std = ember.tensor([0.5, 1.0, 2.0])
    x = ember.normal(mean.expand(2, 3).contiguous().repeat(1, 2000), std.repeat(2000))
    assert x.shape == (2, 6000) and x.dtype is ember.float32
    cols = x.numpy().reshape(2, 2000, 3)
    assert np.allclose(cols.mean(axis=1), [[-10] * 3, [10] * 3], atol=0.15)
    assert np.allclose(cols.std(axis=1), [[0.5, 1, 2]] * 2, rtol=0.08)


def test_like_random_factories():
    x = ember.zeros(3, 2, dtype=ember.float64)
    assert ember.rand_like(x).dtype is ember.float64 and ember.randn_like(x).shape == (3, 2)
    r = ember.randint_like(x, 10)
    assert r.dtype is ember.float64 and r.numpy().max() < 10


# ---- error paths -------------------------------------------------------------------------------------------------
ERRORS = [
    ("arange_step_sign", lambda m: m.arange(0, 5, -1), RuntimeError, "inconsistent with step sign"),
    ("arange_zero_step", lambda m: m.arange(0, 5, 0), RuntimeError, "step must be nonzero"),
    ("eye_negative", lambda m: m.eye(-1), RuntimeError, "n must be greater or equal to 0"),
    ("zeros_negative", lambda m: m.zeros(-1), RuntimeError, "zeros"),
    ("zeros_float_size", lambda m: m.zeros(2.5), TypeError, "size"),
    ("int_requires_grad", lambda m: m.zeros(2, dtype=m.int64, requires_grad=True), RuntimeError, "floating point"),
    ("tensor_int_requires_grad", lambda m: m.tensor([1], requires_grad=True), RuntimeError, "floating point"),
    ("tensor_str", lambda m: m.tensor("a"), TypeError, None),
    ("randint_empty_range", lambda m: m.randint(3, 3, (2,)), RuntimeError, "from=3 >= to=3"),
    ("rand_int_dtype", lambda m: m.rand(2, dtype=m.int64), NotImplementedError, "Long"),
    ("randn_int_dtype", lambda m: m.randn(2, dtype=m.int32), NotImplementedError, "Int"),
    ("normal_negative_std", lambda m: m.normal(0.0, -1.0, (2,)), RuntimeError, "std >= 0.0"),
    ("normal_int_mean", lambda m: m.normal(m.zeros(2, dtype=m.int64), 1.0), NotImplementedError, "Long"),
    ("ragged", lambda m: m.tensor([[1, 2], [3]]), ValueError, None),
    ("default_dtype_int", lambda m: m.set_default_dtype(m.int64), TypeError, "floating-point"),
]


@pytest.mark.parametrize("name,fn,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, exc, match):
    with pytest.raises(exc) as torch_err:
        fn(torch)
    with pytest.raises(exc, match=match) as ember_err:
        fn(ember)
    assert type(ember_err.value) is type(torch_err.value) is exc


def test_arange_length_matches_torch_for_awkward_steps():
    for start, end, step in [(0, 1, 0.1), (0, 0.9, 0.3), (1, 2.05, 0.35), (-2, 2, 0.7), (0, -1, -0.1), (0, 10, 3)]:
        e, t = ember.arange(start, end, step), torch.arange(start, end, step)
        assert e.shape == t.shape, (start, end, step)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
    assert math.isclose(ember.arange(0, 1, 0.1)[-1].item(), torch.arange(0, 1, 0.1)[-1].item())
