"""Utilities (``torch.utils``): ``ember.utils.data``, ``ember.utils.checkpoint``."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
