"""ember.nn: Module, Parameter, the layers, losses, ``functional`` and ``init`` (torch.nn's API)."""
from . import functional, init, parallel, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedParameter

__all__ = list(_modules_all) + ["Parameter", "Buffer", "UninitializedParameter", "functional", "init", "utils",
                                "parallel", "DataParallel"]

# torch.nn names ember does not have yet: using one raises NotImplementedError naming it (the exception is also
# an AttributeError, so hasattr() and getattr(nn, name, default) keep working).
_NOT_IMPLEMENTED = frozenset("""
EmbeddingBag
Fold Unfold FractionalMaxPool2d
FractionalMaxPool3d LPPool3d SyncBatchNorm CrossMapLRN2d AdaptiveLogSoftmaxWithLoss LazyConv1d
LazyConv2d LazyConv3d LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d LazyBatchNorm1d LazyBatchNorm2d
LazyBatchNorm3d LazyInstanceNorm1d LazyInstanceNorm2d LazyInstanceNorm3d NLLLoss2d
Container LinearCrossEntropyLoss
""".split())


class NotImplementedFeature(NotImplementedError, AttributeError):
    """A torch.nn feature ember does not provide."""


def __getattr__(name):
    if name in _NOT_IMPLEMENTED:
        raise NotImplementedFeature(f"torch.nn.{name} is not implemented in ember")
    raise AttributeError(f"module 'ember.nn' has no attribute '{name}'")
