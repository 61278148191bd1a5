"""Activation functions by Keras name (``activation='relu'``), over ember.nn.functional."""
from .. import ops
from ..nn import functional as F

__all__ = ["get", "serialize", "relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "softplus",
           "softsign", "swish", "silu", "gelu", "exponential", "leaky_relu", "relu6", "hard_sigmoid",
           "log_softmax", "mish"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    y = ops.where(x >= threshold, x, negative_slope * (x - threshold))
    return ops.clamp(y, max=max_value) if max_value is not None else y


def sigmoid(x):
    return F.sigmoid(x)


def tanh(x):
    return F.tanh(x)


def softmax(x, axis=-1):
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


def linear(x):
    return x


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def silu(x):
    return F.silu(x)


swish = silu


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x):
    return ops.exp(x)


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(x, negative_slope)


def relu6(x):
    return F.relu6(x)


def hard_sigmoid(x):
    return F.hardsigmoid(x)


def mish(x):
    return F.mish(x)


_BY_NAME = {fn.__name__: fn for fn in (relu, sigmoid, tanh, softmax, linear, elu, selu, softplus, softsign, silu,
                                        gelu, exponential, leaky_relu, relu6, hard_sigmoid, log_softmax, mish)}
_BY_NAME["swish"] = silu


def get(identifier):
    """The activation for a name ('relu'), a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation function: {identifier!r}. Accepted names: {sorted(_BY_NAME)}")
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r} (expected a name such "
                     f"as 'relu' or a callable)")


def serialize(fn):
    """The Keras name of an activation function (for layer configs)."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    if hasattr(fn, "name") and isinstance(fn.name, str):
        return fn.name
    raise ValueError(f"cannot serialize activation {fn!r}: not one of {sorted(_BY_NAME)}")
