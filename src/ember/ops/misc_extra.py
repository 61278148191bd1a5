"""Tensor-method ops torch scripts use: diag/diagflat/diagonal, inner, index_copy, index_reduce, narrow_copy,
sum_to_size, split_with_sizes, renorm, dist, in-place shape changes (t_, transpose_, squeeze_, unsqueeze_),
new_zeros/new_ones/new_tensor and the is_* queries.

In-place shape changes rebind the tensor to a view of its own data (as ``.data = `` does): torch changes the
tensor's view metadata in place. Like torch they bump the version counter, so an op that saved the tensor
before the change raises in backward instead of using the new shape; on a leaf that requires grad they raise.
"""
import numbers

import numpy as np

from .._tensor import Tensor, _Storage, tensor as _new_tensor
from ..autograd.function import Op
from ..autograd.grad_mode import _State
from ._util import wrap_dim
from .combine import diag_embed
from .combine_products import tensordot
from .creation import ones, zeros
from .elementwise import _type_name, add, clone, div, gt, mul, sub, where
from .gather import _checked, _dim_index
from .indexing import IndexPut
from .linalg_composite import LinalgDiagonal, LinalgDiagonalGrad
from .reduction import vector_norm
from .scatter_extra import scatter_reduce
from .shape import expand, narrow, reshape, split, squeeze, sum_to, t, transpose, unsqueeze

__all__ = ["diag", "diagflat", "diagonal", "inner", "index_copy", "index_reduce", "narrow_copy", "split_with_sizes",
           "renorm", "dist", "is_nonzero", "is_same_size", "is_signed", "unsafe_chunk", "unsafe_split",
           "unsafe_split_with_sizes"]
# (sum_to_size, new_zeros/new_ones/new_tensor, the in-place shape changes and matrix_H serve Tensor methods only)


# ---- diagonals -------------------------------------------------------------------------------------------------------
class Diagonal(Op):
    """The ``offset`` diagonal of the (dim1, dim2) planes as the last dim: a view (writes reach the input)."""

    is_view = True

    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (x.shape, offset, dim1, dim2)
        d = np.diagonal(x, offset, dim1, dim2)
        if x.flags.writeable:
            d.flags.writeable = True  # NumPy marks diagonal views read-only; torch's are writable
        return d

    def backward(ctx, g):
        shape, offset, dim1, dim2 = ctx.args
        return LinalgDiagonalGrad.apply(g, shape=shape, offset=offset, dim1=dim1, dim2=dim2)


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002 - torch's argument names
    """The ``offset`` diagonal of ``input``'s (dim1, dim2) planes, appended as the last dim (a view)."""
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd, "diagonal"), wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag(input, diagonal=0):  # noqa: A002
    """A 1-D input as the ``diagonal`` diagonal of a square matrix; a 2-D input's diagonal (a copy)."""
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, int(diagonal))
    if nd == 2:
        return LinalgDiagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def diagflat(input, offset=0):  # noqa: A002
    """The flattened input on the ``offset`` diagonal of a square matrix."""
    return diag_embed(reshape(input, (-1,)), int(offset))


# ---- products ---------------------------------------------------------------------------------------------------------
def inner(input, other):  # noqa: A002
    """Sum of products over the last dims: shape input.shape[:-1] + other.shape[:-1] (a 0-d side multiplies)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return mul(input, other)
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"inner(): both inputs should have same dtype, got {input.dtype} and {other.dtype}")
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._data.shape)} and {list(other._data.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


def dist(input, other, p=2):  # noqa: A002
    """The p-norm of input - other."""
    return vector_norm(sub(input, other), p)


# ---- index_copy / index_reduce ----------------------------------------------------------------------------------------
class IndexCopy(IndexPut):
    pass


def index_copy(input, dim, index, source):  # noqa: A002
    """``input`` with ``input.select(dim, index[i]) = source.select(dim, i)`` for each i."""
    x, op = input, "index_copy_"
    if not isinstance(source, Tensor):
        raise TypeError(f"index_copy(): argument 'source' must be Tensor, not {type(source).__name__}")
    if isinstance(index, Tensor) and index._data.ndim > 1:
        raise IndexError(f"{op}(): Index should have dimension 1 or 0 (got {index._data.ndim})")
    if isinstance(index, Tensor) and index._data.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {_type_name(index)}")
    d, t = _dim_index(x, dim, index, op, kinds=("int64",))
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"{op}(): self and source expected to have the same dtype, but got (self) "
                           f"{_type_name(x)} and (source) {_type_name(source)}")
    if x._data.ndim == 0 or source._data.ndim == 0:
        if x._data.size != 1 or source._data.size != 1 or t._data.size != 1:
            raise IndexError(f"{op}(): Number of indices ({t._data.size}) should be equal to source.size(dim) "
                             f"({source._data.size})")
        return reshape(index_copy(reshape(x, (1,)), 0, t, reshape(source, (1,))), x._data.shape)
    xs, ss, n = x._data.shape, source._data.shape, t._data.size
    if len(xs) != len(ss):
        raise IndexError(f"{op}(): When source and destination are not scalars, their dimensionality must match. "
                         f"Source dimensionality ({len(ss)}), destination dimensionality ({len(xs)})")
    for i, (a, b) in enumerate(zip(xs, ss)):
        if i != d and a != b:
            raise RuntimeError(f"{op}(): Source/destination tensor must have same slice shapes. Destination slice "
                               f"shape: {a} at dimension {i} and source slice shape: {b} at dimension {i}.")
    if ss[d] != n:
        raise IndexError(f"{op}(): Number of indices ({n}) should be equal to source.size(dim) ({ss[d]})")
    a = _checked(t, xs[d], d, op, exc=IndexError)
    return IndexCopy.apply(x, source, plan=(((slice(None),) * d + (a,), True),))


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):  # noqa: A002
    """``input`` with the slices of ``source`` reduced ('prod', 'mean', 'amax', 'amin') into the slices
    ``index`` names along ``dim`` (scatter_reduce with the index spread over each slice)."""
    x, op = input, "index_reduce_"
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_reduce(): argument 'source' must be Tensor, not {type(source).__name__}")
    d, t = _dim_index(x, dim, index, op)
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"{op}(): self ({_type_name(x)}) and source ({_type_name(source)}) must have the same "
                           "scalar type")
    if x._data.ndim == 0:
        return reshape(index_reduce(reshape(x, (1,)), 0, t, reshape(source, (-1,)), reduce,
                                    include_self=include_self), ())
    xs, ss, n = x._data.shape, source._data.shape, t._data.size
    if source._data.ndim != x._data.ndim or any(a != b for i, (a, b) in enumerate(zip(xs, ss)) if i != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(xs)} source.shape = {list(ss)}")
    if ss[d] != n:
        raise RuntimeError(f"{op}(): Number of indices ({n}) should be equal to source.size(dim): ({ss[d]}), for "
                           f"dim: {d}")
    _checked(t, xs[d], d, op, exc=IndexError)
    spread = expand(reshape(t, (1,) * d + (n,) + (1,) * (len(xs) - d - 1)), ss)
    if spread._data.dtype != np.int64:
        spread = spread.long()
    return scatter_reduce(x, d, spread, source, reduce, include_self=include_self)


# ---- shape helpers ----------------------------------------------------------------------------------------------------
def narrow_copy(input, dim, start, length):  # noqa: A002
    return clone(narrow(input, dim, start, length))


def _size_args(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__}")
    return tuple(int(s) for s in size)


def sum_to_size(input, *size):  # noqa: A002
    """``input`` summed down to ``size`` (which must broadcast to input's shape)."""
    size = _size_args(size, "sum_to_size")
    shape = input._data.shape
    ok = len(size) <= len(shape) and all(s == n or s == 1 for s, n in zip(reversed(size), reversed(shape)))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    return sum_to(input, size)


def split_with_sizes(input, split_sizes, dim=0):  # noqa: A002
    if isinstance(split_sizes, numbers.Integral):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' must be tuple of ints, not "
                        f"{type(split_sizes).__name__}")
    return split(input, list(split_sizes), dim)


def unsafe_split(input, split_size, dim=0):  # noqa: A002
    return split(input, split_size, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):  # noqa: A002
    return split_with_sizes(input, split_sizes, dim)


def unsafe_chunk(input, chunks, dim=0):  # noqa: A002
    return input.chunk(chunks, dim)


# ---- renorm -----------------------------------------------------------------------------------------------------------
def renorm(input, p, dim, maxnorm):  # noqa: A002
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = wrap_dim(dim, nd, "renorm")
    norm = vector_norm(input, p, dim=tuple(i for i in range(nd) if i != d), keepdim=True)
    factor = where(gt(norm, maxnorm), div(maxnorm, add(norm, 1e-7)), 1.0)  # torch's formula, 1e-7 included
    return mul(input, factor)


# ---- in-place shape changes ------------------------------------------------------------------------------------------
def reshape_in_place(x, fn, *args, name):
    """Make ``x`` the view ``fn(x, *args)`` of its own data (``x.t_()``, ``x.unsqueeze_(0)`` ...)."""
    if _State.enabled and x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation.")
    out = fn(x, *args)
    x._data = out._data
    if out.grad_fn is not None:
        x.grad_fn, x._out_nr, x.requires_grad = out.grad_fn, out._out_nr, True
    x._version[0] += 1
    _Storage.rebinds += 1
    return x


def t_(x):
    return reshape_in_place(x, t, name="t_")


def transpose_(x, dim0, dim1):
    return reshape_in_place(x, transpose, dim0, dim1, name="transpose_")


def squeeze_(x, dim=None):
    return reshape_in_place(x, squeeze, dim, name="squeeze_")


def unsqueeze_(x, dim):
    return reshape_in_place(x, unsqueeze, dim, name="unsqueeze_")


# ---- new tensors and queries ------------------------------------------------------------------------------------------
def new_zeros(x, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False, **kw):
    return zeros(*size, dtype=x.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad, **kw)


def new_ones(x, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False, **kw):
    return ones(*size, dtype=x.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad, **kw)


def new_tensor(x, data, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """A new tensor (a copy) of ``data`` with x's dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        import warnings

        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=3)
        data = data.detach().numpy()
    return _new_tensor(data, dtype=x.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def is_nonzero(input) -> bool:  # noqa: A002
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(input, other) -> bool:  # noqa: A002
    return input._data.shape == other._data.shape


def is_signed(input) -> bool:  # noqa: A002
    return input.dtype.is_signed


def matrix_H(x):
    """``x.H``: the (conjugate) transpose of a matrix."""
    if x._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {x._data.ndim}-D tensor.")
    return transpose(x, 0, 1)
