"""NumPy kernels of the special functions ember computes itself (NumPy has i0 only): log-gamma, digamma,
polygamma and the modified Bessel function I1. Each takes and returns float64 arrays; the ops in
``special.py`` cast their inputs up and the results back to the input's dtype.

Methods (textbook ones): Lanczos' approximation (g = 7, 9 terms) for log-gamma; the recurrence
psi(x) = psi(x + 1) - 1/x up to x >= 10 and the asymptotic (Bernoulli) series for digamma and polygamma; the
reflection formulas below 0 (digamma, log-gamma) or 1/2 (polygamma); the power series and the large-argument
asymptotic expansion for I1.
"""
import math

import numpy as np

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Bernoulli numbers B2, B4, ..., B18
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798)


def _lgamma_lanczos(z):
    """log(Gamma(z)) for z >= 1/2."""
    zm = z - 1.0
    s = np.full_like(z, _LANCZOS[0])
    for k in range(1, len(_LANCZOS)):
        s += _LANCZOS[k] / (zm + k)
    t = zm + (_LANCZOS_G + 0.5)
    return _HALF_LOG_2PI + (zm + 0.5) * np.log(t) - t + np.log(s)


def _log_abs_sin_pi(x):
    """log|sin(pi x)| through the distance r to the nearest integer (exact zeros at the integers, no loss for large
    x); log(pi |r|) where pi r would be subnormal."""
    r = np.abs(x - np.round(x))
    return np.where(r < 1e-200, math.log(math.pi) + np.log(r), np.log(np.sin(np.pi * r)))


def lgamma(x):
    """log|Gamma(x)|: +inf at 0, at the negative integers and at +-inf."""
    with np.errstate(all="ignore"):
        refl = x < 0.5
        direct = _lgamma_lanczos(np.where(refl, 1.0 - x, x))
        # Gamma(x) Gamma(1 - x) = pi / sin(pi x)
        reflected = math.log(math.pi) - _log_abs_sin_pi(x) - direct
        out = np.where(refl, reflected, direct)
        return np.where(np.isinf(x), np.inf, out)


def _psi_positive(z):
    """digamma(z) for z > 0."""
    acc = np.zeros_like(z)
    z = z.copy()
    for _ in range(10):  # psi(z) = psi(z + 1) - 1/z, until z >= 10
        small = z < 10.0
        if not small.any():
            break
        acc -= np.where(small, 1.0 / z, 0.0)
        z += small
    zz = 1.0 / (z * z)
    series = np.zeros_like(z)
    for k in range(len(_BERNOULLI) - 1, -1, -1):  # sum of B_2k / (2k z^2k), by Horner's rule in 1/z^2
        series = (series + _BERNOULLI[k] / (2 * k + 2)) * zz
    return acc + np.log(z) - 0.5 / z - series


def digamma(x):
    """psi(x) = d/dx log Gamma(x): -inf at +0, +inf at -0, NaN at the negative integers and -inf (as torch)."""
    with np.errstate(all="ignore"):
        neg = x < 0
        frac = x - np.trunc(x)  # psi(1 - x) - psi(x) = pi cot(pi x); the fraction keeps tan(pi x) accurate
        direct = _psi_positive(np.where(neg, 1.0 - x, x))
        out = np.where(neg, direct - np.pi / np.tan(np.pi * frac), direct)
        out = np.where(neg & (frac == 0), np.nan, out)  # negative integers (and -inf, whose fraction is NaN)
        out = np.where(neg & np.isinf(x), np.nan, out)
        return np.where(x == 0, np.copysign(np.inf, -x), out)


def _polygamma_positive(n, z):
    """psi^(n)(z) for n >= 1 and z > 0: (-1)^(n+1) n! sum_k 1/(z + k)^(n+1), shifted then asymptotic."""
    threshold = 20.0 + n
    acc = np.zeros_like(z)
    z = z.copy()
    while True:
        small = z < threshold
        if not small.any():
            break
        acc += np.where(small, z ** -(n + 1), 0.0)
        z += small
    fact = math.factorial(n)
    # (n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! z^(2k+n))
    asym = math.factorial(n - 1) / z ** n + fact / (2.0 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        asym = asym + b * (math.factorial(2 * k + n - 1) / math.factorial(2 * k)) / z ** (2 * k + n)
    sign = 1.0 if n % 2 else -1.0
    return sign * (fact * acc + asym)


def _cot_derivative_poly(n):
    """Coefficients (ascending) of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x))."""
    p = np.array([0.0, 1.0])
    for _ in range(n):  # d/dx P(c) = P'(c) * dc/dx, dc/dx = -pi (1 + c^2)
        p = -np.polynomial.polynomial.polymul(np.polynomial.polynomial.polyder(p), [1.0, 0.0, 1.0])
    return p


def polygamma(n, x):
    """psi^(n)(x) for n >= 1. Poles (0 and the negative integers) give +inf for odd n, -inf for even n (torch)."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        refl = x < 0
        direct = _polygamma_positive(n, np.where(refl, 1.0 - x, x))
        out = direct
        if refl.any():
            # differentiating psi(1 - x) - psi(x) = pi cot(pi x) n times:
            # psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x))
            r = x - np.round(x)
            cot = 1.0 / np.tan(np.pi * r)
            poly = np.polynomial.polynomial.polyval(cot, _cot_derivative_poly(n))
            reflected = (-1.0) ** n * direct - np.pi ** (n + 1) * poly
            out = np.where(refl, reflected, direct)
        pole = (x <= 0) & (x == np.floor(x))
        if n == 1:  # (trigamma: 0 at +inf, NaN at -inf)
            return np.where(pole & (x != -np.inf), np.inf, out)
        # n >= 2 follows torch's Hurwitz zeta: -inf counts as a pole, +inf gives NaN
        out = np.where(pole, np.inf if n % 2 else -np.inf, out)
        return np.where(x == np.inf, np.nan, out)


def i1(x):
    """The modified Bessel function of the first kind of order 1 (odd in x)."""
    a = np.abs(x)
    with np.errstate(all="ignore"):
        small = a <= 30.0
        # power series: sum_k (a/2)^(2k+1) / (k! (k+1)!)
        h = np.where(small, a, 0.0) / 2.0
        term = h.copy()
        series = h.copy()
        q = h * h
        for k in range(1, 70):
            term = term * q / (k * (k + 1))
            series = series + term
        # large a: e^a / sqrt(2 pi a) * sum_k (-1)^k prod_{j<=k} (4 - (2j-1)^2) / (j 8 a)
        big = np.where(small, 31.0, a)
        coef = np.ones_like(big)
        asym = np.ones_like(big)
        for j in range(1, 25):
            coef = coef * -(4.0 - (2 * j - 1) ** 2) / (j * 8.0 * big)
            asym = asym + coef
        asym = np.exp(big) * asym / np.sqrt(2 * np.pi * big)
        out = np.where(small, series, asym)
    out = np.where(np.isinf(a), np.nan, out)  # (NaN at +-inf, as torch's I1)
    return np.where(np.isnan(x), np.nan, np.copysign(out, x))
