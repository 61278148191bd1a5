"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits, lazily computed attributes."""
import numbers

from .. import ops as _ops
from .._dtype import finfo, get_default_dtype
from .._tensor import Size, Tensor, tensor
from ..autograd.grad_mode import enable_grad

__all__ = ["as_size", "broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def as_size(shape) -> Size:
    """A sample/batch shape as a Size (torch.Size(shape): an int is refused the same way)."""
    return shape if isinstance(shape, Size) else Size(tuple(shape))


def broadcast_all(*values):
    """Broadcast tensors and numbers together; numbers become tensors of the first tensor's dtype (or of the
    default dtype when all are numbers)."""
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects "  # noqa: TRY004
                             "implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else get_default_dtype()
    if like is not None and not like.is_floating_point():
        dtype = like.dtype
    tensors = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype) for v in values]
    return _ops.broadcast_tensors(*tensors)


def _sum_rightmost(value, dim: int):
    """Sum out the ``dim`` rightmost dims of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.ndim - dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    """Probabilities clamped into [eps, 1 - eps] (the dtype's machine epsilon)."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-odds (binary) or log-probabilities (categorical) of clamped probabilities."""
    p = clamp_probs(probs)
    if is_binary:
        return p.log() - (-p).log1p()
    return p.log()


def logits_to_probs(logits, is_binary=False):
    """sigmoid (binary) or softmax over the last dim (categorical)."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def bce_with_logits(logits, target):
    """Elementwise binary cross-entropy of ``target`` under Bernoulli(logits): (1 - t) x - log(sigmoid(x))."""
    return (1 - target) * logits - _ops.logsigmoid(logits)


def clamp_by_zero(x):
    """x clamped at 0 from below, with gradient 1/2 at 0 (as torch's Binomial)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class lazy_property:
    """A method computed on first access and then stored on the instance (with gradient recording on, so a
    parameter derived inside ``no_grad`` keeps its graph)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def special(name):
    """ember.ops.special's function ``name`` (lgamma, digamma, xlogy), imported on first use."""
    from ..ops import special as _special

    return getattr(_special, name)
