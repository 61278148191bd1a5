"""ember.optim: torch.optim's optimizers and learning-rate schedulers, on ember Tensors."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "SGD", "lr_scheduler"]


def __getattr__(name):
    if name == "swa_utils":  # imported on first use: it needs ember.nn (AveragedModel is a Module)
        import importlib

        return importlib.import_module(".swa_utils", __name__)
    raise AttributeError(f"module 'ember.optim' has no attribute '{name}'")
