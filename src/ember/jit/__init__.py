"""Compile mode: trace -> IR graph -> passes -> generated NumPy code (see api.py)."""
from .api import CompiledFunction, CompiledModule, TracingCheckError, compile

__all__ = ["compile", "CompiledFunction", "CompiledModule", "TracingCheckError"]
