"""Layer primitives that are not convolutions, pools, norms or losses: linear, bilinear, dropout family,
embedding, one_hot."""
import math
import numbers
import warnings

import numpy as np

from ..autograd.function import Op
from .._tensor import Tensor, _make, _notify_value_read
from .linalg import Matmul, TransposedMatmul, einsum, matmul
from .reduction import Sum
from .shape import Reshape, reshape
from .elementwise import mul


# ---- linear -------------------------------------------------------------------------------------------------
class Linear(Op):
    """y = x @ W.T + b in one GEMM (leading dims of x flattened), with its own backward."""

    def forward(ctx, x, w, *bias):
        ctx.has_bias = bool(bias)
        ctx.save_for_backward(x, w)
        if x.ndim > 2 and x.flags.c_contiguous:
            y = np.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            y = np.matmul(x, w.T)
        if bias:
            y += bias[0]
        return y

    def backward(ctx, g):
        # shapes are known to be valid here: apply the primitives directly, skipping argument checks
        x, w = ctx.saved_tensors
        edges = ctx.next_edges
        gx = Matmul.apply(g, w) if edges[0] is not None else None
        gw = None
        if edges[1] is not None:
            g2 = g if g._data.ndim == 2 else Reshape.apply(g, shape=(-1, g._data.shape[-1]))
            x2 = x if x._data.ndim == 2 else Reshape.apply(x, shape=(-1, x._data.shape[-1]))
            gw = TransposedMatmul.apply(g2, x2)
        if not ctx.has_bias:
            return gx, gw
        gb = None
        if edges[2] is not None:
            gb = Sum.apply(g, axes=tuple(range(g._data.ndim - 1)), keepdim=False, dtype=None) \
                if g._data.ndim > 1 else g
        return gx, gw, gb


def linear(input, weight, bias=None):  # noqa: A002
    """y = input @ weight.T + bias for input (*, in_features), weight (out_features, in_features)."""
    x = input
    if weight._data.ndim != 2:
        if weight._data.ndim == 1:
            y = matmul(x, weight)
            return y if bias is None else y + bias
        raise RuntimeError(f"linear: weight must be 1-D or 2-D (out_features, in_features), got weight of size "
                           f"{list(weight._data.shape)}")
    if x._data.ndim == 0:
        raise RuntimeError("linear: both arguments to linear need to be at least 1D, but input is 0D")
    if x._data.shape[-1] != weight._data.shape[1]:
        rows = int(np.prod(x._data.shape[:-1])) if x._data.ndim > 1 else 1
        raise RuntimeError(f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x{x._data.shape[-1]} and "
                           f"{weight._data.shape[1]}x{weight._data.shape[0]})")
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(f"linear: expected m1 and m2 to have the same dtype, but got: {x.dtype} != {weight.dtype}")
    if bias is None:
        return Linear.apply(x, weight)
    if bias._data.dtype != x._data.dtype:
        raise RuntimeError(f"linear: expected bias to have dtype {x.dtype}, but got {bias.dtype}")
    if bias._data.ndim > 1 or bias._data.size not in (1, weight._data.shape[0]):
        raise RuntimeError(f"linear: bias of size {list(bias._data.shape)} does not match out_features="
                           f"{weight._data.shape[0]}")
    return Linear.apply(x, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    x1, x2 = input1, input2
    if weight._data.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), got {list(weight._data.shape)}")
    if x1._data.ndim != x2._data.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {x1._data.ndim} and {x2._data.ndim}")
    for d in range(x1._data.ndim - 1):
        if x1._data.shape[d] != x2._data.shape[d]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got "
                               f"{x1._data.shape[d]} and {x2._data.shape[d]}")
    if x1._data.shape[-1] != weight._data.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {x1._data.shape[-1]} but "
                           f"expected {weight._data.shape[1]}")
    if x2._data.shape[-1] != weight._data.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {x2._data.shape[-1]} but "
                           f"expected {weight._data.shape[2]}")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != weight._data.shape[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {list(bias._data.shape)} but "
                           f"expected [{weight._data.shape[0]}]")
    lead = x1._data.shape[:-1]
    y = einsum("bi,oij,bj->bo", reshape(x1, (-1, x1._data.shape[-1])), weight, reshape(x2, (-1, x2._data.shape[-1])))
    y = reshape(y, lead + (weight._data.shape[0],))
    return y if bias is None else y + bias


# ---- dropout ------------------------------------------------------------------------------------------------
class MaskedAffine(Op):
    """y = x * mask (+ shift): dropout's kernel (mask already scaled; shift for alpha dropout)."""

    def forward(ctx, x, mask, shift=None):
        ctx.save_for_backward(mask)
        y = x * mask
        if shift is not None:
            y += shift
        return y

    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return (mul(g, mask), None) + ((None,) if len(ctx.next_edges) == 3 else ())


def _check_p(p):
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep(rng, shape, p, dt):
    return rng.random(shape, dtype=np.float32 if dt == np.float32 else np.float64) >= p


def _dropout_mask(rng, shape, p, dt):
    """Kept elements scaled by 1/(1-p); drawn inside an op so compile mode draws anew at every call."""
    return _keep(rng, shape, p, dt) * dt.type(1.0 / (1.0 - p))


def rrelu_noise(rng, x, lower, upper):
    """rrelu's multiplier: 1 where x >= 0, a uniform slope in [lower, upper] elsewhere."""
    slopes = rng.uniform(lower, upper, size=x.shape).astype(x.dtype)
    return np.where(x >= 0, x.dtype.type(1), slopes)


def _alpha_dropout_mask(rng, shape, p, dt):
    """Alpha dropout's scale and shift, stacked (one draw for both)."""
    keep = _keep(rng, shape, p, dt)
    a_ = 1.7580993408473766
    a = 1.0 / math.sqrt((a_ * a_ * p + 1) * (1 - p))
    shift = ((keep.astype(dt) - 1) * dt.type(a_ * a) + dt.type(a_ * a * p)).astype(dt)
    return np.stack([keep * dt.type(a), shift])


def _apply(x, fn, inplace, name):
    if inplace:
        from .inplace import apply_inplace

        return apply_inplace(x, lambda t: fn(t), name=name)
    return fn(x)


def _dropout_impl(x, p, training, inplace, mask_shape, alpha, name):
    _check_p(p)
    if not training or p == 0 or x._data.size == 0:
        return x
    dt = x._data.dtype
    if dt.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {x.dtype}")
    from .creation import Draw

    if p == 1:
        masks = (_make(np.zeros(mask_shape, dtype=dt)),)
    elif alpha:
        both = Draw.apply(fn=_alpha_dropout_mask, generator=None, args=(tuple(mask_shape), p, dt))
        masks = (both[0], both[1])
    else:
        masks = (Draw.apply(fn=_dropout_mask, generator=None, args=(tuple(mask_shape), p, dt)),)
    return _apply(x, lambda t: MaskedAffine.apply(t, *masks), inplace, name + "_")


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero elements with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    return _dropout_impl(input, p, training, inplace, input._data.shape, False, "dropout")


def alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _dropout_impl(input, p, training, inplace, input._data.shape, True, "alpha_dropout")


def _feature_shape(shape):
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _feature_dropout(x, p, training, inplace, spatial, name, alpha=False):
    nd = x._data.ndim
    if name == "dropout1d" and nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    batched = nd == spatial + 2
    if name == "dropout2d" and nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=3)
        batched = True
    elif name in ("dropout2d", "dropout3d") and nd not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an error "
                      f"in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {spatial} "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)
        batched = True
    shape = x._data.shape
    mask_shape = _feature_shape(shape) if batched else (shape[0],) + (1,) * (nd - 1)
    return _dropout_impl(x, p, training, inplace, mask_shape, alpha, name)


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Alpha dropout of whole channels."""
    _check_p(p)
    mask_shape = _feature_shape(input._data.shape)
    return _dropout_impl(input, p, training, inplace, mask_shape, True, "feature_alpha_dropout")


# ---- embedding --------------------------------------------------------------------------------------------------
class Embedding(Op):
    """Rows of ``weight`` at integer ``idx`` (any shape); the gradient scatter-adds into the rows."""

    def forward(ctx, w, idx, padding_idx, scale):
        rows = w.shape[0]
        # (checked here, not in embedding(): a compiled step replays the op, not the Python around it)
        if idx.size and (idx.min() < 0 or idx.max() >= rows):
            raise IndexError(f"embedding: index out of range in self (indices must be in [0, {rows}), got "
                             f"min {int(idx.min())}, max {int(idx.max())})")
        ctx.idx, ctx.padding_idx, ctx.scale, ctx.rows = idx, padding_idx, scale, rows
        return np.take(w, idx, axis=0)

    def backward(ctx, g):
        return EmbeddingGrad.apply(g, idx=ctx.idx, rows=ctx.rows, padding_idx=ctx.padding_idx, scale=ctx.scale)


def _row_weights(idx, rows, padding_idx, scale, dtype):
    """Per-lookup gradient factors: 0 for padding_idx, 1/frequency with scale_grad_by_freq; None when all 1."""
    if padding_idx is None and not scale:
        return None
    f = np.ones(idx.shape, dtype=dtype)
    if scale:
        counts = np.bincount(idx.ravel(), minlength=rows)
        f = f / counts[idx]
    if padding_idx is not None:
        f = np.where(idx == padding_idx, dtype.type(0), f)
    return f.astype(dtype, copy=False)


class EmbeddingGrad(Op):
    """zeros(rows, dim) with g's rows added at idx (a sparse-matrix product, fast for repeated indices)."""

    def forward(ctx, g, idx, rows, padding_idx, scale):
        import scipy.sparse as sp

        ctx.idx, ctx.padding_idx, ctx.scale = idx, padding_idx, scale
        dim = g.shape[-1]
        flat = idx.ravel()
        vals = _row_weights(idx, rows, padding_idx, scale, g.dtype)
        vals = np.ones(flat.size, dtype=g.dtype) if vals is None else vals.ravel()
        m = sp.csr_matrix((vals, (flat, np.arange(flat.size))), shape=(rows, flat.size))
        return np.asarray(m @ g.reshape(flat.size, dim), dtype=g.dtype)

    def backward(ctx, h):
        out = Embedding.apply(h, idx=ctx.idx, padding_idx=None, scale=False)
        f = _row_weights(ctx.idx, h._data.shape[0], ctx.padding_idx, ctx.scale, h._data.dtype)
        return out if f is None else mul(out, _make(f[..., None]))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,  # noqa: A002
              sparse=False):
    """Look up rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported by ember (renormalising rows in place)")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported by ember")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        name = {"f": "Float", "b": "Bool"}.get(idx.dtype.kind, str(idx.dtype))
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got ember.{name}Tensor instead (while checking arguments for "
                           f"embedding)")
    if weight._data.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got weight of size {list(weight._data.shape)}")
    rows = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < rows, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -rows, "Padding_idx must be within num_embeddings"
            padding_idx = rows + padding_idx
    if isinstance(input, Tensor) and idx.dtype != np.intp:
        # (a traced cast: a NumPy astype here would be a new array that compile mode records as a constant)
        idx = input.long()._data
    return Embedding.apply(weight, idx=idx.astype(np.intp, copy=False), padding_idx=padding_idx,
                           scale=bool(scale_grad_by_freq))


# ---- one_hot ------------------------------------------------------------------------------------------------------
class OneHot(Op):
    """int64 (*idx.shape, num_classes), 1 at each index (an op, so that compile mode replays it on new inputs)."""

    differentiable = False

    def forward(ctx, idx, num_classes):
        if idx.size:
            if idx.min() < 0:
                raise RuntimeError("one_hot: Class values must be non-negative.")
            if idx.max() >= num_classes:
                raise RuntimeError("one_hot: Class values must be smaller than num_classes.")
        out = np.zeros(idx.shape + (int(num_classes),), dtype=np.int64)
        np.put_along_axis(out, idx[..., None], 1, axis=-1)
        return out


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding: shape (*tensor.shape, num_classes)."""
    idx = tensor._data
    if idx.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        _notify_value_read(tensor, "one_hot")  # num_classes=-1: the output's shape depends on the values
        num_classes = int(idx.max()) + 1
    if not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    return OneHot.apply(tensor, num_classes=int(num_classes))


__all__ = ["linear", "bilinear", "dropout", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d",
           "feature_alpha_dropout", "embedding", "one_hot"]

