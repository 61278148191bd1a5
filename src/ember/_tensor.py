"""Tensor: an n-dimensional array with autograd. Methods delegate to ``ember.ops`` in one line each."""
import numbers

import numpy as np

from . import _dtype, _memory_format
from ._dtype import as_dtype, from_numpy_dtype, get_default_dtype
from .autograd import engine as _engine
from .autograd import function as _function
from ._tensor_ops import TensorOps

__all__ = ["Tensor", "tensor", "as_tensor", "from_numpy", "is_tensor"]

_ndarray = np.ndarray
_new = object.__new__


class Size(tuple):
    """torch.Size: a tuple of ints with ``numel()``."""

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"ember.Size({list(self)})"

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r


class Tensor(TensorOps):
    """A multi-dimensional array that can record the operations applied to it for differentiation."""

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_out_nr", "_version", "_hooks",
                 "_post_accumulate_hooks", "__weakref__")
    __array_priority__ = 1000  # NumPy defers to our reflected operators

    def __new__(cls, *args, **kwargs):
        return _new(cls)

    def __init__(self, *args, dtype=None, requires_grad=False):
        """``Tensor(data)`` or ``Tensor(*sizes)`` (uninitialised float32 storage, as torch.Tensor)."""
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            data = _to_array(args[0], as_dtype(dtype) if dtype is not None else get_default_dtype())
        else:
            shape = args[0] if len(args) == 1 and not isinstance(args[0], numbers.Integral) else args
            data = np.zeros(tuple(int(s) for s in shape), dtype=(as_dtype(dtype) if dtype else get_default_dtype()).np)
        _init(self, data, requires_grad, None)

    # ---- basic attributes -------------------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        t = _make(self._data, False, None)
        t._version = self._version
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data
        _Storage.rebinds += 1

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return device("cpu")

    @property
    def is_cuda(self):
        return False

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def output_nr(self):
        return self._out_nr

    @property
    def _version_value(self):
        return self._version[0]

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format=_memory_format.contiguous_format) -> bool:
        return _memory_format.is_laid_out(self._data, memory_format)

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def get_device(self) -> int:
        return -1

    # ---- conversion --------------------------------------------------------------------------------------
    def numpy(self, force=False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        _notify_value_read(self, "numpy")
        return self._data

    def __array__(self, dtype=None, copy=None):
        _notify_value_read(self, "__array__")
        a = self._data
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy else a

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        _notify_value_read(self, "item")
        return self._data.reshape(()).item()

    def tolist(self):
        _notify_value_read(self, "tolist")
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        _notify_value_read(self, "bool")
        return bool(self._data.reshape(()).item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.unbind(self, 0))

    __hash__ = object.__hash__  # identity, as torch (and C-level fast: tensors key optimizer state dicts)

    def __repr__(self):
        from ._format import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        raise TypeError("ember tensors are not picklable; use ember.save (safetensors) instead")

    def __deepcopy__(self, memo):
        t = _make(self._data.copy(), self.requires_grad, None)
        if type(self) is not Tensor:
            t = type(self).__new__(type(self))
            _init(t, self._data.copy(), self.requires_grad, None)
            for k in getattr(self, "__dict__", {}):
                setattr(t, k, getattr(self, k))
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    # ---- dtype conversion ---------------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        dtype = kwargs.get("dtype")
        copy = kwargs.get("copy", False)
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (_dtype.dtype, type)) or (isinstance(a, np.dtype)):
                dtype = a
            elif isinstance(a, str) and a.replace("torch.", "").replace("ember.", "") in _dtype._BY_NAME:
                dtype = a
            elif isinstance(a, (str, device)):
                _check_device(a)
        if "device" in kwargs and kwargs["device"] is not None:
            _check_device(kwargs["device"])
        fmt = kwargs.get("memory_format", _memory_format.preserve_format)
        if dtype is None or as_dtype(dtype).np == self._data.dtype:
            out = self.clone(fmt) if copy else self
        else:
            out = _ops.cast(self, as_dtype(dtype))
        if fmt is not _memory_format.preserve_format and not out.is_contiguous(fmt):
            out = _ops.clone(out, fmt)
        return out

    def type(self, dtype=None):
        if dtype is None:
            return "ember." + {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool"}[self._data.dtype.kind] + "Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            name = dtype.rsplit(".", 1)[-1][:-6]
            dtype = {"Float": _dtype.float32, "Double": _dtype.float64, "Half": _dtype.float16, "Long": _dtype.int64,
                     "Int": _dtype.int32, "Short": _dtype.int16, "Char": _dtype.int8, "Byte": _dtype.uint8,
                     "Bool": _dtype.bool_}[name]
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def short(self):
        return self.to(_dtype.int16)

    def char(self):
        return self.to(_dtype.int8)

    def byte(self):
        return self.to(_dtype.uint8)

    def bool(self):
        return self.to(_dtype.bool_)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise AssertionError("Torch not compiled with CUDA enabled (ember runs on the CPU only)")

    def pin_memory(self):
        return self

    def share_memory_(self):
        return self

    # ---- autograd -----------------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        t = _make(self._data, False, None)
        t._version = self._version
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True) -> "Tensor":
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
            return
        import weakref

        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is not None:
                t.grad = g.detach().clone() if t.grad is None else t.grad + g.detach()

        _retain._ember_retain = True
        self.grad_fn._add_pre_hook(self._out_nr, _retain)

    @property
    def retains_grad(self) -> bool:
        fn = self.grad_fn
        if fn is None or not fn.pre_hooks:
            return False
        return any(getattr(h, "_ember_retain", False) for h in fn.pre_hooks.get(self._out_nr, ()))

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient for this tensor is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_pre_hook(self._out_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _function._RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return _function._RemovableHandle(self._post_accumulate_hooks, hook)


class device:
    """torch.device: only 'cpu' exists here."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in str(type):
            type, index = str(type).split(":")
            index = int(index)
        self.type, self.index = str(type), index

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


def _check_device(d):
    kind = device(d).type
    if kind == "cuda":  # torch's CPU-only builds raise this AssertionError
        raise AssertionError(f"Torch not compiled with CUDA enabled (ember runs on the CPU only; device {str(d)!r})")
    if kind != "cpu":
        raise RuntimeError(f"ember runs on the CPU only; cannot move a tensor to device {str(d)!r}")


def _init(t, data, requires_grad, grad_fn):
    t._data = data
    t.requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._out_nr = 0
    t._version = [0]
    t._hooks = None
    t._post_accumulate_hooks = None


def _make(data, requires_grad=False, grad_fn=None):
    """Wrap an ndarray without copying (the fast path every op uses)."""
    t = _new(Tensor)
    t._data = data
    t.requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._out_nr = 0
    t._version = [0]
    t._hooks = None
    t._post_accumulate_hooks = None
    return t


_function._make = _make
_engine._make = _make


class _Storage:
    """``rebinds`` counts every time an existing tensor was given another array (``.data = ``, a lazy
    parameter materialising, the optimizers' flat buffers): whoever caches a tensor-to-array layout checks the
    layout again only when this changed. (New tensors get their array in ``_make``; nothing else assigns
    ``_data``.)"""

    rebinds = 0


class _ValueReadObserver:
    """Compile mode's tracer sets ``hook`` to learn when Python code reads a tensor's value."""

    hook = None


def _notify_value_read(t, how):
    if _ValueReadObserver.hook is not None:
        _ValueReadObserver.hook(t, how)


def _wrap_dim(dim, ndim, op="dim"):
    if dim.__class__ is not int and (not isinstance(dim, numbers.Integral) or isinstance(dim, bool)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _to_array(data, dt=None):
    """Convert Python/NumPy/Tensor data to an ndarray with torch's dtype inference."""
    if isinstance(data, Tensor):
        arr = data._data
        return arr.copy() if dt is None else arr.astype(dt.np, copy=True)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flatten_first(data)):
        data = _tensors_to_nested(data)
    arr = np.array(data)
    if dt is not None:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"tensor(): can't convert {type(data).__name__} with dtype {arr.dtype} to a tensor")
        return arr.astype(dt.np, copy=False)
    kind = arr.dtype.kind
    if kind in "UOSV":
        raise TypeError(f"tensor(): could not infer a dtype from {type(data).__name__} (got NumPy dtype {arr.dtype})")
    if kind == "c":
        raise TypeError("ember does not support complex tensors")
    if isinstance(data, (np.ndarray, np.generic)):
        return arr  # NumPy data keeps its dtype, as in torch
    if kind == "f" and arr.dtype != get_default_dtype().np:
        arr = arr.astype(get_default_dtype().np)  # Python floats become the default dtype
    elif kind in "iu":
        arr = arr.astype(np.int64)  # Python ints become int64
    return arr


def _flatten_first(seq):
    while isinstance(seq, (list, tuple)) and seq:
        if any(isinstance(x, Tensor) for x in seq):
            return seq
        seq = seq[0]
    return ()


def _tensors_to_nested(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_tensors_to_nested(d) for d in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Copy ``data`` (nested lists, NumPy arrays, scalars, Tensors) into a new tensor."""
    if device is not None:
        _check_device(device)
    dt = as_dtype(dtype) if dtype is not None else None
    arr = _to_array(data, dt)
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    if requires_grad and arr.dtype.kind != "f":
        raise RuntimeError(f"Only Tensors of floating point dtype can require gradients (got {from_numpy_dtype(arr.dtype)})")
    from_numpy_dtype(arr.dtype)  # reject unsupported dtypes with torch's message
    if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        arr = np.ascontiguousarray(arr)
    return _make(arr, bool(requires_grad), None)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Share memory with ``data`` when no conversion is needed (Tensors and NumPy arrays), else copy."""
    if device is not None:
        _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        from_numpy_dtype(data.dtype)
        if dtype is None or as_dtype(dtype).np == data.dtype:
            return _make(data)
        return _make(data.astype(as_dtype(dtype).np))
    return tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    from_numpy_dtype(arr.dtype)
    return _make(arr)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


# Tensor <-> ops is the one import cycle the design allows: ops build Tensors, Tensor methods call ops.
from . import _tensor_ops, ops as _ops  # noqa: E402

_tensor_ops._ops = _ops
