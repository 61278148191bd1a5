"""Constraints: the regions a parameter or a sample must lie in (torch.distributions.constraints).

``constraint.check(value)`` returns a bool tensor of the value's shape minus the constraint's ``event_dim``
rightmost dims. Each check is one NumPy function run inside a non-differentiable op (so compile mode records it);
argument validation calls the same function on the raw arrays, which reads no tensor value through Python.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op

__all__ = ["Constraint", "boolean", "dependent", "dependent_property", "greater_than", "greater_than_eq",
           "half_open_interval", "independent", "integer_interval", "interval", "is_dependent", "less_than",
           "lower_cholesky", "lower_triangular", "nonnegative", "nonnegative_integer", "one_hot", "positive",
           "positive_definite", "positive_integer", "real", "real_vector", "simplex", "square", "symmetric",
           "unit_interval"]


class ConstraintCheck(Op):
    """``fn(value, *bounds)`` on arrays; bounds that are tensors come in as inputs, numbers as ``numbers``
    (None marks the slot of a tensor input)."""

    differentiable = False

    def forward(ctx, value, *tensor_bounds, fn, numbers):
        rest = iter(tensor_bounds)
        bounds = [next(rest) if b is None else b for b in numbers]
        with np.errstate(all="ignore"):
            return np.asarray(fn(value, *bounds))


def _run(fn, value, *bounds):
    if isinstance(value, np.ndarray):
        arrays = [b._data if isinstance(b, Tensor) else b for b in bounds]
        with np.errstate(all="ignore"):
            return np.asarray(fn(value, *arrays))
    if not isinstance(value, Tensor):
        raise TypeError(f"Constraint.check(): expected a Tensor, got {type(value).__name__}")
    tensors = [b for b in bounds if isinstance(b, Tensor)]
    numbers = tuple(None if isinstance(b, Tensor) else b for b in bounds)
    return ConstraintCheck.apply(value, *tensors, fn=fn, numbers=numbers)


class Constraint:
    """A region over which a variable is valid. ``event_dim`` rightmost dims form one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """A bool tensor: whether each event of ``value`` satisfies the constraint."""
        raise NotImplementedError

    def is_satisfied(self, value) -> bool:
        """Whether every event of tensor ``value`` satisfies the constraint (read from the raw arrays)."""
        return bool(np.all(self.check(value._data if isinstance(value, Tensor) else value)))

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Elementwise(Constraint):
    """A constraint computed by one NumPy function of the value and the bounds."""

    def _np(self, value, *bounds):
        raise NotImplementedError

    def _bounds(self):
        return ()

    def check(self, value):
        return _run(self._np, value, *self._bounds())


class _Dependent(Constraint):
    """A placeholder for a parameter whose support depends on other parameters (not checkable)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property on instances that reads as a dependent constraint on the class (``Uniform.support``)."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with ``reinterpreted_batch_ndims`` more rightmost dims folded into each event."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        if not isinstance(base_constraint, Constraint):
            got = type(base_constraint).__name__
            raise AssertionError(f"base_constraint must be a Constraint, got {got}")  # noqa: TRY004 (as torch)
        if not isinstance(reinterpreted_batch_ndims, int) or reinterpreted_batch_ndims < 0:
            raise AssertionError(f"reinterpreted_batch_ndims must be an int >= 0, got {reinterpreted_batch_ndims}")
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if result.ndim < n:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.ndim}")
        if n == 0:
            return result
        return result.reshape(tuple(result.shape[:result.ndim - n]) + (-1,)).all(-1)

    def __repr__(self):
        return f"{type(self).__name__[1:]}({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


# ---- elementwise constraints --------------------------------------------------------------------------------
def _is_integer(v):
    return v % 1 == 0


class _Boolean(_Elementwise):
    is_discrete = True

    def _np(self, v):
        return (v == 0) | (v == 1)


class _OneHot(_Elementwise):
    is_discrete = True
    event_dim = 1

    def _np(self, v):
        return ((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1)


class _Real(_Elementwise):
    def _np(self, v):
        return v == v  # noqa: PLR0124 - False for NaN


class _Bounded(_Elementwise):
    """A constraint with a lower and/or an upper bound (numbers or tensors)."""

    _fields = ()

    def _bounds(self):
        return tuple(getattr(self, f) for f in self._fields)

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)}" for f in self._fields)
        return f"{type(self).__name__[1:]}({inner})"


class _IntegerInterval(_Bounded):
    is_discrete = True
    _fields = ("lower_bound", "upper_bound")

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _np(self, v, lo, hi):
        return _is_integer(v) & (lo <= v) & (v <= hi)


class _IntegerLessThan(_Bounded):
    is_discrete = True
    _fields = ("upper_bound",)

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _np(self, v, hi):
        return _is_integer(v) & (v <= hi)


class _IntegerGreaterThan(_Bounded):
    is_discrete = True
    _fields = ("lower_bound",)

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _np(self, v, lo):
        return _is_integer(v) & (v >= lo)


class _GreaterThan(_Bounded):
    _fields = ("lower_bound",)

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _np(self, v, lo):
        return lo < v


class _GreaterThanEq(_GreaterThan):
    def _np(self, v, lo):
        return lo <= v


class _LessThan(_Bounded):
    _fields = ("upper_bound",)

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _np(self, v, hi):
        return v < hi


class _Interval(_Bounded):
    _fields = ("lower_bound", "upper_bound")

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _np(self, v, lo, hi):
        return (lo <= v) & (v <= hi)


class _HalfOpenInterval(_Interval):
    def _np(self, v, lo, hi):
        return (lo <= v) & (v < hi)


class _Simplex(_Elementwise):
    event_dim = 1

    def _np(self, v):
        return (v >= 0).all(-1) & (np.abs(v.sum(-1) - 1) < 1e-6)


# ---- matrix constraints ---------------------------------------------------------------------------------------
class _LowerTriangular(_Elementwise):
    event_dim = 2

    def _np(self, v):
        return (np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).all(-1)


class _LowerCholesky(_Elementwise):
    event_dim = 2

    def _np(self, v):
        lower = (np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).all(-1)
        return lower & (np.diagonal(v, 0, -2, -1) > 0).all(-1)


class _Square(_Elementwise):
    event_dim = 2

    def _np(self, v):
        return np.full(v.shape[:-2], v.shape[-2] == v.shape[-1], dtype=bool)


class _Symmetric(_Square):
    def _np(self, v):
        square = _Square._np(self, v)
        if not square.all():
            return square
        return np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6).all(-1).all(-1)


class _PositiveDefinite(_Symmetric):
    def _np(self, v):
        sym = _Symmetric._np(self, v)
        if not sym.all():
            return sym
        try:
            np.linalg.cholesky(v)
            return np.ones(v.shape[:-2], dtype=bool)
        except np.linalg.LinAlgError:
            pass
        flat = v.reshape((-1,) + v.shape[-2:])
        return np.array([_has_cholesky(m) for m in flat], dtype=bool).reshape(v.shape[:-2])


def _has_cholesky(m):
    try:
        np.linalg.cholesky(m)
        return True
    except np.linalg.LinAlgError:
        return False


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
square = _Square()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
