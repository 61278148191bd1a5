"""Loss functions with torch's reductions ('none' | 'mean' | 'sum') and argument checks.

cross_entropy is log_softmax followed by the ``NllLoss`` primitive (a gather forward, a one-hot backward), the
same two steps and the same arithmetic as torch's CPU kernels. binary_cross_entropy and its logits form are
primitives with explicit, clamped backward formulas; the rest are compositions of differentiable ops.
"""
import warnings

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import _State
from .._tensor import Tensor, _make
from .activation import log_softmax, softplus
from .elementwise import (_t, abs as abs_, add, clamp, div, eq, exp, gt, log, log1p, lt, maximum, minimum, mul,
                          neg, sigmoid, sqrt, sub, where)
from .indexing import getitem
from .normalization import pairwise_distance
from .reduction import mean, sum_
from .shape import expand, reshape
from .unary import sigmoid_array

_REDUCTIONS = ("none", "mean", "sum")


# ---- reductions -----------------------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce):
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  + _legacy_string(size_average, reduce) + "' instead.", stacklevel=3)
    return _legacy_string(size_average, reduce)


def _legacy_string(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduction(reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum_(loss)
    return loss


def _warn_size(input, target, stacklevel=4):  # noqa: A002
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", stacklevel=stacklevel)


def _weighted(loss, weight, reduction, input, mean_by_weight):  # noqa: A002
    if weight is None:
        return _reduce(loss, reduction)
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = mul(loss, weight)
    if reduction == "mean" and mean_by_weight:
        return div(sum_(loss), sum_(weight))
    return _reduce(loss, reduction)


# ---- regression losses ----------------------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """(input - target)^2, reduced (warns, then broadcasts, when the shapes differ, as torch)."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    d = sub(input, target)
    return _weighted(mul(d, d), weight, reduction, input, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """|input - target|, reduced."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    return _weighted(abs_(sub(input, target)), weight, reduction, input, True)


def _smooth(d, beta, quadratic_scale):
    """0.5 d^2 / beta below beta, d - 0.5 beta above (times quadratic_scale handled by the caller)."""
    small = lt(d, _t(beta, d))
    d_small = where(small, d, _t(0, d))  # keeps the unused branch finite for the gradient
    quad = mul(mul(d_small, d_small), _t(0.5 * quadratic_scale, d))
    lin = mul(sub(d, _t(0.5 * beta, d)), _t(quadratic_scale * beta, d))
    return where(small, quad, lin)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """0.5 (x-y)^2 / beta where |x-y| < beta, else |x-y| - 0.5 beta."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = abs_(sub(input, target))
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(_smooth(d, beta, 1.0 / beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5 (x-y)^2 where |x-y| < delta, else delta (|x-y| - 0.5 delta)."""
    _warn_size(input, target)
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = abs_(sub(input, target))
    return _weighted(_smooth(d, delta, 1.0), weight, reduction, input, False)


# ---- negative log likelihood / cross entropy --------------------------------------------------------------------------
class NllLoss(Op):
    """-w[t] * logp[t] per sample (class dim 1, or 0 for a 1-D input), reduced; ignore_index entries count 0."""

    def forward(ctx, logp, target, weight, ignore_index, reduction):
        cdim = 0 if logp.ndim == 1 else 1
        valid = target != ignore_index
        _check_bounds(target, valid, logp.shape[cdim])  # (here, not in nll_loss: a compiled step runs it too)
        t = np.where(valid, target, 0)
        picked = np.take_along_axis(logp, np.expand_dims(t, cdim), axis=cdim).squeeze(cdim)
        w = valid.astype(logp.dtype) if weight is None else np.where(valid, weight[t], logp.dtype.type(0))
        losses = -(picked * w)
        if reduction == "none":
            out = losses
        else:
            total = losses.sum(dtype=logp.dtype)
            if reduction == "mean":
                denom = w.sum(dtype=logp.dtype)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out = np.asarray(total / denom, dtype=logp.dtype)
            else:
                out = np.asarray(total, dtype=logp.dtype)
        ctx.cdim, ctx.shape, ctx.reduction = cdim, logp.shape, reduction
        ctx.target, ctx.weight, ctx.ignore_index, ctx.dtype = target, weight, ignore_index, logp.dtype
        return out

    def backward(ctx, g):
        dense = NllLossGradWeights.apply(target=ctx.target, weight=ctx.weight, ignore_index=ctx.ignore_index,
                                         reduction=ctx.reduction, shape=ctx.shape, dtype=ctx.dtype)
        if ctx.reduction == "none" and g._data.ndim:
            g = reshape(g, g._data.shape[:ctx.cdim] + (1,) + g._data.shape[ctx.cdim:])
        return mul(g, dense)


class NllLossGradWeights(Op):
    """d nll_loss / d logp before the chain rule: -w[t] (/ total weight for 'mean') at each target, 0 elsewhere.
    An op with the target as a parameter (not arrays kept from forward), so compile mode records it per step."""

    differentiable = False

    def forward(ctx, target, weight, ignore_index, reduction, shape, dtype):
        cdim = 0 if len(shape) == 1 else 1
        valid = target != ignore_index
        t = np.where(valid, target, 0)
        w = valid.astype(dtype) if weight is None else np.where(valid, weight[t], dtype.type(0))
        if reduction == "mean":
            w = w / w.sum(dtype=dtype)
        dense = np.zeros(shape, dtype=dtype)
        np.put_along_axis(dense, np.expand_dims(t, cdim), np.expand_dims(-w, cdim), axis=cdim)
        return dense


def _check_class_target(input, target, op):  # noqa: A002
    """Validate class-index targets against input (N, C, d1, ...) or (C,), in torch's order and wording."""
    nd = input._data.ndim
    if nd < 1:
        raise ValueError(f"{op}: Expected 1 or more dimensions (got {nd})")
    ts = target._data.shape
    if nd == 1:
        if target._data.ndim > 1 or target._data.size != 1:
            raise ValueError(f"{op}: For 1D input, 1D target must have size 1, but got target size: "
                             f"{list(ts)}")
    else:
        n = input._data.shape[0]
        if target._data.ndim == 0 or ts[0] != n:
            raise ValueError(f"{op}: Expected input batch_size ({n}) to match target batch_size "
                             f"({ts[0] if ts else 0}).")
        if nd == 2 and target._data.ndim != 1:
            raise RuntimeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported (got target of "
                               f"size {list(ts)} for input of size {list(input._data.shape)})")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte, but got {target.dtype}")
    expected = (input._data.shape[0],) + input._data.shape[2:] if nd > 1 else ts
    if ts != expected:
        raise RuntimeError(f"{op}: Expected target size {list(expected)}, got {list(ts)}")


def _check_bounds(t, valid, n_classes):
    """Class targets ``t`` (an array; ``valid``: not ignore_index) must lie in [0, n_classes)."""
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].ravel()[0])} is out of bounds.")


def _check_weight(weight, n_classes, op):
    if weight is not None and (weight._data.ndim != 1 or weight._data.size != n_classes):
        raise RuntimeError(f"{op}: weight tensor should be defined either for all {n_classes} classes or no classes "
                           f"but got weight tensor of shape: {list(weight._data.shape)}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
             reduction="mean"):
    """-input[n, target[n]] * weight[target[n]], reduced; 'mean' divides by the total weight of counted targets."""
    reduction = _reduction(reduction, size_average, reduce)
    _check_class_target(input, target, "nll_loss")
    c = input._data.shape[0 if input._data.ndim == 1 else 1]
    _check_weight(weight, c, "nll_loss")
    # the class indices as an int64 array that compile mode sees as a value of the step: a traced cast and
    # reshape (NumPy's astype/reshape here would make new arrays, recorded as constants of the trace)
    if target._data.dtype != np.intp:
        target = target.long()
    if input._data.ndim == 1:
        target = reshape(target, ())
    t = target._data
    w = None if weight is None else weight._data.astype(input._data.dtype, copy=False)
    return NllLoss.apply(input, target=t, weight=w, ignore_index=ignore_index, reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim (1, or 0 for 1-D input) then nll_loss; also class-probability targets
    (floating target of the input's shape) and label smoothing, as torch."""
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    nd = input._data.ndim
    cdim = 0 if nd == 1 else 1
    c = input._data.shape[cdim]
    _check_weight(weight, c, "cross_entropy")
    if target._data.dtype.kind == "f" and target._data.shape == input._data.shape:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, cdim)
    _check_class_target(input, target, "cross_entropy")
    logp = log_softmax(input, cdim)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return loss
    # torch's smoothing term: -sum_c w_c logp_c, zero at ignored targets, normalised as nll_loss normalises
    wshape = (c,) + (1,) * (nd - cdim - 1)
    weighted = logp if weight is None else mul(logp, reshape(weight, wshape))
    smooth = neg(sum_(weighted, dim=cdim))
    ignored = eq(target, ignore_index)  # ops, not arrays read here, so compile mode sees each step's target
    smooth = where(ignored, _t(0, smooth), smooth)
    if reduction == "mean":
        if weight is None:
            counted = where(ignored, _t(0, smooth), _t(1, smooth))
        else:
            counted = where(ignored, _t(0, smooth), getitem(weight, where(ignored, _t(0, target), target)))
        smooth = div(sum_(smooth), sum_(counted))
    elif reduction == "sum":
        smooth = sum_(smooth)
    return add(mul(loss, 1 - label_smoothing), mul(smooth, label_smoothing / c))


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, cdim):  # noqa: A002
    c = input._data.shape[cdim]
    logp = log_softmax(input, cdim)
    if label_smoothing > 0:
        target = add(mul(target, 1 - label_smoothing), label_smoothing / c)
    prod = mul(logp, target)
    if weight is not None:
        prod = mul(prod, reshape(weight, (c,) + (1,) * (input._data.ndim - cdim - 1)))
    if reduction == "none":
        return neg(sum_(prod, dim=cdim))
    total = neg(sum_(prod))
    if reduction == "sum":
        return total
    return div(total, _t(input._data.size // c, total))


# ---- binary cross entropy --------------------------------------------------------------------------------------------
class BinaryCrossEntropy(Op):
    """-(t log x + (1 - t) log(1 - x)) with both logs clamped at -100 (torch)."""

    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        dt = x.dtype.type
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), dt(-100))
            l1x = np.maximum(np.log1p(-x), dt(-100))
        return -(t * lx + (1 - t) * l1x)

    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.next_edges[0] is not None:
            # torch's EPSILON is the float32 1e-12, whatever the dtype
            denom = maximum(mul(sub(_t(1, x), x), x), _t(np.float32(1e-12), x))
            gx = div(mul(g, sub(x, t)), denom)
        if ctx.next_edges[1] is not None:  # torch: -logit(x), not clamped
            gt = mul(g, sub(log1p(neg(x)), log(x)))
        return gx, gt


def _check_not_differentiable(op, name, t):
    """torch refuses a weight that requires grad where its formula has no gradient for it."""
    if t is not None and t.requires_grad and _State.enabled:
        raise RuntimeError(f"The function '{op}' is not differentiable with respect to argument '{name}'. This "
                           "input cannot have requires_grad True.")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """Binary cross entropy between probabilities ``input`` and ``target`` (same shapes)."""
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the input size "
                         f"({input.shape!r}) is deprecated. Please ensure they have the same size.")
    _check_not_differentiable("binary_cross_entropy", "weight", weight)
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        try:
            np.broadcast_to(weight._data, input._data.shape)
        except ValueError:
            raise RuntimeError(f"binary_cross_entropy: weight of size {list(weight._data.shape)} cannot be broadcast "
                               f"to the input size {list(input._data.shape)}") from None
        loss = mul(loss, weight)
    return _reduce(loss, reduction)


class BinaryCrossEntropyWithLogits(Op):
    """(1 - t) x - lw * log_sigmoid(x), lw = 1 + (pos_weight - 1) t, times weight (torch's formula)."""

    def forward(ctx, x, t, weight, pos_weight):
        ctx.weight, ctx.pos_weight = weight, pos_weight
        # -log_sigmoid(x) = max(-x, 0) + log1p(e), e = exp(-|x|) (kept: the input gradient's sigmoid reads it);
        # -|x| is min(-x, x), taken from -x before max(-x, 0) overwrites it. Then (1 - t) x - log_sigmoid(x)
        neg_log_sig = np.asarray(np.negative(x))  # (asarray: a 0-d input gives NumPy scalars)
        e = np.asarray(np.minimum(neg_log_sig, x))
        np.maximum(neg_log_sig, 0, out=neg_log_sig)
        np.exp(e, out=e)
        ctx.save_for_backward(x, t, e)
        np.add(neg_log_sig, np.log1p(e), out=neg_log_sig)
        if pos_weight is not None:
            neg_log_sig = neg_log_sig * ((pos_weight - 1) * t + 1)
        loss = np.asarray(np.subtract(1, t))
        np.multiply(loss, x, out=loss)
        if loss.shape != neg_log_sig.shape:  # (a pos_weight broadcasting to a larger shape)
            loss = loss + neg_log_sig
        else:
            np.add(loss, neg_log_sig, out=loss)
        return loss * weight if weight is not None else loss

    def backward(ctx, g):
        x, t, e = ctx.saved_tensors
        if ctx.weight is not None:
            g = mul(g, _make(ctx.weight))
        gx = gt = None
        pw = None if ctx.pos_weight is None else _make(ctx.pos_weight)
        if ctx.next_edges[0] is not None:
            if pw is None:
                gx = BCEWithLogitsInputGrad.apply(g, x, t, e)
            else:
                s = sigmoid(x)
                lw = add(mul(sub(pw, _t(1, pw)), t), _t(1, t))
                gx = mul(g, sub(sub(_t(1, t), t), mul(lw, sub(_t(1, s), s))))
        if ctx.next_edges[1] is not None:
            log_sig = neg(softplus(neg(x)))
            d = neg(x) if pw is None else sub(neg(x), mul(sub(pw, _t(1, pw)), log_sig))
            gt = mul(g, d)
        return gx, gt


class BCEWithLogitsInputGrad(Op):
    """g (sigmoid(x) - t): the input gradient of binary_cross_entropy_with_logits without pos_weight, as one op
    (the same NumPy operations, in the same order, as ``mul(g, sub(sigmoid(x), t))``), since
    (1 - t) - (1 - sigmoid(x)) = sigmoid(x) - t. ``e`` is exp(-|x|), which the loss's forward computed (as
    ``sigmoid_array`` would)."""

    def forward(ctx, g, x, t, e):
        ctx.save_for_backward(g, x, t)
        d = sigmoid_array(x, e)
        np.subtract(d, t, out=d)
        return np.multiply(g, d, out=d) if g.shape == d.shape else np.multiply(g, d)

    def backward(ctx, gg):
        g, x, t = ctx.saved_tensors
        s = sigmoid(x)
        need = ctx.next_edges
        gg_g = mul(gg, g) if need[1] is not None or need[2] is not None else None
        return (mul(gg, sub(s, t)) if need[0] is not None else None,
                mul(gg_g, mul(s, sub(_t(1, s), s))) if need[1] is not None else None,
                neg(gg_g) if need[2] is not None else None,
                None)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy in one numerically stable step."""
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})")
    dt = input._data.dtype
    arrays = []
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is None:
            arrays.append(None)
            continue
        _check_not_differentiable("binary_cross_entropy_with_logits", name, t)
        try:
            np.broadcast_shapes(t._data.shape, input._data.shape)
        except ValueError:
            raise RuntimeError(f"binary_cross_entropy_with_logits: {name} of size {list(t._data.shape)} cannot be "
                               f"broadcast to the input size {list(input._data.shape)}") from None
        arrays.append(t._data.astype(dt, copy=False))
    loss = BinaryCrossEntropyWithLogits.apply(input, target.to(input.dtype), weight=arrays[0], pos_weight=arrays[1])
    return _reduce(loss, reduction)


# ---- divergences and margin losses -----------------------------------------------------------------------------------
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """target * (log target - input) pointwise (input holds log-probabilities); 'batchmean' divides by N."""
    reduction = _reduction(reduction, size_average, reduce, allowed=_REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = mul(exp(target), sub(target, input))
    else:
        safe = where(gt(target, _t(0, target)), target, _t(1, target))
        loss = sub(mul(target, log(safe)), mul(target, input))
    if reduction == "batchmean":
        total = sum_(loss)
        return total if input._data.ndim == 0 else div(total, _t(input._data.shape[0], total))
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos - margin) where target == -1 (cos along dim 1)."""
    reduction = _reduction(reduction, size_average, reduce)
    nd = input1._data.ndim
    if nd not in (1, 2) or target._data.ndim != nd - 1:
        raise RuntimeError(f"cosine_embedding_loss: {target._data.ndim}D target tensor expects {target._data.ndim + 1}"
                           f"D input tensors, but found inputs with sizes {list(input1._data.shape)} and "
                           f"{list(input2._data.shape)}.")
    dim = nd - 1
    eps = 1e-12
    prod = sum_(mul(input1, input2), dim=dim)
    m1 = add(sum_(mul(input1, input1), dim=dim), eps)
    m2 = add(sum_(mul(input2, input2), dim=dim), eps)
    cos = div(prod, sqrt(mul(m1, m2)))
    zero = _t(0, cos)
    pos = where(eq(target, 1), sub(_t(1, cos), cos), zero)
    neg_ = where(eq(target, -1), clamp(sub(cos, _t(margin, cos)), min=0), zero)
    return _reduce(add(pos, neg_), reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(reduction, size_average, reduce)
    if not input1._data.ndim == input2._data.ndim == target._data.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape!r}, input2: {input2.shape!r}, target: {target.shape!r} ")
    loss = clamp(add(mul(neg(target), sub(input1, input2)), margin), min=0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """log(1 + exp(-target * input))."""
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(log1p(exp(mul(neg(input), target))), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """x where target == 1, max(0, margin - x) where target == -1."""
    reduction = _reduction(reduction, size_average, reduce)
    zero = _t(0, input)
    margin_part = where(eq(target, 1), zero, clamp(sub(_t(margin, input), input), min=0))
    self_part = where(eq(target, -1), zero, input)
    return _reduce(add(margin_part, self_part), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the p-norm pairwise distance (swap: d(a, n) -> min(d(a, n),
    d(p, n)))."""
    reduction = _reduction(reduction, size_average, reduce)
    da, dp, dn = anchor._data.ndim, positive._data.ndim, negative._data.ndim
    if not da == dp == dn:
        raise RuntimeError(f"triplet_margin_loss: The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {da}D, positive {dp}D, and negative {dn}D "
                           f"inputs")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(add(sub(d_ap, d_an), margin), min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """triplet_margin_loss with any distance function (default: pairwise_distance)."""
    reduction = _reduction(reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_ap = dist(anchor, positive)
    d_an = dist(anchor, negative)
    if swap:
        d_an = minimum(d_an, dist(positive, negative))
    return _reduce(clamp(add(sub(d_ap, d_an), margin), min=0), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,  # noqa: A002
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (log_input) or input - target * log(input + eps), plus Stirling's term."""
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = sub(exp(input), mul(target, input))
    else:
        loss = sub(input, mul(target, log(add(input, eps))))
    if full:
        t = target
        stirling = add(sub(mul(t, log(where(gt(t, _t(0, t)), t, _t(1, t)))), t),
                       mul(log(mul(t, 2 * np.pi)), 0.5))
        stirling = where(gt(t, _t(1, t)), stirling, _t(0, stirling))
        loss = add(loss, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) when full)."""
    reduction = _reduction(reduction)
    if not isinstance(var, Tensor):
        var = _t(float(var), input)
        if var._data < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    else:
        if var._data.shape != input._data.shape:
            if input._data.shape[:-1] == var._data.shape:
                var = reshape(var, var._data.shape + (1,))
            elif not (input._data.shape[:-1] == var._data.shape[:-1] and var._data.shape[-1] == 1) and \
                    var._data.size != 1:
                raise ValueError("gaussian_nll_loss: var is of incorrect size")
        if (var._data < 0).any():
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    v = add(var, sub(clamp(var.detach(), min=eps), var.detach()))  # clamped without blocking the gradient
    d = sub(input, target)
    loss = mul(add(log(v), div(mul(d, d), v)), 0.5)
    if full:
        loss = add(loss, 0.5 * float(np.log(2 * np.pi)))
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                reduction="mean"):
    """-mean over classes of (t log sigmoid(x) + (1 - t) log sigmoid(-x)) [* weight]."""
    reduction = _reduction(reduction, size_average, reduce)
    log_sig = neg(softplus(neg(input)))
    log_sig_neg = neg(softplus(input))
    loss = neg(add(mul(target, log_sig), mul(sub(_t(1, target), target), log_sig_neg)))
    if weight is not None:
        loss = mul(loss, weight)
    loss = mean(loss, dim=input._data.ndim - 1)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,  # noqa: A002
                      reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C [* weight[y]]."""
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    x = input if input._data.ndim == 2 else reshape(input, (1, -1))
    c = x._data.shape[1]
    t = reshape(target, (-1, 1))
    onehot = eq(t, _make(np.arange(c, dtype=target._data.dtype)))
    x_y = sum_(where(onehot, x, _t(0, x)), dim=1, keepdim=True)
    z = clamp(add(sub(x, expand(x_y, x._data.shape)), margin), min=0)
    if p == 2:
        z = mul(z, z)
    if weight is not None:
        z = mul(z, reshape(getitem(weight, reshape(target, (-1,))), (-1, 1)))
    z = where(onehot, _t(0, z), z)
    loss = div(sum_(z, dim=1), _t(c, z))
    if input._data.ndim < 2:
        loss = reshape(loss, ())
    return _reduce(loss, reduction)


__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
           "margin_ranking_loss", "soft_margin_loss", "hinge_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss"]
