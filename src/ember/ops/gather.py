"""Gather/scatter family: gather, scatter, scatter_add, index_select, masked_fill, take_along_dim."""
import numpy as np

from ..autograd.function import Op


class ScatterIntoZeros(Op):
    """zeros(shape) with ``src`` placed along ``dim`` at ``index`` (backward of max(dim) and gather)."""

    def forward(ctx, src, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        out = np.zeros(shape, dtype=src.dtype)
        np.put_along_axis(out, index, src, axis=dim)
        return out

    def backward(ctx, g):
        from .gather import take_along

        return take_along(g, ctx.index, ctx.dim)


class TakeAlong(Op):
    def forward(ctx, x, index, dim):
        ctx.index, ctx.dim, ctx.in_shape = index, dim, x.shape
        return np.take_along_axis(x, index, axis=dim)

    def backward(ctx, g):
        return scatter_add_into_zeros(g, ctx.in_shape, ctx.dim, ctx.index)


class ScatterAddIntoZeros(Op):
    def forward(ctx, src, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        out = np.zeros(shape, dtype=src.dtype)
        idx = _full_index(index, dim)
        np.add.at(out, idx, src)
        return out

    def backward(ctx, g):
        return take_along(g, ctx.index, ctx.dim)


def _full_index(index, dim):
    """An advanced-index tuple addressing out[..., index, ...] along ``dim`` for every other position."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def scatter_into_zeros(src, shape, dim, index):
    return ScatterIntoZeros.apply(src, shape=tuple(shape), dim=dim, index=index)


def scatter_add_into_zeros(src, shape, dim, index):
    return ScatterAddIntoZeros.apply(src, shape=tuple(shape), dim=dim, index=index)


def take_along(x, index, dim):
    return TakeAlong.apply(x, index=index, dim=dim)
