"""The extra Tensor methods and ops (ops/unary_extra.py, ops/misc_extra.py, ops/stats_extra.py and the in-place
forms in _tensor_ops.py) against torch: one table line per case (forward and gradients in float32 and float64,
float64 gradcheck), values without gradients, histogram, random methods, queries, compile mode and error paths.
The in-place forms are tested in test_tensor_methods_extra_inplace.py."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close
from op_table import DTYPES, uniform, away_from_zero, Case, check_case, gradcheck_case

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta:UserWarning")

INF, NAN = float("inf"), float("nan")


def with_ints(shape, int_shape, low=0, high=4):
    """A float array and an int64 array (exponents, for ldexp). (torch's gradient of ldexp for a negative integer
    exponent is 0, computed with an integer 2**e; ember's is the true 2**e, so the table uses e >= 0.)"""
    return lambda rng, dt: [rng.uniform(-2, 2, shape).astype(dt), rng.integers(low, high, int_shape)]


def with_nans(*shapes):
    def make(rng, dt):
        out = []
        for s in shapes:
            a = rng.uniform(-2, 2, s)
            a[rng.random(s) < 0.3] = NAN
            out.append(a.astype(dt))
        return out
    return make


def matrices(*shapes, scale=0.5):
    return lambda rng, dt: [(rng.standard_normal(s) * scale).astype(dt) for s in shapes]


def _idx(m, *values):
    return m.t.tensor(list(values))


LOOSE32 = {np.float32: 1e-4}

CASES = [
    Case("acosh", lambda m, x: m.t.acosh(x), uniform((3, 4), low=1.2, high=4)),
    Case("Tensor.arccosh", lambda m, x: x.arccosh(), uniform((3, 4), low=1.2, high=4)),
    Case("asinh", lambda m, x: m.t.asinh(x), uniform((3, 4), low=-4, high=4)),
    Case("Tensor.arcsinh", lambda m, x: x.arcsinh()),
    Case("atanh", lambda m, x: m.t.atanh(x), uniform((3, 4), low=-0.9, high=0.9)),
    Case("Tensor.arctanh", lambda m, x: x.arctanh(), uniform((3, 4), low=-0.9, high=0.9)),
    Case("arctanh", lambda m, x: m.t.arctanh(x), uniform((2, 3), low=-0.9, high=0.9)),
    Case("erfc", lambda m, x: m.t.erfc(x), uniform((3, 4), low=-3, high=3)),
    Case("Tensor.erfc", lambda m, x: x.erfc()),
    Case("arctan2", lambda m, a, b: m.t.arctan2(a, b), away_from_zero((3, 4), (4,))),
    Case("Tensor.arctan2", lambda m, a, b: a.arctan2(b), away_from_zero((3, 4), (3, 4))),
    Case("rad2deg", lambda m, x: m.t.rad2deg(x)),
    Case("Tensor.deg2rad", lambda m, x: x.deg2rad(), uniform((3, 4), low=-360, high=360)),
    Case("fmax", lambda m, a, b: m.t.fmax(a, b), uniform((3, 4), (3, 4))),
    Case("fmax_broadcast", lambda m, a, b: a.fmax(b), uniform((3, 4), (4,))),
    Case("fmax_nan", lambda m, a, b: m.t.fmax(a, b), with_nans((3, 4), (3, 4)), gradcheck=False),
    Case("fmax_ties", lambda m, a: m.t.fmax(a, a.detach()), gradcheck=False),
    Case("fmin", lambda m, a, b: m.t.fmin(a, b), uniform((3, 4), (1, 4))),
    Case("Tensor.fmin_nan", lambda m, a, b: a.fmin(b), with_nans((3, 4), (3, 4)), gradcheck=False),
    Case("ldexp_int_exponent", lambda m, x, e: m.t.ldexp(x, e), with_ints((3, 4), (3, 4)), gradcheck=False),
    Case("Tensor.ldexp_float_exponent", lambda m, x, e: x.ldexp(e), uniform((3, 4), (4,))),
    Case("frexp", lambda m, x: m.t.frexp(x), uniform((3, 4), low=-50, high=50), gradcheck=False),
    Case("frexp_mantissa", lambda m, x: x.frexp()[0], uniform((3, 4), low=-50, high=50)),
    Case("positive", lambda m, x: m.t.positive(x) * 2),
    Case("float_power", lambda m, x: m.t.float_power(x, 2.5), uniform((3, 4), low=0.1, high=2)),
    Case("Tensor.float_power_tensor", lambda m, x, e: x.float_power(e), uniform((3, 4), (4,), low=0.5, high=2)),
    Case("multiply", lambda m, a, b: m.t.multiply(a, b), uniform((3, 4), (4,))),
    Case("divide_floor", lambda m, a, b: m.t.divide(a, b, rounding_mode="floor"), away_from_zero((3, 4), (4,)),
         gradcheck=False),
    Case("subtract_alpha", lambda m, a, b: m.t.subtract(a, b, alpha=2), uniform((3, 4), (4,))),
    Case("hardshrink", lambda m, x: x.hardshrink(0.7)),
    Case("diag_vector", lambda m, x: m.t.diag(x), uniform((4,))),
    Case("diag_vector_offset", lambda m, x: x.diag(2), uniform((3,))),
    Case("diag_vector_negative_offset", lambda m, x: x.diag(-1), uniform((3,))),
    Case("diag_matrix", lambda m, x: m.t.diag(x), uniform((3, 4))),
    Case("diag_matrix_offset", lambda m, x: x.diag(1), uniform((3, 4))),
    Case("diag_matrix_negative_offset", lambda m, x: x.diag(-2), uniform((4, 3))),
    Case("diagflat", lambda m, x: m.t.diagflat(x), uniform((2, 2))),
    Case("Tensor.diagflat_offset", lambda m, x: x.diagflat(-1), uniform((3,))),
    Case("diagonal", lambda m, x: m.t.diagonal(x), uniform((3, 4))),
    Case("diagonal_dims", lambda m, x: m.t.diagonal(x, 1, 2, 0), uniform((3, 2, 4))),
    Case("Tensor.diagonal_negative", lambda m, x: x.diagonal(offset=-1, dim1=-1, dim2=-2), uniform((2, 4, 3))),
    Case("inner_vectors", lambda m, a, b: m.t.inner(a, b), uniform((5,), (5,))),
    Case("inner_matrices", lambda m, a, b: m.t.inner(a, b), uniform((2, 3), (4, 3))),
    Case("Tensor.inner_nd", lambda m, a, b: a.inner(b), uniform((2, 3, 4), (5, 4))),
    Case("inner_scalar", lambda m, a, b: m.t.inner(a, b), uniform((2, 3), ())),
    Case("Tensor.ger", lambda m, a, b: a.ger(b), uniform((3,), (4,))),
    Case("Tensor.vdot", lambda m, a, b: a.vdot(b), uniform((5,), (5,))),
    Case("dist", lambda m, a, b: m.t.dist(a, b), uniform((3, 4), (4,))),
    Case("Tensor.dist_p1", lambda m, a, b: a.dist(b, 1), uniform((3, 4), (3, 4))),
    Case("Tensor.dist_inf", lambda m, a, b: a.dist(b, INF), uniform((3, 4), (3, 4))),
    Case("index_copy", lambda m, x, s: m.t.index_copy(x, 0, _idx(m, 2, 0), s), uniform((3, 4), (2, 4))),
    Case("Tensor.index_copy_dim1", lambda m, x, s: x.index_copy(1, _idx(m, 3, 1, 0), s), uniform((2, 4), (2, 3))),
    Case("index_reduce_prod", lambda m, x, s: x.index_reduce(0, _idx(m, 2, 0, 2), s, "prod"),
         away_from_zero((3, 4), (3, 4))),
    Case("index_reduce_mean", lambda m, x, s: m.t.index_reduce(x, 1, _idx(m, 0, 0, 3), s, "mean"),
         uniform((2, 4), (2, 3))),
    Case("index_reduce_amax_exclude", lambda m, x, s: x.index_reduce(0, _idx(m, 1, 1), s, "amax", include_self=False),
         uniform((3, 4), (2, 4))),
    Case("index_reduce_amin", lambda m, x, s: x.index_reduce(0, _idx(m, 0, 2), s, "amin"), uniform((3, 4), (2, 4))),
    Case("narrow_copy", lambda m, x: x.narrow_copy(1, 1, 2)),
    Case("narrow_copy_fn", lambda m, x: m.t.narrow_copy(x, 0, 1, 2)),
    Case("sum_to_size", lambda m, x: x.sum_to_size(1, 4), uniform((2, 3, 4))),
    Case("sum_to_size_tuple", lambda m, x: x.sum_to_size((3, 1)), uniform((2, 3, 4))),
    Case("split_with_sizes", lambda m, x: x.split_with_sizes([1, 3], 1)),
    Case("split_with_sizes_fn", lambda m, x: m.t.split_with_sizes(x, (2, 0, 1), dim=0)),
    Case("unsafe_chunk", lambda m, x: x.unsafe_chunk(2, 1)),
    Case("cov", lambda m, x: m.t.cov(x), uniform((3, 5))),
    Case("cov_vector", lambda m, x: x.cov(), uniform((6,))),
    Case("cov_correction0", lambda m, x: m.t.cov(x, correction=0), uniform((2, 5))),
    Case("cov_fweights", lambda m, x: m.t.cov(x, fweights=_idx(m, 1, 2, 0, 3)), uniform((2, 4))),
    Case("cov_weights", lambda m, x: x.cov(fweights=_idx(m, 1, 2, 1, 3),
                                           aweights=m.t.tensor([0.5, 1.0, 0.25, 2.0], dtype=x.dtype)),
         uniform((2, 4))),
    Case("cov_aweights_correction2",
         lambda m, x: x.cov(correction=2, aweights=m.t.tensor([0.5, 1.0, 0.3, 2.0, 0.1, 1.0], dtype=x.dtype)),
         uniform((3, 6))),
    Case("cov_aweights_grad", lambda m, x, w: m.t.cov(x, aweights=w), uniform((2, 5), (5,), low=0.1, high=2.0)),
    Case("corrcoef", lambda m, x: m.t.corrcoef(x), uniform((3, 6))),
    Case("Tensor.corrcoef", lambda m, x: x.corrcoef(), uniform((2, 5))),
    Case("renorm", lambda m, x: m.t.renorm(x, 2, 0, 1.0)),
    Case("Tensor.renorm_p1_dim1", lambda m, x: x.renorm(1, 1, 1.5), uniform((2, 4, 3))),
    Case("Tensor.renorm_inf", lambda m, x: x.renorm(INF, -1, 1.0), uniform((3, 4))),
    Case("matrix_exp", lambda m, x: m.t.matrix_exp(x), matrices((3, 3)), rtol=LOOSE32),
    Case("Tensor.matrix_exp_batched", lambda m, x: x.matrix_exp(), matrices((2, 4, 4)), rtol=LOOSE32),
    Case("linalg.matrix_exp", lambda m, x: m.t.linalg.matrix_exp(x), matrices((2, 2), scale=2.0), rtol=LOOSE32),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda c: c.id)
def test_gradcheck(case):
    gradcheck_case(case)


def test_matrix_exp_double_backward():
    a = np.random.default_rng(2).standard_normal((3, 3)) * 0.5
    assert ember.autograd.gradgradcheck(ember.matrix_exp, (ember.tensor(a, requires_grad=True),))


# ---- values without gradients: predicates, shifts, nextafter, argwhere ---------------------------------------------------
SPECIALS = np.array([1.5, -0.0, 0.0, NAN, INF, -INF, -2.0], dtype=np.float32)
INTS = np.array([1, -2, 300, 7, 0, -128], dtype=np.int64)

VALUES = [
    ("isposinf", lambda m: m.isposinf(m.tensor(SPECIALS))),
    ("isneginf", lambda m: m.tensor(SPECIALS).isneginf()),
    ("isposinf_int", lambda m: m.isposinf(m.tensor(INTS))),
    ("isreal", lambda m: m.isreal(m.tensor(SPECIALS))),
    ("Tensor.isreal_int", lambda m: m.tensor(INTS).isreal()),
    ("Tensor.signbit", lambda m: m.tensor(SPECIALS).signbit()),
    ("rad2deg_int", lambda m: m.rad2deg(m.tensor(INTS))),
    ("deg2rad_bool", lambda m: m.tensor([True, False]).deg2rad()),
    ("acosh_int", lambda m: m.tensor(INTS).abs().acosh()),
    ("fmax_int_float", lambda m: m.fmax(m.tensor(INTS), m.tensor(SPECIALS[:6].astype(np.float64)))),
    ("fmin_int_bool", lambda m: m.fmin(m.tensor(INTS), m.tensor([True, False] * 3))),
    ("ldexp_int_int", lambda m: m.ldexp(m.tensor(INTS), m.tensor([0, 1, 2, 3, 4, 5]))),
    ("ldexp_mixed_floats", lambda m: m.ldexp(m.tensor([1.5], dtype=m.float64), m.tensor([3.0]))),
    ("nextafter_up", lambda m: m.nextafter(m.tensor(SPECIALS), m.tensor(np.float32(INF)))),
    ("Tensor.nextafter_down", lambda m: m.tensor(SPECIALS.astype(np.float64)).nextafter(m.tensor(-1.0,
                                                                                              dtype=m.float64))),
    ("frexp_specials", lambda m: m.frexp(m.tensor([0.0, 1.0, -0.75, 1024.0, 1e-40]))),
    ("frexp_float64", lambda m: m.frexp(m.tensor([3.0, -1e300], dtype=m.float64))),
    ("lshift", lambda m: m.bitwise_left_shift(m.tensor(INTS), 3)),
    ("lshift_out_of_range", lambda m: m.tensor(INTS).bitwise_left_shift(m.tensor([64, -1, 63, 70, 1, 2]))),
    ("rshift", lambda m: m.tensor(INTS) >> m.tensor([1, 2, 3, 64, -1, 70])),
    ("rshift_int8", lambda m: m.bitwise_right_shift(m.tensor([-8, 8, 127], dtype=m.int8), m.tensor([1, 9, 7],
                                                                                                 dtype=m.int8))),
    ("lshift_int8_overflow", lambda m: m.tensor([-8, 8, 3], dtype=m.int8) << m.tensor([7, 8, 2], dtype=m.int8)),
    ("rshift_uint8", lambda m: m.tensor([200, 7], dtype=m.uint8) >> m.tensor([9, 1], dtype=m.uint8)),
    ("lshift_int32", lambda m: m.tensor([5, -5], dtype=m.int32) << 4),
    ("lshift_scalar_base", lambda m: 2 << m.tensor([1, 2, 3])),
    ("rrshift_scalar_base", lambda m: 256 >> m.tensor([1, 2, 3])),
    ("lshift_bool_promotes", lambda m: m.tensor([True, False]).bitwise_left_shift(1)),
    ("bitwise_and", lambda m: m.tensor(INTS).bitwise_and(m.tensor(6))),
    ("bitwise_or_bool", lambda m: m.tensor([True, False]).bitwise_or(m.tensor([False, False]))),
    ("bitwise_xor", lambda m: m.tensor(INTS).bitwise_xor(m.tensor(INTS[::-1].copy()))),
    ("bitwise_not", lambda m: m.tensor(INTS).bitwise_not()),
    ("argwhere", lambda m: m.tensor([[0, 1.5], [2, 0], [0, 0]]).argwhere()),
    ("argwhere_fn", lambda m: m.argwhere(m.tensor([0, 3, 0, 1]))),
    ("float_power_int", lambda m: m.float_power(m.tensor(INTS[:4]), 2)),
    ("float_power_scalar_base", lambda m: m.float_power(2, m.tensor([1, 2]))),
    ("cov_int", lambda m: m.cov(m.tensor([[1, 2, 3], [2, 3, 5]]))),
    ("corrcoef_vector", lambda m: m.corrcoef(m.tensor([1.0, 2.0, 4.0]))),
    ("sum_to_size_same", lambda m: m.ones(2, 3).sum_to_size(2, 3)),
    ("diag_int", lambda m: m.tensor(INTS[:3]).diag(1)),
    ("inner_int", lambda m: m.inner(m.tensor([[1, 2], [3, 4]]), m.tensor([[1, 0], [2, 1]]))),
    ("index_copy_0d", lambda m: m.tensor(1.0).index_copy(0, m.tensor([0]), m.tensor(5.0))),
    ("index_reduce_int32_index", lambda m: m.ones(3, 2).index_reduce(0, m.tensor([0, 2], dtype=m.int32),
                                                                        m.full((2, 2), 3.0), "prod")),
    ("renorm_small_rows_unchanged", lambda m: m.tensor([[0.1, 0.2], [3.0, 4.0]]).renorm(2, 0, 1.0)),
    ("matrix_exp_empty", lambda m: m.zeros(0, 0).matrix_exp()),
    ("new_zeros", lambda m: m.ones(2, dtype=m.int32).new_zeros(2, 3)),
    ("new_zeros_size_kw", lambda m: m.ones(2).new_zeros(size=(1, 2), dtype=m.float64)),
    ("new_ones", lambda m: m.ones(2, dtype=m.float64).new_ones((3,))),
    ("new_tensor_keeps_dtype", lambda m: m.zeros(2, dtype=m.int64).new_tensor([1.5, 2.5])),
    ("new_tensor_dtype", lambda m: m.zeros(2).new_tensor([[1, 2]], dtype=m.float64)),
    ("conj", lambda m: m.tensor([1.0, -2.0]).conj().resolve_conj().resolve_neg()),
    ("real", lambda m: m.tensor([1.0, -2.0]).real),
    ("H", lambda m: m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).H),
    ("mH", lambda m: m.ones(2, 3, 1).mH),
    ("adjoint", lambda m: m.ones(2, 1, 3).adjoint()),
]


@pytest.mark.parametrize("fn", [v[1] for v in VALUES], ids=[v[0] for v in VALUES])
def test_values_match_torch(fn):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(fn(ember), fn(torch), 1e-6, 1e-7, "value")


def test_frexp_result_names_and_dtypes():
    e = ember.frexp(ember.tensor([1.5, 8.0], dtype=ember.float64))
    assert e.mantissa is e[0] and e.exponent is e[1]
    assert e.mantissa.dtype == ember.float64 and e.exponent.dtype == ember.int32
    assert not e.exponent.requires_grad


def test_positive_returns_the_tensor_itself():
    x = ember.ones(2)
    assert ember.positive(x) is x and x.positive() is x


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool"])
def test_queries_match_torch(dtype):
    e, t = ember.zeros(2, 3, dtype=getattr(ember, dtype)), torch.zeros(2, 3, dtype=getattr(torch, dtype))
    for name in ("is_signed", "is_complex", "is_conj", "is_neg", "is_inference", "is_pinned", "is_shared"):
        assert getattr(e, name)() == getattr(t, name)(), name
    for name in ("is_cpu", "is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested",
                 "is_mps"):
        assert getattr(e, name) == getattr(t, name), name
    assert e.is_same_size(ember.ones(2, 3)) and not e.is_same_size(ember.ones(3, 2))
    assert ember.is_complex(e) is False


@pytest.mark.parametrize("values", [[2.0], [0.0], [[True]], [0]])
def test_is_nonzero_matches_torch(values):
    assert ember.tensor(values).is_nonzero() == torch.tensor(values).is_nonzero()
    assert ember.is_nonzero(ember.tensor(values)) == torch.is_nonzero(torch.tensor(values))


def test_new_tensor_from_a_tensor_copies_and_warns():
    src = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="new_tensor"):
        out = ember.zeros(1).new_tensor(src, requires_grad=True)
    out.data.zero_()
    assert src.tolist() == [1.0, 2.0] and out.requires_grad and out.is_leaf


def test_diagonal_is_a_writable_view():
    outs = []
    for m in (ember, torch):
        x = m.arange(12.0).reshape(3, 4)
        d = x.diagonal(1)
        d.fill_(-1.0)
        d.mul_(3)
        outs.append(x)
    assert_close(outs[0], outs[1], 0, 0, "diagonal write")


def test_diagonal_version_counter_is_shared():
    x = ember.ones(3, 3)
    d = x.diagonal()
    before = x._version_value
    d.zero_()
    assert x._version_value == before + 1


# ---- histogram -------------------------------------------------------------------------------------------------------
HIST = [
    ("bins_int", lambda m, x: m.histogram(x, 5)),
    ("bins_default", lambda m, x: x.histogram()),
    ("range", lambda m, x: m.histogram(x, 4, range=(-1.0, 1.5))),
    ("range_int_bounds", lambda m, x: x.histogram(3, range=(0, 2))),
    ("weight", lambda m, x: m.histogram(x, 6, weight=x.abs())),
    ("density", lambda m, x: m.histogram(x, 6, density=True)),
    ("weight_density", lambda m, x: x.histogram(3, range=(-2.0, 2.0), weight=x * x, density=True)),
    ("bins_tensor", lambda m, x: m.histogram(x, m.tensor([-2.0, -0.5, 0.0, 0.1, 3.0], dtype=x.dtype))),
    ("bins_tensor_density", lambda m, x: x.histogram(m.tensor([-1.0, 0.0, 2.0], dtype=x.dtype), density=True)),
    ("boundaries", lambda m, x: m.histogram(m.tensor([0.0, 0.25, 0.5, 0.75, 1.0, 1.0, -0.0], dtype=x.dtype), 4)),
    ("constant", lambda m, x: m.histogram(m.full((5,), 2.0, dtype=x.dtype), 2)),
    ("empty", lambda m, x: m.histogram(m.zeros(0, dtype=x.dtype), 3)),
    ("nan_ignored_with_range", lambda m, x: m.histogram(m.tensor([NAN, 0.5, 1.0], dtype=x.dtype), 2,
                                                        range=(0.0, 1.0))),
    ("thirds", lambda m, x: m.histogram(m.tensor(np.arange(31) / 30, dtype=x.dtype), 3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("fn", [h[1] for h in HIST], ids=[h[0] for h in HIST])
def test_histogram_matches_torch(fn, dtype):
    x = np.random.default_rng(4).standard_normal((4, 5)).astype(dtype)
    e, t = fn(ember, ember.tensor(x)), fn(torch, torch.tensor(x))
    t_hist, t_edges = t
    # (torch's vectorised linspace rounds differently by SIMD width: edges agree to rounding of the range)
    width = float(t_edges[-1] - t_edges[0])
    assert_close(e.bin_edges, t_edges, 0, width * (1e-6 if dtype == np.float32 else 1e-14), "bin_edges")
    assert_close(e.hist, t_hist, 1e-5, 1e-6, "hist")
    assert e[0] is e.hist and e[1] is e.bin_edges


def test_histogram_has_no_gradient():
    x = ember.randn(5, requires_grad=True)
    hist, edges = x.histogram(3)
    assert not hist.requires_grad and not edges.requires_grad


# ---- random methods --------------------------------------------------------------------------------------------------
def test_bernoulli_method():
    probs = ember.tensor([0.0, 1.0, 1.0, 0.0], dtype=ember.float64)
    out = probs.bernoulli()
    assert out.dtype == ember.float64 and out.tolist() == [0.0, 1.0, 1.0, 0.0]
    assert ember.zeros(2, 3).bernoulli(1.0).tolist() == [[1.0] * 3] * 2
    assert ember.ones(4).bernoulli(0.0).tolist() == [0.0] * 4
    g = ember.Generator().manual_seed(3)
    a = ember.full((50,), 0.5).bernoulli(generator=g)
    assert set(a.tolist()) <= {0.0, 1.0}


def test_multinomial_method():
    probs = ember.tensor([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    out = probs.multinomial(4, replacement=True)
    assert out.dtype == ember.int64 and out.tolist() == [[2] * 4, [1] * 4]
    perm = ember.tensor([1.0, 1.0, 1.0]).multinomial(3)
    assert sorted(perm.tolist()) == [0, 1, 2]


# ---- compile mode ----------------------------------------------------------------------------------------------------
def test_compile_replays_the_extra_ops_on_new_values():
    def step(x, y):
        hist = ember.histogram(x, 4)[0].sum() + ember.histogram(x, 3, weight=y.abs(), density=True)[0].sum()
        c = ember.cov(ember.stack([x, y]), aweights=y.abs() + 0.1) + ember.corrcoef(ember.stack([x, y]))
        return (ember.fmax(x, y) + ember.acosh(x.abs() + 1) + ember.erfc(x) + ember.ldexp(x, y.round()) + hist
                + c.sum() + ember.renorm(ember.stack([x, y]), 2, 0, 1.0).sum(0) + ember.matrix_exp(ember.outer(x, y)
                                                                                                   * 0.1).sum(0))

    g = ember.compile(step, check_trace=True, fallback="error")
    rng = np.random.default_rng(8)
    for _ in range(4):
        x, y = (ember.tensor(rng.uniform(-2, 2, 5).astype(np.float32)) for _ in range(2))
        with ember.no_grad():
            np.testing.assert_array_equal(g(x, y).numpy(), step(x, y).numpy())
    assert not g._eager


def test_compile_reports_argwhere_as_a_graph_break():
    g = ember.compile(lambda x: x.argwhere() * 2, fallback="error")
    with pytest.raises(RuntimeError, match="nonzero"):
        g(ember.tensor([1.0, 0.0, 3.0]))


# ---- errors ----------------------------------------------------------------------------------------------------------
def _f(m, *shape):
    return m.ones(*shape) if shape else m.tensor([1.0, 2.0])


def _i(m):
    return m.tensor([1, 2])


ERRORS = [
    ("fmax_scalar", lambda m: m.fmax(_f(m), 2.0), TypeError, "fmax"),
    ("fmin_shapes", lambda m: m.fmin(_f(m), m.ones(3)), RuntimeError, "size of tensor"),
    ("ldexp_scalar", lambda m: m.ldexp(_f(m), 2), TypeError, "ldexp"),
    ("lshift_float", lambda m: m.bitwise_left_shift(_f(m), 1), NotImplementedError, "lshift"),
    ("rshift_float_operator", lambda m: _f(m) >> 1, NotImplementedError, "rshift"),
    ("lshift_bool", lambda m: m.bitwise_left_shift(m.tensor([True]), m.tensor([True])), NotImplementedError,
     "lshift"),
    ("nextafter_int", lambda m: m.nextafter(_i(m), _i(m)), NotImplementedError, "nextafter"),
    ("frexp_int", lambda m: m.frexp(_i(m)), RuntimeError, "frexp"),
    ("positive_bool", lambda m: m.positive(m.tensor([True])), RuntimeError, "bool"),
    ("diag_3d", lambda m: m.diag(_f(m, 2, 2, 2)), RuntimeError, "diag"),
    ("diag_0d", lambda m: m.tensor(1.0).diag(), RuntimeError, "diag"),
    ("diagonal_same_dims", lambda m: _f(m, 2, 3).diagonal(0, 1, 1), RuntimeError, "diagonal"),
    ("diagonal_1d", lambda m: _f(m).diagonal(), IndexError, "out of range"),
    ("inner_last_dims", lambda m: m.inner(_f(m, 2, 3), _f(m, 4)), RuntimeError, "inner"),
    ("inner_dtypes", lambda m: m.inner(_f(m, 2, 3), m.ones(4, 3, dtype=m.float64)), RuntimeError, "dtype"),
    ("vdot_2d", lambda m: _f(m, 2, 2).vdot(_f(m, 2, 2)), RuntimeError, "1D tensors expected"),
    ("index_copy_float_index", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0.0, 2.0]), _f(m, 2, 2)),
     RuntimeError, "index_copy"),
    ("index_copy_int32_index", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, 2], dtype=m.int32), _f(m, 2, 2)),
     RuntimeError, "index_copy"),
    ("index_copy_dtype", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, 2]), m.ones(2, 2, dtype=m.float64)),
     RuntimeError, "index_copy"),
    ("index_copy_count", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, 2]), _f(m, 3, 2)), IndexError,
     "index_copy"),
    ("index_copy_slice_shape", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, 2]), _f(m, 2, 3)), RuntimeError,
     "index_copy"),
    ("index_copy_ndim", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, 2]), _f(m, 2)), IndexError, "index_copy"),
    ("index_copy_index_2d", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([[0, 2]]), _f(m, 2, 2)), IndexError,
     "index_copy"),
    ("index_copy_out_of_range", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, 5]), _f(m, 2, 2)), IndexError,
     "index_copy"),
    ("index_copy_negative", lambda m: _f(m, 3, 2).index_copy(0, m.tensor([0, -1]), _f(m, 2, 2)), IndexError,
     "index_copy"),
    ("index_reduce_sum", lambda m: _f(m, 3, 2).index_reduce(0, m.tensor([0, 2]), _f(m, 2, 2), "sum"),
     RuntimeError, "index_reduce"),
    ("index_reduce_dtype", lambda m: _f(m, 3, 2).index_reduce(0, m.tensor([0, 2]), m.ones(2, 2, dtype=m.float64),
                                                              "prod"), RuntimeError, "index_reduce"),
    ("index_reduce_count", lambda m: _f(m, 3, 2).index_reduce(0, m.tensor([0, 2]), _f(m, 3, 2), "amax"),
     RuntimeError, "index_reduce"),
    ("index_reduce_shape", lambda m: _f(m, 3, 2).index_reduce(0, m.tensor([0, 2]), _f(m, 2, 3), "mean"),
     RuntimeError, "shape"),
    ("index_reduce_out_of_range", lambda m: _f(m, 3, 2).index_reduce(0, m.tensor([0, 5]), _f(m, 2, 2), "amin"),
     IndexError, "index"),
    ("sum_to_size_not_expandable", lambda m: _f(m, 2, 3).sum_to_size(3, 2), RuntimeError, "expandable"),
    ("sum_to_size_longer", lambda m: _f(m, 3).sum_to_size(2, 3), RuntimeError, "expandable"),
    ("split_with_sizes_sum", lambda m: _f(m, 5).split_with_sizes([1, 2]), RuntimeError, "split_with_sizes"),
    ("split_with_sizes_negative", lambda m: _f(m, 5).split_with_sizes([1, -1, 5]), RuntimeError,
     "split_with_sizes"),
    ("renorm_1d", lambda m: _f(m, 3).renorm(2, 0, 1.0), RuntimeError, "renorm"),
    ("renorm_p", lambda m: _f(m, 3, 2).renorm(-1, 0, 1.0), RuntimeError, "renorm"),
    ("renorm_maxnorm", lambda m: _f(m, 3, 2).renorm(2, 0, -1.0), RuntimeError, "renorm"),
    ("renorm_dim", lambda m: _f(m, 3, 2).renorm(2, 2, 1.0), IndexError, "out of range"),
    ("renorm_int", lambda m: m.tensor([[1, 2], [3, 4]]).renorm(2, 0, 1.0), RuntimeError, "vector_norm"),
    ("matrix_exp_not_square", lambda m: _f(m, 3, 2).matrix_exp(), RuntimeError, "matrix_exp"),
    ("matrix_exp_int", lambda m: m.tensor([[1, 2], [3, 4]]).matrix_exp(), RuntimeError, "matrix_exp"),
    ("cov_3d", lambda m: m.cov(_f(m, 2, 3, 4)), RuntimeError, "cov"),
    ("cov_float_fweights", lambda m: m.cov(_f(m, 2, 3), fweights=m.tensor([1.0, 2.0, 3.0])), RuntimeError, "cov"),
    ("cov_negative_fweights", lambda m: m.cov(_f(m, 2, 3), fweights=m.tensor([1, -2, 3])), RuntimeError, "negative"),
    ("cov_int_aweights", lambda m: m.cov(_f(m, 2, 3), aweights=m.tensor([1, 2, 3])), RuntimeError, "cov"),
    ("cov_negative_aweights", lambda m: m.cov(_f(m, 2, 3), aweights=m.tensor([1.0, -2.0, 3.0])), RuntimeError,
     "negative"),
    ("cov_2d_fweights", lambda m: m.cov(_f(m, 2, 3), fweights=m.tensor([[1, 2, 3]])), RuntimeError, "cov"),
    ("cov_fweights_numel", lambda m: m.cov(_f(m, 2, 3), fweights=m.tensor([1, 2])), RuntimeError, "cov"),
    ("histogram_int", lambda m: m.histogram(_i(m), 3), NotImplementedError, "histogramdd"),
    ("histogram_zero_bins", lambda m: m.histogram(_f(m), 0), RuntimeError, "bins"),
    ("histogram_reversed_range", lambda m: m.histogram(_f(m), 3, range=(3.0, 1.0)), RuntimeError, "min"),
    ("histogram_infinite_range", lambda m: m.histogram(_f(m), 3, range=(0.0, INF)), RuntimeError, "finite"),
    ("histogram_infinite_data", lambda m: m.histogram(m.tensor([1.0, INF]), 3), RuntimeError, "finite"),
    ("histogram_2d_bins", lambda m: m.histogram(_f(m), m.tensor([[1.0, 2.0]])), RuntimeError, "bins"),
    ("histogram_bins_dtype", lambda m: m.histogram(_f(m), m.tensor([1.0, 2.0], dtype=m.float64)), RuntimeError,
     "dtype"),
    ("histogram_weight_dtype", lambda m: m.histogram(_f(m), 2, weight=_i(m)), RuntimeError, "weight"),
    ("histogram_weight_shape", lambda m: m.histogram(_f(m, 4), 2, weight=_f(m, 2)), RuntimeError, "weight"),
    ("is_nonzero_many", lambda m: _f(m).is_nonzero(), RuntimeError, "more than one value"),
    ("is_nonzero_empty", lambda m: m.zeros(0).is_nonzero(), RuntimeError, "no values"),
    ("imag", lambda m: _f(m).imag, RuntimeError, "imag"),
    ("H_1d", lambda m: _f(m).H, RuntimeError, "matrices"),
    ("t_3d", lambda m: _f(m, 2, 2, 2).t_(), RuntimeError, "dimensions"),
    ("unsqueeze_out_of_range", lambda m: _f(m, 2).unsqueeze_(3), IndexError, "range"),
]


@pytest.mark.parametrize("fn,exc,match", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch(fn, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            fn(torch)
        with pytest.raises(exc, match=match):
            fn(ember)


def test_cov_with_no_degrees_of_freedom_warns_and_gives_nan():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        e = ember.cov(ember.ones(2, 1))
    with pytest.warns(UserWarning):
        t = torch.cov(torch.ones(2, 1))
    assert_close(e, t, 0, 0, "cov")
