"""Numerical gradient checks (central differences in float64), as torch.autograd.gradcheck."""
import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _numerical_jacobian(fn, inputs, i, out_index, eps):
    x = inputs[i]
    flat = x._data.reshape(-1)  # a view: perturb in place
    base = _as_tuple(fn(*inputs))[out_index]
    jac = np.zeros((flat.size, base._data.size), dtype=np.float64)
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        plus = _as_tuple(fn(*inputs))[out_index]._data.astype(np.float64).reshape(-1)
        flat[k] = orig - eps
        minus = _as_tuple(fn(*inputs))[out_index]._data.astype(np.float64).reshape(-1)
        flat[k] = orig
        jac[k] = (plus - minus) / (2 * eps)
    return jac


def _analytical_jacobian(fn, inputs, i, out_index):
    from .engine import grad
    from .._tensor import _make

    out = _as_tuple(fn(*inputs))[out_index]
    n_out = out._data.size
    jac = np.zeros((inputs[i]._data.size, n_out), dtype=np.float64)
    for j in range(n_out):
        g = np.zeros(n_out, dtype=out._data.dtype)
        g[j] = 1
        (gi,) = grad(out, inputs[i], _make(g.reshape(out._data.shape)), retain_graph=True, allow_unused=True)
        if gi is not None:
            jac[:, j] = gi._data.astype(np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs) -> bool:
    """Compare analytical gradients of ``func`` with central finite differences, for every float64 input."""
    from .._tensor import Tensor

    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    for oi, out in enumerate(outputs):
        if not isinstance(out, Tensor) or not out.requires_grad:
            continue
        for i, x in enumerate(inputs):
            if not isinstance(x, Tensor) or not x.requires_grad:
                continue
            if x._data.dtype != np.float64:
                import warnings

                warnings.warn("gradcheck: input is not float64; the check is unreliable in lower precision")
            num = _numerical_jacobian(func, inputs, i, oi, eps)
            ana = _analytical_jacobian(func, inputs, i, oi)
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                if raise_exception:
                    worst = np.abs(ana - num).max()
                    raise GradcheckError(f"Jacobian mismatch for output {oi} with respect to input {i}: max abs "
                                         f"difference {worst:.3g}\nnumerical:\n{num}\nanalytical:\n{ana}")
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  **kwargs) -> bool:
    """gradcheck of the first derivative: checks second-order gradients of ``func``."""
    from .engine import grad
    from .._tensor import Tensor, _make

    inputs = _as_tuple(inputs)
    outs = _as_tuple(func(*inputs))
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(_make(rng.standard_normal(o._data.shape).astype(o._data.dtype), True) for o in outs)
    def first_grads(*args):
        xs, gos = args[:len(inputs)], args[len(inputs):]
        o = _as_tuple(func(*xs))
        d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        return grad(o, d, gos, create_graph=True, allow_unused=True, materialize_grads=True)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
