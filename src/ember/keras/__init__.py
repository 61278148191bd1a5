"""ember.keras: Keras's high-level API on ember (``import ember as tf; tf.keras.Sequential(...)``).

Layers are build/call shells over ember.nn.functional (channels-last, Keras's weight names and defaults) and
are also ``ember.nn.Module`` objects, so ``model.parameters()``, ``state_dict()`` and ``ember.summary`` work on
Keras models too. Training runs eagerly with ember.optim optimizers configured with Keras's defaults.
"""
from . import activations, backend, callbacks, initializers, layers, losses, metrics, models, optimizers
from . import regularizers, utils
from .layers import Input, InputLayer, Layer
from .models import Model, Sequential, load_model
from .models import saving

__all__ = ["activations", "backend", "callbacks", "initializers", "layers", "losses", "metrics", "models",
           "optimizers", "regularizers", "utils", "saving", "Input", "InputLayer", "Layer", "Model", "Sequential",
           "load_model"]
__version__ = "3.0.0-ember"
