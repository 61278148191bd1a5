"""Parameter and Buffer: Tensor subclasses that Module.__setattr__ registers automatically."""
import numpy as np

from .._tensor import Tensor, _init, _Storage

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "is_lazy"]


def _leaf_sharing(cls, data, requires_grad):
    """A new leaf of class ``cls`` sharing ``data``'s memory and version counter (like ``detach``)."""
    if data is None:
        arr = np.empty((0,), dtype=np.float32)
        version = [0]
    elif isinstance(data, Tensor):
        arr, version = data._data, data._version
    else:
        raise TypeError(f"{cls.__name__}(): expected a Tensor as data, got {type(data).__name__}")
    if requires_grad and arr.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    t = Tensor.__new__(cls)
    _init(t, arr, bool(requires_grad), None)
    t._version = version
    return t


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    ``Parameter(data, requires_grad=True)`` shares ``data``'s memory (no copy), as torch does.
    """

    def __new__(cls, data=None, requires_grad=True):
        return _leaf_sharing(cls, data, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        from .._format import format_tensor

        return "Parameter containing:\n" + format_tensor(self, prefix="tensor(")

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor.clone(self.detach()), self.requires_grad)
        for k, v in self.__dict__.items():
            result.__dict__[k] = v
        if self.grad is not None:
            result.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        raise TypeError("ember parameters are not picklable; save model.state_dict() with ember.save instead")


class Buffer(Tensor):
    """A Tensor that is module state but not a parameter (``nn.Buffer``); ``persistent`` decides whether it
    goes into ``state_dict``. Assigning it to a Module attribute registers it as a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        t = _leaf_sharing(cls, data, data.requires_grad if isinstance(data, Tensor) else False)
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (used by the lazy modules)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .._dtype import as_dtype, get_default_dtype

        dt = as_dtype(dtype) if dtype is not None else get_default_dtype()
        t = _leaf_sharing(cls, None, False)
        t._data = np.empty((0,), dtype=dt.np)
        t.requires_grad = bool(requires_grad)
        return t

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Give the parameter its shape (uninitialised values) and turn it into a plain Parameter."""
        from .._dtype import as_dtype

        np_dtype = as_dtype(dtype).np if dtype is not None else self._data.dtype
        self._data = np.empty(tuple(shape), dtype=np_dtype)
        _Storage.rebinds += 1
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        result = type(self)(self.requires_grad, None, self.dtype)
        memo[id(self)] = result
        return result


def is_lazy(param) -> bool:
    """True when ``param`` is an uninitialised (lazy) parameter."""
    return isinstance(param, UninitializedParameter)
