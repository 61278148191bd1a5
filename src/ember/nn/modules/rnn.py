"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, packed sequences) and their single-step cells.

Each layer and direction is one fused op (``ember.ops.recurrent``): the input projection of all steps is one
GEMM, each step one GEMM plus a few in-place NumPy calls, and backward has its own hand-written loop.
Parameters, their names, shapes, order and initialisation are torch's.
"""
import math
import numbers
import warnings

from ... import ops
from ..._dtype import as_dtype
from ...ops.recurrent import gru_layer, lstm_layer, rnn_layer
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _empty(shape, dtype, device=None):
    return ops.empty(shape, dtype=dtype, device=device)


def _select_hidden(hx, permutation):
    """hx (L*D, B, H) with its batch dimension reordered (packed inputs are sorted by length)."""
    return hx if permutation is None else ops.getitem(hx, (slice(None), permutation))


class RNNBase(Module):
    """Shared construction, checks and the layer loop of RNN, LSTM and GRU."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size > 0:
            raise NotImplementedError("LSTM with proj_size > 0 (projected hidden state) is not implemented in ember")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        dtype = as_dtype(dtype) if dtype is not None else None

        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(gate_size, layer_input_size), (gate_size, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(_empty(shape, dtype, device)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    # ---- parameters -----------------------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op kept for torch compatibility (cuDNN weight packing)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- checks ---------------------------------------------------------------------------------------------
    def check_input(self, input, batch_sizes) -> None:  # noqa: A002
        w = self._parameters[self._flat_weights_names[0]]
        if input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert "
                             f"input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):  # noqa: A002
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:  # noqa: A002
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        return _select_hidden(hx, permutation)

    # ---- the layer loop ---------------------------------------------------------------------------------------
    def _unpack_input(self, input):  # noqa: A002
        """(tensor, batch_sizes tuple or None, sorted_indices, unsorted_indices, is_batched)."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            return data, tuple(int(b) for b in batch_sizes.tolist()), sorted_indices, unsorted_indices, True
        if input.dim() not in (2, 3):
            kind = "RNN" if self.mode.startswith("RNN") else self.mode
            raise ValueError(f"{kind}: Expected input to be 2D or 3D, got {input.dim()}D "
                             + ("tensor instead" if kind == "RNN" else "instead"))
        return input, None, None, None, input.dim() == 3

    def _run(self, rows, batch_sizes, h0, c0=None):
        """Run all layers and directions over packed ``rows``; h0/c0 are (L*D, B, H). Returns
        (output rows (N, D*H), h_n, c_n or None)."""
        num_directions = 2 if self.bidirectional else 1
        params = self._parameters
        layer_input = rows
        h_out, c_out = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                idx = layer * num_directions + direction
                names = self._all_weights[idx]
                w = [params[n] for n in names]
                reverse = direction == 1
                h = h0[idx]
                if self.mode == "LSTM":
                    o, hn, cn = lstm_layer(layer_input, h, c0[idx], *w, batch_sizes=batch_sizes, reverse=reverse)
                    c_out.append(cn)
                elif self.mode == "GRU":
                    o, hn = gru_layer(layer_input, h, *w, batch_sizes=batch_sizes, reverse=reverse)
                else:
                    o, hn = rnn_layer(layer_input, h, *w, batch_sizes=batch_sizes, reverse=reverse,
                                      nonlinearity="relu" if self.mode == "RNN_RELU" else "tanh")
                outs.append(o)
                h_out.append(hn)
            layer_input = outs[0] if num_directions == 1 else ops.cat(outs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = ops.stack(h_out, 0)
        c_n = ops.stack(c_out, 0) if c_out else None
        return layer_input, h_n, c_n

    def _zeros_state(self, batch, like):
        num_directions = 2 if self.bidirectional else 1
        return ops.zeros(self.num_layers * num_directions, batch, self.hidden_size, dtype=like.dtype)

    def _forward_impl(self, input, hx):  # noqa: A002
        """The shared forward of RNN, LSTM and GRU; ``hx`` is a tensor or, for LSTM, a pair."""
        lstm = self.mode == "LSTM"
        orig_input = input
        input, batch_sizes, sorted_indices, unsorted_indices, is_batched = self._unpack_input(input)  # noqa: A001
        packed = batch_sizes is not None
        batch_dim = 0 if self.batch_first else 1
        if not packed and not is_batched:
            input = ops.unsqueeze(input, batch_dim)  # noqa: A001
            if hx is not None:
                if lstm:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                    hx = (ops.unsqueeze(hx[0], 1), ops.unsqueeze(hx[1], 1))
                else:
                    if hx.dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D "
                                           "tensor")
                    hx = ops.unsqueeze(hx, 1)
        elif not packed and hx is not None:
            if lstm:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                       f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            elif hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if packed:
            batch = batch_sizes[0] if batch_sizes else 0
        else:
            batch = input.size(0) if self.batch_first else input.size(1)
        self.check_input(input, batch_sizes)
        expected = self.get_expected_hidden_size(input, batch_sizes)
        if hx is None:
            h0 = self._zeros_state(batch, input)
            c0 = self._zeros_state(batch, input) if lstm else None
        elif lstm:
            self.check_hidden_size(hx[0], expected, "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(hx[1], expected, "Expected hidden[1] size {}, got {}")
            h0, c0 = _select_hidden(hx[0], sorted_indices), _select_hidden(hx[1], sorted_indices)
        else:
            self.check_hidden_size(hx, expected)
            h0, c0 = _select_hidden(hx, sorted_indices), None

        if packed:
            rows = input
        else:
            steps = input.size(1) if self.batch_first else input.size(0)
            if steps == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            seq = ops.transpose(input, 0, 1) if self.batch_first else input
            rows = ops.reshape(seq, (steps * batch, self.input_size))
            batch_sizes = (batch,) * steps
        out, h_n, c_n = self._run(rows, batch_sizes, h0, c0)
        if unsorted_indices is not None:
            h_n = _select_hidden(h_n, unsorted_indices)
            c_n = _select_hidden(c_n, unsorted_indices) if lstm else None
        hidden = (h_n, c_n) if lstm else h_n
        if packed:
            return PackedSequence(out, orig_input.batch_sizes, sorted_indices, unsorted_indices), hidden
        out = ops.reshape(out, (steps, batch, out.shape[-1]))
        if self.batch_first:
            out = ops.transpose(out, 0, 1)
        if not is_batched:
            out = ops.squeeze(out, batch_dim)
            hidden = (ops.squeeze(h_n, 1), ops.squeeze(c_n, 1)) if lstm else ops.squeeze(h_n, 1)
        return out, hidden


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked and optionally
    bidirectional. Returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):  # noqa: A002
        return self._forward_impl(input, hx)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o (in that order in the weights). Returns
    (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):  # noqa: A002
        return self.get_expected_hidden_size(input, batch_sizes)

    def check_forward_args(self, input, hidden, batch_sizes):  # noqa: A002
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _select_hidden(hx[0], permutation), _select_hidden(hx[1], permutation)

    def forward(self, input, hx=None):  # noqa: A002
        return self._forward_impl(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n (in that order in the weights). Returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):  # noqa: A002
        return self._forward_impl(input, hx)


# ---- cells -------------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One time step: weight_ih (G*H, input), weight_hh (G*H, H), bias_ih, bias_hh (G*H)."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        dtype = as_dtype(dtype) if dtype is not None else None
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_empty((num_chunks * hidden_size, input_size), dtype, device))
        self.weight_hh = Parameter(_empty((num_chunks * hidden_size, hidden_size), dtype, device))
        if bias:
            self.bias_ih = Parameter(_empty((num_chunks * hidden_size,), dtype, device))
            self.bias_hh = Parameter(_empty((num_chunks * hidden_size,), dtype, device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, hx, n_states):  # noqa: A002
        """Check shapes, add the batch dimension to unbatched inputs, default the states to zeros."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = None if hx is None else (tuple(hx) if n_states == 2 else (hx,))
        if states is not None:
            for idx, value in enumerate(states):
                if value.dim() not in (1, 2):
                    what = f"hx[{idx}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = ops.unsqueeze(input, 0)  # noqa: A001
            if states is not None:
                states = tuple(ops.unsqueeze(s, 0) for s in states)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        if states is None:
            zeros = ops.zeros(input.size(0), self.hidden_size, dtype=input.dtype)
            states = (zeros,) * n_states
        for idx, s in enumerate(states):
            if s.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{idx} batch size "
                                   f"{s.size(0)}")
            if s.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{idx} has inconsistent hidden_size: got {s.size(1)}, expected "
                                   f"{self.hidden_size}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype {input.dtype} does not match weight dtype "
                               f"{self.weight_ih.dtype}")
        weights = [self.weight_ih, self.weight_hh]
        if self.bias:
            weights += [self.bias_ih, self.bias_hh]
        return input, states, weights, is_batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), w, is_batched = self._prepare(input, hx, 1)  # noqa: A001
        _, h = rnn_layer(input, h, *w, batch_sizes=(input.size(0),), nonlinearity=self.nonlinearity)
        return h if is_batched else ops.squeeze(h, 0)


class LSTMCell(RNNCellBase):
    """(h', c') from input and (h, c), with gates i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        input, (h, c), w, is_batched = self._prepare(input, hx, 2)  # noqa: A001
        _, h, c = lstm_layer(input, h, c, *w, batch_sizes=(input.size(0),))
        return (h, c) if is_batched else (ops.squeeze(h, 0), ops.squeeze(c, 0))


class GRUCell(RNNCellBase):
    """h' from input and h, with gates r, z, n."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        input, (h,), w, is_batched = self._prepare(input, hx, 1)  # noqa: A001
        _, h = gru_layer(input, h, *w, batch_sizes=(input.size(0),))
        return h if is_batched else ops.squeeze(h, 0)
