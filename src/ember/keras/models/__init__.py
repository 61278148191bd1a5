"""ember.keras.models: Model (functional or subclassed), Sequential, saving and loading."""
from .functional import Functional
from .model import Model
from .saving import load_model, save_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "load_model", "save_model", "clone_model"]


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised weights (Sequential / functional)."""
    from .saving import layer_from_config

    if isinstance(model, Functional):
        return Functional.from_config(model.get_config())
    if isinstance(model, Sequential):
        return Sequential.from_config(model.get_config())
    return layer_from_config({"class_name": type(model).__name__, "config": model.get_config()},
                             {type(model).__name__: type(model)})
