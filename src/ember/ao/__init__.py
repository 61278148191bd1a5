"""``ember.ao`` (torch.ao): dynamic int8/float16 quantization of Linear layers, for model compression."""
from . import nn, quantization  # noqa: F401
from ._qtypes import per_tensor_affine, per_tensor_symmetric, qint8, qint32, quint8  # noqa: F401
