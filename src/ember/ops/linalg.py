"""Matrix products: matmul (batched, broadcasting), mm, bmm, dot, outer, einsum, linalg.norm."""
import numpy as np

from ..autograd.function import Op
from .._tensor import _make
from ._util import pair
from .shape import reshape, transpose, unsqueeze, squeeze


def _mT(t):
    return transpose(t, -1, -2)


class Matmul(Op):
    """a @ b for operands with at least 2 dims (1-D operands are lifted by ``matmul``)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = matmul(g, _mT(b)) if ctx.next_edges[0] is not None else None
        gb = matmul(_mT(a), g) if ctx.next_edges[1] is not None else None
        return ga, gb


def _matmul_error(a, b, op):
    sa, sb = tuple(a._data.shape), tuple(b._data.shape)
    if a._data.ndim == 2 and b._data.ndim == 2:
        return RuntimeError(f"{op}: mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})")
    return RuntimeError(f"{op}: shapes {sa} and {sb} cannot be multiplied (inner dimensions "
                        f"{sa[-1]} and {sb[-2] if len(sb) > 1 else sb[0]} differ)")


def matmul(a, b):
    a, b = pair(a, b, "matmul")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    ka = a._data.shape[-1]
    kb = b._data.shape[-2] if nb > 1 else b._data.shape[0]
    if ka != kb:
        raise _matmul_error(a, b, "matmul")
    if na >= 2 and nb >= 2:
        try:
            np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions {tuple(a._data.shape[:-2])} and "
                               f"{tuple(b._data.shape[:-2])} cannot be broadcast") from None
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


inner = dot
vdot = dot


def mm(a, b):
    if a._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix (got a {a._data.ndim}D tensor)")
    if b._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (got a {b._data.ndim}D tensor)")
    if a._data.shape[1] != b._data.shape[0]:
        raise _matmul_error(a, b, "mm")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    return Matmul.apply(a, b)


def bmm(a, b):
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
    return matmul(a, v)


def outer(a, b):
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, got {a._data.ndim}D and {b._data.ndim}D")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


ger = outer


def addmm(input, mat1, mat2, beta=1, alpha=1):  # noqa: A002
    out = mm(mat1, mat2)
    if alpha != 1:
        out = out * alpha
    return out + (input if beta == 1 else input * beta)


class Einsum(Op):
    def forward(ctx, *operands, equation):
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        return np.einsum(equation, *operands, optimize=len(operands) > 2)

    def backward(ctx, g):
        ops = ctx.saved_tensors
        lhs, out = ctx.equation.split("->")
        terms = lhs.split(",")
        grads = []
        for i, (t, term) in enumerate(zip(ops, terms)):
            if ctx.next_edges[i] is None:
                grads.append(None)
                continue
            others = [o for j, o in enumerate(ops) if j != i]
            other_terms = [tt for j, tt in enumerate(terms) if j != i]
            eq = ",".join([out] + other_terms) + "->" + term
            # letters of ``term`` that appear nowhere else were summed out: broadcast back with ones
            missing = [c for c in term if c not in out and all(c not in ot for ot in other_terms)]
            if missing:
                ones = [_make(np.ones(t._data.shape[term.index(c)], dtype=t._data.dtype)) for c in missing]
                eq = ",".join([out] + other_terms + missing) + "->" + term
                grads.append(einsum(eq, g, *others, *ones))
            else:
                grads.append(einsum(eq, g, *others))
        return tuple(grads)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum: ellipsis ('...') in the equation is not supported by ember yet")
    if "->" not in eq:
        letters = eq.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        eq = eq + "->" + out
    terms = eq.split("->")[0].split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum(): {len(terms)} operand subscripts given for {len(operands)} operands")
    for term, op in zip(terms, operands):
        if len(term) != op._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                               f"the number of dimensions ({op._data.ndim}) for operand {terms.index(term)}")
    dt = operands[0]
    for o in operands[1:]:
        _, dt = pair(dt, o, "einsum")
    operands = [o if o._data.dtype == dt._data.dtype else o.to(dt.dtype) for o in operands]
    return Einsum.apply(*operands, equation=eq)
