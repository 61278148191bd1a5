"""ONNX export of inference graphs: ``ember.onnx.export(model, args, f, ...)`` with torch.onnx.export's calling
convention (docs/deployment.md). The ``onnx`` package is imported only when ``export`` runs."""
from . import errors
from .errors import OnnxExporterError, UnsupportedOperatorError
from .export import export
from .registry import KERNEL_LOWERINGS, LOWERINGS, register, register_kernel

__all__ = [
           "KERNEL_LOWERINGS",
           "LOWERINGS",
           "OnnxExporterError",
           "UnsupportedOperatorError",
           "errors",
           "export",
           "register",
           "register_kernel",
]
