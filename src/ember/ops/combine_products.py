"""Products: tensordot, kron, baddbmm/addbmm/addmv/addr (and their in-place forms), chain_matmul, cdist.

All but cdist are composites of matmul, views and elementwise ops. ``Cdist`` is an op of its own: the distance's
gradient is 0 where two points coincide (as torch), which a composite through sqrt or pow would turn into NaN.
"""
import numbers
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import Op
from ._util import wrap_dim
from .elementwise import abs as abs_, add, cast, clone, div, eq, logical_or, mul, neg, pow_scalar, sign, sub, where
from .linalg import Matmul, _zero_grad_term, bmm
from .reduction import sum_
from .scatter_extra import inplace
from .shape import _tensor_list, expand, permute, reshape, unsqueeze

__all__ = ["tensordot", "kron", "baddbmm", "addbmm", "addmv", "addr", "chain_matmul", "cdist"]


def _tensors(op, **named):
    for name, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")


# ---- tensordot / kron ---------------------------------------------------------------------------------------------
def _dim_list(v, which):
    if isinstance(v, Tensor):
        v = v.tolist()
    if not isinstance(v, (list, tuple)):
        raise TypeError(f"tensordot(): argument 'dims_{which}' must be tuple of ints, not {type(v).__name__}")
    for i, d in enumerate(v):
        if not isinstance(d, numbers.Integral) or isinstance(d, bool):
            raise TypeError(f"tensordot(): argument 'dims_{which}' must be tuple of ints, but found element of type "
                            f"{type(d).__name__} at pos {i}")
    return [int(d) for d in v]


def _contracted_dims(a, b, dims):
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > na or n > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n} (the inputs have "
                               f"{na} and {nb} dims)")
        return list(range(na - n, na)), list(range(n))
    if not isinstance(dims, (list, tuple)):
        raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
                           f"containing two lists, but got dims={dims}")
    if len(dims) != 2:
        raise ValueError(f"tensordot: dims must hold two lists of dims, got {len(dims)} entries")
    return _dim_list(dims[0], "self"), _dim_list(dims[1], "other")


def tensordot(a, b, dims=2, out=None):
    """Sum of products over the dims ``dims`` pairs up (an int n: the last n of a with the first n of b), as one
    matrix product of the permuted, flattened operands."""
    _tensors("tensordot", a=a, b=b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"tensordot: both inputs should have same dtype (got {a.dtype} and {b.dtype})")
    da, db = _contracted_dims(a, b, dims)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length (got {da} and {db})")
    sa, sb = a._data.shape, b._data.shape
    wa = [wrap_dim(d, len(sa), "tensordot") for d in da]
    wb = [wrap_dim(d, len(sb), "tensordot") for d in db]
    for w in (wa, wb):
        if len(set(w)) != len(w):
            raise RuntimeError(f"tensordot: dim {next(d for d in w if w.count(d) > 1)} appears multiple times in "
                               "the list of dims")
    for x, y, rx, ry in zip(wa, wb, da, db):
        if sa[x] != sb[y] and sa[x] == 1:  # a size-1 dim against size n: the other side is summed first (torch)
            b = sum_(b, y, keepdim=True, dtype=b.dtype)
        elif sa[x] != sb[y] and sb[y] == 1:
            a = sum_(a, x, keepdim=True, dtype=a.dtype)
        elif sa[x] != sb[y]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {sa[x]} in dim "
                               f"{rx} and second has size {sb[y]} in dim {ry}")
    sa, sb = a._data.shape, b._data.shape
    free_a = [i for i in range(len(sa)) if i not in wa]
    free_b = [i for i in range(len(sb)) if i not in wb]
    k = int(np.prod([sa[i] for i in wa]))
    left = reshape(permute(a, free_a + wa), (-1, k) if k else (int(np.prod([sa[i] for i in free_a])), 0))
    right = reshape(permute(b, wb + free_b), (k, -1) if k else (0, int(np.prod([sb[i] for i in free_b]))))
    return reshape(Matmul.apply(left, right), [sa[i] for i in free_a] + [sb[i] for i in free_b])


def kron(input, other):  # noqa: A002 - torch's argument names
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other (shapes padded with leading 1s)."""
    _tensors("kron", input=input, other=other)
    a, b = input, other
    nd = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (nd - a._data.ndim) + a._data.shape
    sb = (1,) * (nd - b._data.ndim) + b._data.shape
    spread_a = reshape(a, [s for n in sa for s in (n, 1)])
    spread_b = reshape(b, [s for n in sb for s in (1, n)])
    return reshape(mul(spread_a, spread_b), [x * y for x, y in zip(sa, sb)])


# ---- input * beta + product * alpha ------------------------------------------------------------------------------
def _integral_scalars(beta, alpha, op):
    """For integer tensors torch truncates a float beta/alpha in baddbmm/addbmm/addmv and refuses one in addr."""
    if op != "addr":
        return int(beta), int(alpha)
    for name, v in (("beta", beta), ("alpha", alpha)):
        if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral):
            raise RuntimeError(f"{op}: For integral input tensors, argument {name} must not be a floating point "
                               "number.")
    return beta, alpha


def _scaled_sum(input, product, beta, alpha, op):  # noqa: A002
    """beta * input + alpha * product, ``input`` broadcast to the product's shape. With beta == 0 the input is
    ignored (its NaNs too), as torch; for bool tensors beta and alpha act as truth values."""
    if product._data.dtype == np.bool_:
        beta, alpha = bool(beta), bool(alpha)
    elif np.result_type(input._data.dtype, product._data.dtype).kind in "iu":
        beta, alpha = _integral_scalars(beta, alpha, op)
    try:
        input = expand(input, product._data.shape)
    except RuntimeError:
        raise RuntimeError(f"{op}: input of shape {list(input.shape)} does not broadcast to the product's shape "
                           f"{list(product.shape)}") from None
    if alpha is not True and alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        return add(product, _zero_grad_term(input))
    return add(product, input if beta is True or beta == 1 else mul(input, beta))


_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
          "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _same_dtype(op, **named):
    dts = [t._data.dtype for t in named.values()]
    if any(d != dts[0] for d in dts):
        got = ", ".join(f"{k} {_NAMES[t._data.dtype.name]}" for k, t in named.items())
        raise RuntimeError(f"{op}: input tensors must have the same dtype, but got {got}")


def _check_batches(op, batch1, batch2):
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{op}: {name} must be a 3D tensor (got {t._data.ndim}D)")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2) for (b, n, m) @ (b, m, p) batches."""
    _tensors("baddbmm", input=input, batch1=batch1, batch2=batch2)
    _check_batches("baddbmm", batch1, batch2)
    _same_dtype("baddbmm", input=input, batch1=batch1, batch2=batch2)
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * sum_i batch1[i] @ batch2[i], computed as one (n, b*m) @ (b*m, p) product."""
    _tensors("addbmm", input=input, batch1=batch1, batch2=batch2)
    _check_batches("addbmm", batch1, batch2)
    _same_dtype("addbmm", input=input, batch1=batch1, batch2=batch2)
    (b, n, m), (b2, m2, p) = batch1._data.shape, batch2._data.shape
    if b != b2:
        raise RuntimeError(f"addbmm: batch1 and batch2 must have same number of batches, got {b} and {b2}")
    if m != m2:
        raise RuntimeError(f"addbmm: Incompatible matrix sizes for bmm ({n}x{m} and {m2}x{p})")
    left = reshape(permute(batch1, (1, 0, 2)), (n, b * m))
    return _scaled_sum(input, Matmul.apply(left, reshape(batch2, (b * m, p))), beta, alpha, "addbmm")


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat @ vec)."""
    _tensors("addmv", input=input, mat=mat, vec=vec)
    if mat._data.ndim != 2 or vec._data.ndim != 1 or input._data.ndim > 1:
        raise RuntimeError(f"addmv: vector + matrix @ vector expected, got {input._data.ndim}, {mat._data.ndim}, "
                           f"{vec._data.ndim}")
    _same_dtype("addmv", input=input, mat=mat, vec=vec)
    (n, m), k = mat._data.shape, vec._data.shape[0]
    if m != k or input._data.size not in (1, n):
        raise RuntimeError(f"addmv: size mismatch, got input ({input._data.size}), mat ({n}x{m}), vec ({k})")
    product = reshape(Matmul.apply(mat, reshape(vec, (k, 1))), (n,))
    return _scaled_sum(input, product, beta, alpha, "addmv")


def addr(input, vec1, vec2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2) (the dtypes promote, as torch's addr does)."""
    _tensors("addr", input=input, vec1=vec1, vec2=vec2)
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return _scaled_sum(input, mul(reshape(vec1, (-1, 1)), reshape(vec2, (1, -1))), beta, alpha, "addr")


def product_inplace(x, op, *operands, beta=1, alpha=1):
    """x.baddbmm_/addbmm_/addmv_/addr_(...): the out-of-place result written into x, whose shape it must have
    (torch's in-place rule: x is not broadcast up)."""
    a, b = operands
    _tensors(op + "_", **{"self": x, "operand 1": a, "operand 2": b})
    if op in ("baddbmm", "addbmm"):
        _check_batches(op + "_", a, b)
        shape = a._data.shape[:2] + b._data.shape[2:] if op == "baddbmm" else (a._data.shape[1], b._data.shape[2])
    elif op == "addmv":
        shape = a._data.shape[:1]
    else:
        shape = a._data.shape[:1] + b._data.shape[:1]
    if shape != x._data.shape:
        raise RuntimeError(f"{op}_: Bad in-place call: input tensor size {list(x._data.shape)} and output tensor "
                           f"size {list(shape)} should match")
    fn = {"baddbmm": baddbmm, "addbmm": addbmm, "addmv": addmv, "addr": addr}[op]
    return inplace(x, fn, a, b, beta=beta, alpha=alpha, name=op + "_")


# ---- chain_matmul -------------------------------------------------------------------------------------------------
def _multiply_in_best_order(ms):
    """The product of matrices, parenthesised to use the fewest multiplications (matrix-chain order)."""
    n = len(ms)
    dims = [ms[0]._data.shape[0]] + [m._data.shape[1] for m in ms]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for span in range(1, n):
        for i in range(n - span):
            j = i + span
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c <= cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def build(i, j):
        if i == j:
            return ms[i]
        k = split[i][j]
        return Matmul.apply(build(i, k), build(k + 1, j))

    return build(0, n - 1)


def chain_matmul(*matrices):
    """The product of 2-D matrices, in the cheapest order (deprecated in torch for linalg.multi_dot)."""
    warnings.warn("chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    ms = _tensor_list(matrices, "chain_matmul")
    if not ms:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in ms:
        if m._data.ndim != 2:
            raise RuntimeError(f"chain_matmul: Tensor dimension is {m._data.ndim}, expected 2 instead.")
    if len(ms) == 1:
        return clone(ms[0])
    for i, m in enumerate(ms[1:], 1):
        if m._data.dtype != ms[0]._data.dtype:
            raise RuntimeError(f"chain_matmul(): all tensors must have be the same dtype but tensor 0 is "
                               f"{ms[0].dtype} and tensor {i} {m.dtype}")
        if ms[i - 1]._data.shape[1] != m._data.shape[0]:
            raise RuntimeError(f"chain_matmul(): tensors {i - 1} and {i} with shapes {list(ms[i - 1].shape)} and "
                               f"{list(m.shape)} cannot be multiplied")
    return _multiply_in_best_order(ms)


# ---- cdist --------------------------------------------------------------------------------------------------------
def _pnorm_last(diff, p):
    """The p-norm over the last axis, in diff's dtype."""
    if diff.shape[-1] == 0:
        return np.zeros(diff.shape[:-1], dtype=diff.dtype)
    if p == 0:
        return np.count_nonzero(diff, axis=-1).astype(diff.dtype)
    if p == 2:
        return np.sqrt(np.add.reduce(diff * diff, axis=-1))
    size = np.abs(diff)
    if p == 1:
        return np.add.reduce(size, axis=-1)
    if p == np.inf:
        return size.max(axis=-1)
    return np.power(np.add.reduce(np.power(size, p), axis=-1), 1.0 / p)


class Cdist(Op):
    """Distances between the rows of a (..., P, M) and b (..., R, M): (..., P, R). The gradient is torch's: 0
    where a distance is 0 (and, for p < 1, where a coordinate difference is 0)."""

    def forward(ctx, a, b, p):
        ctx.p = p
        out = _pnorm_last(a[..., :, None, :] - b[..., None, :, :], p)
        ctx.save_for_backward(a, b, out)
        return out

    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            zeros = (_make(np.zeros(a._data.shape, a._data.dtype)), _make(np.zeros(b._data.shape, b._data.dtype)))
            return zeros
        diff = sub(unsqueeze(a, -2), unsqueeze(b, -3))
        g, dist = unsqueeze(g, -1), unsqueeze(out, -1)
        if p == 1:
            term = mul(g, sign(diff))
        elif p == np.inf:
            term = mul(mul(g, sign(diff)), cast(eq(abs_(diff), dist), a.dtype))
        else:
            zero = eq(dist, 0)
            safe_dist = where(zero, 1, dist)
            if p == 2:
                term = div(mul(g, diff), safe_dist)
            else:
                size = abs_(diff)
                if p < 1:
                    zero = logical_or(zero, eq(diff, 0))
                    size = where(eq(diff, 0), 1, size)
                term = div(mul(mul(g, sign(diff)), pow_scalar(size, p - 1)), pow_scalar(safe_dist, p - 1))
            term = where(zero, 0, term)
        ga = sum_(term, -2) if ctx.next_edges[0] is not None else None
        gb = neg(sum_(term, -3)) if ctx.next_edges[1] is not None else None
        return ga, gb


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M); batch dims
    broadcast. ``compute_mode`` is checked but otherwise ignored: ember always computes the distances directly
    from the differences (torch's matrix-product shortcut for p=2 with more than 25 rows rounds differently, in
    the last bits), using memory for all (..., P, R, M) differences."""
    _tensors("cdist", x1=x1, x2=x2)
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} X2: "
                           f"{x2._data.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_NAMES[t._data.dtype.name]}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"cdist: expected both inputs to have the same dtype, but got {x1.dtype} and {x2.dtype}")
    p = float(p)
    if not p >= 0:
        raise RuntimeError(f"cdist only supports non-negative p values (got p={p})")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    try:
        batch = tuple(np.broadcast_shapes(x1._data.shape[:-2], x2._data.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"cdist: the batch dims of X1 {list(x1.shape)} and X2 {list(x2.shape)} do not "
                           "broadcast") from None
    a = expand(x1, batch + x1._data.shape[-2:])
    b = expand(x2, batch + x2._data.shape[-2:])
    return Cdist.apply(a, b, p=p)
