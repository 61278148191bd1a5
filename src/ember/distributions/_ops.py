"""The few primitives the distributions need beyond ember.ops: random draws (inside ember's Draw op, or the random
StandardGamma op with its implicit gradient, so ``ember.manual_seed`` governs them and compile mode replays them),
the incomplete gamma function, a triangular solve and the inverse from a Cholesky factor, with their gradients."""
import numpy as np

from .. import ops as _ops
from .._tensor import Tensor
from ..autograd.function import Op
from ..ops.creation import Draw
from ..random import numpy_rng
from ._gamma_kernels import gammainc, gammainc_grad_a, standard_gamma_grad
from .utils import special as _special

__all__ = [
    "binomial",
    "categorical",
    "cholesky_inverse",
    "diagonal",
    "draw",
    "gammainc_op",
    "poisson",
    "solve_triangular",
    "standard_exponential",
    "standard_gamma",
    "standard_normal",
    "standard_uniform",
    "uniform_from",
]


def _float_np(dtype):
    return np.dtype(dtype.np if hasattr(dtype, "np") else dtype)


def draw(fn, *inputs, args=()):
    """``fn(numpy_rng, *input_arrays, *args)`` as a (non-differentiable) random op."""
    return Draw.apply(*inputs, fn=fn, generator=None, args=tuple(args))


def standard_normal(shape, dtype) -> Tensor:
    return _ops.randn(tuple(shape), dtype=dtype)


def standard_uniform(shape, dtype) -> Tensor:
    """Uniform draws in [0, 1)."""
    return _ops.rand(tuple(shape), dtype=dtype)


def _exponential(rng, shape, dt):
    return rng.standard_exponential(shape, dtype=np.float32 if dt == np.float32 else np.float64).astype(dt)


def standard_exponential(shape, dtype) -> Tensor:
    return draw(_exponential, args=(tuple(shape), _float_np(dtype)))


def _open_uniform(rng, shape, dt, low):
    """Uniform draws in [low, 1) of dtype ``dt``."""
    u = rng.random(shape, dtype=np.float32 if dt == np.float32 else np.float64).astype(dt)
    return (u * dt.type(1 - low) + dt.type(low)).astype(dt)


def uniform_from(shape, dtype, low) -> Tensor:
    return draw(_open_uniform, args=(tuple(shape), _float_np(dtype), float(low)))


def _categorical(rng, probs, shape):
    """Indices drawn by inverting the cumulative sums of (unnormalised) ``probs`` over the last dim: a
    category of probability zero is never drawn."""
    cum = np.cumsum(probs.astype(np.float64), axis=-1)
    u = 1.0 - rng.random(shape)  # in (0, 1]
    target = (u * cum[..., -1])[..., None]
    return (cum < target).sum(-1).astype(np.int64)


def categorical(probs, sample_shape) -> Tensor:
    """Category indices of shape ``sample_shape + probs.shape[:-1]``."""
    shape = tuple(sample_shape) + tuple(probs.shape[:-1])
    return draw(_categorical, probs, args=(shape,))


def _poisson(rng, rate):
    return rng.poisson(rate.astype(np.float64)).astype(rate.dtype)


def poisson(rate) -> Tensor:
    return draw(_poisson, rate)


def _binomial(rng, count, probs):
    n = np.rint(count).astype(np.int64)
    p = np.clip(probs.astype(np.float64), 0.0, 1.0)
    return rng.binomial(n, p).astype(probs.dtype)


def binomial(count, probs) -> Tensor:
    return draw(_binomial, count, probs)


class StandardGamma(Op):
    """A Gamma(alpha, 1) draw of alpha's shape, never below the dtype's smallest normal number. A random op with
    a gradient: the implicit reparameterization dx/dalpha (see _gamma_kernels)."""

    random = True

    def forward(ctx, alpha):
        x = numpy_rng(None).standard_gamma(alpha.astype(np.float64)).astype(alpha.dtype)
        x = np.maximum(x, np.finfo(alpha.dtype).tiny)
        ctx.save_for_backward(alpha, x)
        return x

    def backward(ctx, g):
        alpha, x = ctx.saved_tensors
        return _ops.mul(g, StandardGammaGrad.apply(alpha, x))


class StandardGammaGrad(Op):
    """dx/dalpha of standard gamma draws x (not differentiable again, as torch's _standard_gamma_grad)."""

    differentiable = False

    def forward(ctx, alpha, x):
        return standard_gamma_grad(alpha, x).astype(alpha.dtype)


def standard_gamma(alpha) -> Tensor:
    return StandardGamma.apply(alpha)


class GammaInc(Op):
    """The regularized lower incomplete gamma function P(a, x) (torch.special.gammainc), a and x broadcast."""

    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return gammainc(a, x).astype(np.result_type(a.dtype, x.dtype))

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        ga = _ops.mul(g, GammaIncGradA.apply(a, x)) if ctx.needs_grad(0) else None
        gx = None
        if ctx.needs_grad(1):  # the Gamma(a, 1) density
            special_lgamma = _special("lgamma")
            gx = _ops.mul(g, _ops.exp((a - 1) * _ops.log(x) - x - special_lgamma(a)))
        return ga, gx


class GammaIncGradA(Op):
    differentiable = False

    def forward(ctx, a, x):
        return gammainc_grad_a(a, x).astype(np.result_type(a.dtype, x.dtype))


def gammainc_op(a, x) -> Tensor:
    return GammaInc.apply(a, x)


# ---- triangular solve -----------------------------------------------------------------------------------------
def _mT(t):
    return t.transpose(-2, -1)


class SolveTriangular(Op):
    """X with A X = B for triangular A (lower unless ``upper``); batch dims broadcast."""

    def forward(ctx, a, b, upper):
        ctx.upper = upper
        x = np.linalg.solve(np.triu(a) if upper else np.tril(a), b)
        ctx.save_for_backward(a, x)
        return x.astype(b.dtype, copy=False)

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = SolveTriangular.apply(_mT(a), g, upper=not ctx.upper)
        ga = None
        if ctx.needs_grad(0):
            full = _ops.neg(_ops.matmul(gb, _mT(x)))
            ga = full.triu() if ctx.upper else full.tril()
        return ga, gb


class CholeskyInverse(Op):
    """(L L^T)^{-1} from a lower Cholesky factor L. The gradient treats L as a full matrix (as torch's
    cholesky_inverse): gL = -(A (g + g^T) A) L."""

    def forward(ctx, lower):
        eye = np.broadcast_to(np.eye(lower.shape[-1], dtype=lower.dtype), lower.shape)
        inv = np.linalg.solve(np.tril(lower), eye)
        out = np.swapaxes(inv, -1, -2) @ inv
        ctx.save_for_backward(lower, out)
        return out

    def backward(ctx, g):
        lower, out = ctx.saved_tensors
        common = _ops.matmul(out, _ops.matmul(g + _mT(g), out))
        return _ops.neg(_ops.matmul(common, lower))


def cholesky_inverse(lower) -> Tensor:
    return CholeskyInverse.apply(lower)


def solve_triangular(a, b, upper=False) -> Tensor:
    return SolveTriangular.apply(a, b, upper=bool(upper))


def diagonal(m) -> Tensor:
    """The diagonal of each matrix in ``m`` (last two dims) as the last dim."""
    n = m.shape[-1]
    return (m * _ops.eye(n, dtype=m.dtype)).sum(-1)
