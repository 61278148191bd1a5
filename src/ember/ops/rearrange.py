"""Ops that rearrange elements: flip, roll, repeat, tile, tril/triu."""
import numpy as np

from ..autograd.function import Op
from ._util import wrap_dim


class Flip(Op):
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    def backward(ctx, g):
        return flip(g, ctx.dims)


def flip(x, dims):
    if isinstance(dims, int):
        dims = (dims,)
    nd = x._data.ndim
    dims = tuple(wrap_dim(d, nd, "flip") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims has duplicates, original flip dims size={len(dims)}")
    return Flip.apply(x, dims=dims)
