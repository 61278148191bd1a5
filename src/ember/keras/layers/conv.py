"""Convolution and pooling layers, channels-last (``data_format='channels_last'``) as Keras.

Inputs are moved to channels-first for ember.nn.functional's kernels and back; a Keras kernel
(k_h, k_w, in, out) is the torch weight (out, in, k_h, k_w) transposed. ``padding='same'`` pads like
TensorFlow (the extra row/column, when the total is odd, goes after).
"""
import math

import numpy as np

from ... import ops
from ..._tensor import from_numpy
from ...nn import functional as F
from .. import activations, initializers, regularizers
from .base import InputSpec, Layer
from .core import _serialize_init

__all__ = ["Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"]


def _tuple(value, n, what, layer):
    if isinstance(value, int):
        value = (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n or any(v <= 0 for v in value):
        raise ValueError(f"{layer}: `{what}` must be a positive int or a tuple of {n} positive ints, got {value}")
    return value


def _padding_arg(padding, layer, allowed=("valid", "same")):
    padding = str(padding).lower()
    if padding not in allowed:
        raise ValueError(f"{layer}: invalid padding {padding!r}; accepted: {list(allowed)}")
    return padding


def _same_pads(size, k, s, d):
    """(before, after) padding of one spatial dim for TensorFlow's 'same'."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _pad_spatial(x, pads, value=0.0):
    """Pad the trailing spatial dims of a channels-first tensor by [(before, after), ...]."""
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    if not any(flat):
        return x
    return F.pad(x, tuple(flat), value=value)


def _to_channels_first(x, data_format):
    return x if data_format == "channels_first" else x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def _to_channels_last(x, data_format):
    return x if data_format == "channels_first" else x.permute(0, *range(2, x.dim()), 1)


class _Conv(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters` of {cls}. Expected a strictly positive value. "
                             f"Received filters={filters!r}.")
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = _tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate", cls)
        self.padding = _padding_arg(padding, cls, ("valid", "same", "causal") if self.rank == 1 else
                                    ("valid", "same"))
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{cls}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        self.groups = int(groups)
        if self.filters % self.groups:
            raise ValueError(f"{cls}: filters ({self.filters}) must be divisible by groups ({self.groups})")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self._kernel_init_arg, self._bias_init_arg = kernel_initializer, bias_initializer
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        axis = 1 if self.data_format == "channels_first" else -1
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel dimension of the inputs must be known, "
                             f"got input shape {input_shape}")
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': input channels ({channels}) must be divisible by "
                             f"groups ({self.groups})")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={axis: channels})
        self.built = True

    def call(self, inputs):
        x = _to_channels_first(inputs, self.data_format)
        spatial = tuple(x.shape[2:])
        if self.padding == "same":
            pads = [_same_pads(n, k, s, d) for n, k, s, d in zip(spatial, self.kernel_size, self.strides,
                                                                   self.dilation_rate)]
        elif self.padding == "causal":
            pads = [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)]
        else:
            pads = [(0, 0)] * self.rank
        symmetric = all(a == b for a, b in pads)
        if not symmetric:
            x = _pad_spatial(x, pads)
        weight = self.kernel.permute(self.rank + 1, self.rank, *range(self.rank))
        conv = F.conv2d if self.rank == 2 else F.conv1d
        y = conv(x, weight, self.bias, self.strides, tuple(a for a, _ in pads) if symmetric else 0,
                 self.dilation_rate, self.groups)
        return self.activation(_to_channels_last(y, self.data_format))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _serialize_init(self.kernel_initializer, self._kernel_init_arg),
                "bias_initializer": _serialize_init(self.bias_initializer, self._bias_init_arg),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class Conv1D(_Conv):
    """1D convolution over (batch, steps, channels); kernel (k, in, filters). ``padding`` also 'causal'."""

    rank = 1


class Conv2D(_Conv):
    """2D convolution over (batch, height, width, channels); kernel (k_h, k_w, in, filters)."""

    rank = 2


class _Pool(Layer):
    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = _tuple(pool_size, self.rank, "pool_size", cls)
        self.strides = _tuple(strides if strides is not None else self.pool_size, self.rank, "strides", cls)
        self.padding = _padding_arg(padding, cls)
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        x = _to_channels_first(inputs, self.data_format)
        spatial = tuple(x.shape[2:])
        pads = [_same_pads(n, k, s, 1) if self.padding == "same" else (0, 0)
                for n, k, s in zip(spatial, self.pool_size, self.strides)]
        if self.mode == "max":
            x = _pad_spatial(x, pads, value=-math.inf)
            pool = F.max_pool2d if self.rank == 2 else F.max_pool1d
            y = pool(x, self.pool_size, self.strides)
        else:
            padded = _pad_spatial(x, pads)
            pool = F.avg_pool2d if self.rank == 2 else F.avg_pool1d
            y = pool(padded, self.pool_size, self.strides)
            if any(a or b for a, b in pads):  # average only over the real (unpadded) inputs, as TensorFlow
                ones = np.ones((1, 1) + spatial, dtype=np.float32)
                ones = np.pad(ones, [(0, 0), (0, 0)] + list(pads))
                counts = pool(from_numpy(ones), self.pool_size, self.strides)
                y = y / counts.to(y.dtype)
        return _to_channels_last(y, self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pool):
    rank, mode = 1, "max"


class MaxPooling2D(_Pool):
    """Max over ``pool_size`` windows (stride defaults to pool_size)."""

    rank, mode = 2, "max"


class AveragePooling1D(_Pool):
    rank, mode = 1, "avg"


class AveragePooling2D(_Pool):
    """Mean over ``pool_size`` windows; with 'same' padding, the mean of the in-bounds values."""

    rank, mode = 2, "avg"


class _GlobalPool(Layer):
    rank = 2
    mode = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        dims = tuple(range(2, inputs.dim())) if self.data_format == "channels_first" else \
            tuple(range(1, inputs.dim() - 1))
        if self.mode == "avg":
            return ops.mean(inputs, dim=dims, keepdim=self.keepdims)
        return ops.amax(inputs, dim=dims, keepdim=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPool):
    rank, mode = 1, "avg"


class GlobalAveragePooling2D(_GlobalPool):
    """Mean over the spatial dims: (batch, h, w, c) -> (batch, c)."""

    rank, mode = 2, "avg"


class GlobalMaxPooling1D(_GlobalPool):
    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPool):
    rank, mode = 2, "max"
