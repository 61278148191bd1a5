"""In-place ops (``add_``, ``mul_``, ``x[i] = v`` ...).

Without autograd involvement (no_grad, or nothing requires grad) they are NumPy calls with ``out=`` on the
tensor's own buffer: this is the path optimizers take. When autograd must see them, the out-of-place op is
recorded, its result copied into the tensor's buffer, and the tensor's history rebased onto the new node.
Every in-place write bumps the tensor's version counter, so a stale saved tensor is caught in backward.
"""
import numpy as np

from .. import _kernels as _k
from .._dtype import from_numpy_dtype
from ..autograd.grad_mode import _State
from .._tensor import Tensor, _make


def check_inplace(x, other, op) -> bool:
    """True when the in-place op on ``x`` must be recorded in the graph; raises for the forbidden cases."""
    if not _State.enabled:
        return False
    if not (x.requires_grad or (other is not None and other.requires_grad)):
        return False
    if x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")
    if x.grad_fn is not None and x.grad_fn.is_view:
        raise NotImplementedError(f"{op}: in-place modification of a view of a tensor that requires grad is not "
                                  "supported by ember; use an out-of-place op, or index assignment on the base "
                                  "tensor (x[i] = v)")
    return True


def commit_inplace(x, result):
    """Write ``result`` into ``x``'s buffer and make ``x`` the output of ``result``'s node."""
    _check_cast(result._data.dtype, x._data.dtype, "in-place op")
    _check_shape(x, result)
    _k.run(_k.copy, x, result)
    x.grad_fn = result.grad_fn
    x.requires_grad = result.requires_grad
    x._out_nr = result._out_nr
    return x


def _check_shape(x, result):
    if result._data.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the broadcast shape "
                           f"{list(result._data.shape)}")


def _check_cast(src, dst, op):
    if src == dst:
        return
    s, d = from_numpy_dtype(src), from_numpy_dtype(dst)
    if s.category > d.category:
        raise RuntimeError(f"{op}: result type {s.name.capitalize()} can't be cast to the desired output type "
                           f"{d.name.capitalize()}")


def _other_array(x, other):
    if isinstance(other, Tensor):
        _check_cast(other._data.dtype, x._data.dtype, "in-place op")
        return other._data
    if isinstance(other, float) and x._data.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{from_numpy_dtype(x._data.dtype).name.capitalize()}")
    return other


def _fast_binary(x, other, kernel, out_of_place, name):
    o = other if isinstance(other, Tensor) else None
    if check_inplace(x, o, name):  # recorded on a copy: the op may save its input, which is overwritten next
        return commit_inplace(x, out_of_place(x.clone(), other))
    _writable(x, name)
    _other_array(x, other)  # dtype check
    try:
        return _k.run(kernel, x, other)
    except ValueError:  # other's shape does not broadcast to x's: torch's message
        if not isinstance(other, Tensor):
            raise
        from .elementwise import broadcast_error

        err = broadcast_error(x, other)
        if err is None:
            shape = np.broadcast_shapes(x._data.shape, other._data.shape)
            err = RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the broadcast shape "
                               f"{list(shape)}")
        raise err from None


def _writable(x, name):
    if not x._data.flags.writeable:
        raise RuntimeError(f"{name}: unsupported operation: the tensor is an expanded view (some elements refer to "
                           "the same memory location); clone() it before writing in place")


def add_(x, other, alpha=1):
    from .elementwise import add

    if alpha != 1:
        other = other * alpha
    return _fast_binary(x, other, _k.iadd, add, "add_")


def sub_(x, other, alpha=1):
    from .elementwise import sub

    if alpha != 1:
        other = other * alpha
    return _fast_binary(x, other, _k.isub, sub, "sub_")


def mul_(x, other):
    from .elementwise import mul

    return _fast_binary(x, other, _k.imul, mul, "mul_")


def div_(x, other, rounding_mode=None):
    from .elementwise import div

    if rounding_mode is not None or x._data.dtype.kind != "f":
        return apply_inplace(x, div, other, rounding_mode=rounding_mode, name="div_")
    return _fast_binary(x, other, _k.idiv, div, "div_")


def apply_inplace(x, fn, *args, name="inplace", **kwargs):
    """Generic in-place: compute ``fn(x, *args)`` and write it back into ``x``."""
    # any tensor argument that needs a gradient makes the op recorded (scatter_add_'s src comes after its index)
    other = next((a for a in (*args, *kwargs.values()) if isinstance(a, Tensor) and a.requires_grad), None)
    if check_inplace(x, other, name):  # recorded on a copy: fn may save its input, which is overwritten next
        return commit_inplace(x, fn(x.clone(), *args, **kwargs))
    _writable(x, name)
    prev = _State.enabled
    _State.enabled = False
    try:
        res = fn(x, *args, **kwargs)
    finally:
        _State.enabled = prev
    _check_cast(res._data.dtype, x._data.dtype, name)
    _check_shape(x, res)
    return _k.run(_k.copy, x, res)


def addcmul_(x, t1, t2, value=1):
    from .elementwise import add, mul

    if check_inplace(x, None, "addcmul_") or t1.requires_grad and _State.enabled or t2.requires_grad and _State.enabled:
        return apply_inplace(x, lambda a: add(a, mul(mul(t1, t2), value)), name="addcmul_")
    return _k.run(_k.addcmul, x, t1, t2, value)


def addcdiv_(x, t1, t2, value=1):
    from .elementwise import add, div, mul

    if check_inplace(x, None, "addcdiv_") or t1.requires_grad and _State.enabled or t2.requires_grad and _State.enabled:
        return apply_inplace(x, lambda a: add(a, mul(div(t1, t2), value)), name="addcdiv_")
    return _k.run(_k.addcdiv, x, t1, t2, value)


def lerp_(x, end, weight):
    """``x += weight * (end - x)``, computed from the nearer end as torch does (``end - (end - x) * (1 - w)``
    when ``|w| >= 0.5``); a scalar weight takes the no-graph NumPy path."""
    from .elementwise import lerp

    if isinstance(weight, Tensor) or check_inplace(x, end, "lerp_"):
        return apply_inplace(x, lerp, end, weight, name="lerp_")
    _writable(x, "lerp_")
    _other_array(x, end)
    return _k.run(_k.lerp, x, end, weight)


def maximum_(x, other):
    from .elementwise import maximum

    return _fast_binary(x, other, _k.imaximum, maximum, "maximum_")


def sqrt_(x):
    from .elementwise import sqrt

    if check_inplace(x, None, "sqrt_"):
        return apply_inplace(x, sqrt, name="sqrt_")
    _writable(x, "sqrt_")
    return _k.run(_k.isqrt, x)


def zero_(x):
    return fill_(x, 0)


def fill_(x, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if check_inplace(x, value, "fill_"):
            from .shape import expand

            return commit_inplace(x, expand(value.to(x.dtype), x._data.shape) * 1)
        value = value.item()
    if check_inplace(x, None, "fill_"):
        from .elementwise import add, mul

        return commit_inplace(x, add(mul(x, 0), value))
    _writable(x, "fill_")
    return _k.run(_k.fill, x, value)


def copy_(x, src, non_blocking=False):
    if not isinstance(src, Tensor):
        src = _make(np.asarray(src))
    try:
        np.broadcast_shapes(src._data.shape, x._data.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the size of src {list(src._data.shape)} does not match and cannot be broadcast "
                           f"to the size of self {list(x._data.shape)}") from None
    if check_inplace(x, src, "copy_"):
        from .elementwise import add, cast, mul
        from .shape import expand

        res = add(mul(x, 0), expand(cast(src, x.dtype), x._data.shape))
        return commit_inplace(x, res)
    _writable(x, "copy_")
    return _k.run(_k.copy, x, src)


def clamp_(x, min=None, max=None):  # noqa: A002
    from .elementwise import clamp

    float_bound_on_ints = x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float))
    if not check_inplace(x, None, "clamp_") and not isinstance(min, Tensor) and not isinstance(max, Tensor) \
            and not float_bound_on_ints:  # (a float bound on integers: apply_inplace raises torch's cast error)
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        _writable(x, "clamp_")
        return _k.run(_k.clip, x, min, max)
    return apply_inplace(x, clamp, min, max, name="clamp_")


def uniform_(x, a=0.0, b=1.0, generator=None):
    _check_float_fill(x, "uniform_")
    with _NoGradWrite(x, "uniform_"):
        _k.run(_k.uniform, x, a, b, generator)
    return x


def normal_(x, mean=0.0, std=1.0, generator=None):
    _check_float_fill(x, "normal_")
    with _NoGradWrite(x, "normal_"):
        _k.run(_k.normal, x, mean, std, generator)
    return x


def bernoulli_(x, p=0.5, generator=None):
    with _NoGradWrite(x, "bernoulli_"):
        _k.run(_k.bernoulli, x, p, generator)
    return x


def exponential_(x, lambd=1.0, generator=None):
    with _NoGradWrite(x, "exponential_"):
        _k.run(_k.exponential, x, lambd, generator)
    return x


def random_(x, low=0, high=None, generator=None):
    if high is None:
        low, high = 0, low if low else (2 ** 24 if x._data.dtype.kind == "f" else np.iinfo(x._data.dtype).max)
    with _NoGradWrite(x, "random_"):
        _k.run(_k.randint, x, low, high, generator)
    return x


def _check_float_fill(x, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {from_numpy_dtype(x._data.dtype)}")


class _NoGradWrite:
    """Random fills write raw values: allowed on leaves only under no_grad (as torch's init functions do)."""

    def __init__(self, x, op):
        self.x, self.op = x, op

    def __enter__(self):
        if _State.enabled and self.x.requires_grad:
            raise RuntimeError(f"{self.op}: a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        _writable(self.x, self.op)

    def __exit__(self, *exc):
        return False
