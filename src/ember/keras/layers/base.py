"""Layer (a build/call shell that is also an ``ember.nn.Module``), KerasTensor, Node, InputSpec, InputLayer/Input.

A layer creates its weights in ``build(input_shape)`` the first time it is called, from the input's shape.
Called on concrete data it runs ``call``; called on KerasTensors (symbolic placeholders made by ``Input``) it
records a Node and returns KerasTensors of the output shapes, which is how functional models are wired.
Output shapes are found by running ``call`` on small zero inputs (twice, with different sizes for the unknown
dims, so a dim that follows an unknown input dim stays unknown).
"""
import inspect
import itertools
import math

import numpy as np

from ..._tensor import Tensor, from_numpy
from ...autograd.grad_mode import no_grad
from ...nn import Module, ModuleDict, ModuleList, Parameter
from .. import backend, initializers, regularizers
from .._tree import flatten, map_structure, to_tensor

__all__ = ["Layer", "KerasTensor", "Node", "InputSpec", "InputLayer", "Input"]

_keras_tensor_ids = itertools.count()
_node_ids = itertools.count()


class KerasTensor:
    """A symbolic tensor: a shape (None for dims known only at run time, the batch dim first) and a dtype."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = backend.standardize_dtype(dtype)
        n = next(_keras_tensor_ids)
        self.name = name or ("keras_tensor" if n == 0 else f"keras_tensor_{n}")
        self._keras_history = None  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, name={self.name}>"

    def __len__(self):
        raise TypeError("a KerasTensor is symbolic: its length is not known until the model runs")

    def __bool__(self):
        raise TypeError("a KerasTensor is symbolic and has no truth value; use it as a layer input")


class Node:
    """One call of a layer on KerasTensors: its arguments (with KerasTensors inside) and output KerasTensors."""

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.id = next(_node_ids)
        self.layer = layer
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.outputs = outputs
        self.output_tensors = flatten(outputs)
        self.input_tensors = [t for t in flatten([call_args, call_kwargs]) if isinstance(t, KerasTensor)]
        self.node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (layer, self.node_index, i)

    @property
    def parent_nodes(self):
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]] for t in self.input_tensors]


class InputSpec:
    """What a layer accepts: ``ndim`` / ``min_ndim`` and fixed sizes of some ``axes`` ({-1: 8})."""

    def __init__(self, ndim=None, min_ndim=None, max_ndim=None, axes=None, dtype=None):
        self.ndim, self.min_ndim, self.max_ndim = ndim, min_ndim, max_ndim
        self.axes = dict(axes or {})
        self.dtype = dtype

    def __repr__(self):
        return f"InputSpec(ndim={self.ndim}, min_ndim={self.min_ndim}, axes={self.axes})"


def _has_keras_tensor(args, kwargs):
    return any(isinstance(t, KerasTensor) for t in flatten([list(args), kwargs]))


def _shape_of(x):
    if isinstance(x, (Tensor, KerasTensor, np.ndarray)):
        return tuple(x.shape)
    return None


def _batchless(shape):
    return None if shape is None else ((None,) + tuple(shape[1:]) if len(shape) else ())


def _shapes(inputs, batchless=True):
    def one(x):
        s = _shape_of(x)
        return _batchless(s) if batchless else s

    if isinstance(inputs, (list, tuple, dict)):
        return map_structure(one, inputs)
    return one(inputs)


def _convert(x):
    return to_tensor(x) if isinstance(x, (np.ndarray, np.generic)) else x


class Layer(Module):
    """Base class of Keras layers. Subclass it: create weights in ``build(input_shape)`` with ``add_weight`` and
    write ``call(inputs)`` (optionally with a ``training`` argument)."""

    _ALLOWED_KWARGS = frozenset({"input_shape", "input_dim", "batch_input_shape", "batch_shape", "batch_size",
                                 "input_length", "autocast", "activity_regularizer", "weights"})

    def __init__(self, *, trainable=True, name=None, dtype=None, **kwargs):
        Module.__init__(self)
        unknown = {k: v for k, v in kwargs.items() if k not in self._ALLOWED_KWARGS}
        if unknown:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {unknown}")
        d = self.__dict__
        d["name"] = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        d["built"] = False
        d["_trainable"] = bool(trainable)
        d["_trainable_list"] = []
        d["_non_trainable_list"] = []
        d["_weight_regularizers"] = []
        d["_added_losses"] = []
        d["_inbound_nodes"] = []
        d["_build_input_shape"] = None
        d["_last_output_shape"] = None
        d["input_spec"] = None
        d["dtype"] = backend.standardize_dtype(dtype)
        d["_batch_input_shape"] = self._batch_shape_from(kwargs)
        d["_initial_weights"] = kwargs.get("weights")

    @staticmethod
    def _batch_shape_from(kwargs):
        if kwargs.get("batch_shape") is not None:
            return tuple(kwargs["batch_shape"])
        if kwargs.get("batch_input_shape") is not None:
            return tuple(kwargs["batch_input_shape"])
        shape = kwargs.get("input_shape")
        if shape is None and kwargs.get("input_dim") is not None:
            shape = (kwargs.get("input_length"), kwargs["input_dim"]) if "input_length" in kwargs \
                else (kwargs["input_dim"],)
        if shape is None:
            return None
        if isinstance(shape, int):
            shape = (shape,)
        return (kwargs.get("batch_size"),) + tuple(shape)

    # ---- weights -------------------------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None,
                   constraint=None, name=None, **kwargs):
        """Create a weight (a Parameter if trainable, else a buffer), registered under ``name``."""
        shape = () if shape is None else tuple(int(s) for s in shape)
        dtype = backend.standardize_dtype(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        init = initializers.get(initializer)
        values = np.asarray(init(shape, dtype=dtype), dtype=dtype).reshape(shape)
        name = self._free_weight_name(name or "variable")
        if name in self.__dict__:
            del self.__dict__[name]
        if trainable:
            weight = Parameter(from_numpy(np.array(values)), requires_grad=self._trainable)
            self.register_parameter(name, weight)
            self._trainable_list.append(weight)
        else:
            weight = from_numpy(np.array(values))
            self.register_buffer(name, weight)
            self._non_trainable_list.append(weight)
        if regularizer is not None:
            self._weight_regularizers.append((weight, regularizers.get(regularizer)))
        if constraint is not None:
            raise ValueError(f"{self.name}: weight constraints are not supported by ember.keras")
        return weight

    def _free_weight_name(self, base):
        taken = set(self._parameters) | set(self._buffers) | set(self._modules)
        if base not in taken:
            return base
        for i in itertools.count(1):
            if f"{base}_{i}" not in taken:
                return f"{base}_{i}"

    def _sublayers(self):
        """Layers held as attributes (directly, or in lists wrapped as ModuleList), in assignment order."""
        found = []

        def walk(modules):
            for m in modules:
                if isinstance(m, Layer):
                    if all(m is not f for f in found):
                        found.append(m)
                elif isinstance(m, (ModuleList, ModuleDict)):
                    walk(m._modules.values())

        walk(self._modules.values())
        return found

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self.__dict__["_trainable"] = bool(value)
        for w in self._trainable_list:
            w.requires_grad_(bool(value))
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def weights(self):
        seen, out = set(), []
        for w in self._trainable_list + self._non_trainable_list + [w for layer in self._sublayers()
                                                                    for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    variables = weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = list(self._trainable_list)
        return own + [w for layer in self._sublayers() for w in layer.trainable_weights if
                      all(w is not o for o in own)]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    non_trainable_variables = non_trainable_weights

    def _named_weights(self, prefix=""):
        """(path, weight) pairs in ``weights`` order: ``kernel``, ``dense/kernel`` for a sublayer's weights."""
        names = {id(v): k for k, v in list(self._parameters.items()) + list(self._buffers.items()) if v is not None}
        seen, out = set(), []
        for w in self._trainable_list + self._non_trainable_list:
            if id(w) not in seen:
                seen.add(id(w))
                out.append((prefix + names.get(id(w), "variable"), w))
        for layer in self._sublayers():
            for path, w in layer._named_weights(prefix + layer.name + "/"):
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append((path, w))
        return out

    def get_weights(self):
        """The weights as NumPy arrays (copies), in ``self.weights`` order."""
        return [np.array(w.detach()._data) for w in self.weights]

    def set_weights(self, weights):
        """Replace the weights by NumPy arrays of the same shapes, in ``self.weights`` order."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                             f"length {len(weights)}, but the layer was expecting {len(own)} weights.")
        for w, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(w.shape):
                raise ValueError(f"Layer {self.name} weight shape {tuple(w.shape)} is not compatible with provided "
                                 f"weight shape {tuple(value.shape)}.")
        with no_grad():
            for w, value in zip(own, weights):
                w._data[...] = np.asarray(value, dtype=w._data.dtype)
                w._version[0] += 1

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                             "You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(math.prod(w.shape) for w in self.weights))

    # ---- losses ----------------------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar tensor to the loss that ``fit`` minimises (collected from the last call)."""
        self._added_losses.append(loss)

    @property
    def losses(self):
        """Regularization penalties of the weights and losses added by ``add_loss`` in the last call."""
        out = list(self._added_losses)
        for w, reg in self._weight_regularizers:
            out.append(reg(w))
        for layer in self._sublayers():
            out.extend(layer.losses)
        return out

    def _clear_losses(self):
        self._added_losses.clear()
        for layer in self._sublayers():
            layer._clear_losses()

    # ---- building and calling --------------------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch dim first, None when unknown)."""
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_input_shape = input_shape
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)

    def call(self, inputs, *args, **kwargs):
        return inputs

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    @property
    def _call_accepts_training(self):
        cls = type(self)
        cached = cls.__dict__.get("_accepts_training_cache")
        if cached is None:
            params = inspect.signature(self.call).parameters
            cached = "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            cls._accepts_training_cache = cached
        return cached

    def __call__(self, *args, **kwargs):
        if _has_keras_tensor(args, kwargs):
            return self._symbolic_call(args, kwargs)
        args = tuple(map_structure(_convert, a) for a in args)
        inputs = args[0] if args else kwargs.get("inputs")
        self._maybe_build(_shapes(inputs))
        self._assert_input_compatible(inputs)
        training = kwargs.pop("training", None)
        with backend.training_scope(training) as resolved:
            if self._call_accepts_training:
                kwargs["training"] = bool(resolved)
            outputs = Module.__call__(self, *args, **kwargs)
        self.__dict__["_last_output_shape"] = _shapes(outputs)
        return outputs

    def _assert_input_compatible(self, inputs):
        spec = self.input_spec
        if spec is None:
            return
        first = flatten(inputs)[0] if isinstance(inputs, (list, tuple, dict)) else inputs
        shape = _shape_of(first)
        if shape is None:
            return
        head = f'Input 0 of layer "{self.name}" is incompatible with the layer:'
        if spec.ndim is not None and len(shape) != spec.ndim:
            raise ValueError(f"{head} expected ndim={spec.ndim}, found ndim={len(shape)}. Full shape received: "
                             f"{shape}")
        if spec.min_ndim is not None and len(shape) < spec.min_ndim:
            raise ValueError(f"{head} expected min_ndim={spec.min_ndim}, found ndim={len(shape)}. Full shape "
                             f"received: {shape}")
        for axis, value in spec.axes.items():
            if value is not None and -len(shape) <= axis < len(shape) and shape[axis] not in (value, None):
                raise ValueError(f"{head} expected axis {axis} of input shape to have value {value}, but received "
                                 f"input with shape {shape}")

    def _symbolic_call(self, args, kwargs):
        inputs = args[0] if args else kwargs.get("inputs")
        self._maybe_build(_shapes(inputs))
        self._assert_input_compatible(inputs)
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensors for the outputs of ``call`` on KerasTensor arguments (found by running ``call`` on zeros)."""
        first = self._probe(args, kwargs, 2)
        second = iter(flatten(self._probe(args, kwargs, 3)))

        def merge(a):
            b = next(second)
            return KerasTensor(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)), a.dtype)

        return map_structure(merge, first)

    def _probe(self, args, kwargs, size):
        def concrete(x):
            if not isinstance(x, KerasTensor):
                return x
            shape = tuple(size if d is None else d for d in x.shape)
            kind = np.dtype(x.dtype).kind
            return from_numpy(np.zeros(shape, dtype=np.int64 if kind in "iu" else np.dtype(x.dtype)))

        c_args = map_structure(concrete, list(args))
        c_kwargs = map_structure(concrete, {k: v for k, v in kwargs.items() if k != "training"})
        with no_grad(), backend.training_scope(False):
            if self._call_accepts_training:
                c_kwargs["training"] = False
            out = self.call(*c_args, **c_kwargs)
        return map_structure(lambda t: _Spec(tuple(t.shape), backend.standardize_dtype(t.dtype)), out)

    def compute_output_shape(self, input_shape):
        """The output shape for inputs of ``input_shape``."""
        shapes = _as_shape_structure(input_shape)
        inputs = [KerasTensor(s) for s in shapes] if isinstance(shapes, list) else KerasTensor(shapes)
        if not self.built:
            self._maybe_build(shapes)
        spec = self.compute_output_spec(inputs)
        return spec.shape if isinstance(spec, KerasTensor) else [t.shape for t in flatten(spec)]

    # ---- symbolic connectivity -------------------------------------------------------------------------------
    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined input.")
        node = self._inbound_nodes[0]
        return node.input_tensors[0] if len(node.input_tensors) == 1 else node.input_tensors

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined output.")
        return self._inbound_nodes[0].outputs

    @property
    def output_shape(self):
        if self._inbound_nodes:
            return map_structure(lambda t: t.shape, self._inbound_nodes[0].outputs)
        if self._last_output_shape is not None:
            return self._last_output_shape
        raise AttributeError(f"The layer {self.name} has never been called and thus has no defined output shape.")

    # ---- config ----------------------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __setattr__(self, name, value):
        if not name.startswith("_") and isinstance(value, (list, tuple)) and value and \
                all(isinstance(v, Layer) for v in value):
            value = ModuleList(value)
        Module.__setattr__(self, name, value)


class _Spec:
    """Shape and dtype of one probed output."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def _as_shape_structure(input_shape):
    """A shape tuple stays one shape; a list of shapes stays a list."""
    if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
        return [tuple(s) for s in input_shape]
    return tuple(input_shape)


class InputLayer(Layer):
    """The entry of a functional model: holds the KerasTensor that ``Input`` returns."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, input_tensor=None,
                 name=None, **kwargs):
        kwargs.pop("input_shape", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: give `shape` (without the batch dim) or `batch_shape`")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        self.__dict__["_batch_input_shape"] = tuple(batch_shape)
        self.built = True
        tensor = input_tensor if input_tensor is not None else KerasTensor(batch_shape, self.dtype, name=self.name)
        Node(self, (), {}, tensor)

    def get_config(self):
        return {"batch_shape": list(self._batch_input_shape), "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None):  # noqa: N802
    """A symbolic input of the given ``shape`` (without the batch dim) for building a functional Model."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name,
                       input_tensor=tensor)
    return layer.output

