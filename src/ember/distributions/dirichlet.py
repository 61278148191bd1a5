"""Dirichlet(concentration) on the probability simplex of the last dim."""
from .. import ops as _ops
from .._dtype import finfo
from ..ops.nn_misc import one_hot
from . import constraints
from ._ops import standard_gamma
from .distribution import Distribution
from .utils import as_size, special

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """Density prod_i x_i^(a_i - 1) / B(a) on the simplex; draws are normalised Gamma(a_i, 1) draws, so rsample's
    gradient is the gammas' implicit reparameterization gradient."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        gammas = standard_gamma(self.concentration.expand(shape))
        x = gammas / gammas.sum(-1, keepdim=True)
        return _clamp_open(x, finfo(x.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        xlogy, lgamma = special("xlogy"), special("lgamma")
        a = self.concentration
        return xlogy(a - 1.0, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        above = (self.concentration - 1).clamp(min=0.0)
        mode = above / above.sum(-1, keepdim=True)
        # all concentrations below 1: the density is unbounded at every vertex; torch takes the argmax of the
        # (all-NaN) ratio above, i.e. the first vertex
        all_below = (self.concentration < 1).all(-1, keepdim=True)
        vertex = one_hot(mode.argmax(-1), self.concentration.shape[-1]).to(mode.dtype)
        return _ops.where(all_below, vertex, mode)

    @property
    def variance(self):
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self):
        lgamma, digamma = special("lgamma"), special("digamma")
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((a - 1.0) * digamma(a)).sum(-1)


def _clamp_open(x, info):
    """Values kept in [tiny, 1 - eps] (as torch's Dirichlet draws), the gradient passing through unchanged."""
    return x + (x.clamp(min=info.tiny, max=1 - info.eps) - x).detach()
