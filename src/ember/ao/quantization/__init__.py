"""``torch.ao.quantization``'s dynamic quantization: ``quantize_dynamic(model, {nn.Linear}, dtype=qint8)`` returns
a copy of ``model`` whose Linear layers keep int8 weights and quantize their inputs at every call (see
``ember.ao.nn.quantized.dynamic.Linear`` for the arithmetic, which is torch's fbgemm's). Only Linear layers are
quantized: torch's default set also has LSTM/GRU and RNN cells, which ember leaves in float32."""
import copy

from ... import nn as _nn
from .._qtypes import per_tensor_affine, per_tensor_symmetric, qint8, qint32, quint8  # noqa: F401
from ..nn.quantized import dynamic as _dynamic

__all__ = ["quantize_dynamic", "qint8", "quint8", "qint32", "per_tensor_affine", "per_tensor_symmetric"]

_FLOAT16_NAMES = ("float16", "half")


def _target_dtype(dtype):
    if dtype is qint8:
        return qint8
    if getattr(dtype, "name", None) in _FLOAT16_NAMES:  # ember.float16
        return dtype
    raise ValueError(f"quantize_dynamic: the only supported dtypes for dynamic quantization are qint8 and float16, "
                     f"got {dtype!r}")


def _selected(qconfig_spec):
    """(types, names) of the submodules to quantize."""
    if qconfig_spec is None:
        return {_nn.Linear}, set()
    types, names = set(), set()
    for key in qconfig_spec:
        if isinstance(key, str):
            names.add(key)
        elif isinstance(key, type):
            types.add(key)
        else:
            raise ValueError(f"quantize_dynamic: qconfig_spec keys must be module types or names, got {key!r}")
    unsupported = [t.__name__ for t in types if not issubclass(t, _nn.Linear)]
    if unsupported:
        raise NotImplementedError(f"quantize_dynamic: ember quantizes nn.Linear only, not {', '.join(unsupported)}")
    return types, names


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """A copy of ``model`` (``model`` itself with ``inplace=True``) with each selected ``nn.Linear`` replaced by
    a dynamically quantized one. ``qconfig_spec``: a set (or dict keys) of module types and/or qualified
    submodule names; None selects every ``nn.Linear``."""
    target = _target_dtype(dtype)
    types, names = _selected(qconfig_spec)
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    _swap(model, "", types, names, target)
    return model


def _swap(module, prefix, types, names, target):
    for name, child in list(module._modules.items()):
        if child is None:
            continue
        qualified = prefix + name
        if isinstance(child, _nn.Linear) and (type(child) in types or qualified in names):
            module._modules[name] = _dynamic.Linear.from_float(child, target)
        else:
            _swap(child, qualified + ".", types, names, target)
