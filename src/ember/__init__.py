"""ember: a deep learning framework on NumPy with PyTorch's API (``import ember as torch``)."""
__version__ = "0.1.0"

from . import _backend  # noqa: F401  (tunes malloc at import; EMBER_NO_MALLOPT=1 opts out)
from ._backend import get_num_threads, set_num_threads
from ._dtype import (bool_ as bool, double, dtype, finfo, float, float16, float32, float64,  # noqa: A004
                     get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long, promote_types,
                     set_default_dtype, short, uint8)
from ._memory_format import (channels_last, channels_last_3d, contiguous_format, memory_format,  # noqa: F401
                             preserve_format)
from ._tensor import Size, Tensor, as_tensor, device, from_numpy, is_tensor, tensor
from . import autograd
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.grad_mode import is_grad_enabled, is_inference_mode_enabled
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .ops import *  # noqa: F401,F403
from .ops import abs, all, any, max, min, pow, round, sum  # noqa: F401,A004
from . import ops
import ember.linalg as linalg  # after the star import, which binds ops' own linalg module under this name

import builtins as _builtins

__all__ = [n for n in dir() if not n.startswith("_")]
del _builtins


def is_floating_point(t) -> "bool":
    return t.is_floating_point()


def numel(t) -> "int":
    return t.numel()


def result_type(a, b):
    from .ops._util import pair

    return pair(a, b, "result_type")[0].dtype


def can_cast(from_, to) -> "bool":
    return from_.category <= to.category or from_ is to


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    from ._format import set_printoptions as _set

    _set(precision, threshold, edgeitems, linewidth, profile, sci_mode)


def compile(fn=None, **kwargs):  # noqa: A001
    """Compile a training step or a model into generated NumPy code (see ember.jit)."""
    from .jit import compile as _compile

    return _compile(fn, **kwargs)


def save(obj, f, **kwargs):
    """Save tensors, state_dicts and nested containers of them to a safetensors file (see ember.io)."""
    from .io import save as _save

    return _save(obj, f, **kwargs)


def load(f, map_location=None, weights_only=True, **kwargs):
    """Load what ember.save wrote; never executes code (see ember.io)."""
    from .io import load as _load

    return _load(f, map_location=map_location, weights_only=weights_only, **kwargs)


# torch's global switches for matmul precision and determinism: ember's float32 matmul is always full precision
# and every op is deterministic, so these only remember what was set (scripts set them before training).
_matmul_precision = "highest"
_deterministic = (False, False)


def set_float32_matmul_precision(precision) -> None:
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):  # torch warns and ignores the call
        import warnings

        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    global _deterministic
    _deterministic = (True if mode else False, True if warn_only else False)  # (bool is ember.bool here)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic[1]


__all__ += ["load", "save", "compile", "set_float32_matmul_precision", "get_float32_matmul_precision",
            "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
            "is_deterministic_algorithms_warn_only_enabled"]

# The layers above core (nn, optim, utils.data, io, jit, Keras, tools, datasets) are imported on first use
# (``ember.nn``, ``import ember.nn``, ``from ember import nn`` all work), so ``import ember`` loads only the core.
_LAZY = {"nn": "nn", "optim": "optim", "utils": "utils", "io": "io", "jit": "jit", "keras": "keras",
         "tools": "tools", "summary": "tools", "datasets": "datasets", "transforms": "transforms",
         "cuda": "cuda", "backends": "backends", "amp": "amp", "autocast": "amp",
         "is_autocast_enabled": "amp", "distributions": "distributions", "distributed": "distributed",
         "onnx": "onnx",
         "testing": "testing", "ao": "ao", "quantization": "quantization", "qint8": "ao", "quint8": "ao",
         "qint32": "ao", "per_tensor_affine": "ao", "per_tensor_symmetric": "ao"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = module if name == _LAZY[name] else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
