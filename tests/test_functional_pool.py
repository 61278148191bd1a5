"""Pooling against torch: max/avg pooling (1-D, 2-D; padding, dilation, ceil_mode, count_include_pad,
divisor_override, return_indices), adaptive pooling, lp pooling, max_unpool; forward, indices and gradients in
float32/float64, gradcheck and double backward in float64, ties, NaN, integer inputs, error paths."""
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F
from hypothesis import assume, given, settings, strategies as st

import ember
import ember.nn.functional as F
from ember import _fused
from oracle import assert_close, check_op, gradcheck

EM = types.SimpleNamespace(F=F, t=ember)
TH = types.SimpleNamespace(F=torch_F, t=torch)
DTYPES = [np.float32, np.float64]

CASES = [
    ("max2d_k2", lambda m, x: m.F.max_pool2d(x, 2), (2, 3, 8, 6)),
    ("max2d_k3s2p1", lambda m, x: m.F.max_pool2d(x, 3, 2, 1), (2, 3, 9, 7)),
    ("max2d_ceil", lambda m, x: m.F.max_pool2d(x, 3, 2, ceil_mode=True), (2, 2, 8, 7)),
    ("max2d_ceil_pad", lambda m, x: m.F.max_pool2d(x, 2, 2, 1, ceil_mode=True), (1, 2, 7, 6)),
    ("max2d_dilation", lambda m, x: m.F.max_pool2d(x, (3, 2), (2, 1), (1, 1), dilation=(2, 1)), (2, 2, 9, 7)),
    ("max2d_stride_gt_k", lambda m, x: m.F.max_pool2d(x, 2, 3), (1, 2, 8, 8)),
    ("max2d_indices", lambda m, x: m.F.max_pool2d(x, 3, 1, 1, return_indices=True), (2, 2, 5, 6)),
    ("max2d_indices_ceil", lambda m, x: m.F.max_pool2d(x, 2, 2, 1, ceil_mode=True, return_indices=True), (2, 2, 5, 6)),
    ("max2d_unbatched", lambda m, x: m.F.max_pool2d(x, 2, return_indices=True), (3, 6, 4)),
    ("max1d", lambda m, x: m.F.max_pool1d(x, 3, 2, 1, return_indices=True), (2, 3, 9)),
    ("max1d_dil_ceil", lambda m, x: m.F.max_pool1d(x, 2, 2, dilation=2, ceil_mode=True), (2, 3, 10)),
    ("max1d_unbatched", lambda m, x: m.F.max_pool1d(x, 2), (3, 8)),
    ("avg2d_k2", lambda m, x: m.F.avg_pool2d(x, 2), (2, 3, 8, 6)),
    ("avg2d_k3s2p1", lambda m, x: m.F.avg_pool2d(x, 3, 2, 1), (2, 3, 9, 7)),
    ("avg2d_no_pad_count", lambda m, x: m.F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (2, 3, 9, 7)),
    ("avg2d_ceil", lambda m, x: m.F.avg_pool2d(x, 3, 2, ceil_mode=True), (2, 2, 8, 7)),
    ("avg2d_ceil_pad", lambda m, x: m.F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (2, 2, 8, 7)),
    ("avg2d_ceil_pad_nocount", lambda m, x: m.F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     (2, 2, 8, 7)),
    ("avg2d_divisor", lambda m, x: m.F.avg_pool2d(x, (3, 2), (1, 2), divisor_override=5), (2, 2, 7, 6)),
    ("avg2d_unbatched", lambda m, x: m.F.avg_pool2d(x, 2, 1), (3, 5, 4)),
    ("avg1d", lambda m, x: m.F.avg_pool1d(x, 3, 2, 1), (2, 3, 9)),
    ("avg1d_ceil_nocount", lambda m, x: m.F.avg_pool1d(x, 4, 3, 2, ceil_mode=True, count_include_pad=False),
     (2, 3, 10)),
    ("adaptive_avg2d_div", lambda m, x: m.F.adaptive_avg_pool2d(x, (3, 2)), (2, 3, 9, 8)),
    ("adaptive_avg2d_global", lambda m, x: m.F.adaptive_avg_pool2d(x, 1), (2, 3, 5, 7)),
    ("adaptive_avg2d_uneven", lambda m, x: m.F.adaptive_avg_pool2d(x, (4, 3)), (2, 3, 9, 7)),
    ("adaptive_avg2d_upsample", lambda m, x: m.F.adaptive_avg_pool2d(x, (5, 9)), (1, 2, 3, 4)),
    ("adaptive_avg2d_none", lambda m, x: m.F.adaptive_avg_pool2d(x, (None, 3)), (2, 2, 5, 7)),
    ("adaptive_avg1d", lambda m, x: m.F.adaptive_avg_pool1d(x, 4), (2, 3, 10)),
    ("adaptive_max2d_div", lambda m, x: m.F.adaptive_max_pool2d(x, (3, 2), return_indices=True), (2, 3, 9, 8)),
    ("adaptive_max2d_uneven", lambda m, x: m.F.adaptive_max_pool2d(x, (4, 3), return_indices=True), (2, 3, 9, 7)),
    ("adaptive_max2d_up", lambda m, x: m.F.adaptive_max_pool2d(x, (5, 6)), (1, 2, 3, 4)),
    ("adaptive_max2d_unbatched", lambda m, x: m.F.adaptive_max_pool2d(x, 3), (2, 7, 5)),
    ("adaptive_max1d", lambda m, x: m.F.adaptive_max_pool1d(x, 4, return_indices=True), (2, 3, 10)),
    ("lp2d", lambda m, x: m.F.lp_pool2d(x, 2, 2), (2, 3, 6, 4)),
    ("lp2d_p3", lambda m, x: m.F.lp_pool2d(x.abs() + 0.5, 3.0, (3, 2), stride=(2, 1), ceil_mode=True), (2, 2, 7, 5)),
    ("lp1d", lambda m, x: m.F.lp_pool1d(x, 2, 3, stride=2), (2, 3, 9)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pool_matches_torch(case, dtype):
    _, fn, shape = case
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    check_op(lambda x: fn(EM, x), lambda x: fn(TH, x), x)


@pytest.mark.parametrize("case", [c for c in CASES if not c[0].startswith("lp")], ids=[c[0] for c in CASES
                                                                                      if not c[0].startswith("lp")])
def test_pool_gradcheck(case):
    _, fn, shape = case

    def first(x):
        out = fn(EM, x)
        return out[0] if isinstance(out, tuple) else out

    assert gradcheck(first, np.random.default_rng(2).standard_normal(shape))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.F.max_pool2d(x, 3, 2, 1),
    lambda m, x: m.F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda m, x: m.F.adaptive_max_pool2d(x, (3, 2)),
    lambda m, x: m.F.adaptive_avg_pool2d(x, (3, 2)),
], ids=["max", "avg", "adaptive_max", "adaptive_avg"])
def test_pool_double_backward_matches_torch(fn):
    x = np.random.default_rng(3).standard_normal((2, 2, 7, 5))
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (eg,) = ember.autograd.grad((fn(EM, ex) ** 3).sum(), ex, create_graph=True)
    (tg,) = torch.autograd.grad((fn(TH, tx) ** 3).sum(), tx, create_graph=True)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.F.max_pool2d(x, 2, return_indices=True),
    lambda m, x: m.F.max_pool2d(x, 3, 1, 1, return_indices=True),
    lambda m, x: m.F.adaptive_max_pool2d(x, (3, 4), return_indices=True),
], ids=["k2", "overlap", "adaptive"])
def test_max_pool_ties_take_first_index(fn):
    x = np.random.default_rng(4).integers(0, 2, (2, 2, 6, 7)).astype(np.float32)  # many ties (like after ReLU)
    check_op(lambda x: fn(EM, x), lambda x: fn(TH, x), x)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool_nan_propagates_like_torch(kw):
    x = np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = x[0, 0, 2, 3] = np.nan  # two NaNs share a window: torch keeps the last
    e = F.max_pool2d(ember.tensor(x), return_indices=True, **kw)
    t = torch_F.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    assert_close(e, t, 0, 0)


def test_pool_integer_inputs():
    x = np.random.default_rng(5).integers(-9, 9, (2, 3, 6, 6))
    assert np.array_equal(F.max_pool2d(ember.tensor(x), 2, 1, 1).numpy(), torch_F.max_pool2d(torch.tensor(x), 2, 1, 1))
    assert np.array_equal(F.avg_pool2d(ember.tensor(x), 3, 2, 1).numpy(), torch_F.avg_pool2d(torch.tensor(x), 3, 2, 1))


@pytest.mark.parametrize("pool_kw,unpool_kw,shape", [
    (dict(kernel_size=2), dict(kernel_size=2), (2, 3, 6, 4)),
    (dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, padding=1, output_size=(7, 5)),
     (2, 2, 7, 5)),
])
def test_max_unpool2d_matches_torch(pool_kw, unpool_kw, shape):
    x = np.random.default_rng(6).standard_normal(shape)
    _, ti = torch_F.max_pool2d(torch.tensor(x), return_indices=True, **pool_kw)
    y = np.random.default_rng(7).standard_normal(tuple(ti.shape))
    idx = ti.numpy()
    check_op(lambda y: F.max_unpool2d(y, ember.tensor(idx), **unpool_kw),
             lambda y: torch_F.max_unpool2d(y, torch.tensor(idx), **unpool_kw), y)


def test_max_unpool1d_matches_torch():
    x = np.random.default_rng(8).standard_normal((2, 3, 8))
    _, ti = torch_F.max_pool1d(torch.tensor(x), 2, return_indices=True)
    y = np.random.default_rng(9).standard_normal(tuple(ti.shape))
    idx = ti.numpy()
    check_op(lambda y: F.max_unpool1d(y, ember.tensor(idx), 2), lambda y: torch_F.max_unpool1d(y, torch.tensor(idx), 2),
             y)


@settings(max_examples=25, deadline=None)
@given(size=st.tuples(st.integers(2, 9), st.integers(2, 9)), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), pad=st.tuples(st.integers(0, 1), st.integers(0, 1)),
       dil=st.tuples(st.integers(1, 2), st.integers(1, 2)), ceil=st.booleans(), count_pad=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_pool2d_random_geometry(size, k, stride, pad, dil, ceil, count_pad, seed):
    assume(all(p <= kk // 2 for p, kk in zip(pad, k)))
    assume(all(s + 2 * p >= d * (kk - 1) + 1 for s, p, d, kk in zip(size, pad, dil, k)))
    x = np.random.default_rng(seed).standard_normal((2, 2) + size)
    mkw = dict(kernel_size=k, stride=stride, padding=pad, dilation=dil, ceil_mode=ceil, return_indices=True)
    check_op(lambda x: F.max_pool2d(x, **mkw), lambda x: torch_F.max_pool2d(x, **mkw), x)
    akw = dict(kernel_size=k, stride=stride, padding=pad, ceil_mode=ceil, count_include_pad=count_pad)
    check_op(lambda x: F.avg_pool2d(x, **akw), lambda x: torch_F.avg_pool2d(x, **akw), x)


@settings(max_examples=25, deadline=None)
@given(size=st.tuples(st.integers(1, 9), st.integers(1, 9)), out=st.tuples(st.integers(1, 6), st.integers(1, 6)),
       seed=st.integers(0, 2 ** 16))
def test_adaptive_pool_random_sizes(size, out, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2) + size)
    check_op(lambda x: F.adaptive_avg_pool2d(x, out), lambda x: torch_F.adaptive_avg_pool2d(x, out), x)
    check_op(lambda x: F.adaptive_max_pool2d(x, out, True), lambda x: torch_F.adaptive_max_pool2d(x, out, True), x)


def _x(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


ERRORS = [
    ("max_dims", "max_pool2d", lambda m: m.F.max_pool2d(m.t.tensor(_x(2, 3)), 2), RuntimeError),
    ("max_pad", "max_pool2d", lambda m: m.F.max_pool2d(m.t.tensor(_x(2, 3, 8, 8)), 3, padding=2), RuntimeError),
    ("max_kernel0", "max_pool2d", lambda m: m.F.max_pool2d(m.t.tensor(_x(2, 3, 8, 8)), 0), RuntimeError),
    ("max_stride0", "max_pool2d", lambda m: m.F.max_pool2d(m.t.tensor(_x(2, 3, 8, 8)), 2, stride=0), RuntimeError),
    ("max_too_small", "max_pool2d", lambda m: m.F.max_pool2d(m.t.tensor(_x(2, 3, 1, 1)), 2), RuntimeError),
    ("max_dilation0", "max_pool2d", lambda m: m.F.max_pool2d(m.t.tensor(_x(2, 3, 8, 8)), 2, dilation=0),
     RuntimeError),
    ("avg_pad", "avg_pool2d", lambda m: m.F.avg_pool2d(m.t.tensor(_x(2, 3, 8, 8)), 3, padding=2), RuntimeError),
    ("avg_too_small", "avg_pool2d", lambda m: m.F.avg_pool2d(m.t.tensor(_x(2, 3, 1, 1)), 2), RuntimeError),
    ("avg_divisor0", "avg_pool2d", lambda m: m.F.avg_pool2d(m.t.tensor(_x(2, 3, 8, 8)), 2, divisor_override=0),
     RuntimeError),
    ("max1d_dims", "max_pool1d", lambda m: m.F.max_pool1d(m.t.tensor(_x(2, 3, 8, 8)), 2), RuntimeError),
    ("avg1d_dims", "avg_pool1d", lambda m: m.F.avg_pool1d(m.t.tensor(_x(2, 3, 8, 8)), 2), RuntimeError),
    ("adaptive_dims", "adaptive_avg_pool2d", lambda m: m.F.adaptive_avg_pool2d(m.t.tensor(_x(2, 3)), 2),
     RuntimeError),
    ("adaptive_empty", "adaptive_avg_pool2d", lambda m: m.F.adaptive_avg_pool2d(m.t.tensor(_x(2, 3, 0, 4)), 2),
     RuntimeError),
    ("adaptive1d_dims", "adaptive_avg_pool1d", lambda m: m.F.adaptive_avg_pool1d(m.t.tensor(_x(2, 3, 8, 8)), 2),
     RuntimeError),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_pool_errors_match_torch(case):
    _, op, fn, exc = case
    with pytest.raises(exc):
        fn(TH)
    with pytest.raises(exc, match=op):
        fn(EM)


def test_pool_error_messages_name_sizes():
    with pytest.raises(RuntimeError, match=r"Given input size: \(3x1x1\)\. Calculated output size: \(3x0x0\)"):
        F.max_pool2d(ember.zeros(2, 3, 1, 1), 2)
    with pytest.raises(RuntimeError, match="pad=2, kernel_size=3"):
        F.avg_pool2d(ember.zeros(2, 3, 8, 8), 3, padding=2)


# ---- the fused (numba) max pooling gives bitwise the NumPy path's values, indices and gradients ----------------
FUSED_POOLS = [
    ("2d_k2", lambda x: F.max_pool2d(x, 2, return_indices=True), (2, 3, 8, 6)),
    ("2d_k2_odd", lambda x: F.max_pool2d(x, 2, return_indices=True), (2, 2, 7, 9)),
    ("2d_k3s2p1", lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True), (2, 3, 9, 7)),
    ("2d_overlap", lambda x: F.max_pool2d(x, 3, 1, 1, return_indices=True), (2, 2, 6, 7)),
    ("2d_k2p1_ceil", lambda x: F.max_pool2d(x, 2, 2, 1, ceil_mode=True, return_indices=True), (2, 2, 7, 6)),
    ("2d_k3s2_ceil", lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True, return_indices=True), (2, 2, 8, 7)),
    ("2d_dilation", lambda x: F.max_pool2d(x, (3, 2), (2, 1), (1, 1), dilation=(2, 1), return_indices=True),
     (2, 2, 9, 7)),
    ("2d_k2_dil2", lambda x: F.max_pool2d(x, 2, 2, 1, dilation=2, return_indices=True), (1, 2, 8, 8)),
    ("2d_stride_gt_k", lambda x: F.max_pool2d(x, 2, 3, return_indices=True), (1, 2, 8, 8)),
    ("2d_k1", lambda x: F.max_pool2d(x, 1, return_indices=True), (1, 2, 3, 4)),
    ("2d_unbatched", lambda x: F.max_pool2d(x, 2, return_indices=True), (3, 6, 4)),
    ("1d_k3s2p1", lambda x: F.max_pool1d(x, 3, 2, 1, return_indices=True), (2, 3, 9)),
    ("1d_k2", lambda x: F.max_pool1d(x, 2, return_indices=True), (2, 3, 10)),
    ("1d_dil_ceil", lambda x: F.max_pool1d(x, 2, 2, dilation=2, ceil_mode=True, return_indices=True), (2, 3, 10)),
]


def _pool_input(kind, shape, dtype):
    rng = np.random.default_rng(11)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # many ties
    if kind == "normal":
        x = rng.standard_normal(shape)
    elif kind == "signed_zeros":  # -0.0 and 0.0 compare equal: which one comes out is the point
        x = np.where(rng.random(shape) < 0.5, -0.0, 0.0) - (rng.random(shape) < 0.2)
    elif kind == "nan":
        x[rng.random(shape) < 0.15] = np.nan
        x[rng.random(shape) < 0.05] = -np.nan  # a NaN with the sign bit set: which NaN wins shows in the bits
    elif kind == "nan_and_signed_zeros":  # a NaN elsewhere makes the NumPy path's second (np.where) pass run
        x = np.where(rng.random(shape) < 0.5, -0.0, 0.0)
        x.reshape(-1)[-1] = np.nan
    elif kind == "inf":  # -inf ties with the padding; kept off the borders (a window of padding and -inf alone
        x[rng.random(shape) < 0.2] = np.inf  # gets an index into the padding, which the NumPy backward rejects)
        inner = x[..., 2:-2, 2:-2] if len(shape) == 4 else x[..., 2:-2]
        inner[rng.random(inner.shape) < 0.3] = -np.inf
    return x.astype(dtype)


def _pool_bits(fn, x):
    xt = ember.tensor(x, requires_grad=True)
    y, idx = fn(xt)
    y.backward(ember.tensor(np.random.default_rng(12).standard_normal(y.shape).astype(x.dtype)))
    return [(a.dtype, a.shape, a.tobytes()) for a in (y.detach().numpy(), idx.numpy(), xt.grad.numpy())]


def test_numba_is_available_for_the_fused_pool_tests():
    assert _fused.enabled(), "numba is a test dependency: the fused kernels must be tested"


POOL_INPUTS = ["normal", "ties", "signed_zeros", "nan", "nan_and_signed_zeros", "inf"]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", FUSED_POOLS, ids=[c[0] for c in FUSED_POOLS])
def test_fused_max_pool_is_bitwise_the_numpy_path(case, dtype):
    _, fn, shape = case
    inputs = [_pool_input(kind, shape, dtype) for kind in POOL_INPUTS]
    fused = [_pool_bits(fn, x) for x in inputs]
    _fused.set_enabled(False)
    try:
        numpy_path = [_pool_bits(fn, x) for x in inputs]
    finally:
        _fused.set_enabled(True)
    for kind, a, b in zip(POOL_INPUTS, fused, numpy_path):
        assert a == b, kind


def test_fused_max_pool_signed_zero_and_nan_values():
    """The rules the kernels copy from the NumPy path: the index is the first maximum or the last NaN; the
    value the last tied zero, but the zero at the index when some output is NaN."""
    x = np.array([[[[-0.0, 0.0, 0.0, -0.0, np.nan, -np.nan]]]], dtype=np.float32)
    for fused in (True, False):
        _fused.set_enabled(fused)
        try:
            y, idx = F.max_pool2d(ember.tensor(x[..., :4]), (1, 2), return_indices=True)
            assert idx.numpy().ravel().tolist() == [0, 2]
            assert np.signbit(y.numpy().ravel()).tolist() == [False, True]
            y, idx = F.max_pool2d(ember.tensor(x), (1, 2), return_indices=True)
            assert idx.numpy().ravel().tolist() == [0, 2, 5]
            assert np.signbit(y.numpy().ravel()).tolist() == [True, False, True]
        finally:
            _fused.set_enabled(True)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    (2, 2, 1, 1), (3, 1, 1, 1), (3, 2, 1, 2), ((3, 2), (2, 1), (1, 1), (1, 2)), (5, 3, 2, 1),
])
def test_max_pool_windows_of_only_minus_inf_index_inside_the_input(fused, dtype, kernel, stride, padding, dilation):
    # a window whose input elements are all -inf (equal to the padding value): torch's index is the window's
    # first element inside the input, never a padding position
    x = np.full((2, 3, 7, 8), -np.inf, dtype)
    x[:, :, 4:, 5:] = np.arange(2 * 3 * 3 * 3, dtype=dtype).reshape(2, 3, 3, 3)
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch_F.max_pool2d(xt, kernel, stride, padding, dilation, return_indices=True)
    yt.sum().backward()
    _fused.set_enabled(fused)
    try:
        xe = ember.tensor(x, requires_grad=True)
        ye, ie = F.max_pool2d(xe, kernel, stride, padding, dilation, return_indices=True)
        ye.sum().backward()
    finally:
        _fused.set_enabled(True)
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())
