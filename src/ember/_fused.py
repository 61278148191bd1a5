"""Fused elementwise kernels, compiled with numba when it is installed: the optimizers' updates (Adam/AdamW,
SGD), the LSTM's per-step gate maths, max pooling with its backward scatter, and relu's backward.

NumPy runs an Adam update as 13 passes over memory (one per ufunc: ``m += (g - m) * w`` alone is three); a
fused loop makes one, about 4x faster on 200k float32 elements (150 µs against 600). Each kernel performs, per
element, exactly the float operations of the NumPy path it replaces, in the same order and dtype (no
fast-math: IEEE ``sqrt`` and division, no contraction into FMA; scalars are passed in the arrays' dtype), so
results are bitwise equal to it (tests/optim/test_optim_fused.py, tests/nn/test_rnn.py,
tests/test_functional_pool.py, tests/test_ops_elementwise.py compare the two paths). Transcendentals stay NumPy
calls: numba's ``tanh`` is not bitwise NumPy's (whose float32 tanh is its own SIMD code). ``error_model="numpy"``
drops numba's per-division zero checks, which would stop the loops from vectorising; division by zero then
gives inf/NaN as NumPy does. No kernel calls another (a kernel defined in ``_build`` calling one would defeat
numba's disk cache).

Optional: ``pip install ember[fast]`` (numba). Without numba, or with ``EMBER_NO_NUMBA=1``, ``kernels()``
returns None and every caller runs its NumPy path. Kernels are compiled on first use and cached on disk by
numba; importing numba and loading cached kernels costs 0.2-0.4 s and ~70 MB of memory at the first use (see
``_lean_cache_class``; ~130 MB when a kernel has to be compiled).
"""
import os

import numpy as np

_kernels = None
_tried = False


def enabled() -> bool:
    """Whether fused kernels are available (numba importable and not disabled by ``EMBER_NO_NUMBA``)."""
    return kernels() is not None


def kernels():
    """The namespace of compiled kernels (see ``_build``'s return line), or None without numba."""
    global _kernels, _tried
    if not _tried:
        _tried = True
        if not os.environ.get("EMBER_NO_NUMBA"):
            try:
                import numba  # noqa: F401
            except ImportError:
                pass
            else:
                _kernels = _build()
    return _kernels


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Below this many elements a one-pass kernel loses to a short NumPy sequence: numba's call costs ~1-3 µs
# (relu's backward on 40 elements: 3.2 µs fused, 2.1 µs NumPy; on 32k: 7.7 against 16.3).
MIN_SIZE = 1024


def fusable(*arrays) -> bool:
    """Whether the kernels can take these arrays (None entries ignored): float32 or float64, one dtype, each
    C-contiguous with the first one's size."""
    first = arrays[0]
    dt = first.dtype
    if dt not in _FLOAT_DTYPES:
        return False
    n = first.size
    for a in arrays:
        if a is not None and (a.dtype is not dt or a.size != n or not a.flags.c_contiguous):
            return False
    return True


# Flag bits and scalar slots of the optimizer kernels. Scalars travel in one array of the parameters' dtype and
# flags in one int: numba's dispatch costs ~0.3 µs per argument (15 arguments: 4.7 µs; 6: 0.9 µs), which is
# most of the time on small parameter groups.
ADAM_MAXIMIZE, ADAM_DECAY, ADAM_DECOUPLED, ADAM_LERP_NEAR = 1, 2, 4, 8
SGD_MAXIMIZE, SGD_DECAY, SGD_MOMENTUM, SGD_DAMPEN, SGD_NESTEROV = 1, 2, 4, 8, 16


def set_enabled(flag: bool) -> None:
    """Turn the fused kernels off (NumPy path) or back on, e.g. to compare the two."""
    global _kernels, _tried
    if flag:
        _tried = False
        _kernels = None
        kernels()
    else:
        _tried, _kernels = True, None


_nrt_symbols_added = False


def _lean_cache_class():
    """numba's FunctionCache minus the context refresh it runs before each disk load, or None when numba's
    internals are not the expected ones (plain ``cache=True`` then).

    That refresh imports every lowering registry of numba (~20 MB of Python objects, and scipy.linalg's BLAS)
    and compiles numba's runtime (NRT) module with LLVM (~27 MB more of libllvmlite.so paged in): benchmark
    W2's peak RSS went from 164 to 118 MB without it, its first step from ~0.6 to ~0.3 s. A cached kernel
    needs neither: its object code is already linked and calls only the runtime's C helpers, registered here
    as the refresh would. On a miss numba's compiler refreshes the context itself: compiling is unchanged."""
    try:
        from llvmlite import binding as ll
        from numba.core.caching import FunctionCache
        from numba.core.runtime import _nrt_python
        helpers = dict(_nrt_python.c_helpers)
        FunctionCache._load_overload, FunctionCache._guard_against_spurious_io_errors  # noqa: B018
    except (ImportError, AttributeError):
        return None

    class LeanCache(FunctionCache):
        def load_overload(self, sig, target_context):
            global _nrt_symbols_added
            if not _nrt_symbols_added:  # as numba.core.runtime.nrt.Runtime.initialize names them
                for name, address in helpers.items():
                    ll.add_symbol(name if name.startswith("_") else "NRT_" + name, address)
                _nrt_symbols_added = True
            try:
                with self._guard_against_spurious_io_errors():
                    return self._load_overload(sig, target_context)
            except Exception:  # noqa: BLE001 - whatever failed, numba's own way: refresh, then load
                return super().load_overload(sig, target_context)

    return LeanCache


def _build():
    import types

    import numba

    lean_cache = _lean_cache_class()

    def jit(fn):
        kernel = numba.njit(fn, nogil=True, cache=True, error_model="numpy")
        if lean_cache is not None:
            kernel._cache = lean_cache(fn)
        return kernel

    @jit
    def adam(p, g, m, v, scalars, flags):
        """One Adam/AdamW update of flat arrays, as Adam._apply does it (amsgrad excluded). ``scalars`` (the
        arrays' dtype): wd, lerp_w, b2, 1 - b2, bias_correction2 ** 0.5, eps, -step_size; ``flags``: ADAM_*.

        Maximize negates g; weight decay is decoupled (p *= wd, ``wd`` holding 1 - lr * weight_decay) or L2
        (g = p * wd + g); with ADAM_LERP_NEAR (|w| < 0.5) m += (g - m) * w, else m = g - (g - m) * (1 - w), with
        ``lerp_w`` holding 1 - w."""
        wd, lerp_w, b2, one_minus_b2, bc2_sqrt, eps, neg_step = (scalars[0], scalars[1], scalars[2], scalars[3],
                                                                  scalars[4], scalars[5], scalars[6])
        neg = (flags & 1) != 0
        decay = (flags & 2) != 0
        decoupled = (flags & 4) != 0
        lerp_near = (flags & 8) != 0
        for i in range(p.size):
            gi = g[i]
            if neg:
                gi = -gi
            pi = p[i]
            if decay:
                if decoupled:
                    pi = pi * wd
                else:
                    gi = pi * wd + gi
            mi = m[i]
            d = gi - mi
            if lerp_near:
                mi = mi + d * lerp_w
            else:
                mi = gi - d * lerp_w
            m[i] = mi
            vi = v[i] * b2
            vi = vi + (gi * one_minus_b2) * gi
            v[i] = vi
            den = np.sqrt(vi) / bc2_sqrt + eps
            p[i] = pi + (mi * neg_step) / den

    @jit
    def sgd(p, g, buf, scalars, flags):
        """One SGD update of flat arrays with an existing momentum buffer ``buf`` (a dummy without SGD_MOMENTUM),
        as SGD._apply does it. ``scalars`` (the arrays' dtype): wd, momentum, 1 - dampening, -lr; ``flags``:
        SGD_*."""
        wd, momentum, damp_mul, neg_lr = scalars[0], scalars[1], scalars[2], scalars[3]
        neg = (flags & 1) != 0
        decay = (flags & 2) != 0
        use_momentum = (flags & 4) != 0
        dampen = (flags & 8) != 0
        nesterov = (flags & 16) != 0
        for i in range(p.size):
            gi = g[i]
            if neg:
                gi = -gi
            pi = p[i]
            if decay:
                gi = pi * wd + gi
            if use_momentum:
                bi = buf[i] * momentum
                if dampen:
                    bi = bi + gi * damp_mul
                else:
                    bi = bi + gi
                buf[i] = bi
                if nesterov:
                    gi = gi + bi * momentum
                else:
                    gi = bi
            p[i] = pi + gi * neg_lr

    @jit
    def lstm_step_fwd(g, p, half, c):
        """An LSTM forward step after the gate GEMMs and the tanh call, as LSTMLayer.forward does it: ``g``
        holds planes of ``p`` elements o, i, f, g, c_prev, the first three as tanh(z / 2), turned in place
        into sigmoids t * half + half (``half`` = 0.5 in the dtype); writes c = i g + f c_prev into ``c``."""
        p2, p3, p4 = 2 * p, 3 * p, 4 * p
        for j in range(p):
            o = g[j] * half + half
            i = g[p + j] * half + half
            f = g[p2 + j] * half + half
            g[j] = o
            g[p + j] = i
            g[p2 + j] = f
            c[j] = i * g[p3 + j] + f * g[p4 + j]

    @jit
    def lstm_step_bwd(dh, sum4, dout, use_dout, gb, tc, dc, blk, p, one):
        """An LSTM backward step before the GEMMs, as LSTMLayer.backward does it: from the state gradients
        ``dh`` (+ ``dout`` when ``use_dout``) and ``dc``, the saved gates ``gb`` (planes o, i, f, g, c_prev)
        and ``tc`` = tanh(c), writes the gate gradients (do, di, df, dg) into ``blk`` and dc_prev into
        ``dc`` (in place). With ``sum4``, ``dh`` holds four planes (the per-gate GEMMs' outputs) that add up to
        the state gradient, added here in np.add.reduce's order. ``one`` is 1 in the dtype."""
        p2, p3, p4 = 2 * p, 3 * p, 4 * p
        for j in range(p):
            if sum4:
                d = ((dh[j] + dh[p + j]) + dh[p2 + j]) + dh[p3 + j]
            else:
                d = dh[j]
            if use_dout:
                d = d + dout[j]
            o = gb[j]
            i = gb[p + j]
            f = gb[p2 + j]
            gg = gb[p3 + j]
            t = tc[j]
            w = d * o
            wt = w * t
            dcj = (w - wt * t) + dc[j]
            blk[j] = wt * (one - o)
            a = dcj * i
            bf = dcj * f
            ag = a * gg
            blk[p + j] = ag * (one - i)
            blk[p2 + j] = (bf * gb[p4 + j]) * (one - f)
            blk[p3 + j] = a - ag * gg
            dc[j] = bf

    # ---- max pooling and relu's backward (ember.ops.pool, ember.ops.activation) ------------------------------
    @jit
    def count_nan(x):
        """How many NaN the flat array ``x`` holds."""
        n = 0
        for t in range(x.size):
            n += x[t] != x[t]
        return n

    @jit
    def max_pool2d_inner_2x2(x, planes, h, w, sh, sw, ph, pw, dh, dw, out, idx, oh, ow, ilo, ihi, jlo, jhi):
        """max_pool2d_inner for 2x2 windows, unrolled (a separate function: sharing one with the general loop
        made both slower)."""
        o1, o2, o3 = dw, dh * w, dh * w + dw
        for p in range(planes):
            base = p * h * w
            for i in range(ilo, ihi):
                t = (p * oh + i) * ow
                r = (i * sh - ph) * w - pw
                for j in range(jlo, jhi):
                    pos = r + j * sw
                    q = base + pos
                    mv = x[q]
                    mi = 0
                    v = x[q + o1]
                    mi = o1 if v > mv else mi
                    mv = v if v >= mv else mv
                    v = x[q + o2]
                    mi = o2 if v > mv else mi
                    mv = v if v >= mv else mv
                    v = x[q + o3]
                    mi = o3 if v > mv else mi
                    mv = v if v >= mv else mv
                    out[t + j] = mv
                    idx[t + j] = pos + mi

    @jit
    def max_pool2d_inner(x, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, fill, out, idx, oh, ow, ilo, ihi, jlo,
                         jhi):
        """Max pooling of the windows (rows [ilo, ihi), columns [jlo, jhi)) that lie inside the input, for an
        ``x`` without NaN (branch-free): see max_pool2d_rest."""
        offs = np.empty(kh * kw, np.int64)
        for a in range(kh):
            for b in range(kw):
                offs[a * kw + b] = a * dh * w + b * dw
        for p in range(planes):
            base = p * h * w
            for i in range(ilo, ihi):
                t = (p * oh + i) * ow
                r = (i * sh - ph) * w - pw
                for j in range(jlo, jhi):
                    pos = r + j * sw
                    q = base + pos
                    mv = fill
                    mi = 0
                    for k in range(offs.size):
                        v = x[q + offs[k]]
                        mi = offs[k] if v > mv else mi
                        mv = v if v >= mv else mv
                    out[t + j] = mv
                    idx[t + j] = pos + mi

    @jit
    def max_pool2d_rest(x, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, fill, out, idx, oh, ow, ilo, ihi, jlo,
                        jhi, has_nan):
        """Max pooling of the flat (planes, h, w) ``x`` into the flat (planes, oh, ow) ``out`` and ``idx``,
        read straight from ``x``, for the windows outside rows [ilo, ihi) x columns [jlo, jhi) (done by
        max_pool2d_inner), bitwise as ember.ops.pool._max_windows: the index is the first maximum in row-major
        window order, or the last NaN; the value is the last of the tied maxima (as np.maximum's tournament:
        it differs only for -0.0 against 0.0) or that NaN, except that when any output is NaN (its np.where
        pass) every value is the one at the index."""
        for p in range(planes):
            base = p * h * w
            for i in range(oh):
                y0 = i * sh - ph
                inner_row = i >= ilo and i < ihi
                for j in range(ow):
                    if inner_row and j >= jlo and j < jhi:
                        continue
                    x0 = j * sw - pw
                    mv = fill
                    # the window's first element inside the input: torch's index when every input element
                    # equals the padding value
                    yf = y0 if y0 >= 0 else y0 + dh * ((-y0 + dh - 1) // dh)
                    xf = x0 if x0 >= 0 else x0 + dw * ((-x0 + dw - 1) // dw)
                    mi = yf * w + xf
                    for a in range(kh):  # padding would read -inf, which never changes the result: skipped
                        yy = y0 + a * dh
                        if yy < 0 or yy >= h:
                            continue
                        for b in range(kw):
                            xx = x0 + b * dw
                            if xx < 0 or xx >= w:
                                continue
                            v = x[base + yy * w + xx]
                            if v > mv or v != v:
                                mi = yy * w + xx
                                mv = v
                            elif v == mv:
                                mv = v
                    t = (p * oh + i) * ow + j
                    out[t] = mv
                    idx[t] = mi
        if has_nan:
            any_nan = False
            for t in range(out.size):
                any_nan = any_nan or out[t] != out[t]
            if any_nan:
                per = oh * ow
                for t in range(out.size):
                    if out[t] == 0:
                        out[t] = x[(t // per) * h * w + idx[t]]

    @jit
    def plane_scatter(g, idx, planes, plane, out):
        """out[p * plane + idx[p, t]] = g[p, t] over flat arrays (``planes`` rows); False, leaving ``out``
        half-written, at an index outside its plane (the NumPy path then decides)."""
        per = g.size // max(planes, 1)
        for p in range(planes):
            base = p * plane
            for t in range(p * per, (p + 1) * per):
                k = idx[t]
                if k < 0 or k >= plane:
                    return False
                out[base + k] = g[t]
        return True

    @jit
    def relu_grad(g, y, one, zero, out):
        """out = g * (y != 0) over flat arrays, the mask as ``one``/``zero`` of g's dtype."""
        for i in range(g.size):
            out[i] = g[i] * (one if y[i] != 0 else zero)

    return types.SimpleNamespace(adam=adam, sgd=sgd, lstm_step_fwd=lstm_step_fwd, lstm_step_bwd=lstm_step_bwd,
                                 count_nan=count_nan,
                                 max_pool2d_inner_2x2=max_pool2d_inner_2x2, max_pool2d_inner=max_pool2d_inner,
                                 max_pool2d_rest=max_pool2d_rest, plane_scatter=plane_scatter, relu_grad=relu_grad)
