"""Gamma(concentration, rate)."""
import numbers

from .._dtype import finfo
from .._tensor import Size
from . import constraints
from ._ops import gammainc_op, standard_gamma
from .distribution import Distribution
from .utils import as_size, broadcast_all, special

__all__ = ["Gamma"]


def clamp_value_only(x, low):
    """``x`` with values below ``low`` raised to it, the gradient passing through unchanged."""
    return x + (x.clamp(min=low) - x).detach()


class Gamma(Distribution):
    """Density rate^a x^(a-1) exp(-rate x) / Gamma(a) for x > 0, a = concentration."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return clamp_value_only(value, finfo(value.dtype).tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        xlogy, lgamma = special("xlogy"), special("lgamma")
        a, rate = self.concentration, self.rate
        return xlogy(a, rate) + xlogy(a - 1, value) - rate * value - lgamma(a)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + special("lgamma")(a) + (1.0 - a) * special("digamma")(a)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, x = broadcast_all(self.concentration, self.rate * value)
        return gammainc_op(a, x)
