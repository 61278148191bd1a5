"""cov, corrcoef, histogram and matrix_exp.

histogram's edges are computed as torch computes them (its linspace, in the input's dtype) and every element is
binned against those edges, so counts agree with torch at the bin boundaries too. All value work happens inside
ops (compile mode replays them).
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from ._util import as_float
from .creation import zeros_like
from .elementwise import _type_name, clamp, div, le, mul, sqrt, sub, where
from .linalg import matmul
from .linalg_decomp import _result
from .misc_extra import diag
from .reduction import mean, sum_
from .shape import cat, narrow, reshape, squeeze, transpose, unsqueeze

__all__ = ["cov", "corrcoef", "histogram", "matrix_exp"]


# ---- cov / corrcoef --------------------------------------------------------------------------------------------------
class NonNegative(Op):
    """The weights themselves, once checked to hold no negative value: an op, so compiled steps check too."""

    is_view = True

    def forward(ctx, w, op, name):
        if w.size and (w < 0).any():
            raise RuntimeError(f"{op}(): {name} cannot be negative")
        return w

    def backward(ctx, g):
        return g


def _weights(w, name, n, integral):
    if w is None:
        return None
    if not isinstance(w, Tensor):
        raise TypeError(f"cov(): argument '{name}' must be Tensor, not {type(w).__name__}")
    if w._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{w._data.ndim} dimensions")
    kind_ok = w._data.dtype.kind in "iu" if integral else w._data.dtype.kind == "f"
    if not kind_ok:
        want = "integral" if integral else "floating point"
        raise RuntimeError(f"cov(): expected {name} to have {want} dtype but got {name} with {_type_name(w)} dtype")
    if w._data.size != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w._data.size} != {n}")
    return NonNegative.apply(w, op="cov", name=name)


def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002 - torch's argument names
    """Covariance of the rows of ``input`` (variables) over its columns (observations)."""
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {nd} "
                           "dimensions")
    x = as_float(input)
    if nd < 2:
        x = reshape(x, (1, -1))
    n = x._data.shape[1]
    fw = _weights(fweights, "fweights", n, True)
    aw = _weights(aweights, "aweights", n, False)
    w = fw if aw is None else aw if fw is None else mul(fw, aw)
    if w is None:
        avg = mean(x, 1)
        norm = n - correction
        if norm <= 0:
            warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                          "observations.", UserWarning, stacklevel=2)
            norm = 0
    else:
        w_sum = sum_(w)
        avg = div(sum_(mul(x, w), 1), w_sum)
        if aw is None or correction == 0:
            norm = sub(w_sum, correction)
        else:
            norm = sub(w_sum, div(mul(sum_(mul(w, aw)), correction), w_sum))
        norm = where(le(norm, 0), 0, norm)
    centred = sub(x, unsqueeze(avg, 1))
    c = matmul(centred, transpose(centred if w is None else mul(centred, w), 0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):  # zero degrees of freedom give inf/NaN, as torch
        return squeeze(div(c, norm))


def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the rows of ``input``."""
    c = cov(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c._data.ndim == 0:
            return div(c, c)
        std = sqrt(diag(c))
        c = div(c, unsqueeze(std, 1))
        c = div(c, unsqueeze(std, 0))
    return clamp(c, -1, 1)


# ---- histogram -------------------------------------------------------------------------------------------------------
HistogramResult = _result("histogram", ["hist", "bin_edges"])


def _torch_linspace(lo, hi, n, dtype):
    """torch's CPU linspace in ``dtype``: from the start for the first half, from the end for the second."""
    t = dtype.type
    lo, hi = t(lo), t(hi)
    step = (hi - lo) / t(n - 1) if n > 1 else t(0)
    i = np.arange(n)
    return np.where(i < n // 2, lo + step * i.astype(dtype), hi - step * (n - 1 - i).astype(dtype)).astype(dtype)


class Histogram(Op):
    """(counts, edges): ``nbins`` equal bins over ``rng`` (or the data's min..max), or the given edges."""

    differentiable = False

    def forward(ctx, x, *extra, nbins, rng, density, has_edges, has_weight):
        flat = x.reshape(-1)
        extra = list(extra)
        edges = extra.pop(0).copy() if has_edges else None
        weight = extra.pop(0).reshape(-1) if has_weight else None
        if edges is None:
            if rng is not None:
                lo, hi = rng
            elif flat.size:
                lo, hi = float(flat.min()), float(flat.max())
            else:
                lo, hi = 0.0, 1.0
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not finite")
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges = _torch_linspace(lo, hi, nbins + 1, x.dtype)
        nb = edges.size - 1
        pos = np.searchsorted(edges, flat, side="right") - 1
        pos[pos == nb] = nb - 1  # the last edge belongs to the last bin
        inside = (flat >= edges[0]) & (flat <= edges[-1])
        w = weight[inside] if weight is not None else None
        hist = np.bincount(pos[inside], weights=w, minlength=nb).astype(x.dtype)
        if density:
            with np.errstate(divide="ignore", invalid="ignore"):
                hist = hist / hist.sum(dtype=x.dtype)
                hist = hist / np.diff(edges)
        return hist.astype(x.dtype, copy=False), edges


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """torch.histogram: (hist, bin_edges) of a floating-point tensor; ``bins`` is a count or a 1-D edge tensor."""
    x = input
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_type_name(x)}'")
    inputs = [x]
    has_edges = isinstance(bins, Tensor)
    nbins = None
    if has_edges:
        if bins._data.ndim != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{bins._data.ndim} dimensions in the bins tensor for dimension 0")
        if bins._data.dtype != x._data.dtype:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but "
                               f"got input with dtype {x.dtype.name} and bins for dimension 0 with dtype "
                               f"{bins.dtype.name}")
        inputs.append(bins)
    else:
        nbins = int(bins)
        if nbins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {nbins} for dimension 0")
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g} for "
                               "dimension 0")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not finite")
        range = (lo, hi)  # noqa: A001
    if weight is not None:
        if weight._data.dtype != x._data.dtype:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype, but got input({x.dtype.name}), and "
                               f"weight({weight.dtype.name})")
        if weight._data.shape != x._data.shape:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape as "
                               f"the input tensor excluding its innermost dimension, but got input with shape "
                               f"{list(x._data.shape)} and weight with shape {list(weight._data.shape)}")
        inputs.append(weight)
    hist, edges = Histogram.apply(*inputs, nbins=nbins, rng=range, density=bool(density), has_edges=has_edges,
                                  has_weight=weight is not None)
    return HistogramResult(hist, edges)


# ---- matrix_exp ------------------------------------------------------------------------------------------------------
class MatrixExp(Op):
    def forward(ctx, a):
        from scipy.linalg import expm

        ctx.save_for_backward(a)
        if a.shape[-1] == 0 or a.size == 0:
            return a.copy()
        return np.asarray(expm(a)).astype(a.dtype, copy=False)

    def backward(ctx, g):
        # the gradient is the top-right block of exp([[A^T, G], [0, A^T]])
        (a,) = ctx.saved_tensors
        n = a._data.shape[-1]
        at = transpose(a, -2, -1)
        top = cat([at, g], -1)
        bottom = cat([zeros_like(at), at], -1)
        big = matrix_exp(cat([top, bottom], -2))
        return narrow(narrow(big, -2, 0, n), -1, n, n)


def matrix_exp(A):
    """The matrix exponential of (batches of) square matrices."""
    if A._data.ndim < 2 or A._data.shape[-1] != A._data.shape[-2]:
        shp = A._data.shape
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they are "
                           f"{shp[-2] if len(shp) > 1 else 1} by {shp[-1] if shp else 1} matrices")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(A)}")
    return MatrixExp.apply(A)
