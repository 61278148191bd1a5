"""``assert_close``: torch.testing's comparison of tensors, Python scalars and nested sequences/mappings of them.

Inputs are paired up by walking sequences and mappings in parallel; each leaf pair is then compared by the first
rule that accepts it (None, bool, number, tensor-like). Tolerances default per dtype (torch's table); the
messages have torch's layout ("Tensor-likes are not close!", mismatch count, greatest differences and where).
"""
import cmath
import collections.abc
import warnings

import numpy as np

from .._dtype import get_default_dtype, promote_types
from .._tensor import Tensor, as_tensor

__all__ = ["assert_close", "assert_allclose"]

# dtype name -> (rtol, atol); dtypes not listed (integers, bool) compare exactly
_PRECISIONS = {"float16": (0.001, 1e-5), "bfloat16": (0.016, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex32": (0.001, 1e-5), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}
_NUMBER_DTYPE = {int: "int64", float: "float64", complex: "complex128"}


class _Failure(Exception):
    """A failed check: the exception type to raise, its message and the path of the item inside the inputs."""

    def __init__(self, kind, message, path=()):
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            text = self.message
            if self.path:
                text += f"\n\nThe failure occurred for item {''.join(str([k]) for k in self.path)}"
            msg = msg(text) if callable(msg) else text
        return self.kind(msg)


class _Unsupported(Exception):
    """This comparison rule does not apply to the inputs; try the next one."""


def _tolerances(dtype_names, rtol, atol, path, precisions=_PRECISIONS):
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                                   f"{'rtol' if rtol is None else 'atol'}.", path)
    if rtol is not None:
        return rtol, atol
    pairs = [precisions.get(n, (0.0, 0.0)) for n in dtype_names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind, diff, idx, tol, equality):
    line = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
    return line if equality else f"{line} (up to {tol} allowed)"


def _mismatch_message(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", "", extra,
             _diff_line("absolute", abs_diff, abs_idx, atol, equality),
             _diff_line("relative", rel_diff, rel_idx, rtol, equality)]
    return "\n".join(lines)


def _scalar_message(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_message("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff,
                             None, rtol)


# ---------------------------------------------------------------------------------------------- comparison rules
class _NonePair:
    def __init__(self, actual, expected, path, opts):
        if not (actual is None or expected is None):
            raise _Unsupported
        self.actual, self.expected, self.path = actual, expected, path

    def compare(self):
        if not (self.actual is None and self.expected is None):
            raise _Failure(AssertionError, f"None mismatch: {self.actual} is not {self.expected}", self.path)


class _BoolPair:
    def __init__(self, actual, expected, path, opts):
        if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
            raise _Unsupported
        self.actual, self.expected, self.path = bool(actual), bool(expected), path

    def compare(self):
        if self.actual is not self.expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}", self.path)


class _NumberPair:
    def __init__(self, actual, expected, path, opts):
        if not all(isinstance(x, (int, float, complex, np.number)) for x in (actual, expected)):
            raise _Unsupported
        actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        self.actual, self.expected, self.path = actual, expected, path
        names = [_NUMBER_DTYPE.get(type(x), "int64") for x in (actual, expected)]
        self.rtol, self.atol = _tolerances(names, opts["rtol"], opts["atol"], path)
        self.equal_nan, self.check_dtype = opts["equal_nan"], opts["check_dtype"]

    def compare(self):
        a, e = self.actual, self.expected
        if self.check_dtype and type(a) is not type(e):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.", self.path)
        if a == e:
            return
        if self.equal_nan and cmath.isnan(a) and cmath.isnan(e):
            return
        diff = abs(a - e)
        if cmath.isfinite(diff) and diff <= self.atol + self.rtol * abs(e):
            return
        raise _Failure(AssertionError, _scalar_message(a, e, self.rtol, self.atol), self.path)


class _TensorLikePair:
    def __init__(self, actual, expected, path, opts):
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            raise _Unsupported
        if not opts["allow_subclasses"] and type(actual) is not type(expected):
            raise _Unsupported
        actual, expected = self._as_tensor(actual), self._as_tensor(expected)
        self.actual, self.expected, self.path, self.opts = actual, expected, path, opts
        self.rtol, self.atol = _tolerances([actual.dtype.name, expected.dtype.name], opts["rtol"], opts["atol"], path)

    @staticmethod
    def _as_tensor(x):
        if isinstance(x, Tensor):
            return x
        try:
            return as_tensor(x)
        except Exception:
            raise _Unsupported from None

    def _fail_attribute(self, name, actual, expected):
        raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: {actual} != {expected}.",
                       self.path)

    def compare(self):
        a, e, opts = self.actual, self.expected, self.opts
        if a.shape != e.shape:
            self._fail_attribute("shape", a.shape, e.shape)
        if opts["check_stride"] and a.stride() != e.stride():
            self._fail_attribute("stride()", a.stride(), e.stride())
        if opts["check_device"] and a.device != e.device:
            self._fail_attribute("device", a.device, e.device)
        if opts["check_dtype"] and a.dtype != e.dtype:
            self._fail_attribute("dtype", a.dtype, e.dtype)
        an, en = a.detach().numpy(), e.detach().numpy()
        if a.dtype != e.dtype:
            common = promote_types(a.dtype, e.dtype).np
            an, en = an.astype(common), en.astype(common)
        self._compare_values(an, en)

    def _compare_values(self, a, e):
        rtol, atol = self.rtol, self.atol
        close = _isclose(a, e, rtol, atol, self.opts["equal_nan"])
        if close.all():
            return
        if a.ndim == 0:
            message = _scalar_message(a.item(), e.item(), rtol, atol)
        else:
            message = _tensor_message(a, e, close, rtol, atol)
        raise _Failure(AssertionError, message, self.path)


def _isclose(a, e, rtol, atol, equal_nan):
    """torch.isclose on NumPy arrays, in torch's dtypes (integers and bools measured in the default float)."""
    with np.errstate(all="ignore"):
        close = np.asarray(a == e)
        if equal_nan and a.dtype.kind in "fc":
            close = close | (np.isnan(a) & np.isnan(e))
        if rtol == 0 and atol == 0:
            return close
        if a.dtype.kind == "b":
            a, e = a.astype(get_default_dtype().np), e.astype(get_default_dtype().np)
        if a.dtype.kind in "iu":
            allowed = atol + np.abs(rtol * e.astype(get_default_dtype().np))
            error = np.abs(a - e).astype(allowed.dtype)
        else:
            allowed = atol + np.abs(rtol * e)
            error = np.abs(a - e)
        return close | (np.isfinite(error) & (error <= allowed))


def _tensor_message(a, e, close, rtol, atol):
    total = close.size
    mismatched = total - int(close.sum())
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    shape = close.shape
    a, e, close = a.reshape(-1), e.reshape(-1), close.reshape(-1)
    if a.dtype.kind not in "fc":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[close] = 0
        i_abs = int(np.argmax(abs_diff))
        if a.dtype.kind in "fc":
            rel_diff = abs_diff / np.abs(e)
        else:  # torch's true division of integer tensors gives the default float dtype
            f = get_default_dtype().np
            rel_diff = abs_diff.astype(f) / np.abs(e).astype(f)
        rel_diff[close] = 0
        i_rel = int(np.argmax(rel_diff))

    def where(i):
        return tuple(int(k) for k in np.unravel_index(i, shape))

    return _mismatch_message("Tensor-likes", extra, abs_diff[i_abs].item(), where(i_abs), atol,
                             rel_diff[i_rel].item(), where(i_rel), rtol)


_PAIR_TYPES = (_NonePair, _BoolPair, _NumberPair, _TensorLikePair)


def _originate(actual, expected, path, opts):
    """The comparison pairs of two (possibly nested) inputs; structural mismatches fail here."""
    is_seq = (isinstance(actual, collections.abc.Sequence) and not isinstance(actual, str)
              and isinstance(expected, collections.abc.Sequence) and not isinstance(expected, str))
    if is_seq:
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           path)
        pairs = []
        for i in range(len(actual)):
            pairs.extend(_originate(actual[i], expected[i], (*path, i), opts))
        return pairs
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        a_keys, e_keys = set(actual.keys()), set(expected.keys())
        if a_keys != e_keys:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(e_keys - a_keys)}\n"
                                           f"Additional keys in the actual mapping: {sorted(a_keys - e_keys)}", path)
        keys = a_keys
        try:
            keys = sorted(keys)
        except Exception:
            pass
        pairs = []
        for k in keys:
            pairs.extend(_originate(actual[k], expected[k], (*path, k), opts))
        return pairs
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, path, opts)]
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                              f"{type(expected)}.", path)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close: ``|actual - expected| <= atol + rtol *
    |expected|`` elementwise, with equal shapes (and device, dtype, stride as the ``check_*`` flags ask).
    Default tolerances by dtype: float16 (1e-3, 1e-5), float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7); others exact."""
    __tracebackhide__ = True
    opts = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                check_stride=check_stride)
    try:
        pairs = _originate(actual, expected, (), opts)
    except _Failure as failure:
        raise failure.to_error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None


_ALLCLOSE_PRECISIONS = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated (as in torch): use ``assert_close``."""
    from .._tensor import tensor

    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                  "instructions in https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances([actual.dtype.name, expected.dtype.name], None, None, (), _ALLCLOSE_PRECISIONS)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)
