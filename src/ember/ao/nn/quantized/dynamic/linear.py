"""``Linear`` with dynamically quantized activations (``torch.ao.nn.quantized.dynamic.Linear``).

qint8: the weight is stored as int8 with one symmetric scale (max |w| / 127.5, zero point 0, torch's default
weight observer); each call quantizes its input to 0..127 (quint8 with torch's ``reduce_range``) with a scale and
zero point from the input's range (including 0), multiplies the integers exactly (a float64 GEMM holds every int32
sum exactly) and scales back: ``y = (x_q - zp) @ w_q^T * (s_x s_w) + bias`` with one rounding, as torch's fbgemm
(bitwise torch's outputs in tests/test_quantization.py). float16:
the weight is stored in float16 and used in float32. No gradients (torch's quantized layers have none either) and
no speed-up: NumPy has no int8 GEMM; what is gained is size (weights 4x smaller in a saved file) and a faithful
preview of an int8 deployment's numbers.
"""
import numpy as np

from ....._tensor import Tensor, _make
from .....nn.modules.module import Module
from ...._qtypes import per_tensor_affine, qint8

_QMIN, _QMAX = 0, 127  # quint8 activations with reduce_range
_SMALL_SCALE = float(np.float32(6.1e-5))


def weight_scale(w):
    """torch's symmetric qint8 scale of a float32 weight: max(|min(w, 0)|, max(w, 0)) / 127.5, at least eps."""
    amax = np.float32(max(-min(float(w.min()), 0.0), max(float(w.max()), 0.0))) if w.size else np.float32(0)
    return max(np.float32(amax / np.float32(127.5)), np.finfo(np.float32).eps)


def quantize_weight(w, scale):
    return np.clip(np.rint(w / scale), -128, 127).astype(np.int8)


def activation_qparams(x):
    """(scale, zero point) for 0..127 from the range of ``x`` widened to include 0, as fbgemm chooses them."""
    lo = min(float(x.min()), 0.0) if x.size else 0.0
    hi = max(float(x.max()), 0.0) if x.size else 0.0
    lo, hi = float(np.float32(lo)), float(np.float32(hi))
    scale = (hi - lo) / (_QMAX - _QMIN)
    if float(np.float32(scale)) == 0.0 or 1.0 / float(np.float32(scale)) == float("inf"):
        scale, lo, hi = 0.1, 0.0, 0.0
    scale = float(np.float32(scale))
    if scale < _SMALL_SCALE:  # fbgemm widens the range so the scale is at least 6.1e-5
        if lo == 0.0:
            hi = _SMALL_SCALE * (_QMAX - _QMIN)
        elif hi == 0.0:
            lo = -_SMALL_SCALE * (_QMAX - _QMIN)
        else:
            amplifier = _SMALL_SCALE / scale
            lo, hi = lo * amplifier, hi * amplifier
        scale = _SMALL_SCALE
    from_min, from_max = _QMIN - lo / scale, _QMAX - hi / scale
    error_min = abs(_QMIN) - abs(lo / scale)
    error_max = abs(_QMAX) - abs(hi / scale)
    initial = from_min if error_min < error_max else from_max
    zero_point = int(np.clip(np.rint(initial), _QMIN, _QMAX))
    return np.float32(scale), zero_point


class Linear(Module):
    """A Linear layer whose weight is int8 (or float16) and whose input is quantized at every call; made by
    ``ember.ao.quantization.quantize_dynamic`` or ``Linear.from_float``."""

    _version = 1

    def __init__(self, in_features, out_features, bias_=True, dtype=qint8):
        super().__init__()
        self.in_features, self.out_features, self.dtype = in_features, out_features, dtype
        store = np.int8 if dtype is qint8 else np.float16
        self.register_buffer("weight", _make(np.zeros((out_features, in_features), store)))
        self.register_buffer("weight_scale", _make(np.ones((), np.float32)))
        self.register_buffer("bias", _make(np.zeros(out_features, np.float32)) if bias_ else None)

    @classmethod
    def from_float(cls, mod, dtype=qint8):
        """The quantized twin of a float ``nn.Linear``."""
        w = mod.weight.detach().numpy().astype(np.float32)
        q = cls(mod.in_features, mod.out_features, mod.bias is not None, dtype)
        if dtype is qint8:
            scale = weight_scale(w)
            q.weight = _make(quantize_weight(w, scale))
            q.weight_scale = _make(np.asarray(scale, np.float32))
        else:
            q.weight = _make(w.astype(np.float16))
        if mod.bias is not None:
            q.bias = _make(mod.bias.detach().numpy().astype(np.float32))
        return q

    def forward(self, x: Tensor) -> Tensor:
        data = x.detach().numpy().astype(np.float32, copy=False)
        if data.shape[-1] != self.in_features:
            raise RuntimeError(f"DynamicQuantizedLinear: input of shape {tuple(data.shape)} does not match "
                               f"in_features={self.in_features}")
        w = self.weight._data
        if self.dtype is qint8:
            scale, zero_point = activation_qparams(data)
            x_q = np.clip(np.rint(data / scale) + zero_point, _QMIN, _QMAX) - zero_point
            acc = np.matmul(x_q.astype(np.float64), w.T.astype(np.float64))  # exact int32 sums
            # float(acc) * (s_x s_w) + bias as one fused multiply-add, as fbgemm: exact in float64, rounded once
            y = acc.astype(np.float32).astype(np.float64) * np.float64(np.float32(scale * self.weight_scale._data))
            if self.bias is not None:
                y += self.bias._data
            return _make(y.astype(np.float32))
        y = np.matmul(data, w.T.astype(np.float32))
        if self.bias is not None:
            y += self.bias._data
        return _make(y)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, dtype={self.dtype}, "
                f"qscheme={per_tensor_affine}")

    def _get_name(self):
        return "DynamicQuantizedLinear"
