"""BatchNormalization and LayerNormalization with Keras's weights (gamma, beta, moving_mean, moving_variance),
defaults (momentum 0.99, epsilon 1e-3) and semantics: the moving statistics use the batch's biased variance,
``moving = moving * momentum + batch * (1 - momentum)``, and a non-trainable BatchNormalization always runs in
inference mode."""
from ... import ops
from ...autograd.grad_mode import no_grad
from ...nn import functional as F
from ...ops.normalization import _normalize
from .. import initializers, regularizers
from .base import InputSpec, Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _axes_list(axis):
    return [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]


class _Norm(Layer):
    def __init__(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                 gamma_regularizer, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axes_list(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._init_args = {"beta_initializer": beta_initializer, "gamma_initializer": gamma_initializer}
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _resolve_axes(self, input_shape):
        ndim = len(input_shape)
        axes = sorted(a % ndim for a in self.axis)
        for a in axes:
            if input_shape[a] is None:
                raise ValueError(f"{type(self).__name__} '{self.name}': axis {a} of the input shape {input_shape} "
                                 "must be known")
        self._ndim = ndim
        self._axes = axes
        return axes, tuple(input_shape[a] for a in axes)

    def _param_shape(self, x):
        """Broadcast shape of gamma/beta against an input of x's rank."""
        shape = [1] * x.dim()
        for a in self._axes:
            shape[a] = x.shape[a]
        return shape

    def _affine(self, w, x):
        if w is None:
            return None
        if self._axes == [x.dim() - 1]:
            return w
        return w.reshape(self._param_shape(x))

    def _build_affine(self, shape):
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None

    def get_config(self):
        def init(name):
            arg = self._init_args[name]
            return arg if isinstance(arg, str) else initializers.serialize(getattr(self, name))

        return {**super().get_config(), "axis": self.axis if len(self.axis) > 1 else self.axis[0],
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": init("beta_initializer"), "gamma_initializer": init("gamma_initializer")}


class BatchNormalization(_Norm):
    """Normalise over the batch (and spatial) dims per feature of ``axis`` (default -1, the channels)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, **kwargs)
        self.momentum = float(momentum)
        self._init_args.update(moving_mean_initializer=moving_mean_initializer,
                               moving_variance_initializer=moving_variance_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        _, shape = self._resolve_axes(input_shape)
        self._build_affine(shape)
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={a: input_shape[a] for a in self._axes})
        self.built = True

    def call(self, inputs, training=False):
        x = inputs
        if training and self.trainable:
            reduce_axes = tuple(a for a in range(x.dim()) if a not in self._axes)
            y, mean, var = _normalize(x, self._affine(self.gamma, x), self._affine(self.beta, x), reduce_axes,
                                      self.epsilon)
            with no_grad():
                m = self.momentum
                stat_shape = tuple(self.moving_mean.shape)
                self.moving_mean.mul_(m).add_(mean.reshape(stat_shape) * (1.0 - m))
                self.moving_variance.mul_(m).add_(var.reshape(stat_shape) * (1.0 - m))
            return y
        shape = self._param_shape(x)
        inv = ops.rsqrt(self.moving_variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma
        y = (x - self.moving_mean.reshape(shape)) * inv.reshape(shape)
        if self.beta is not None:
            y = y + self.beta.reshape(shape)
        return y

    def get_config(self):
        def init(name):
            arg = self._init_args[name]
            return arg if isinstance(arg, str) else initializers.serialize(getattr(self, name))

        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": init("moving_mean_initializer"),
                "moving_variance_initializer": init("moving_variance_initializer")}


class LayerNormalization(_Norm):
    """Normalise each sample over ``axis`` (default -1), then scale by gamma and shift by beta."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, **kwargs)
        if rms_scaling:
            raise ValueError("LayerNormalization: rms_scaling=True is not supported by ember.keras")

    def build(self, input_shape):
        _, shape = self._resolve_axes(input_shape)
        self._build_affine(shape)
        self.built = True

    def call(self, inputs):
        x = inputs
        if self._axes == list(range(x.dim() - len(self._axes), x.dim())):
            return F.layer_norm(x, tuple(x.shape[a] for a in self._axes), self.gamma, self.beta, self.epsilon)
        y, _, _ = _normalize(x, self._affine(self.gamma, x), self._affine(self.beta, x), tuple(self._axes),
                             self.epsilon)
        return y
