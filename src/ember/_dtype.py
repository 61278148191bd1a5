"""dtype objects, PyTorch's type promotion, and the default dtype."""
import builtins

import numpy as np

__all__ = ["dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_",
           "get_default_dtype", "set_default_dtype", "promote_types", "as_dtype", "finfo", "iinfo"]


class dtype:
    """A tensor element type (``ember.float32`` ...). ``np`` is the NumPy dtype that stores it."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = category == 2 or self.np.kind == "i"

    def __repr__(self):
        return "ember." + self.name

    def __reduce__(self):
        return (as_dtype, (self.name,))

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self


float16 = dtype("float16", np.float16, 2)
half = float16
float32 = dtype("float32", np.float32, 2)
float = float32  # noqa: A001 - torch.float
float64 = dtype("float64", np.float64, 2)
double = float64
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
short = int16
int32 = dtype("int32", np.int32, 1)
int = int32  # noqa: A001 - torch.int
int64 = dtype("int64", np.int64, 1)
long = int64
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)


class _Default:
    float = float32


def get_default_dtype() -> dtype:
    return _Default.float


def set_default_dtype(d) -> None:
    d = as_dtype(d)
    if d not in (float16, float32, float64):
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got {d}")
    _Default.float = d


def from_numpy_dtype(np_dtype) -> dtype:
    d = _BY_NP.get(np_dtype)
    if d is None:
        d = _BY_NP.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
                            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
    return d


def as_dtype(d) -> dtype:
    """Accept an ember dtype, a NumPy dtype/type, a Python type or a name; return the ember dtype."""
    if d.__class__ is dtype:
        return d
    if isinstance(d, str):
        try:
            return _BY_NAME[d.replace("torch.", "").replace("ember.", "")]
        except KeyError:
            raise TypeError(f"unknown dtype {d!r}") from None
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if d is builtins.float:
        return float64  # torch maps Python's float to double, whatever the default dtype
    return from_numpy_dtype(np.dtype(d))


_PROMOTE = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the higher category wins; within a category, the wider type (NumPy's rule)."""
    if a is b:
        return a
    key = (a, b)
    r = _PROMOTE.get(key)
    if r is None:
        if a.category != b.category:
            r = a if a.category > b.category else b
        else:
            r = _BY_NP[np.promote_types(a.np, b.np)]
        _PROMOTE[key] = r
    return r


class finfo:
    """Machine limits of a floating dtype (torch.finfo); the default dtype when none is given."""

    def __init__(self, type=None):  # noqa: A002 - torch's argument name
        d = _Default.float if type is None else as_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"finfo: torch.finfo() requires a floating point input type, got {d}")
        info = np.finfo(d.np)
        self.dtype = d.name
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (torch.iinfo)."""

    def __init__(self, type):  # noqa: A002
        d = as_dtype(type)
        if d.is_floating_point:
            raise TypeError(f"iinfo: torch.iinfo() requires an integer input type, got {d}")
        info = np.iinfo(np.uint8 if d is bool_ else d.np)
        self.dtype = d.name
        self.bits = info.bits
        self.max = builtins.int(1 if d is bool_ else info.max)
        self.min = builtins.int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
