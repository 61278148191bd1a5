"""ember.nn.functional: torch.nn.functional's API over ember's ops (signatures and semantics as torch).

The kernels live in ``ember.ops`` (conv, pool, normalization, loss, nn_misc, activation); this module adds
torch's argument conventions (``inplace=``, ``_stacklevel``, in-place ``*_`` variants) and the small
compositions (glu, prelu, rrelu, lp_pool, max_unpool).
"""
import warnings as _warnings

from ..ops import activation as _act
from ..ops.activation import (gelu, hardshrink, logsigmoid, softplus, softshrink, softsign,  # noqa: F401
                              tanhshrink)
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold  # noqa: F401
from ..ops.elementwise import _t, sigmoid, tanh, where  # noqa: F401
from ..ops.inplace import apply_inplace as _apply_inplace
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,  # noqa: F401
                        cross_entropy, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, l1_loss,
                        margin_ranking_loss, mse_loss, multi_margin_loss, multilabel_soft_margin_loss, nll_loss,
                        poisson_nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss,
                        triplet_margin_with_distance_loss)
from ..ops.nn_misc import (alpha_dropout, bilinear, dropout, dropout1d, dropout2d, dropout3d, embedding,  # noqa: F401
                           feature_alpha_dropout, linear, one_hot)
from ..ops.normalization import (batch_norm, cosine_similarity, group_norm, instance_norm, layer_norm,  # noqa: F401
                                 local_response_norm, normalize, pairwise_distance, rms_norm)
from ..ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,  # noqa: F401
                        adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d)
from ..ops.rearrange import pad  # noqa: F401
from ..ops.resample import (channel_shuffle, interpolate, native_channel_shuffle, pixel_shuffle,  # noqa: F401
                            pixel_unshuffle)


def _maybe_inplace(fn, x, inplace, name, *args):
    if inplace:
        return _apply_inplace(x, lambda t: fn(t, *args), name=name)
    return fn(x, *args)


# ---- softmax family (torch's positional ``_stacklevel`` before ``dtype``) ------------------------------------------
def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    return _act.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    return _act.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    return _act.softmin(input, dim, dtype)


# ---- activations with torch's ``inplace`` argument ----------------------------------------------------------
def relu(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.relu, input, inplace, "relu_")


def relu_(input):  # noqa: A002
    return relu(input, inplace=True)


def relu6(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.relu6, input, inplace, "relu6_")


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.elu, input, inplace, "elu_", alpha)


def elu_(input, alpha=1.0):  # noqa: A002
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.selu, input, inplace, "selu_")


def selu_(input):  # noqa: A002
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _maybe_inplace(_act.celu, input, inplace, "celu_", alpha)


def celu_(input, alpha=1.0):  # noqa: A002
    return celu(input, alpha, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.leaky_relu, input, inplace, "leaky_relu_", negative_slope)


def leaky_relu_(input, negative_slope=0.01):  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.hardtanh, input, inplace, "hardtanh_", min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def hardsigmoid(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.hardsigmoid, input, inplace, "hardsigmoid_")


def hardswish(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.hardswish, input, inplace, "hardswish_")


def silu(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.silu, input, inplace, "silu_")


def mish(input, inplace=False):  # noqa: A002
    return _maybe_inplace(_act.mish, input, inplace, "mish_")


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """``input`` where input > threshold, else ``value``."""
    return _maybe_inplace(_act.threshold, input, inplace, "threshold_", threshold, value)


def threshold_(input, threshold, value):  # noqa: A002
    return _maybe_inplace(_act.threshold, input, True, "threshold_", threshold, value)


def glu(input, dim=-1):  # noqa: A002
    """a * sigmoid(b) where a, b are the two halves of ``input`` along ``dim``."""
    from ..ops._util import wrap_dim
    from ..ops.elementwise import mul
    from ..ops.shape import chunk

    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input._data.ndim, "glu")
    if input._data.shape[d] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size {input._data.shape[d]}")
    a, b = chunk(input, 2, d)
    return mul(a, sigmoid(b))


def prelu(input, weight):  # noqa: A002
    """max(0, x) + weight * min(0, x), weight per channel (dim 1) or a single value."""
    from ..ops.elementwise import gt, mul
    from ..ops.shape import reshape

    x = input
    channels = x._data.shape[1] if x._data.ndim >= 2 else 1
    n = weight._data.size
    if n != 1 and n != channels:
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{n} and channel size = {channels}.")
    if n != 1 or weight._data.ndim > max(x._data.ndim - 1, 0):
        w = reshape(weight, (n,) + (1,) * max(x._data.ndim - 2, 0)) if x._data.ndim >= 2 else reshape(weight, ())
    else:
        w = weight
    return where(gt(x, _t(0, x)), x, mul(w, x))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):  # noqa: A002
    """Leaky ReLU with a random slope in [lower, upper] per negative element when training, else their mean."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ..ops.creation import Draw
    from ..ops.nn_misc import MaskedAffine, rrelu_noise

    noise = Draw.apply(input, fn=rrelu_noise, generator=None, args=(lower, upper))  # a traced draw: see Draw
    return _maybe_inplace(lambda t: MaskedAffine.apply(t, noise), input, inplace, "rrelu_")


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):  # noqa: A002
    return rrelu(input, lower, upper, training, inplace=True)


# ---- pooling compositions -----------------------------------------------------------------------------------
def _lp_pool(x, norm_type, kernel_size, stride, ceil_mode, nd):
    from ..ops.elementwise import abs as abs_, mul, sign
    from ..ops.pool import _pair

    k = _pair(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    pool = avg_pool1d if nd == 1 else avg_pool2d
    kernel = k[0] if nd == 1 else k
    out = pool(x ** norm_type, kernel, stride, 0, ceil_mode)
    count = k[0] if nd == 1 else k[0] * k[1]
    return mul(mul(sign(out), _act.relu(abs_(out))), count) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """(sum over windows of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """(sum over windows of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def _max_unpool(x, indices, kernel_size, stride, padding, output_size, nd, op):
    from ..ops.pool import PlaneScatter, _pair
    from ..ops.shape import reshape

    k = _pair(kernel_size, nd, "kernel_size", op)
    s = k if stride is None else _pair(stride, nd, "stride", op)
    p = _pair(padding, nd, "padding", op)
    spatial = x._data.shape[-nd:]
    default = tuple((i - 1) * si - 2 * pi + ki for i, si, pi, ki in zip(spatial, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in tuple(output_size)[-nd:])
    if indices._data.shape != x._data.shape:
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                           f"({list(x._data.shape)}) but got indices tensor with shape: {list(indices._data.shape)}")
    lead = x._data.shape[:-nd]
    batched = x._data.ndim == nd + 2
    x4 = x if batched else reshape(x, (1,) + x._data.shape)
    idx = (indices if batched else reshape(indices, (1,) + indices._data.shape))._data  # an op's output when traced
    plane = 1
    for v in out:
        plane *= v
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise RuntimeError(f"{op}: Found an invalid max index: {int(idx.max())} (output volumes are of size "
                           f"{'x'.join(map(str, out))})")
    shape4 = x4._data.shape[:2] + out
    # torch writes each value at its index (a later duplicate overwrites) and gathers in backward
    y = PlaneScatter.apply(x4, idx=idx, shape=shape4, unique=True)
    return y if batched else reshape(y, lead + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Place each value at its max_pool1d index in a zero tensor (the partial inverse of max_pool1d)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """Place each value at its max_pool2d index in a zero tensor (the partial inverse of max_pool2d)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


# ---- resampling (kernels in ops/resample.py); upsample* are torch's deprecated aliases of interpolate ----------
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    _warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    _warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    _warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- not implemented yet (named so the error says what is missing) ------------------------------------------------
def _missing(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"ember.nn.functional.{name} is not implemented yet")

    fn.__name__ = name
    return fn


conv3d = _missing("conv3d")
conv_transpose3d = _missing("conv_transpose3d")
max_pool3d = _missing("max_pool3d")
avg_pool3d = _missing("avg_pool3d")
adaptive_avg_pool3d = _missing("adaptive_avg_pool3d")
adaptive_max_pool3d = _missing("adaptive_max_pool3d")
max_unpool3d = _missing("max_unpool3d")
lp_pool3d = _missing("lp_pool3d")
ctc_loss = _missing("ctc_loss")
multilabel_margin_loss = _missing("multilabel_margin_loss")

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("where",)]


from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402,F401
