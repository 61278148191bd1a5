"""Dynamically quantized layers (``torch.ao.nn.quantized.dynamic``)."""
from .linear import Linear  # noqa: F401
