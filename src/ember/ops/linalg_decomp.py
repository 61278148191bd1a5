"""torch.linalg's inverses and decompositions as ops with their gradients: inv, det, slogdet, solve, cholesky,
qr, eigh, svd (and the top-level det, logdet, slogdet, inverse, cholesky, svd). Functions built from these
(pinv, lstsq, matrix_rank, matrix_power, multi_dot, vecdot, cross, diagonal) are in ``linalg_composite.py``.

Each forward is one ``np.linalg`` call over all batch dims (NumPy's linalg keeps float32 float32); backward
formulas use ember ops, so they are differentiable again and compile mode traces them. qr, eigh and svd have a
sign gauge: as torch's, their gradients are right for losses that do not depend on it, with distinct
eigenvalues / singular values. Singular or indefinite inputs raise ``LinAlgError`` (a RuntimeError), as torch.
"""
import warnings
from collections import namedtuple

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import Op
from .elementwise import mul, neg, where
from .linalg import _mT, matmul
from .rearrange import tril
from .reduction import sum_
from .shape import cat, narrow, reshape, unsqueeze

__all__ = ["det", "logdet", "slogdet", "inverse", "cholesky", "svd", "cross", "matrix_power"]

_LinAlgNpError = np.linalg.LinAlgError


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: the matrix is singular or not positive-definite."""


# ---- named results (torch.return_types) -----------------------------------------------------------------------
def _result(name, fields):
    base = namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"ember.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


SlogdetResult = _result("linalg_slogdet", ["sign", "logabsdet"])
TorchSlogdetResult = _result("slogdet", ["sign", "logabsdet"])
QRResult = _result("linalg_qr", ["Q", "R"])
EighResult = _result("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = _result("linalg_svd", ["U", "S", "Vh"])
TorchSVDResult = _result("svd", ["U", "S", "V"])

# ---- argument checks ------------------------------------------------------------------------------------------
SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def scalar_name(t) -> str:
    return SCALAR_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def check_matrix(a, op, square=True, floating=True, lowp_error=RuntimeError, name="A"):
    """torch's checks for a (batch of) matrix input: a Tensor, >= 2 dims, floating point, square."""
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(a).__name__}")
    if a._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions. (got shape "
                           f"{tuple(a.shape)})")
    if floating:
        kind = a._data.dtype.kind
        if kind != "f":
            if lowp_error is NotImplementedError:
                raise NotImplementedError(f"{op}: not implemented for '{scalar_name(a)}' (input of shape "
                                          f"{tuple(a.shape)})")
            raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {scalar_name(a)}")
        if a._data.dtype == np.float16:
            if lowp_error is NotImplementedError:
                raise NotImplementedError(f"{op}: not implemented for 'Half' (input of shape {tuple(a.shape)})")
            raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")
    if square and a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are {a._data.shape[-2]} by "
                           f"{a._data.shape[-1]} matrices (got shape {tuple(a.shape)})")


def _first_failing(a, fn):
    """Index of the first matrix of the batch ``a`` on which ``fn`` raises NumPy's LinAlgError."""
    for i, m in enumerate(a.reshape((-1,) + a.shape[-2:])):
        try:
            fn(m)
        except _LinAlgNpError:
            return i
    return 0


def _batch_prefix(a, i):
    return f"(Batch element {i}): " if a.ndim > 2 else ""


def _singular(op, a, what):
    i = _first_failing(a, np.linalg.inv)
    return LinAlgError(f"{op}: {_batch_prefix(a, i)}The input matrix is singular, {what} (input of shape "
                       f"{a.shape})")


def _eye(n, like):
    return _make(np.eye(n, dtype=like._data.dtype))


def diag_embed_last(v):
    """A batch of diagonal matrices with the last dim of ``v`` on their diagonals (composite)."""
    return mul(unsqueeze(v, -1), _eye(v._data.shape[-1], v))


def _as_matrix_scalar(x):
    """(...) -> (..., 1, 1), to scale a batch of matrices."""
    return reshape(x, tuple(x._data.shape) + (1, 1))


# ---- inverse --------------------------------------------------------------------------------------------------
def _inv_or_nan(a):
    """Inverse of each matrix in the batch, NaN-filled where a matrix is singular (for backward formulas)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    out = np.empty_like(flat)
    for i, m in enumerate(flat):
        try:
            out[i] = np.linalg.inv(m)
        except _LinAlgNpError:
            out[i] = np.nan
    return out.reshape(a.shape)


class LinalgInvEx(Op):
    """A^{-1}; gradient -A^{-T} g A^{-T}. ``check=False`` (backward formulas) gives NaN for singular A."""

    def forward(ctx, a, check=True):
        try:
            y = np.linalg.inv(a)
        except _LinAlgNpError:
            if check:
                raise _singular("linalg.inv", a, "the inversion could not be completed") from None
            y = _inv_or_nan(a)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return neg(matmul(yt, matmul(g, yt)))


def inv(A):
    """torch.linalg.inv: the inverse of each square matrix (LinAlgError when one is singular)."""
    check_matrix(A, "linalg.inv")
    return LinalgInvEx.apply(A)


def inverse(input):  # noqa: A002 - torch's argument name
    return inv(input)


# ---- determinants ---------------------------------------------------------------------------------------------
def _cofactor(a):
    """det(A) A^{-T}; through the SVD where A is singular (then A^{-1} does not exist but this does)."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.det(a)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
        except _LinAlgNpError:
            pass
        # A = U S Vh: cof(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh
        u, s, vh = np.linalg.svd(a)
        n = s.shape[-1]
        others = np.repeat(s[..., None, :], n, axis=-2)
        others[..., np.arange(n), np.arange(n)] = 1
        sign = np.linalg.det(u) * np.linalg.det(vh)
        return (sign[..., None, None] * np.matmul(u * np.prod(others, -1)[..., None, :], vh)).astype(a.dtype)


class Cofactor(Op):
    """The cofactor matrix det(A) A^{-T}: det's gradient (finite for singular A too)."""

    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _cofactor(a)

    def backward(ctx, g):
        # with B = A^{-T} and cof = det(A) B:  d<g, cof> = <g, B> <cof, dA> - det(A) <B g^T B, dA>
        (a,) = ctx.saved_tensors
        b = _mT(LinalgInvEx.apply(a, check=False))
        d = _as_matrix_scalar(LinalgDet.apply(a))
        gb = sum_(mul(g, b), (-2, -1), keepdim=True)
        return mul(gb, mul(d, b)) - mul(d, matmul(b, matmul(_mT(g), b)))


class LinalgDet(Op):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.linalg.det(a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return mul(_as_matrix_scalar(g), Cofactor.apply(a))


def det(A):
    """torch.linalg.det (batched); its gradient is the cofactor matrix, also for singular A."""
    check_matrix(A, "linalg.det")
    return LinalgDet.apply(A)


class LinalgSlogdet(Op):
    """(sign, log|det|). Only log|det| has a gradient: g A^{-T} (NaN for singular A, as torch)."""

    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return sign, logabs

    def backward(ctx, g_sign, g_logabs):
        if g_logabs is None:
            return None
        (a,) = ctx.saved_tensors
        return mul(_as_matrix_scalar(g_logabs), _mT(LinalgInvEx.apply(a, check=False)))


def _slogdet(A, op, result):
    check_matrix(A, op)
    return result(*LinalgSlogdet.apply(A))


def slogdet(A):
    """torch.slogdet: (sign, logabsdet) of each square matrix."""
    return _slogdet(A, "linalg.slogdet", TorchSlogdetResult)


def linalg_slogdet(A):
    """torch.linalg.slogdet: (sign, logabsdet) of each square matrix."""
    return _slogdet(A, "linalg.slogdet", SlogdetResult)


def logdet(input):  # noqa: A002
    """log(det(A)): NaN where det < 0 and -inf where A is singular, as torch."""
    sign, logabs = _slogdet(input, "logdet", SlogdetResult)
    nan = _make(np.array(np.nan, dtype=input._data.dtype))
    return where(sign < 0, nan, logabs)


# ---- solve ----------------------------------------------------------------------------------------------------
class LinalgSolveEx(Op):
    """X = A^{-1} B for (batches of) matrices B (broadcast batch dims). gB = A^{-T} g, gA = -gB X^T."""

    def forward(ctx, a, b):
        try:
            x = np.linalg.solve(a, b)
        except _LinAlgNpError:
            i = _first_failing(a, np.linalg.inv)
            raise LinAlgError(f"torch.linalg.solve: {_batch_prefix(a, i)}The solver failed because the input "
                              f"matrix is singular (A of shape {a.shape}).") from None
        ctx.save_for_backward(a, x if ctx.needs_grad(0) else None)
        return x

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = LinalgSolveEx.apply(_mT(a), g)
        ga = neg(matmul(gb, _mT(x))) if ctx.next_edges[0] is not None else None
        return ga, gb if ctx.next_edges[1] is not None else None


def solve(A, B, *, left=True):
    """torch.linalg.solve: X with AX = B (``left=False``: XA = B, solved as A^T X^T = B^T). B is a batch of
    vectors when it is 1-D or has A's shape without the last dim, as torch decides."""
    check_matrix(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' must be Tensor, not {type(B).__name__}")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{scalar_name(A)} and B of type {scalar_name(B)} instead")
    sa, sb = A._data.shape, B._data.shape
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and sb == sa[:-1])
    rows, cols = (sb[-1], 1) if vector else (sb[-2] if B._data.ndim > 1 else 1, sb[-1])
    if (left and rows != sa[-1]) or (not left and (vector or cols != sa[-1])):
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} ({sa[-2]}x{sa[-1]} "
                           f"and {rows}x{cols})")
    batch_b = sb[:-1] if vector else sb[:-2]
    try:
        np.broadcast_shapes(sa[:-2], batch_b)
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dims of A {tuple(sa)} and B {tuple(sb)} do not "
                           "broadcast") from None
    if vector:
        return LinalgSolveEx.apply(A, unsqueeze(B, -1))[..., 0]
    if left:
        return LinalgSolveEx.apply(A, B)
    return _mT(LinalgSolveEx.apply(_mT(A), _mT(B)))


# ---- cholesky -------------------------------------------------------------------------------------------------
def _not_positive_definite(op, a, upper):
    i = _first_failing(a, np.linalg.cholesky)
    m = a.reshape((-1,) + a.shape[-2:])[i]
    m = m.T if upper else m
    order = next((k for k in range(1, m.shape[0] + 1) if _fails(np.linalg.cholesky, m[:k, :k])), m.shape[0])
    return LinAlgError(f"{op}: {_batch_prefix(a, i)}The factorization could not be completed because the input is "
                       f"not positive-definite (the leading minor of order {order} is not positive-definite).")


def _fails(fn, m):
    try:
        fn(m)
    except _LinAlgNpError:
        return True
    return False


class LinalgCholeskyEx(Op):
    """L with A = L L^T (``upper``: U with A = U^T U). The gradient assumes a symmetric A and is symmetric:
    gA = L^{-T} P L^{-1} with P the symmetric part of tril(L^T g) (diagonal halved)."""

    def forward(ctx, a, upper, op):
        try:
            out = np.linalg.cholesky(a, upper=upper)
        except _LinAlgNpError:
            raise _not_positive_definite(op, a, upper) from None
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (factor,) = ctx.saved_tensors
        lower, gl = (_mT(factor), _mT(g)) if ctx.upper else (factor, g)
        p = tril(matmul(_mT(lower), gl))
        p = mul(p + _mT(tril(p, -1)), _make(np.array(0.5, dtype=p._data.dtype)))
        linv = LinalgInvEx.apply(lower, check=False)
        return matmul(_mT(linv), matmul(p, linv))


def linalg_cholesky(A, *, upper=False):
    """torch.linalg.cholesky: the lower (``upper=True``: upper) Cholesky factor of each symmetric
    positive-definite matrix; LinAlgError names the first leading minor that is not positive-definite."""
    check_matrix(A, "linalg.cholesky")
    return LinalgCholeskyEx.apply(A, upper=bool(upper), op="linalg.cholesky")


def cholesky(input, upper=False):  # noqa: A002
    """torch.cholesky (deprecated in torch in favour of linalg.cholesky, and warns as torch does)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    check_matrix(input, "cholesky")
    return LinalgCholeskyEx.apply(input, upper=bool(upper), op="cholesky")


# ---- qr -------------------------------------------------------------------------------------------------------
def _copyltu(m):
    """The symmetric matrix with m's lower triangle."""
    return tril(m) + _mT(tril(m, -1))


def _qr_backward_tall(gq, gr, q, r):
    """A = QR with m >= n: gA = (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""
    m = None
    if gr is not None:
        m = matmul(r, _mT(gr))
    if gq is not None:
        qtgq = matmul(_mT(gq), q)
        m = neg(qtgq) if m is None else m - qtgq
    b = matmul(q, _copyltu(m))
    if gq is not None:
        b = b + gq
    return matmul(b, _mT(LinalgInvEx.apply(r, check=False)))


class LinalgQr(Op):
    def forward(ctx, a, mode):
        ctx.mode = mode
        if mode == "r":
            return np.empty((0,), dtype=a.dtype), np.linalg.qr(a, mode="r")
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return q, r

    def backward(ctx, gq, gr):
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        q, r = ctx.saved_tensors
        m, n = q._data.shape[-2], r._data.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gq, gr, q, r)
        # wide: A = [X | Y] with X = QU (square), Y = QV where R = [U | V]
        u, v = narrow(r, -1, 0, m), narrow(r, -1, m, n - m)
        gu = narrow(gr, -1, 0, m) if gr is not None else None
        gv = narrow(gr, -1, m, n - m) if gr is not None else None
        if gv is not None:
            extra = matmul(matmul(q, v), _mT(gv))
            gq = extra if gq is None else gq + extra
        gx = _qr_backward_tall(gq, gu, q, u)
        gy = matmul(q, gv) if gv is not None else _make(np.zeros(v._data.shape[:-2] + (m, n - m), q._data.dtype))
        return cat([gx, gy], -1)


def qr(A, mode="reduced"):
    """torch.linalg.qr: (Q, R) with mode 'reduced', 'complete' or 'r' (then Q is empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    check_matrix(A, "linalg.qr", square=False)
    return QRResult(*LinalgQr.apply(A, mode=mode))


# ---- eigh -----------------------------------------------------------------------------------------------------
class LinalgEigh(Op):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, reading the ``UPLO`` triangle. The
    gradient is symmetric: V (diag(gL) + skew(V^T gV) / E) V^T with E_ij = L_j - L_i."""

    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vt = _mT(v)
        if gv is None:
            return matmul(mul(v, unsqueeze(gw, -2)), vt)
        x = matmul(vt, gv)
        half = _make(np.array(0.5, dtype=x._data.dtype))
        e = unsqueeze(w, -2) - unsqueeze(w, -1) + _eye(w._data.shape[-1], w)  # 1 on the diagonal: skew has 0 there
        inner = mul(x - _mT(x), half) / e
        if gw is not None:
            inner = inner + diag_embed_last(gw)
        return matmul(v, matmul(inner, vt))


def _check_uplo(uplo):
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


def eigh(A, UPLO="L"):  # noqa: N803 - torch's argument name
    """torch.linalg.eigh: (eigenvalues ascending, eigenvectors as columns) of symmetric matrices."""
    uplo = _check_uplo(UPLO)
    check_matrix(A, "linalg.eigh", lowp_error=NotImplementedError)
    return EighResult(*LinalgEigh.apply(A, uplo=uplo))


def eigvalsh(A, UPLO="L"):  # noqa: N803
    """torch.linalg.eigvalsh: the eigenvalues (ascending) of symmetric matrices."""
    uplo = _check_uplo(UPLO)
    check_matrix(A, "linalg.eigh", lowp_error=NotImplementedError)
    return LinalgEigh.apply(A, uplo=uplo)[0]


# ---- svd ------------------------------------------------------------------------------------------------------
class LinalgSvd(Op):
    """A = U diag(S) Vh, singular values descending. The gradient needs distinct singular values; with
    full_matrices only the first min(m, n) columns of U / rows of Vh take part (as torch)."""

    def forward(ctx, a, full_matrices):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.full_matrices = full_matrices
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = s._data.shape[-1]
        if ctx.full_matrices:
            u, vh = narrow(u, -1, 0, k), narrow(vh, -2, 0, k)
            gu = narrow(gu, -1, 0, k) if gu is not None else None
            gvh = narrow(gvh, -2, 0, k) if gvh is not None else None
        m, n = u._data.shape[-2], vh._data.shape[-1]
        if gu is None and gvh is None:
            return matmul(mul(u, unsqueeze(gs, -2)), vh)
        s_row, s_col = unsqueeze(s, -2), unsqueeze(s, -1)  # s_j and s_i of entry (i, j)
        s2 = mul(s, s)
        e = unsqueeze(s2, -2) - unsqueeze(s2, -1) + _eye(k, s)  # s_j^2 - s_i^2; the numerators are 0 on the diagonal
        inner = None
        if gu is not None:
            x = matmul(_mT(u), gu)
            inner = mul(x - _mT(x), s_row)
        if gvh is not None:
            y = matmul(vh, _mT(gvh))
            t = mul(s_col, y - _mT(y))
            inner = t if inner is None else inner + t
        inner = inner / e
        if gs is not None:
            inner = inner + diag_embed_last(gs)
        left = matmul(u, inner)
        if m > k and gu is not None:  # the part of gU outside span(U)
            gus = gu / s_row
            left = left + gus - matmul(u, matmul(_mT(u), gus))
        ga = matmul(left, vh)
        if n > k and gvh is not None:  # the part of gVh outside span(Vh)
            sgv = gvh / s_col
            ga = ga + matmul(u, sgv - matmul(matmul(sgv, _mT(vh)), vh))
        return ga


def linalg_svd(A, full_matrices=True):
    """torch.linalg.svd: (U, S, Vh) with S descending."""
    check_matrix(A, "linalg.svd", square=False, lowp_error=NotImplementedError)
    return SVDResult(*LinalgSvd.apply(A, full_matrices=bool(full_matrices)))


def svd(input, some=True, compute_uv=True):  # noqa: A002
    """torch.svd: (U, S, V) with V (not Vh); ``some=True`` gives the reduced factors. With
    ``compute_uv=False``, U and V are zero-filled (m, m) and (n, n) matrices, as torch."""
    if isinstance(input, Tensor) and input._data.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has {input._data.ndim} "
                           "dimensions instead")
    check_matrix(input, "linalg.svd", square=False, lowp_error=NotImplementedError)
    if not compute_uv:
        from .linalg import svdvals

        batch, (m, n) = input._data.shape[:-2], input._data.shape[-2:]
        dt = input._data.dtype
        return TorchSVDResult(_make(np.zeros(batch + (m, m), dt)), svdvals(input),
                              _make(np.zeros(batch + (n, n), dt)))
    u, s, vh = LinalgSvd.apply(input, full_matrices=not some)
    return TorchSVDResult(u, s, _mT(vh))


from .linalg_composite import cross, matrix_power  # noqa: E402  (top-level names defined there)
