"""TensorBoard logging for ember models: ``SummaryWriter`` (torch.utils.tensorboard's API over tensorboardX).

The writer lives in ``ember.utils.tensorboard`` (where torch users look for it, and a layer below ``nn`` so it
imports only the core); this module re-exports it for the tools namespace.
"""
from ..utils.tensorboard import SummaryWriter, build_graph

__all__ = ["SummaryWriter", "build_graph"]
