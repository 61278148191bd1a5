"""torch.linalg functions built on the decompositions of ``linalg_decomp.py`` and on matmul: pinv, lstsq,
matrix_rank, matrix_power, multi_dot, vecdot; plus the cross product and the diagonal as small ops of their own.

The composites get their gradients from their parts (pinv and lstsq through the SVD, so their gradients want
distinct singular values, as torch's pinv). Tolerances are computed with ember ops from the singular values,
never in NumPy in the wrapper, so compile mode traces them.
"""
import numbers
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import Op
from ._util import wrap_dim
from .elementwise import abs as abs_, cast_np, clone, gt, maximum, mul, reciprocal, where
from .linalg import _C10_NAMES, Svdvals, _mT, _zero_grad_term, matmul
from .linalg_decomp import LinalgEigh, LinalgSvd, _result, check_matrix, inv, scalar_name
from .reduction import amax, sum_
from .shape import narrow, reshape, squeeze, unsqueeze

LstsqResult = _result("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def _scalar(value, like):
    return _make(np.array(value, dtype=like._data.dtype))


# ---- tolerances for pinv / matrix_rank -------------------------------------------------------------------------
def _as_tol(v, s):
    """atol/rtol (a number or a Tensor over the batch dims) as a tensor that broadcasts against (..., k)."""
    if isinstance(v, Tensor):
        return unsqueeze(cast_np(v, s._data.dtype), -1)
    return _scalar(v, s)


def _threshold(s, s_max, atol, rtol, m, n):
    """max(atol, rtol * s_max), torch's defaults: rtol = eps * max(m, n), or 0 when an atol > 0 is given."""
    default = float(np.finfo(s._data.dtype).eps) * max(m, n)
    if rtol is None:
        if atol is None:
            rtol = default
        elif isinstance(atol, Tensor):
            rtol = where(gt(atol, 0), _scalar(0, s), _scalar(default, s))
        else:
            rtol = 0.0 if atol > 0 else default
    tol = mul(_as_tol(rtol, s), s_max)
    return tol if atol is None else maximum(_as_tol(atol, s), tol)


def _safe_reciprocal(values, keep):
    """1 / values where ``keep``, else 0, with a zero (not NaN) gradient where not kept."""
    one, zero = _scalar(1, values), _scalar(0, values)
    return where(keep, reciprocal(where(keep, values, one)), zero)


def _check_pinv_input(A, op):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(A).__name__}")
    if A._data.ndim < 2 or A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}({scalar_name(A)}{{{list(A.shape)}}}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """torch.linalg.pinv through the SVD (``hermitian=True``: through eigh): singular values at or below
    max(atol, rtol * largest) count as zero. ``rcond`` is torch's older name for ``rtol``."""
    _check_pinv_input(A, "linalg.pinv")
    if rcond is not None:
        rtol = rcond
    m, n = A._data.shape[-2:]
    if m == 0 or n == 0:
        return clone(_mT(A))
    if hermitian:
        w, v = LinalgEigh.apply(A, uplo="L")
        w_abs = abs_(w)
        keep = gt(w_abs, _threshold(w, amax(w_abs, -1, keepdim=True), atol, rtol, m, n))
        return matmul(mul(v, unsqueeze(_safe_reciprocal(w, keep), -2)), _mT(v))
    u, s, vh = LinalgSvd.apply(A, full_matrices=False)
    keep = gt(s, _threshold(s, narrow(s, -1, 0, 1), atol, rtol, m, n))
    return matmul(mul(_mT(vh), unsqueeze(_safe_reciprocal(s, keep), -2)), _mT(u))


def pinverse(input, rcond=1e-15):  # noqa: A002 - torch's argument name
    return pinv(input, rtol=rcond)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """torch.linalg.matrix_rank: the number of singular values above max(atol, rtol * largest) (int64).
    ``tol`` is torch's older argument: atol = tol and rtol = 0."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_rank(): argument 'input' must be Tensor, not {type(A).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"linalg.matrix_rank: This function doesn't handle types other than float and double "
                           f"(got {scalar_name(A)})")
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A._data.shape[-2:]
    if m == 0 or n == 0:
        return _make(np.zeros(A._data.shape[:-2], dtype=np.int64))
    s = abs_(LinalgEigh.apply(A, uplo="L")[0]) if hermitian else Svdvals.apply(A)
    return sum_(gt(s, _threshold(s, amax(s, -1, keepdim=True), atol, rtol, m, n)), -1)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """torch.linalg.lstsq: the least-squares (minimum-norm) solution of AX = B through pinv, with torch's
    (solution, residuals, rank, singular_values). As torch on CPU: rank unless driver='gels', singular values
    for 'gelsd'/'gelss', residuals (squared column norms of AX - B) when m > n for every driver but the default
    'gelsy'. Unlike torch, residuals are also returned for rank-deficient A with 'gelsd'/'gelss'."""
    for name, t in (("self", A), ("b", B)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg.lstsq(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B._data.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {scalar_name(A)} and other's dtype {scalar_name(B)}")
    if A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"torch.linalg.lstsq: This function doesn't handle types other than float and double "
                           f"(got {scalar_name(A)})")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B._data.ndim == A._data.ndim - 1
    b = unsqueeze(B, -1) if vector else B
    if A._data.shape[-2] != b._data.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) (input of shape "
                           f"{tuple(A.shape)}, other of shape {tuple(B.shape)})")
    try:
        np.broadcast_shapes(A._data.shape[:-2], b._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"torch.linalg.lstsq: the batch dims of input {tuple(A.shape)} and other "
                           f"{tuple(B.shape)} do not broadcast") from None
    m, n = A._data.shape[-2:]
    rtol = float(np.finfo(A._data.dtype).eps) * max(m, n) if rcond is None else rcond
    x = matmul(pinv(A, rtol=rtol), b)
    empty = _make(np.zeros((0,), dtype=A._data.dtype))
    residuals = empty
    if m > n and driver != "gelsy":
        r = matmul(A, x) - b
        residuals = sum_(mul(r, r), -2)
    rank = (_make(np.zeros((0,), dtype=np.int64)) if driver == "gels" else matrix_rank(A.detach(), rtol=rtol))
    sv = Svdvals.apply(A.detach()) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(x[..., 0] if vector else x, residuals, rank, sv)


# ---- matrix_power, multi_dot, vecdot ----------------------------------------------------------------------------
def matrix_power(A, n):
    """torch.linalg.matrix_power: A^n by repeated squaring (n < 0: of A^{-1}; n = 0: the identity)."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    check_matrix(A, "linalg.matrix_power", floating=False)
    n = int(n)
    if n == 0:
        size = A._data.shape[-1]
        return _zero_grad_term(A) + _make(np.eye(size, dtype=A._data.dtype))
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return clone(A)
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def _chain_order(sizes):
    """split[i][j]: where the cheapest product of matrices i..j splits (classic matrix-chain DP)."""
    count = len(sizes) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors):
    """torch.linalg.multi_dot: the product of a chain of matrices in the cheapest order; the first and last
    may be vectors."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"multi_dot(): tensor {i} must be a Tensor, not {type(t).__name__}")
        d = t._data.ndim
        if i == 0 and d not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {d}D")
        if i == len(ts) - 1 and d not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {d}D")
        if 0 < i < len(ts) - 1 and d != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {d}D")
        if t._data.dtype != ts[0]._data.dtype:
            names = [_C10_NAMES.get(x._data.dtype.name, x._data.dtype.name) for x in (ts[0], t)]
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is {names[0]} and "
                               f"tensor {i} {names[1]}")
    first_vec, last_vec = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = unsqueeze(ts[0], 0)
    if last_vec:
        ts[-1] = unsqueeze(ts[-1], -1)
    for i in range(len(ts) - 1):
        sa, sb = ts[i]._data.shape, ts[i + 1]._data.shape
        if sa[1] != sb[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(sa)} and {list(sb)} cannot "
                               "be multiplied")
    split = _chain_order([t._data.shape[0] for t in ts] + [ts[-1]._data.shape[1]])

    def product(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))

    out = product(0, len(ts) - 1)
    if first_vec and last_vec:
        return reshape(out, ())
    if first_vec:
        return squeeze(out, 0)
    return squeeze(out, -1) if last_vec else out


def vecdot(x, y, *, dim=-1):
    """torch.linalg.vecdot: sum(x * y, dim) over broadcast x and y."""
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg.vecdot(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{scalar_name(x)} and y of type {scalar_name(y)} instead")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. Got "
                           f"{scalar_name(x)}")
    try:
        shape = np.broadcast_shapes(x._data.shape, y._data.shape)
    except ValueError:
        raise RuntimeError(f"linalg.vecdot: shapes {tuple(x.shape)} and {tuple(y.shape)} do not "
                           "broadcast") from None
    return sum_(mul(x, y), wrap_dim(dim, len(shape), "linalg.vecdot"))


# ---- cross product ----------------------------------------------------------------------------------------------
class LinalgCross(Op):
    """a x b along ``dim`` (other dims broadcast). ga = b x g, gb = g x a."""

    def forward(ctx, a, b, dim):
        ctx.dim = dim
        ctx.save_for_backward(a if ctx.needs_grad(1) else None, b if ctx.needs_grad(0) else None)
        return np.cross(a, b, axis=dim)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = LinalgCross.apply(b, g, dim=ctx.dim) if b is not None else None
        gb = LinalgCross.apply(g, a, dim=ctx.dim) if a is not None else None
        return ga, gb


def linalg_cross(input, other, *, dim=-1):  # noqa: A002
    """torch.linalg.cross: the cross product of 3-vectors along ``dim`` (inputs with the same number of dims,
    the other dims broadcast)."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg.cross(): argument '{name}' must be Tensor, not {type(t).__name__}")
    nd = input._data.ndim
    if nd != other._data.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions (got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}).")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"linalg.cross: expected scalar type {scalar_name(input)} but found {scalar_name(other)}")
    d = wrap_dim(dim, nd, "linalg.cross")
    sa, sb = input._data.shape[d] if nd else 0, other._data.shape[d] if nd else 0
    if sa != 3 or sb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa} and {sb}")
    try:
        np.broadcast_shapes(input._data.shape, other._data.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: shapes {tuple(input.shape)} and {tuple(other.shape)} do not "
                           "broadcast") from None
    return LinalgCross.apply(input, other, dim=d)


def cross(input, other, dim=None):  # noqa: A002
    """torch.cross: as linalg.cross, but ``dim=None`` (deprecated, warns) means the first dim of ``input``
    of size 3."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        if not isinstance(input, Tensor):
            raise TypeError(f"cross(): argument 'input' must be Tensor, not {type(input).__name__}")
        dim = next((i for i, s in enumerate(input._data.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (cross of input of shape {tuple(input.shape)})")
    return linalg_cross(input, other, dim=dim)


# ---- diagonal ---------------------------------------------------------------------------------------------------
def _diagonal_positions(rows, cols, offset):
    n = max(0, min(rows, cols - offset)) if offset >= 0 else max(0, min(rows + offset, cols))
    r = np.arange(n)
    return (r, r + offset) if offset >= 0 else (r - offset, r)


class LinalgDiagonal(Op):
    """The ``offset`` diagonal of the (dim1, dim2) planes, as the last dim (a copy)."""

    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (x.shape, offset, dim1, dim2)
        return np.diagonal(x, offset, dim1, dim2).copy()

    def backward(ctx, g):
        shape, offset, dim1, dim2 = ctx.args
        return LinalgDiagonalGrad.apply(g, shape=shape, offset=offset, dim1=dim1, dim2=dim2)

    def name(self):
        return "DiagonalBackward0"


class LinalgDiagonalGrad(Op):
    """Zeros of ``shape`` with the last dim of ``g`` on the ``offset`` diagonal of the (dim1, dim2) planes."""

    def forward(ctx, g, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = np.zeros(shape, dtype=g.dtype)
        rows, cols = _diagonal_positions(shape[dim1], shape[dim2], offset)
        np.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = g
        return out

    def backward(ctx, gg):
        offset, dim1, dim2 = ctx.args
        return LinalgDiagonal.apply(gg, offset=offset, dim1=dim1, dim2=dim2)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: the ``offset`` diagonal of the (dim1, dim2) planes of A, as its last dim."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.diagonal(): argument 'A' must be Tensor, not {type(A).__name__}")
    nd = A._data.ndim
    d1, d2 = wrap_dim(dim1, nd, "linalg.diagonal"), wrap_dim(dim2, nd, "linalg.diagonal")
    if d1 == d2:
        raise RuntimeError(f"linalg.diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return LinalgDiagonal.apply(A, offset=int(offset), dim1=d1, dim2=d2)

