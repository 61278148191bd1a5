"""ember.optim: torch.optim's optimizers and learning-rate schedulers, on ember Tensors."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "NAdam", "Optimizer", "RAdam", "RMSprop", "SGD",
           "lr_scheduler"]


def __getattr__(name):
    if name == "swa_utils":  # imported on first use: it needs ember.nn (AveragedModel is a Module)
        import importlib

        return importlib.import_module(".swa_utils", __name__)
    raise AttributeError(f"module 'ember.optim' has no attribute '{name}'")
