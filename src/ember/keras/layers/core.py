"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, Embedding, Lambda."""
import math

import numpy as np

from ... import ops
from ...nn import functional as F
from .. import activations, initializers, regularizers
from .base import InputSpec, Layer

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "Embedding", "Lambda"]


def _positive_int(value, what, layer):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Received an invalid value for `{what}` of {layer}, expected a positive integer. "
                         f"Received: {what}={value!r}")
    return int(value)


def _serialize_init(init, given):
    return given if isinstance(given, str) else initializers.serialize(init)


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis; kernel (in, units), bias (units,)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units", "Dense")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self._kernel_init_arg, self._bias_init_arg = kernel_initializer, bias_initializer
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Dense layer '{self.name}': the last dimension of the inputs must be known, got input "
                             f"shape {input_shape}")
        self.kernel = self.add_weight(name="kernel", shape=(in_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def call(self, inputs):
        if inputs.dtype != self.kernel.dtype:
            inputs = inputs.to(self.kernel.dtype)
        y = F.linear(inputs, self.kernel.t(), self.bias)
        return self.activation(y)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _serialize_init(self.kernel_initializer, self._kernel_init_arg),
                "bias_initializer": _serialize_init(self.bias_initializer, self._bias_init_arg),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs when training (scaling the rest by 1 / (1 - rate))."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, training=True)
        shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = ops.rand(*shape) >= self.rate
        return inputs * keep.to(inputs.dtype) * (1.0 / (1.0 - self.rate))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """Flatten every dim but the batch dim."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.permute(0, *range(2, inputs.dim()), 1)
        return inputs.reshape(inputs.shape[0], -1) if inputs.dim() != 1 else inputs.reshape(-1, 1)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape to ``(batch,) + target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)

    def call(self, inputs):
        n = inputs.shape[0]
        size = math.prod(inputs.shape[1:])
        known = math.prod(s for s in self.target_shape if s != -1)
        if (-1 not in self.target_shape and known != size) or (-1 in self.target_shape and size % max(known, 1)):
            raise ValueError(f"Reshape layer '{self.name}': cannot reshape inputs of shape {tuple(inputs.shape)} "
                             f"(with {size} values per sample) to target_shape {self.target_shape}")
        return inputs.reshape(n, *self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permute the non-batch dims; ``dims`` counts from 1."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute layer: {self.dims} (expected a "
                             "permutation of 1..n)")

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class Embedding(Layer):
    """Look up rows of ``embeddings`` (input_dim, output_dim) for integer inputs."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = _positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = _positive_int(output_dim, "output_dim", "Embedding")
        self._init_arg = embeddings_initializer
        self.embeddings_initializer = (initializers.RandomUniform() if embeddings_initializer == "uniform"
                                       else initializers.get(embeddings_initializer))
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape):
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer)
        self.built = True

    def call(self, inputs):
        if inputs.dtype.is_floating_point:
            inputs = inputs.long()
        data = inputs._data
        if data.size and (data.min() < 0 or data.max() >= self.input_dim):
            bad = int(data.min()) if data.min() < 0 else int(data.max())
            raise ValueError(f"Embedding layer '{self.name}': index {bad} is out of range; inputs must lie in "
                             f"[0, {self.input_dim - 1}] (input_dim={self.input_dim})")
        return F.embedding(inputs, self.embeddings)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": self._init_arg if isinstance(self._init_arg, str)
                else initializers.serialize(self.embeddings_initializer), "mask_zero": self.mask_zero}


class Lambda(Layer):
    """Wrap a function of tensors as a layer (not serialisable to a config)."""

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        raise ValueError(f"Lambda layer '{self.name}' wraps Python code and cannot be saved as a config; save the "
                         "weights (model.save_weights) and rebuild the model in code")
