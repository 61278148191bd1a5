"""ops/combine_products.py against torch: tensordot, kron's neighbours baddbmm/addbmm/addmv/addr (and in-place),
chain_matmul, cdist."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from oracle import check_op, gradcheck

DTYPES = [np.float32, np.float64]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


# ---- tensordot ---------------------------------------------------------------------------------------------------
TENSORDOT = [
    ("int2", (2, 3, 4), (3, 4, 5), 2),
    ("int1", (2, 3), (3, 4), 1),
    ("int0_outer", (2, 3), (4,), 0),
    ("int3_full", (2, 3, 4), (2, 3, 4), 3),
    ("lists", (2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),
    ("neg_dims", (2, 3, 4), (3, 4, 5), ([-2, -1], [0, 1])),
    ("empty_lists", (2, 3), (3,), ([], [])),
    ("first_dims", (3, 2), (3, 4), ([0], [0])),
    ("list_of_lists", (2, 3, 4), (4, 2), [[2, 0], [0, 1]]),
    ("size_one_left", (2, 1), (3, 4), ([1], [0])),
    ("size_one_right", (2, 3), (1, 4), ([1], [0])),
    ("zero_size", (2, 0, 3), (0, 3, 4), 2),
    ("scalars", (), (), 0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,sa,sb,dims", TENSORDOT, ids=[c[0] for c in TENSORDOT])
def test_tensordot_matches_torch(name, sa, sb, dims, dtype):
    check_op(lambda a, b: ember.tensordot(a, b, dims), lambda a, b: torch.tensordot(a, b, dims),
             *_arrays([sa, sb], dtype))


@pytest.mark.parametrize("name,sa,sb,dims", TENSORDOT, ids=[c[0] for c in TENSORDOT])
def test_tensordot_gradcheck(name, sa, sb, dims):
    assert gradcheck(lambda a, b: ember.tensordot(a, b, dims), *_arrays([sa, sb], np.float64))


@pytest.mark.parametrize("dims", [lambda lib: lib.tensor(2), lambda lib: lib.tensor([[1, 2], [0, 1]])])
def test_tensordot_dims_as_tensor(dims):
    a, b = _arrays([(2, 3, 4), (3, 4, 5)], np.float64)
    got = ember.tensordot(ember.tensor(a), ember.tensor(b), dims=dims(ember))
    want = torch.tensordot(torch.tensor(a), torch.tensor(b), dims=dims(torch))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_tensordot_integers():
    a, b = np.arange(24).reshape(2, 3, 4), np.arange(60).reshape(3, 4, 5) - 20
    got = ember.tensordot(ember.tensor(a), ember.tensor(b), ([1], [0]))
    want = torch.tensordot(torch.tensor(a), torch.tensor(b), ([1], [0]))
    assert got.dtype == ember.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# ---- beta * input + alpha * product --------------------------------------------------------------------------------
# (id, op, shapes of input and the two operands, beta, alpha)
ADD_PRODUCTS = [
    ("baddbmm", "baddbmm", [(2, 3, 4), (2, 3, 5), (2, 5, 4)], 1, 1),
    ("baddbmm_scaled", "baddbmm", [(3, 4), (2, 3, 5), (2, 5, 4)], 0.5, 2.0),
    ("baddbmm_broadcast", "baddbmm", [(1, 4), (2, 3, 5), (2, 5, 4)], 1, -1),
    ("addbmm", "addbmm", [(3, 4), (2, 3, 5), (2, 5, 4)], 1, 1),
    ("addbmm_scaled", "addbmm", [(4,), (3, 3, 2), (3, 2, 4)], 2, 0.5),
    ("addbmm_no_batches", "addbmm", [(3, 4), (0, 3, 5), (0, 5, 4)], 1.5, 1),
    ("addmv", "addmv", [(3,), (3, 5), (5,)], 1, 1),
    ("addmv_scaled", "addmv", [(1,), (3, 5), (5,)], 0.5, 3),
    ("addmv_0d", "addmv", [(), (3, 2), (2,)], -1, 1),
    ("addr", "addr", [(3, 4), (3,), (4,)], 1, 1),
    ("addr_scaled", "addr", [(4,), (3,), (4,)], 2, -1),
    ("addr_0d", "addr", [(), (2,), (3,)], 1, 0.25),
]


def _call(lib, op, beta, alpha):
    return lambda i, a, b: getattr(lib, op)(i, a, b, beta=beta, alpha=alpha)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,op,shapes,beta,alpha", ADD_PRODUCTS, ids=[c[0] for c in ADD_PRODUCTS])
def test_add_products_match_torch(name, op, shapes, beta, alpha, dtype):
    check_op(_call(ember, op, beta, alpha), _call(torch, op, beta, alpha), *_arrays(shapes, dtype))
    check_op(lambda i, a, b: getattr(i, op)(a, b, beta=beta, alpha=alpha),
             lambda i, a, b: getattr(i, op)(a, b, beta=beta, alpha=alpha), *_arrays(shapes, dtype, seed=2))


@pytest.mark.parametrize("name,op,shapes,beta,alpha", ADD_PRODUCTS, ids=[c[0] for c in ADD_PRODUCTS])
def test_add_products_gradcheck(name, op, shapes, beta, alpha):
    assert gradcheck(_call(ember, op, beta, alpha), *_arrays(shapes, np.float64))


@pytest.mark.parametrize("op,shapes", [(c[1], c[2]) for c in ADD_PRODUCTS if c[2][0] != ()])
def test_beta_zero_ignores_nan_input(op, shapes):
    arrays = _arrays(shapes, np.float32)
    arrays[0][...] = np.nan
    check_op(_call(ember, op, 0, 1.5), _call(torch, op, 0, 1.5), *arrays)


@pytest.mark.parametrize("op,shapes", [("baddbmm", [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
                                       ("addbmm", [(3, 4), (2, 3, 5), (2, 5, 4)]),
                                       ("addmv", [(3,), (3, 5), (5,)]), ("addr", [(3, 4), (3,), (4,)])])
def test_in_place_add_products_match_torch(op, shapes):
    def run(lib, i, a, b):
        out = (i * 1).__getattribute__(op + "_")(a, b, beta=0.5, alpha=2)  # on a non-leaf: recorded for autograd
        return out

    check_op(lambda i, a, b: run(ember, i, a, b), lambda i, a, b: run(torch, i, a, b), *_arrays(shapes, np.float64))


def test_add_products_with_integers_and_bools():
    i, a, b = np.ones((3, 4), np.int64), np.arange(6).reshape(3, 2), np.arange(8).reshape(2, 4)
    for alpha, beta in [(0.5, 1), (1.5, 1), (2.7, -1.5), (1, 0.5)]:  # torch truncates float scalars here
        for op, args in (("baddbmm", (i[None, :, :2], np.arange(12).reshape(2, 3, 2), np.arange(8).reshape(2, 2, 2))),
                         ("addbmm", (i[:, :2], np.arange(12).reshape(2, 3, 2), np.arange(8).reshape(2, 2, 2) - 3)),
                         ("addmv", (i[:, 0], np.arange(6).reshape(3, 2), np.arange(2) - 4))):
            got = getattr(ember, op)(*map(ember.tensor, args), alpha=alpha, beta=beta)
            want = getattr(torch, op)(*map(torch.tensor, args), alpha=alpha, beta=beta)
            assert got.dtype == ember.int64
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    for lib_call in (lambda lib: lib.addmv(lib.tensor(i[:, 0]), lib.tensor(a), lib.tensor(b[:, 0]), beta=2, alpha=3),
                     lambda lib: lib.addr(lib.tensor(i), lib.tensor(a[:, 0]), lib.tensor(b[0]), beta=2, alpha=3),
                     lambda lib: lib.addr(lib.ones(3, 4, dtype=lib.bool), lib.ones(3, dtype=lib.bool),
                                          lib.ones(4, dtype=lib.bool), alpha=2),
                     lambda lib: lib.addr(lib.ones(3, 4, dtype=lib.float64), lib.ones(3), lib.arange(4.0)),
                     lambda lib: lib.addr(lib.ones(3, 4), lib.ones(3, dtype=lib.int64), lib.ones(4))):
        got, want = lib_call(ember), lib_call(torch)
        assert got.dtype.name == str(want.dtype)[6:]
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# ---- chain_matmul --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [[(2, 3), (3, 4)], [(2, 3), (3, 4), (4, 5)], [(3, 3)],
                                    [(5, 1), (1, 6), (6, 2), (2, 7)], [(1, 6), (6, 5), (5, 4), (4, 1)]])
def test_chain_matmul_matches_torch(shapes, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(ember.chain_matmul, torch.chain_matmul, *_arrays(shapes, dtype))
        assert gradcheck(ember.chain_matmul, *_arrays(shapes, np.float64))


def test_chain_matmul_is_deprecated_and_copies_a_single_matrix():
    a = ember.ones(2, 2)
    with pytest.warns(UserWarning, match="deprecated"):
        out = ember.chain_matmul(a)
    out[0, 0] = 5.0
    assert a[0, 0].item() == 1.0


# ---- cdist ------------------------------------------------------------------------------------------------------
CDIST = [
    ((3, 4), (5, 4), 2.0), ((3, 4), (5, 4), 1.0), ((3, 4), (5, 4), 0.0), ((3, 4), (5, 4), np.inf),
    ((3, 4), (5, 4), 3.0), ((3, 4), (5, 4), 0.5), ((3, 4), (5, 4), 1.5), ((2, 3, 4), (2, 5, 4), 2.0),
    ((2, 1, 3, 4), (3, 5, 4), 2.0), ((1, 3, 2), (4, 6, 2), 3.0), ((0, 4), (5, 4), 2.0), ((3, 0), (2, 0), 2.0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("s1,s2,p", CDIST)
def test_cdist_matches_torch(s1, s2, p, dtype):
    check_op(lambda a, b: ember.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), *_arrays([s1, s2], dtype))


@pytest.mark.parametrize("s1,s2,p", [c for c in CDIST if c[2] != 0.0])
def test_cdist_gradcheck(s1, s2, p):
    assert gradcheck(lambda a, b: ember.cdist(a, b, p), *_arrays([s1, s2], np.float64, seed=3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, 1.5, np.inf, 0.0])
def test_cdist_gradient_is_zero_where_points_coincide(p, dtype):
    """Distances of a point set to itself are 0 on the diagonal: torch's gradient there is 0, not NaN."""
    x = _arrays([(4, 3)], dtype)[0]
    x[1, 0] = x[2, 0]  # one coordinate difference of exactly 0 between different points
    check_op(lambda a: ember.cdist(a, a, p), lambda a: torch.cdist(a, a, p), x)


@pytest.mark.parametrize("p", [2.0, 3.0, 1.5, 1.0, np.inf])
def test_cdist_double_backward(p):
    a, b = (ember.tensor(x, requires_grad=True) for x in _arrays([(3, 2), (4, 2)], np.float64, seed=5))
    assert ember.autograd.gradgradcheck(lambda x, y: ember.cdist(x, y, p), (a, b))


@given(p1=st.integers(0, 4), r=st.integers(1, 4), m=st.integers(1, 3), batch=st.lists(st.integers(1, 2), max_size=2),
       p=st.sampled_from([1.0, 2.0, 2.5]))
@settings(max_examples=25, deadline=None)
def test_cdist_shapes_match_torch(p1, r, m, batch, p):
    check_op(lambda a, b: ember.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p),
             *_arrays([tuple(batch) + (p1, m), (r, m)], np.float64))


def test_compiled_cdist_follows_new_inputs():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((3, 2)).astype(np.float32)
    g = ember.compile(lambda x: ember.cdist(x, x * 2), fallback="error")
    with ember.no_grad():
        g(ember.tensor(a))
        g(ember.tensor(a))
        np.testing.assert_array_equal(g(ember.tensor(b)).numpy(), ember.cdist(ember.tensor(b), ember.tensor(b) * 2))
    assert g.n_traces == 1


# ---- errors ------------------------------------------------------------------------------------------------------
ERRORS = [
    ("td_neg", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), -1), RuntimeError, "dims >= 0"),
    ("td_too_many", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), 5), RuntimeError, "tensordot"),
    ("td_sizes", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(4, 2), 1), RuntimeError,
     "tensordot: contracted dimensions need to match"),
    ("td_lengths", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), ([1, 0], [0])), RuntimeError,
     "same length"),
    ("td_dtypes", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2, dtype=lib.float64), 1), RuntimeError,
     "tensordot: both inputs should have same dtype"),
    ("td_dim_range", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), ([5], [0])), IndexError,
     "tensordot"),
    ("td_repeated", lambda lib: lib.tensordot(lib.zeros(3, 3), lib.zeros(3, 3), ([1, 1], [0, 0])), RuntimeError,
     "appears multiple times"),
    ("td_int_pair", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), (1, 0)), TypeError, "tensordot"),
    ("td_float", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), 1.0), RuntimeError, "tensordot"),
    ("td_one_list", lambda lib: lib.tensordot(lib.zeros(2, 3), lib.zeros(3, 2), [[1]]), ValueError, "tensordot"),
    ("baddbmm_dtype", lambda lib: lib.baddbmm(lib.zeros(3, 4, dtype=lib.float64), lib.zeros(2, 3, 5),
                                              lib.zeros(2, 5, 4)), RuntimeError, "baddbmm: input tensors must"),
    ("baddbmm_2d", lambda lib: lib.baddbmm(lib.zeros(3, 4), lib.zeros(3, 5), lib.zeros(2, 5, 4)), RuntimeError,
     "baddbmm: batch1 must be a 3D"),
    ("baddbmm_batch", lambda lib: lib.baddbmm(lib.zeros(3, 4), lib.zeros(2, 3, 5), lib.zeros(1, 5, 4)), RuntimeError,
     "Expected size for first two dimensions"),
    ("baddbmm_input", lambda lib: lib.baddbmm(lib.zeros(3, 3), lib.zeros(2, 3, 5), lib.zeros(2, 5, 4)), RuntimeError,
     "baddbmm: input of shape"),
    ("addr_int_alpha", lambda lib: lib.addr(lib.zeros(3, 2, dtype=lib.int64), lib.zeros(3, dtype=lib.int64),
                                            lib.zeros(2, dtype=lib.int64), alpha=0.5), RuntimeError,
     "addr: For integral input tensors, argument alpha"),
    ("addbmm_batches", lambda lib: lib.addbmm(lib.zeros(3, 4), lib.zeros(2, 3, 5), lib.zeros(1, 5, 4)), RuntimeError,
     "addbmm: batch1 and batch2 must have same number of batches"),
    ("addbmm_inner", lambda lib: lib.addbmm(lib.zeros(3, 4), lib.zeros(2, 3, 5), lib.zeros(2, 3, 4)), RuntimeError,
     "addbmm: Incompatible matrix sizes"),
    ("addbmm_input", lambda lib: lib.addbmm(lib.zeros(2, 3, 4), lib.zeros(2, 3, 5), lib.zeros(2, 5, 4)),
     RuntimeError, "addbmm: input of shape"),
    ("addmv_dims", lambda lib: lib.addmv(lib.zeros(3), lib.zeros(3, 5, 1), lib.zeros(5)), RuntimeError,
     "addmv: vector \\+ matrix @ vector expected"),
    ("addmv_size", lambda lib: lib.addmv(lib.zeros(3), lib.zeros(3, 5), lib.zeros(4)), RuntimeError,
     "addmv: size mismatch"),
    ("addmv_input", lambda lib: lib.addmv(lib.zeros(2), lib.zeros(3, 5), lib.zeros(5)), RuntimeError,
     "addmv: size mismatch"),
    ("addmv_dtype", lambda lib: lib.addmv(lib.zeros(3), lib.zeros(3, 5, dtype=lib.float64), lib.zeros(5)),
     RuntimeError, "addmv: input tensors must have the same dtype"),
    ("addr_2d", lambda lib: lib.addr(lib.zeros(3, 4), lib.zeros(3, 1), lib.zeros(4)), RuntimeError,
     "addr: Expected 1-D argument vec1"),
    ("addr_input", lambda lib: lib.addr(lib.zeros(2, 4), lib.zeros(3), lib.zeros(4)), RuntimeError, "addr: input"),
    ("addr_int_beta", lambda lib: lib.addr(lib.ones(3, 4, dtype=lib.int64), lib.ones(3, dtype=lib.int64),
                                           lib.ones(4, dtype=lib.int64), beta=0.5), RuntimeError,
     "addr: For integral input tensors, argument beta"),
    ("baddbmm_inplace_shape", lambda lib: lib.zeros(3, 4).baddbmm_(lib.zeros(2, 3, 5), lib.zeros(2, 5, 4)),
     RuntimeError, "baddbmm_: Bad in-place call"),
    ("addmv_inplace_shape", lambda lib: lib.zeros(1).addmv_(lib.zeros(4, 5), lib.zeros(5)), RuntimeError,
     "addmv_: Bad in-place call"),
    ("addr_inplace_shape", lambda lib: lib.zeros(4, 1).addr_(lib.zeros(4), lib.zeros(5)), RuntimeError, "addr_"),
    ("leaf_inplace", lambda lib: lib.zeros(3, requires_grad=True).addmv_(lib.zeros(3, 2), lib.zeros(2)),
     RuntimeError, "leaf"),
    ("chain_none", lambda lib: lib.chain_matmul(), RuntimeError, "chain_matmul\\(\\): Expected one or more"),
    ("chain_1d", lambda lib: lib.chain_matmul(lib.zeros(2, 3), lib.zeros(3)), RuntimeError,
     "chain_matmul: Tensor dimension is 1"),
    ("chain_shapes", lambda lib: lib.chain_matmul(lib.zeros(2, 3), lib.zeros(4, 5)), RuntimeError,
     "cannot be multiplied"),
    ("chain_dtypes", lambda lib: lib.chain_matmul(lib.zeros(2, 3), lib.zeros(3, 4, dtype=lib.float64)),
     RuntimeError, "same dtype"),
    ("cdist_1d", lambda lib: lib.cdist(lib.zeros(3), lib.zeros(5, 3)), RuntimeError, "cdist only supports at least 2D"),
    ("cdist_cols", lambda lib: lib.cdist(lib.zeros(3, 4), lib.zeros(5, 3)), RuntimeError,
     "cdist: X1 and X2 must have the same number of columns"),
    ("cdist_neg_p", lambda lib: lib.cdist(lib.zeros(3, 4), lib.zeros(5, 4), p=-1), RuntimeError, "non-negative p"),
    ("cdist_long", lambda lib: lib.cdist(lib.zeros(3, 4).long(), lib.zeros(5, 4).long()), RuntimeError,
     "cdist only supports floating-point dtypes"),
    ("cdist_dtypes", lambda lib: lib.cdist(lib.zeros(3, 4), lib.zeros(5, 4, dtype=lib.float64)), RuntimeError,
     "cdist"),
    ("cdist_mode", lambda lib: lib.cdist(lib.zeros(3, 4), lib.zeros(5, 4), compute_mode="bad"), ValueError,
     "compute_mode"),
    ("cdist_batch", lambda lib: lib.cdist(lib.zeros(2, 3, 4), lib.zeros(3, 5, 4)), RuntimeError, "cdist"),
]


@pytest.mark.parametrize("name,call,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            call(torch)
        with pytest.raises(exc, match=match):
            call(ember)
