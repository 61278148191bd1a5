"""ember.linalg's inverses, decompositions and their composites against torch.linalg: one table line per case
(forward + gradients in float32 and float64, numerical gradcheck in float64), errors with torch's exception
types, batch shapes (hypothesis) and compile-mode tracing.

qr, eigh and svd are unique only up to a sign per column, so their cases compare sign-normalised factors
(gauge-invariant functions, as torch's own tests do); their gradients flow through all factors.
"""
import types
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(t=ember, linalg=ember.linalg)
TH = types.SimpleNamespace(t=torch, linalg=torch.linalg)
DTYPES = [np.float32, np.float64]


# ---- input makers: (rng, dtype) -> list of arrays ---------------------------------------------------------------
def general(*shapes):
    """Well-conditioned square matrices (random + 3 I) and any other arrays as plain random values."""
    def make(rng, dt):
        out = []
        for s in shapes:
            a = rng.standard_normal(s)
            if len(s) >= 2 and s[-1] == s[-2]:
                a = a + 3 * np.eye(s[-1])
            out.append(a.astype(dt))
        return out
    return make


def randn(*shapes):
    return lambda rng, dt: [rng.standard_normal(s).astype(dt) for s in shapes]


def spd(shape):
    """Symmetric positive-definite matrices."""
    def make(rng, dt):
        x = rng.standard_normal(shape)
        return [(x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dt)]
    return make


def sym(shape):
    def make(rng, dt):
        x = rng.standard_normal(shape)
        return [((x + np.swapaxes(x, -1, -2)) / 2).astype(dt)]
    return make


def fixed(*arrays):
    return lambda rng, dt: [np.asarray(a, dtype=dt) for a in arrays]


# ---- gauge-invariant views of the decompositions ------------------------------------------------------------------
def qr_normalised(m, a, mode="reduced"):
    """Q, R with R's diagonal made positive (the unique QR)."""
    q, r = m.linalg.qr(a, mode=mode)
    k = min(a.shape[-2], a.shape[-1])
    sign = m.t.sign(m.linalg.diagonal(r[..., :k, :k]))
    return q[..., :k] * sign.unsqueeze(-2), r[..., :k, :] * sign.unsqueeze(-1)


def eigh_normalised(m, a, uplo="L"):
    w, v = m.linalg.eigh(a, UPLO=uplo)
    return w, v * m.t.sign(v[..., :1, :])


def svd_normalised(m, a, full_matrices=False):
    """U, S, Vh with the first row of U made positive (a sign flip of u_i pairs with v_i)."""
    u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    sign = m.t.sign(u[..., :1, :])
    return u * sign, s, vh * sign.mT


def sym_of(fn):
    """fn applied to the symmetric part (for gradcheck: eigh/cholesky read one triangle, torch's gradient is the
    symmetric one)."""
    return lambda m, x, *rest: fn(m, (x + x.mT) / 2, *rest)


class Case:
    def __init__(self, id, fn, make, rtol=None, grad=True, gradcheck=True, gc_fn=None):
        self.id, self.fn, self.make, self.rtol, self.grad, self.gradcheck = id, fn, make, rtol, grad, gradcheck
        self.gc_fn = gc_fn or fn


SING = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]  # rank 2
CASES = [
    Case("inv", lambda m, a: m.linalg.inv(a), general((3, 3))),
    Case("inv_batched", lambda m, a: m.linalg.inv(a), general((2, 3, 4, 4))),
    Case("inverse", lambda m, a: m.t.inverse(a), general((2, 3, 3))),
    Case("Tensor.inverse", lambda m, a: a.inverse(), general((3, 3))),
    Case("det", lambda m, a: m.linalg.det(a), general((4, 4))),
    Case("det_batched", lambda m, a: m.linalg.det(a), general((2, 3, 3))),
    Case("det_rank2", lambda m, a: m.linalg.det(a), fixed(SING), gradcheck=False),
    Case("det_zero", lambda m, a: m.linalg.det(a), fixed(np.zeros((3, 3))), gradcheck=False),
    Case("torch.det", lambda m, a: m.t.det(a), general((3, 3))),
    Case("Tensor.det", lambda m, a: a.det(), general((2, 2, 2))),
    Case("slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), randn((2, 4, 4))),
    Case("torch.slogdet", lambda m, a: tuple(m.t.slogdet(a)), general((3, 3))),
    Case("Tensor.slogdet", lambda m, a: tuple(a.slogdet()), general((3, 3))),
    Case("logdet", lambda m, a: m.t.logdet(a), spd((2, 3, 3))),
    Case("logdet_negative_det_is_nan", lambda m, a: m.t.logdet(a), fixed(-np.eye(3)), grad=False, gradcheck=False),
    Case("Tensor.logdet", lambda m, a: a.logdet(), spd((3, 3))),
    Case("solve_matrix", lambda m, a, b: m.linalg.solve(a, b), general((3, 3), (3, 2))),
    Case("solve_vector", lambda m, a, b: m.linalg.solve(a, b), general((3, 3), (3,))),
    Case("solve_batched_vector", lambda m, a, b: m.linalg.solve(a, b), general((2, 3, 3), (2, 3))),
    Case("solve_broadcast_vector", lambda m, a, b: m.linalg.solve(a, b), general((2, 3, 3), (3,))),
    Case("solve_broadcast_batch", lambda m, a, b: m.linalg.solve(a, b), general((2, 1, 3, 3), (4, 3, 2))),
    Case("solve_left_false", lambda m, a, b: m.linalg.solve(a, b, left=False), general((2, 3, 3), (2, 4, 3))),
    Case("cholesky", lambda m, a: m.linalg.cholesky(a), spd((4, 4)), gc_fn=sym_of(lambda m, a: m.linalg.cholesky(a))),
    Case("cholesky_upper", lambda m, a: m.linalg.cholesky(a, upper=True), spd((2, 3, 3)),
         gc_fn=sym_of(lambda m, a: m.linalg.cholesky(a, upper=True))),
    Case("torch.cholesky", lambda m, a: m.t.cholesky(a), spd((3, 3)), gc_fn=sym_of(lambda m, a: m.t.cholesky(a))),
    Case("Tensor.cholesky_upper", lambda m, a: a.cholesky(upper=True), spd((3, 3)),
         gc_fn=sym_of(lambda m, a: a.cholesky(upper=True))),
    Case("qr_square", qr_normalised, randn((4, 4))),
    Case("qr_tall_batched", qr_normalised, randn((2, 5, 3))),
    Case("qr_wide", qr_normalised, randn((3, 5))),
    Case("qr_complete_wide", lambda m, a: qr_normalised(m, a, "complete"), randn((2, 3, 4))),
    Case("qr_reconstruct", lambda m, a: m.t.matmul(*m.linalg.qr(a)), randn((5, 3))),
    Case("qr_complete_tall_forward", lambda m, a: tuple(t.abs() for t in m.linalg.qr(a, mode="complete")),
         randn((4, 2)), grad=False, gradcheck=False),
    Case("qr_r_forward", lambda m, a: m.linalg.qr(a, mode="r")[1].abs(), randn((2, 4, 3)), grad=False,
         gradcheck=False),
    Case("eigh", eigh_normalised, sym((4, 4)), gc_fn=sym_of(eigh_normalised)),
    Case("eigh_batched_upper", lambda m, a: eigh_normalised(m, a, "U"), sym((2, 3, 3)),
         gc_fn=sym_of(lambda m, a: eigh_normalised(m, a, "U"))),
    Case("eigh_projector", lambda m, a: (lambda v: (v[..., :2] ** 2).sum())(m.linalg.eigh(a)[1]), sym((4, 4)),
         gc_fn=sym_of(lambda m, a: (m.linalg.eigh(a)[1][..., :2] ** 2).sum())),
    Case("eigvalsh", lambda m, a: m.linalg.eigvalsh(a), sym((2, 4, 4)), gc_fn=sym_of(lambda m, a: m.linalg.eigvalsh(a))),
    Case("svd_square", svd_normalised, randn((4, 4))),
    Case("svd_tall_batched", svd_normalised, randn((2, 5, 3))),
    Case("svd_wide", svd_normalised, randn((3, 5))),
    Case("svd_full_tall", lambda m, a: svd_normalised(m, a, True), randn((5, 3))),
    Case("svd_full_wide", lambda m, a: svd_normalised(m, a, True), randn((2, 3, 4))),
    Case("svd_loss_u", lambda m, a: (m.linalg.svd(a, full_matrices=False)[0][..., :2] ** 2).sum(-1),
         randn((5, 3))),
    Case("svd_reconstruct", lambda m, a: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ vh)(
        *m.linalg.svd(a, full_matrices=False)), randn((3, 4))),
    Case("torch.svd", lambda m, a: (lambda u, s, v: (u * s.unsqueeze(-2)) @ v.mT)(*m.t.svd(a)), randn((2, 4, 3))),
    Case("Tensor.svd_values", lambda m, a: a.svd()[1], randn((4, 3))),
    Case("svd_compute_uv_false", lambda m, a: tuple(m.t.svd(a, compute_uv=False)), randn((2, 3, 2)), grad=False,
         gradcheck=False),
    Case("pinv_tall", lambda m, a: m.linalg.pinv(a), randn((5, 3)), rtol=1e-4),
    Case("pinv_wide_batched", lambda m, a: m.linalg.pinv(a), randn((2, 3, 4)), rtol=1e-4),
    # torch's pinv gradient is the general (non-symmetric) one: compare the gradients of the symmetric part
    Case("pinv_hermitian", sym_of(lambda m, a: m.linalg.pinv(a, hermitian=True)), sym((4, 4)), rtol=1e-4),
    # with singular values cut off, torch's gradient is that of a fixed-rank pinv; ember's (through the SVD) is the
    # derivative of the truncated pinv itself (gradcheck), so only the values are compared with torch
    Case("pinv_rtol", lambda m, a: m.linalg.pinv(a, rtol=0.05), fixed(np.diag([10.0, 1.0, 0.1])), grad=False),
    Case("pinv_atol", lambda m, a: m.linalg.pinv(a, atol=0.5), fixed(np.diag([10.0, 1.0, 0.1])), grad=False),
    Case("pinv_rcond_positional", lambda m, a: m.linalg.pinv(a, 0.05), fixed(np.diag([10.0, 1.0, 0.1])), grad=False),
    Case("pinv_atol_and_rtol", lambda m, a: m.linalg.pinv(a, atol=0.05, rtol=0.5), fixed(np.diag([10.0, 1.0, 0.1])),
         grad=False),
    Case("pinv_atol_tensor", lambda m, a, t: m.linalg.pinv(a, atol=t), fixed(np.diag([10.0, 1.0, 0.1]), 0.5),
         grad=False, gradcheck=False),
    Case("lstsq_tall", lambda m, a, b: m.linalg.lstsq(a, b).solution, randn((5, 3), (5, 2)), rtol=1e-4),
    Case("lstsq_vector", lambda m, a, b: m.linalg.lstsq(a, b).solution, randn((2, 5, 3), (2, 5)), rtol=1e-4),
    Case("lstsq_wide_min_norm", lambda m, a, b: m.linalg.lstsq(a, b).solution, randn((2, 4), (2, 2)), rtol=1e-4),
    Case("lstsq_broadcast", lambda m, a, b: m.linalg.lstsq(a, b).solution, randn((1, 5, 3), (3, 5, 2)), rtol=1e-4),
    Case("lstsq_gelsd_all_fields", lambda m, a, b: tuple(m.linalg.lstsq(a, b, driver="gelsd")), randn((5, 3), (5, 2)),
         rtol=1e-4, grad=False, gradcheck=False),
    Case("lstsq_gels_fields", lambda m, a, b: tuple(m.linalg.lstsq(a, b, driver="gels")), randn((2, 5, 3), (2, 5, 2)),
         rtol=1e-4, grad=False, gradcheck=False),
    Case("lstsq_gelsy_fields", lambda m, a, b: tuple(m.linalg.lstsq(a, b)), randn((5, 3), (5,)), rtol=1e-4,
         grad=False, gradcheck=False),
    Case("matrix_rank", lambda m, a: m.linalg.matrix_rank(a), fixed(np.stack([np.ones((3, 3)), np.eye(3)])),
         grad=False, gradcheck=False),
    Case("matrix_rank_tol", lambda m, a: m.linalg.matrix_rank(a, tol=0.05), fixed(np.diag([10.0, 1.0, 0.1])),
         grad=False, gradcheck=False),
    Case("matrix_rank_rtol", lambda m, a: m.linalg.matrix_rank(a, rtol=0.05), fixed(np.diag([10.0, 1.0, 0.1])),
         grad=False, gradcheck=False),
    Case("matrix_rank_hermitian", lambda m, a: m.linalg.matrix_rank(a, hermitian=True, atol=0.5),
         fixed(np.diag([-10.0, 1.0, 0.1])), grad=False, gradcheck=False),
    Case("matrix_power_3", lambda m, a: m.linalg.matrix_power(a, 3), randn((2, 3, 3)), rtol=1e-4),
    Case("matrix_power_5", lambda m, a: m.linalg.matrix_power(a, 5), randn((3, 3)), rtol=1e-4),
    Case("matrix_power_1", lambda m, a: m.linalg.matrix_power(a, 1), randn((3, 3))),
    Case("matrix_power_0", lambda m, a: m.linalg.matrix_power(a, 0), randn((2, 3, 3))),
    Case("matrix_power_neg2", lambda m, a: m.linalg.matrix_power(a, -2), general((3, 3)), rtol=1e-4),
    Case("Tensor.matrix_power", lambda m, a: a.matrix_power(2), randn((3, 3))),
    Case("linalg.cross", lambda m, a, b: m.linalg.cross(a, b), randn((4, 3), (4, 3))),
    Case("linalg.cross_dim_broadcast", lambda m, a, b: m.linalg.cross(a, b, dim=1), randn((2, 3, 4), (1, 3, 4))),
    Case("torch.cross_default_dim", lambda m, a, b: m.t.cross(a, b), randn((3, 4), (3, 4))),
    Case("torch.cross_default_dim_in_input", lambda m, a, b: m.t.cross(a, b), randn((3, 1), (3, 3))),
    Case("Tensor.cross", lambda m, a, b: a.cross(b, dim=-1), randn((2, 3), (2, 3))),
    Case("vecdot", lambda m, a, b: m.linalg.vecdot(a, b), randn((2, 4), (4,))),
    Case("vecdot_dim", lambda m, a, b: m.linalg.vecdot(a, b, dim=0), randn((3, 2), (3, 1))),
    Case("multi_dot_3", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), randn((2, 5), (5, 3), (3, 4)), rtol=1e-4),
    Case("multi_dot_vectors", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), randn((4,), (4, 6), (6, 2), (2,)),
         rtol=1e-4),
    Case("multi_dot_first_vector", lambda m, a, b: m.linalg.multi_dot((a, b)), randn((3,), (3, 2))),
    Case("diagonal", lambda m, a: m.linalg.diagonal(a), randn((2, 3, 4))),
    Case("diagonal_offset", lambda m, a: m.linalg.diagonal(a, offset=1, dim1=0, dim2=2), randn((3, 2, 4))),
    Case("diagonal_negative_offset", lambda m, a: m.linalg.diagonal(a, offset=-2), randn((4, 3))),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_torch(case, dtype):
    arrays = case.make(np.random.default_rng(0), dtype)
    # LAPACK's float32 kernels (OpenBLAS under NumPy, MKL under torch) round differently
    rtol = (case.rtol or 3e-5) if dtype == np.float32 else 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch.cholesky / torch.cross(dim=None) deprecations
        check_op(lambda *xs: case.fn(EM, *xs), lambda *xs: case.fn(TH, *xs), *arrays, grad=case.grad, rtol=rtol,
                 atol=rtol)


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda c: c.id)
def test_gradcheck(case):
    arrays = case.make(np.random.default_rng(1), np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert gradcheck(lambda *xs: case.gc_fn(EM, *xs), *arrays)


@pytest.mark.parametrize("fn", [lambda a: ember.linalg.inv(a), lambda a: ember.linalg.det(a),
                                lambda a: ember.linalg.slogdet(a).logabsdet,
                                lambda a: ember.linalg.solve(a, a[..., 0])],
                         ids=["inv", "det", "slogdet", "solve"])
def test_double_backward(fn):
    a = np.random.default_rng(2).standard_normal((3, 3)) + 3 * np.eye(3)
    assert ember.autograd.gradgradcheck(fn, (ember.tensor(a, requires_grad=True),))


def test_float32_stays_float32():
    a = ember.tensor(np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32) + 3 * np.eye(3, dtype=np.float32))
    outs = [ember.linalg.inv(a), ember.linalg.det(a), *ember.linalg.slogdet(a), ember.linalg.solve(a, a),
            ember.linalg.cholesky(a @ a.mT), *ember.linalg.qr(a), *ember.linalg.eigh(a), *ember.linalg.svd(a),
            ember.linalg.pinv(a), ember.linalg.lstsq(a, a).solution, ember.linalg.matrix_power(a, -2)]
    assert all(o.dtype == ember.float32 for o in outs)


def test_results_are_named_tuples_with_torch_fields():
    a = ember.tensor(np.diag([2.0, 3.0]))
    assert ember.linalg.slogdet(a).logabsdet.item() == pytest.approx(np.log(6.0))
    assert ember.slogdet(a).sign.item() == 1.0
    assert ember.linalg.qr(a).R.shape == (2, 2) and ember.linalg.eigh(a).eigenvalues.shape == (2,)
    assert ember.linalg.svd(a).Vh.shape == (2, 2) and ember.svd(a).V.shape == (2, 2)
    r = ember.linalg.lstsq(a, a)
    assert (r.solution.shape, r.residuals.shape, r.rank.dtype, r.singular_values.shape) == ((2, 2), (0,), ember.int64,
                                                                                           (0,))
    assert "linalg_slogdet" in repr(ember.linalg.slogdet(a))


def test_grad_fn_names_follow_torch():
    a = ember.tensor(np.eye(3) * 2, requires_grad=True)
    for e, t in [(ember.linalg.inv(a), "LinalgInvExBackward0"), (ember.linalg.det(a), "LinalgDetBackward0"),
                 (ember.linalg.svd(a)[0], "LinalgSvdBackward0"), (ember.linalg.qr(a)[1], "LinalgQrBackward0"),
                 (ember.linalg.eigh(a)[1], "LinalgEighBackward0"), (ember.linalg.cholesky(a), "LinalgCholeskyExBackward0"),
                 (ember.linalg.diagonal(a), "DiagonalBackward0"), (ember.linalg.cross(a, a), "LinalgCrossBackward0")]:
        assert e.grad_fn.name() == t


def test_linalg_error_is_a_runtime_error():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


# ---- errors: the same exception type as torch, ember's message names the op ------------------------------------
Z = np.zeros
ERRORS = [
    ("inv_singular", lambda m, a: m.linalg.inv(a), [Z((3, 3))], "LinAlgError", "linalg.inv"),
    ("inv_singular_batch", lambda m, a: m.linalg.inv(a), [np.stack([np.eye(2), Z((2, 2))])], "LinAlgError",
     r"Batch element 1"),
    ("inv_not_square", lambda m, a: m.linalg.inv(a), [Z((2, 3))], RuntimeError, "linalg.inv: A must be batches of square"),
    ("inv_1d", lambda m, a: m.linalg.inv(a), [Z(3)], RuntimeError, "linalg.inv: The input tensor A must have at least 2"),
    ("inv_int", lambda m, a: m.linalg.inv(a), [Z((3, 3), np.int64)], RuntimeError, "linalg.inv: Expected a floating"),
    ("inverse_singular", lambda m, a: m.t.inverse(a), [Z((3, 3))], "LinAlgError", "linalg.inv"),
    ("det_not_square", lambda m, a: m.linalg.det(a), [Z((2, 4, 3))], RuntimeError, r"linalg.det: .*4 by 3"),
    ("det_1d", lambda m, a: m.t.det(a), [Z(3)], RuntimeError, "linalg.det"),
    ("slogdet_not_square", lambda m, a: m.linalg.slogdet(a), [Z((2, 3))], RuntimeError, "linalg.slogdet"),
    ("logdet_int", lambda m, a: m.t.logdet(a), [Z((3, 3), np.int64)], RuntimeError, "logdet"),
    ("solve_singular", lambda m, a, b: m.linalg.solve(a, b), [Z((3, 3)), Z(3)], "LinAlgError", "linalg.solve"),
    ("solve_shapes", lambda m, a, b: m.linalg.solve(a, b), [np.eye(3), Z((4, 2))], RuntimeError,
     r"linalg.solve: Incompatible shapes .* \(3x3 and 4x2\)"),
    ("solve_not_square", lambda m, a, b: m.linalg.solve(a, b), [Z((2, 3)), Z(2)], RuntimeError, "linalg.solve"),
    ("solve_dtypes", lambda m, a, b: m.linalg.solve(a, b), [np.eye(3, dtype=np.float32), Z(3)], RuntimeError,
     "linalg.solve: Expected A and B to have the same dtype"),
    ("solve_left_false_vector", lambda m, a, b: m.linalg.solve(a, b, left=False), [np.eye(3), Z(3)], RuntimeError,
     "XA = B"),
    ("cholesky_not_pd", lambda m, a: m.linalg.cholesky(a), [np.diag([1.0, -1.0, 1.0])], "LinAlgError",
     "leading minor of order 2 is not positive-definite"),
    ("cholesky_batch", lambda m, a: m.linalg.cholesky(a), [np.stack([np.eye(2), -np.eye(2)])], "LinAlgError",
     r"Batch element 1.*order 1"),
    ("cholesky_not_square", lambda m, a: m.linalg.cholesky(a), [Z((2, 3))], RuntimeError, "linalg.cholesky"),
    ("torch.cholesky_not_pd", lambda m, a: m.t.cholesky(a), [-np.eye(3)], "LinAlgError", "cholesky"),
    ("qr_1d", lambda m, a: m.linalg.qr(a), [Z(3)], RuntimeError, "linalg.qr"),
    ("qr_mode", lambda m, a: m.linalg.qr(a, mode="x"), [Z((3, 2))], RuntimeError, "qr received unrecognized mode"),
    ("qr_int", lambda m, a: m.linalg.qr(a), [Z((3, 3), np.int64)], RuntimeError, "linalg.qr"),
    ("eigh_not_square", lambda m, a: m.linalg.eigh(a), [Z((2, 3))], RuntimeError, "linalg.eigh"),
    ("eigh_uplo", lambda m, a: m.linalg.eigh(a, UPLO="X"), [np.eye(3)], RuntimeError, "UPLO"),
    ("eigh_int", lambda m, a: m.linalg.eigh(a), [Z((3, 3), np.int64)], NotImplementedError, "linalg.eigh"),
    ("eigvalsh_1d", lambda m, a: m.linalg.eigvalsh(a), [Z(3)], RuntimeError, "linalg.eigh"),
    ("svd_1d", lambda m, a: m.linalg.svd(a), [Z(3)], RuntimeError, "linalg.svd"),
    ("torch.svd_1d", lambda m, a: m.t.svd(a), [Z(3)], RuntimeError, "linalg.svd"),
    ("svd_int", lambda m, a: m.linalg.svd(a), [Z((3, 3), np.int64)], RuntimeError, "linalg.svd"),
    ("pinv_1d", lambda m, a: m.linalg.pinv(a), [Z(3)], RuntimeError, "linalg.pinv"),
    ("pinv_int", lambda m, a: m.linalg.pinv(a), [Z((3, 3), np.int64)], RuntimeError, "linalg.pinv"),
    ("matrix_rank_1d", lambda m, a: m.linalg.matrix_rank(a), [Z(3)], RuntimeError, "matrix_rank"),
    ("matrix_rank_int", lambda m, a: m.linalg.matrix_rank(a), [Z((3, 3), np.int64)], RuntimeError, "float and double"),
    ("lstsq_rows", lambda m, a, b: m.linalg.lstsq(a, b), [Z((4, 3)), Z((5, 2))], RuntimeError,
     r"lstsq: input.size\(-2\) should match other.size\(-2\)"),
    ("lstsq_driver", lambda m, a, b: m.linalg.lstsq(a, b, driver="x"), [Z((3, 3)), Z(3)], RuntimeError, "driver"),
    ("lstsq_1d", lambda m, a, b: m.linalg.lstsq(a, b), [Z(3), Z(3)], RuntimeError, "lstsq"),
    ("lstsq_dtypes", lambda m, a, b: m.linalg.lstsq(a, b), [Z((3, 3), np.float32), Z(3)], RuntimeError, "lstsq"),
    ("matrix_power_not_square", lambda m, a: m.linalg.matrix_power(a, 2), [Z((2, 3))], RuntimeError,
     "linalg.matrix_power"),
    ("matrix_power_float_n", lambda m, a: m.linalg.matrix_power(a, 2.0), [Z((3, 3))], TypeError, "matrix_power"),
    ("matrix_power_singular_negative", lambda m, a: m.linalg.matrix_power(a, -1), [Z((3, 3))], "LinAlgError",
     "linalg.inv"),
    ("matrix_power_int_negative", lambda m, a: m.linalg.matrix_power(a, -1), [Z((3, 3), np.int64)], RuntimeError,
     "linalg.inv"),
    ("cross_size", lambda m, a, b: m.linalg.cross(a, b), [Z((3, 2)), Z((3, 2))], RuntimeError,
     "linalg.cross: inputs dimension -1 must have length 3"),
    ("cross_ndim", lambda m, a, b: m.linalg.cross(a, b), [Z((2, 3)), Z(3)], RuntimeError, "same number of dimensions"),
    ("cross_broadcast", lambda m, a, b: m.linalg.cross(a, b), [Z((2, 3)), Z((4, 3))], RuntimeError, "linalg.cross"),
    ("cross_dtypes", lambda m, a, b: m.linalg.cross(a, b), [Z(3, np.float32), Z(3)], RuntimeError, "linalg.cross"),
    ("torch.cross_no_size_3", lambda m, a, b: m.t.cross(a, b), [Z((4, 2)), Z((4, 2))], RuntimeError,
     "no dimension of size 3"),
    ("vecdot_dtypes", lambda m, a, b: m.linalg.vecdot(a, b), [Z(3, np.float32), Z(3)], RuntimeError, "linalg.vecdot"),
    ("vecdot_int", lambda m, a, b: m.linalg.vecdot(a, b), [Z(3, np.int64), Z(3, np.int64)], RuntimeError,
     "linalg.vecdot"),
    ("vecdot_shapes", lambda m, a, b: m.linalg.vecdot(a, b), [Z((2, 3)), Z((4, 3))], RuntimeError, "linalg.vecdot"),
    ("multi_dot_one", lambda m, a: m.linalg.multi_dot([a]), [Z((3, 3))], RuntimeError, "multi_dot"),
    ("multi_dot_3d", lambda m, a, b: m.linalg.multi_dot([a, b]), [Z((3, 3, 3)), Z((3, 3))], RuntimeError,
     "multi_dot\\(\\): the first tensor must be 1D or 2D"),
    ("multi_dot_middle_1d", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [Z((3, 3)), Z(3), Z((3, 3))],
     RuntimeError, "multi_dot\\(\\): tensor 1 must be 2D"),
    ("multi_dot_shapes", lambda m, a, b: m.linalg.multi_dot([a, b]), [Z((3, 4)), Z((3, 3))], RuntimeError,
     r"multi_dot\(\): tensors 0 and 1 with shapes \[3, 4\] and \[3, 3\] cannot be multiplied"),
    ("multi_dot_dtypes", lambda m, a, b: m.linalg.multi_dot([a, b]), [Z((3, 3), np.float32), Z((3, 3))],
     RuntimeError, "multi_dot"),
    ("diagonal_1d", lambda m, a: m.linalg.diagonal(a), [Z(3)], IndexError, "Dimension out of range"),
    ("diagonal_same_dims", lambda m, a: m.linalg.diagonal(a, dim1=0, dim2=-2), [Z((2, 3))], RuntimeError,
     "diagonal dimensions cannot be identical"),
]


@pytest.mark.parametrize("fn,arrays,exc,match", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch_type(fn, arrays, exc, match):
    em_exc, th_exc = (ember.linalg.LinAlgError, torch.linalg.LinAlgError) if exc == "LinAlgError" else (exc, exc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(th_exc):
            fn(TH, *[torch.tensor(a) for a in arrays])
        with pytest.raises(em_exc, match=match):
            fn(EM, *[ember.tensor(a) for a in arrays])


@pytest.mark.parametrize("mode,shape,match", [("r", (4, 3), "mode='r'"), ("complete", (4, 3), "mode='complete'")])
def test_qr_backward_errors_match_torch(mode, shape, match):
    a = np.random.default_rng(0).standard_normal(shape)
    for m, lib in ((TH, torch), (EM, ember)):
        x = lib.tensor(a, requires_grad=True)
        q, r = m.linalg.qr(x, mode=mode)
        with pytest.raises(RuntimeError, match=match):
            r.sum().backward()


def test_torch_cross_without_dim_warns():
    # torch warns once per process (TORCH_WARN_ONCE), so only ember's warning can be checked here
    a = np.ones((3, 4))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        ember.cross(ember.tensor(a), ember.tensor(a))


def test_slogdet_of_singular_matrix_and_its_gradient_is_nan():
    for m, lib in ((TH, torch), (EM, ember)):
        x = lib.zeros((3, 3), dtype=lib.float64, requires_grad=True)
        sign, logabs = m.linalg.slogdet(x)
        assert sign.item() == 0 and logabs.item() == -np.inf
        logabs.backward()
        assert not np.isfinite(x.grad.numpy()).all()


# ---- batch shapes (hypothesis) ------------------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), n=st.integers(1, 4), k=st.integers(1, 3), seed=st.integers(0, 99))
def test_batched_shapes_match_torch(batch, n, k, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(tuple(batch) + (n, n)) + 3 * np.eye(n)
    b = rng.standard_normal(tuple(batch) + (n, k))
    tall = rng.standard_normal(tuple(batch) + (n + k, n))
    spd_a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    ops = [
        (lambda m, x: m.linalg.inv(x), a), (lambda m, x: m.linalg.det(x), a),
        (lambda m, x: m.linalg.slogdet(x)[1], a), (lambda m, x: m.linalg.cholesky(x), spd_a),
        (lambda m, x: m.linalg.eigvalsh(x), spd_a), (lambda m, x: m.linalg.svd(x)[1], tall),
        (lambda m, x: m.linalg.pinv(x), tall), (lambda m, x: m.linalg.matrix_rank(x), tall),
        (lambda m, x: qr_normalised(m, x)[1], tall), (lambda m, x: m.linalg.matrix_power(x, 2), a),
    ]
    for fn, x in ops:
        e, t = fn(EM, ember.tensor(x)), fn(TH, torch.tensor(x))
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-7, atol=1e-9)
    e = ember.linalg.solve(ember.tensor(a), ember.tensor(b))
    np.testing.assert_allclose(e.numpy(), torch.linalg.solve(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-8)


# ---- compile mode traces the ops (no value frozen into the graph) ----------------------------------------------
def _composites(a, b):
    u, s, vh = ember.linalg.svd(a, full_matrices=False)
    return (ember.linalg.inv(a), ember.linalg.det(a), ember.linalg.solve(a, b), ember.linalg.pinv(a),
            ember.linalg.matrix_rank(a), ember.linalg.lstsq(a, b).solution, ember.linalg.matrix_power(a, -2), s,
            ember.linalg.cholesky(a @ a.mT), ember.logdet(a @ a.mT), ember.linalg.cross(a, a.mT, dim=0))


def test_compile_traces_linalg_ops():
    rng = np.random.default_rng(0)
    calls = [[(rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32),
              rng.standard_normal((3, 2)).astype(np.float32)] for _ in range(3)]
    g = ember.compile(_composites, check_trace=True, fallback="error")
    with ember.no_grad():
        for arrays in calls:
            got, want = g(*map(ember.tensor, arrays)), _composites(*map(ember.tensor, arrays))
            for x, y in zip(got, want):
                np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-6, atol=1e-6)
    assert not g._eager


def test_compile_traces_linalg_backward():
    rng = np.random.default_rng(1)
    w = ember.nn.Parameter(ember.tensor((rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)))

    def step(x):
        w.grad = None
        a = w @ x
        loss = (ember.linalg.det(a) + ember.linalg.slogdet(a)[1] + ember.linalg.svd(a)[1].sum()
                + ember.linalg.inv(a).sum() + ember.linalg.solve(a, x).sum() + (ember.linalg.qr(a)[0][:, :2] ** 2).sum()
                + ember.linalg.pinv(a).sum() + ember.linalg.eigvalsh(a @ a.mT).sum()
                + ember.linalg.cholesky(a @ a.mT + ember.eye(3)).sum() + ember.linalg.cross(a, x, dim=0).sum()
                + ember.linalg.matrix_power(a, 3).sum())
        loss.backward()
        return loss.detach(), w.grad.clone()

    g = ember.compile(step, check_trace=True, fallback="error")
    for _ in range(3):
        x = ember.tensor((rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32))
        (loss, grad), (want_loss, want_grad) = g(x), step(x)
        np.testing.assert_allclose(loss.numpy(), want_loss.numpy(), rtol=1e-6)
        np.testing.assert_allclose(grad.numpy(), want_grad.numpy(), rtol=1e-5, atol=1e-6)
    assert not g._eager
