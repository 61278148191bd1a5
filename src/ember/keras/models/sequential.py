"""Sequential: a plain stack of layers, each with one input and one output."""
from ..backend import unique_name
from ..layers.base import InputLayer, KerasTensor, Layer
from .model import Model, _check_shape, register_layers

__all__ = ["Sequential"]


class Sequential(Model):
    """``Sequential([Dense(10, activation='relu', input_shape=(8,)), Dense(1)])`` or ``.add(layer)``.

    The model is built (weights created, output shapes known) as soon as the input shape is known: from an
    ``Input``/``InputLayer`` first entry, from ``input_shape=`` on the first layer, from ``build(shape)``, or at
    the first call on data.
    """

    def __init__(self, layers=None, trainable=True, name=None):
        Layer.__init__(self, name=name or unique_name("sequential"), trainable=trainable)
        self._layer_list = []
        self._input_layer = None
        self._symbolic_output = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    @property
    def layers(self):
        return list(self._layer_list)

    def _sublayers(self):
        return list(self._layer_list)

    def add(self, layer, rebuild=True):
        """Append a layer (an ``Input(...)`` tensor or InputLayer sets the input shape instead)."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None and \
                isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._layer_list or self._input_layer is not None:
                raise ValueError("Sequential: an InputLayer / Input can only be the first entry of the model")
            self._input_layer = layer
            if rebuild:
                self._maybe_rebuild()
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer!r} "
                             f"(of type {type(layer).__name__})")
        if any(layer.name == other.name for other in self._layer_list):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        self._layer_list.append(layer)
        register_layers(self, [layer])
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        if not self._layer_list:
            raise TypeError("There are no layers in the model.")
        layer = self._layer_list.pop()
        for key, module in list(self._modules.items()):
            if module is layer:
                del self._modules[key]
        self.built = False
        self._symbolic_output = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _input_batch_shape(self):
        if self._input_layer is not None:
            return self._input_layer._batch_input_shape
        if self._layer_list and self._layer_list[0]._batch_input_shape is not None:
            return self._layer_list[0]._batch_input_shape
        if self._build_input_shape is not None:
            return self._build_input_shape
        return None

    def _maybe_rebuild(self):
        shape = self._input_batch_shape()
        if shape is not None and self._layer_list:
            self.built = False
            self.build(shape)

    def build(self, input_shape=None):
        """Create every layer's weights for inputs of ``input_shape`` (batch dim first, None allowed)."""
        if input_shape is None:
            input_shape = self._input_batch_shape()
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument to build a Sequential model without a known "
                             "input shape.")
        input_shape = tuple(input_shape)
        if self._input_layer is None or tuple(self._input_layer._batch_input_shape) != input_shape:
            self._input_layer = InputLayer(batch_shape=input_shape, name=unique_name("input_layer"))
        x = self._input_layer.output
        for layer in self._layer_list:
            x = layer(x)
            if isinstance(x, (list, tuple)):
                raise ValueError(f"All layers in a Sequential model should have a single output tensor; layer "
                                 f"'{layer.name}' returns {len(x)}. For multi-output layers, use the functional API.")
        self._symbolic_output = x
        self._build_input_shape = input_shape
        self.built = True

    @property
    def inputs(self):
        return [self._input_layer.output] if self._input_layer is not None and self.built else None

    @property
    def outputs(self):
        return [self._symbolic_output] if self._symbolic_output is not None else None

    @property
    def input_shape(self):
        return self._build_input_shape

    @property
    def output_shape(self):
        if self._symbolic_output is None:
            raise AttributeError(f"Sequential model '{self.name}' has not been built yet")
        return self._symbolic_output.shape

    def __call__(self, *args, **kwargs):
        if not self._layer_list:
            raise ValueError(f"Sequential model '{self.name}' has no layers; add some with model.add(layer)")
        return Model.__call__(self, *args, **kwargs)

    def call(self, inputs, training=None):
        if self._build_input_shape is not None:
            _check_shape(self, 0, self._build_input_shape, inputs)
        x = inputs
        for layer in self._layer_list:
            x = layer(x)
        return x

    def get_config(self):
        layers = []
        if self._input_layer is not None:
            layers.append({"class_name": "InputLayer", "config": self._input_layer.get_config()})
        layers += [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._layer_list]
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .saving import layer_from_config

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for spec in config["layers"]:
            model.add(layer_from_config(spec, custom_objects), rebuild=False)
        model._maybe_rebuild()
        return model

