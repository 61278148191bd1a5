"""NumPy (float64) kernels for the Gamma family: the regularized lower incomplete gamma function P(a, x), its
derivative in a, and from them the implicit reparameterization gradient of a standard gamma draw.

P(a, x) = sum_{n>=0} w_n with w_0 = exp(a log x - x - lgamma(a + 1)) and w_n = w_{n-1} x / (a + n) (each term
is at most 1, so nothing overflows). Differentiating term by term, with psi(a+n+1) = psi(a+1) + sum 1/(a+k):
dP/da = log(x) P - sum_n w_n psi(a + n + 1). A draw x of Gamma(a, 1) solves P(a, x) = u for a uniform u, so
dx/da = -(dP/da) / p(x; a) with the density p(x; a) = exp((a - 1) log x - x - lgamma(a)).
"""
import numpy as np

from ..ops._special_kernels import digamma, lgamma

__all__ = ["gamma_density", "gammainc", "gammainc_grad_a", "standard_gamma_grad"]

_MAX_TERMS = 100000


def _series(a, x, with_grad):
    """(P, dP/da or None) for broadcast float64 arrays a > 0, x >= 0."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.ravel().copy(), x.ravel().copy()
    p = np.zeros_like(a)
    dp = np.zeros_like(a)
    with np.errstate(all="ignore"):
        log_x = np.log(x)
        live = np.flatnonzero(x > 0)
        w = np.exp(a[live] * log_x[live] - x[live] - lgamma(a[live] + 1.0))
        total = w.copy()
        psi = digamma(a[live] + 1.0) if with_grad else None
        acc = w * psi if with_grad else None
        n = 0
        while live.size and n < _MAX_TERMS:
            n += 1
            al, xl = a[live], x[live]
            w = w * xl / (al + n)
            total += w
            if with_grad:
                psi = psi + 1.0 / (al + n)
                acc += w * psi
            done = (n > xl - al) & (w <= 1e-17 * total)
            if done.any():
                idx = live[done]
                p[idx] = total[done]
                if with_grad:
                    dp[idx] = log_x[idx] * total[done] - acc[done]
                keep = ~done
                live, w, total = live[keep], w[keep], total[keep]
                if with_grad:
                    psi, acc = psi[keep], acc[keep]
        p = np.minimum(p, 1.0)
    return p.reshape(shape), (dp.reshape(shape) if with_grad else None)


def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a)."""
    return _series(a, x, False)[0]


def gammainc_grad_a(a, x):
    """dP(a, x) / da."""
    return _series(a, x, True)[1]


def gamma_density(a, x):
    """d P(a, x) / dx: the Gamma(a, 1) density at x (0 at x = 0 unless a <= 1)."""
    with np.errstate(all="ignore"):
        return np.exp((a - 1.0) * np.log(x) - x - lgamma(a))


def standard_gamma_grad(a, x):
    """d x / d a for a Gamma(a, 1) draw x, holding its uniform quantile P(a, x) fixed."""
    a = np.asarray(a, np.float64)
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = -gammainc_grad_a(a, x) / gamma_density(a, x)
    return np.where(np.isfinite(out), out, 0.0)
