"""SimpleRNN, LSTM and GRU with Keras's weights, gate order and defaults.

Weights: ``kernel`` (input_dim, k*units), ``recurrent_kernel`` (units, k*units) and ``bias``. LSTM gates are
(i, f, c, o) and GRU gates (z, r, h); GRU's bias is (2, 3*units) with ``reset_after=True`` (the default), one
row for the input and one for the recurrent projection. With the default activations (tanh, sigmoid) a whole
layer runs as one fused ember op (torch's layout: weights transposed, GRU gates reordered to r, z, n); other
activations and GRU with ``reset_after=False`` run a step loop of ember ops.
"""
import numpy as np

from ... import ops
from ..._tensor import from_numpy
from ...ops.recurrent import gru_layer, lstm_layer, rnn_layer
from .. import activations, initializers, regularizers
from .._tree import to_tensor
from .base import InputSpec, Layer
from .core import _positive_int, _serialize_init

__all__ = ["SimpleRNN", "LSTM", "GRU"]


class _RNN(Layer):
    gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = _positive_int(units, "units", cls)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self._init_args = {"kernel_initializer": kernel_initializer, "recurrent_initializer": recurrent_initializer,
                           "bias_initializer": bias_initializer}
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        if not 0 <= dropout < 1:
            raise ValueError(f"{cls}: dropout must be in [0, 1), got {dropout}")
        if recurrent_dropout:
            raise ValueError(f"{cls}: recurrent_dropout is not supported by ember.keras (use dropout)")
        if stateful:
            raise ValueError(f"{cls}: stateful=True is not supported by ember.keras")
        self.dropout = float(dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.input_spec = InputSpec(ndim=3)

    @property
    def _fused(self):
        return self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the feature dimension of the inputs must be known")
        n = self.gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(in_dim, n), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, n),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer)
        self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_init(),
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        self.input_spec = InputSpec(ndim=3, axes={-1: in_dim})
        self.built = True

    def _initial(self, initial_state, batch, dtype, n_states):
        if initial_state is None:
            zeros = from_numpy(np.zeros((batch, self.units), dtype=np.dtype(dtype.np)))
            return [zeros] * n_states
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != n_states:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects {n_states} initial state tensor(s), got "
                             f"{len(states)}")
        return [to_tensor(s) for s in states]

    def call(self, inputs, initial_state=None, training=False, mask=None):
        if mask is not None:
            raise ValueError(f"{type(self).__name__}: masks are not supported by ember.keras")
        x = inputs
        if training and self.dropout > 0:
            keep = ops.rand(x.shape[0], 1, x.shape[2]) >= self.dropout
            x = x * keep.to(x.dtype) * (1.0 / (1.0 - self.dropout))
        if self.go_backwards:
            x = x.flip(1)
        batch, steps = x.shape[0], x.shape[1]
        if steps == 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': the input sequence is empty")
        states = self._initial(initial_state, batch, x.dtype, self.n_states)
        seq, final = self._run(x, states)
        output = seq if self.return_sequences else seq[:, -1]
        if self.return_state:
            return [output] + list(final)
        return output

    def _fused_run(self, op, x, states, w_ih, w_hh, b_ih, b_hh, **kw):
        """Run a fused ember recurrent op over a (batch, steps, features) input."""
        batch, steps = x.shape[0], x.shape[1]
        rows = x.transpose(0, 1).reshape(steps * batch, x.shape[2])
        out = op(rows, *states, w_ih, w_hh, b_ih, b_hh, batch_sizes=(batch,) * steps, **kw)
        seq = out[0].reshape(steps, batch, self.units).transpose(0, 1)
        return seq, list(out[1:])

    def _zeros_bias(self, n, x):
        return from_numpy(np.zeros((n,), dtype=np.dtype(x.dtype.np)))

    def get_config(self):
        config = {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                  "use_bias": self.use_bias, "dropout": self.dropout, "return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards}
        for key, value in self._init_args.items():
            config[key] = _serialize_init(getattr(self, key), value)
        return config


class SimpleRNN(_RNN):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

    gates = 1
    n_states = 1

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    @property
    def _fused(self):
        return self.activation in (activations.tanh, activations.relu)

    def _run(self, x, states):
        if self._fused:
            b = self.bias if self.bias is not None else self._zeros_bias(self.units, x)
            return self._fused_run(rnn_layer, x, states, self.kernel.t(), self.recurrent_kernel.t(), b,
                                   self._zeros_bias(self.units, x),
                                   nonlinearity="relu" if self.activation is activations.relu else "tanh")
        proj = ops.matmul(x, self.kernel)
        if self.bias is not None:
            proj = proj + self.bias
        h, outs = states[0], []
        for t in range(x.shape[1]):
            h = self.activation(proj[:, t] + ops.matmul(h, self.recurrent_kernel))
            outs.append(h)
        return ops.stack(outs, 1), [h]

class LSTM(_RNN):
    """Long short-term memory; gates (i, f, c, o) in the columns of kernel / recurrent_kernel / bias.
    ``unit_forget_bias=True`` starts the forget-gate bias at 1."""

    gates = 4
    n_states = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def init(shape, dtype=None):
            values = np.array(base((u * 4,), dtype=dtype))
            values[u:2 * u] = 1.0
            return values

        return init

    def _run(self, x, states):
        if self._fused:
            b = self.bias if self.bias is not None else self._zeros_bias(4 * self.units, x)
            return self._fused_run(lstm_layer, x, states, self.kernel.t(), self.recurrent_kernel.t(), b,
                                   self._zeros_bias(4 * self.units, x))
        u = self.units
        proj = ops.matmul(x, self.kernel)
        if self.bias is not None:
            proj = proj + self.bias
        h, c = states
        outs = []
        for t in range(x.shape[1]):
            z = proj[:, t] + ops.matmul(h, self.recurrent_kernel)
            i = self.recurrent_activation(z[:, :u])
            f = self.recurrent_activation(z[:, u:2 * u])
            g = self.activation(z[:, 2 * u:3 * u])
            o = self.recurrent_activation(z[:, 3 * u:])
            c = f * c + i * g
            h = o * self.activation(c)
            outs.append(h)
        return ops.stack(outs, 1), [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias,
                "recurrent_activation": activations.serialize(self.recurrent_activation)}


class GRU(_RNN):
    """Gated recurrent unit; gates (z, r, h). With ``reset_after=True`` (default) the reset gate multiplies the
    recurrent projection after the matmul, and bias is (2, 3*units) (input row, recurrent row)."""

    gates = 3
    n_states = 1

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _torch_order(self, w):
        """Keras columns (z, r, h) -> torch rows (r, z, n) of the transposed weight."""
        u = self.units
        return ops.cat([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], -1)

    def _run(self, x, states):
        u = self.units
        if self._fused and self.reset_after:
            if self.bias is not None:
                b_ih, b_hh = self._torch_order(self.bias[0]), self._torch_order(self.bias[1])
            else:
                b_ih = b_hh = self._zeros_bias(3 * u, x)
            return self._fused_run(gru_layer, x, states, self._torch_order(self.kernel).t(),
                                   self._torch_order(self.recurrent_kernel).t(), b_ih, b_hh)
        proj = ops.matmul(x, self.kernel)
        if self.bias is not None:
            proj = proj + (self.bias[0] if self.reset_after else self.bias)
        h, outs = states[0], []
        for t in range(x.shape[1]):
            xp = proj[:, t]
            if self.reset_after:
                hp = ops.matmul(h, self.recurrent_kernel)
                if self.bias is not None:
                    hp = hp + self.bias[1]
                z = self.recurrent_activation(xp[:, :u] + hp[:, :u])
                r = self.recurrent_activation(xp[:, u:2 * u] + hp[:, u:2 * u])
                hh = self.activation(xp[:, 2 * u:] + r * hp[:, 2 * u:])
            else:
                hp = ops.matmul(h, self.recurrent_kernel[:, :2 * u])
                z = self.recurrent_activation(xp[:, :u] + hp[:, :u])
                r = self.recurrent_activation(xp[:, u:2 * u] + hp[:, u:])
                hh = self.activation(xp[:, 2 * u:] + ops.matmul(r * h, self.recurrent_kernel[:, 2 * u:]))
            h = z * h + (1 - z) * hh
            outs.append(h)
        return ops.stack(outs, 1), [h]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after,
                "recurrent_activation": activations.serialize(self.recurrent_activation)}

