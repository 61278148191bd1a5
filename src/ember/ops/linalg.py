"""Matrix products: matmul (batched, broadcasting), mm, bmm, dot, outer, einsum, linalg.norm."""
import numpy as np

from ..autograd.function import Op
from .._tensor import Tensor, _make
from .shape import Permute, reshape, squeeze, unsqueeze


def _mT(t):
    nd = t._data.ndim
    return Permute.apply(t, dims=tuple(range(nd - 2)) + (nd - 1, nd - 2))


class Matmul(Op):
    """a @ b for operands with at least 2 dims (1-D operands are lifted by ``matmul``)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_grad(1) else None, b if ctx.needs_grad(0) else None)
        return np.matmul(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = Matmul.apply(g, _mT(b)) if ctx.next_edges[0] is not None else None
        gb = Matmul.apply(_mT(a), g) if ctx.next_edges[1] is not None else None
        return ga, gb


class TransposedMatmul(Op):
    """a.T @ b for 2-D a (k, m) and b (k, n) in one op: a linear layer's weight gradient g.T @ x."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_grad(1) else None, b if ctx.needs_grad(0) else None)
        return np.matmul(a.T, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = Matmul.apply(b, _mT(g)) if ctx.next_edges[0] is not None else None
        gb = Matmul.apply(a, g) if ctx.next_edges[1] is not None else None
        return ga, gb


def _matmul_error(a, b, op):
    """torch's message for mismatched inner dimensions (it names the shapes the way torch folds them)."""
    sa, sb = tuple(a._data.shape), tuple(b._data.shape)
    rows = int(np.prod(sa[:-1]))
    if len(sa) == 1 and len(sb) == 1:
        msg = (f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
               f"elements, but got {sa[0]} and {sb[0]} elements respectively")
    elif len(sb) == 1:
        msg = f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
    elif len(sb) == 2 and len(sa) <= 2 or len(sb) == 2:
        msg = f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})"
    else:
        batch = int(np.prod(np.broadcast_shapes(sa[:-2], sb[:-2])))
        msg = (f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {sa[-1]}] but got: "
               f"[{batch}, {sb[-2]}].")
    return RuntimeError(f"{op}: {msg}")


_C10_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
              "int16": "short int", "int32": "int", "int64": "long int", "uint8": "unsigned char", "bool": "bool"}


def _check_operands(a, b, op):
    """Matrix products take Tensors of one dtype (torch does not promote here)."""
    if a.__class__ is Tensor and b.__class__ is Tensor and a._data.dtype is b._data.dtype:
        return
    for name, t in (("input", a), ("other", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: "
                           f"{_C10_NAMES[a._data.dtype.name]} != {_C10_NAMES[b._data.dtype.name]}")


def matmul(a, b):
    """a @ b with torch's rules: 1-D operands are vectors, leading dims broadcast as batch dims."""
    _check_operands(a, b, "matmul")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    ka = a._data.shape[-1]
    kb = b._data.shape[-2] if nb > 1 else b._data.shape[0]
    if ka != kb:
        raise _matmul_error(a, b, "matmul")
    if na == 2 and nb == 2:
        return Matmul.apply(a, b)
    if na >= 2 and nb >= 2:
        from .elementwise import broadcast_shape_error

        err = broadcast_shape_error(a._data.shape[:-2], b._data.shape[:-2])
        if err is not None:
            raise err
        return Matmul.apply(a, b)
    if na == 1 and nb == 1:
        return Dot.apply(a, b)
    if na == 1:
        return squeeze(Matmul.apply(unsqueeze(a, 0), b), -2)
    return squeeze(Matmul.apply(a, unsqueeze(b, -1)), -1)


class Dot(Op):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.dot(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


def dot(a, b):
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    if a._data.shape[0] != b._data.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a._data.shape[0]}] and src "
                           f"[{b._data.shape[0]}] to have the same number of elements, but got "
                           f"{a._data.shape[0]} and {b._data.shape[0]} elements respectively")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {a.dtype.name.capitalize()} "
                           f"and {b.dtype.name.capitalize()}")
    return Dot.apply(a, b)


vdot = dot


def mm(a, b):
    _check_operands(a, b, "mm")
    if a._data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix (got a {a._data.ndim}D tensor)")
    if b._data.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix (got a {b._data.ndim}D tensor)")
    if a._data.shape[1] != b._data.shape[0]:
        raise _matmul_error(a, b, "mm")
    return Matmul.apply(a, b)


def bmm(a, b):
    _check_operands(a, b, "bmm")
    if a._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {a._data.ndim}D)")
    if b._data.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor (got {b._data.ndim}D)")
    if a._data.shape[0] != b._data.shape[0] or a._data.shape[2] != b._data.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a._data.shape[0]}, {a._data.shape[2]}] but got: "
                           f"[{b._data.shape[0]}, {b._data.shape[1]}].")
    return Matmul.apply(a, b)


def mv(a, v):
    _check_operands(a, v, "mv")
    if a._data.ndim != 2 or v._data.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got 1, {a._data.ndim}, {v._data.ndim}")
    return matmul(a, v)


def outer(a, b):
    for name, t in (("self", a), ("vec2", b)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


ger = outer


def addmm(input, mat1, mat2, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2); with beta == 0 the input is ignored (its NaNs too), as torch."""
    from .shape import expand

    out = mm(mat1, mat2)
    if alpha != 1:
        out = out * alpha
    try:
        input = expand(input, out._data.shape)
    except (RuntimeError, ValueError):
        raise RuntimeError(f"addmm: input of shape {tuple(input.shape)} does not broadcast to the product's shape "
                           f"{tuple(out.shape)}") from None
    if beta == 0:
        return out + _zero_grad_term(input)
    return out + (input if beta == 1 else input * beta)


def _zero_grad_term(t):
    """0 with t's shape and dtype that passes a zero gradient to t (not t * 0, which keeps NaN/inf)."""
    from .elementwise import where

    zero = _make(np.zeros((), dtype=t._data.dtype))
    return where(_make(np.zeros((), dtype=np.bool_)), t, zero)


class Einsum(Op):
    """np.einsum on an equation with explicit output and no ellipsis (``einsum`` normalises it)."""

    def forward(ctx, *operands, equation):
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        return np.einsum(equation, *operands, optimize=len(operands) > 2)

    def backward(ctx, g):
        ops = ctx.saved_tensors
        lhs, out = ctx.equation.split("->")
        terms = lhs.split(",")
        return tuple(None if ctx.next_edges[i] is None else _einsum_grad(g, out, ops, terms, i)
                     for i in range(len(ops)))


def _einsum_grad(g, out, ops, terms, i):
    """Gradient for operand i: contract g with the other operands back to operand i's subscripts."""
    term = terms[i]
    others = [o for j, o in enumerate(ops) if j != i]
    other_terms = [t for j, t in enumerate(terms) if j != i]
    unique = "".join(dict.fromkeys(term))  # a repeated letter (a diagonal) is first solved for once
    extra_ops, extra_terms = [], []
    # letters summed out of operand i alone broadcast back with vectors of ones
    for c in unique:
        if c not in out and all(c not in t for t in other_terms):
            extra_ops.append(_make(np.ones(ops[i]._data.shape[term.index(c)], dtype=g._data.dtype)))
            extra_terms.append(c)
    grad = einsum(",".join([out] + other_terms + extra_terms) + "->" + unique, g, *others, *extra_ops)
    if unique == term:
        return grad
    # put the diagonal back: each repeated position gets a fresh letter tied to the first by an identity matrix
    free = iter(c for c in _LETTERS if c not in term)
    spread, eyes = [], []
    for k, c in enumerate(term):
        if c in term[:k]:
            f = next(free)
            spread.append(f)
            eyes.append((c + f, ops[i]._data.shape[k]))
        else:
            spread.append(c)
    eq = ",".join([unique] + [e for e, _ in eyes]) + "->" + "".join(spread)
    return einsum(eq, grad, *[_make(np.eye(n, dtype=g._data.dtype)) for _, n in eyes])


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _expand_ellipsis(terms, out, operands):
    """Replace '...' by explicit letters (right-aligned across operands, as broadcasting aligns dims)."""
    used = set("".join(terms) + (out or ""))
    free = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for term, op in zip(terms, operands):
        if "..." in term:
            n_ell = max(n_ell, op._data.ndim - len(term.replace("...", "")))
    ell = "".join(free[:n_ell])
    new_terms = []
    for term, op in zip(terms, operands):
        if "..." in term:
            k = op._data.ndim - len(term.replace("...", ""))
            term = term.replace("...", ell[n_ell - k:] if k > 0 else "")
        new_terms.append(term)
    if out is None:
        letters = "".join(t for t in new_terms)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_terms, out


def einsum(equation, *operands):
    """Einstein summation (``einsum('bij,bjk->bik', a, b)``), with ellipsis and repeated (diagonal) indices."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, out = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for k, (term, op) in enumerate(zip(terms, operands)):
        n = len(term.replace("...", ""))
        if ("..." not in term and n != op._data.ndim) or ("..." in term and n > op._data.ndim):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does not match the number "
                               f"of dimensions ({op._data.ndim}) for operand {k} and no ellipsis was given")
    if "..." in eq:
        terms, out = _expand_ellipsis(terms, out, operands)
    elif out is None:
        letters = "".join(terms)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    sizes = {}
    for k, (term, op) in enumerate(zip(terms, operands)):
        for c, n in zip(term, op._data.shape):
            if sizes.setdefault(c, n) != n:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {sizes[c]}")
    for k, c in enumerate(out):
        if c in out[:k]:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        if c not in sizes:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               "operand")
    for o in operands[1:]:
        if o._data.dtype != operands[0]._data.dtype:
            raise RuntimeError(f"einsum(): expected all operands to have the same dtype, but got "
                               f"{operands[0].dtype.name} and {o.dtype.name}")
    return Einsum.apply(*operands, equation=",".join(terms) + "->" + out)


# ---- norms (ember.linalg) -------------------------------------------------------------------------------------
class Svdvals(Op):
    """Singular values (descending) over the last two dims; the gradient is U diag(g) V^T (U, V held fixed)."""

    def forward(ctx, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    def backward(ctx, g):
        u, vh = ctx.saved_tensors
        return matmul(u * unsqueeze(g, -2), vh)


def svdvals(a):
    if a._data.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: The input tensor A must have at least 2 dimensions.")
    return Svdvals.apply(a)


def matrix_norm(a, ord="fro", dim=(-2, -1), keepdim=False, dtype=None):  # noqa: A002 - torch's argument name
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', inf/-inf (row sums), 1/-1 (column sums), 2/-2."""
    from .reduction import amax, amin, sum_, vector_norm
    from .shape import movedim, squeeze
    from .elementwise import abs as abs_
    from ._util import wrap_dim

    if dtype is not None:
        a = a.to(dtype)
    if a._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if isinstance(dim, int) or len(dim) != 2:
        got = dim if isinstance(dim, int) else " ".join(str(d) for d in dim)
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {got}")
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{a.dtype.name.capitalize()}")
    d0, d1 = (wrap_dim(d, a._data.ndim, "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(a, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(movedim(a, (d0, d1), (-2, -1)))
        out = sum_(s, -1) if ord == "nuc" else (amax if ord == 2 else amin)(s, -1)
    elif ord in (float("inf"), float("-inf"), 1, -1):
        summed, other = (d1, d0) if ord in (float("inf"), float("-inf")) else (d0, d1)
        reduce = amax if ord > 0 else amin
        out = reduce(sum_(abs_(a), summed, keepdim=True), other, keepdim=True)
        return out if keepdim else squeeze(out, (d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        from .shape import unsqueeze as unsq

        for d in sorted((d0, d1)):
            out = unsq(out, d)
    return out


def linalg_norm(a, ord=None, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """torch.linalg.norm: a vector norm over one dim, a matrix norm over two (or over a 2-D input's dims)."""
    from .reduction import vector_norm

    if isinstance(dim, int):
        dim = (dim,)
    if isinstance(ord, str):
        return matrix_norm(a, ord, (-2, -1) if dim is None else dim, keepdim, dtype)
    if dim is None:
        if ord is None:
            return vector_norm(a, 2, None, keepdim, dtype)
        if a._data.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{a._data.ndim}D.")
        dim = tuple(range(a._data.ndim))
    if len(dim) == 1:
        return vector_norm(a, 2 if ord is None else ord, dim, keepdim, dtype)
    if len(dim) == 2:
        return matrix_norm(a, "fro" if ord is None else ord, dim, keepdim, dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
