"""Quantized element types and schemes (``torch.qint8`` ...). They name how quantized layers store numbers;
no ember tensor has them (``as_dtype`` refuses them), as ember has no quantized tensors."""


class qdtype:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "ember." + self.name


class qscheme(qdtype):
    __slots__ = ()


qint8, quint8, qint32 = qdtype("qint8"), qdtype("quint8"), qdtype("qint32")
per_tensor_affine, per_tensor_symmetric = qscheme("per_tensor_affine"), qscheme("per_tensor_symmetric")
