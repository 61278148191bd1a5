"""Automatic differentiation: the graph engine, grad modes, custom Functions, anomaly mode, gradcheck."""
from . import grad_mode
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "gradcheck", "gradgradcheck", "grad_mode", "functional"]


def __getattr__(name):
    if name == "functional":  # imported on first use (it needs Tensor, which imports this package)
        import importlib

        return importlib.import_module(".functional", __name__)
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
