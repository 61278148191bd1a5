"""Model: a Layer with the training API. ``Model(inputs, outputs)`` builds a functional model; subclassing Model
and writing ``call`` gives a subclassed model whose layers are its Layer attributes."""
import warnings

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..layers.base import Layer, _shape_of
from .summary import print_summary
from .trainer import Trainer

__all__ = ["Model"]


def _check_shape(model, index, expected, value):
    """A wrong rank or feature (last) dim is an error; other fixed dims that differ only warn, as Keras (the
    layers may accept them, e.g. another sequence length)."""
    shape = _shape_of(value)
    if shape is None or expected is None:
        return
    message = (f'Input {index} of layer "{model.name}" is incompatible with the layer: expected '
               f"shape={tuple(expected)}, found shape={tuple(shape)}")
    if len(shape) != len(expected) or (expected and expected[-1] is not None and expected[-1] != shape[-1]):
        raise ValueError(message)
    if any(e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
        warnings.warn(message, stacklevel=4)


def register_layers(model, layers):
    """Register layers as submodules under their names (``model.dense``, state_dict keys ``dense.kernel``);
    a name that clashes with an attribute is registered as ``layer_<i>``."""
    for i, layer in enumerate(layers):
        if layer.name in model._modules and model._modules[layer.name] is layer:
            continue
        try:
            model.add_module(layer.name, layer)
        except KeyError:
            model.add_module(f"layer_{i}", layer)


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features (Keras's Model)."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and ("inputs" in kwargs or "outputs" in kwargs or len(args) >= 2):
            from .functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}.__init__ got unexpected positional arguments; functional models "
                            "are built with Model(inputs, outputs)")
        Layer.__init__(self, **kwargs)

    @property
    def layers(self):
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")

    def build(self, input_shape):
        """Create the weights by running ``call`` on zeros of ``input_shape`` (subclassed models)."""
        if self.built:
            return
        shapes = input_shape
        if isinstance(shapes, tuple) or (isinstance(shapes, list) and shapes and isinstance(shapes[0], int)):
            shapes = tuple(shapes)

        def zeros(shape):
            return Tensor(np.zeros(tuple(1 if d is None else d for d in shape), dtype=np.float32))

        is_single = isinstance(shapes, tuple)
        if not is_single and not (isinstance(shapes, list) and all(isinstance(s, (tuple, list)) for s in shapes)):
            raise ValueError(f"model.build: cannot interpret input_shape {input_shape!r}")
        x = zeros(shapes) if is_single else [zeros(s) for s in shapes]
        self.built = True  # so the call below does not recurse into build
        self._build_input_shape = shapes
        try:
            with no_grad():
                self.call(x, **({"training": False} if self._call_accepts_training else {}))
        except Exception:
            self.built = False
            raise

    def call(self, inputs, training=None):
        raise NotImplementedError(f"Model {type(self).__name__} has no call() method: subclass Model and write "
                                  "call(self, inputs), or build a model with Model(inputs, outputs) / Sequential")

    def __call__(self, *args, **kwargs):
        return Layer.__call__(self, *args, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Print the layers with their output shapes and parameter counts (Keras 3's table)."""
        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable, layer_range)

    # ---- saving ----------------------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, **kwargs):
        """Save architecture, weights and compile settings (see ember.keras.saving)."""
        from .saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        from .saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from .saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

