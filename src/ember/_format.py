"""Tensor printing: ``repr(t)`` is the text torch prints for the same tensor, with ``torch`` spelled ``ember``.

The rules, as torch applies them:

* Tensors with more than ``threshold`` elements are summarised: each dimension longer than ``2 * edgeitems``
  shows its first and last ``edgeitems`` entries around ``...``.
* One element format is chosen for the whole tensor from the finite nonzero values (of the summary):
  integer-valued floats print as ``1.``; otherwise fixed point with ``precision`` decimals, or scientific
  notation when max/min > 1000, max > 1e8 or min < 1e-4 (``sci_mode`` overrides). Every element is
  right-aligned to the widest.
* Rows wrap at ``linewidth``; nested dimensions are separated by ``dim - 1`` blank lines and indented.
* Suffixes: ``dtype=`` when the dtype is not the default float, int64 or bool (empty tensors always show a
  non-default-float dtype, and ``size=`` unless 1-D), then ``grad_fn=<...>`` or ``requires_grad=True``.
"""
import contextlib
import math

import numpy as np

from ._dtype import bool_, from_numpy_dtype, get_default_dtype, int64
from ._tensor import Tensor

__all__ = ["format_tensor", "set_printoptions", "get_printoptions", "printoptions"]


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


_PROFILES = {  # precision, threshold, edgeitems, linewidth
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: a ``profile`` ('default', 'short', 'full') first, then the given options.

    ``sci_mode`` is always set (None means: choose per tensor), exactly as in torch.
    """
    if profile in _PROFILES:
        _Options.precision, _Options.threshold, _Options.edgeitems, _Options.linewidth = _PROFILES[profile]
    if precision is not None:
        _Options.precision = precision
    if threshold is not None:
        _Options.threshold = threshold
    if edgeitems is not None:
        _Options.edgeitems = edgeitems
    if linewidth is not None:
        _Options.linewidth = linewidth
    _Options.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current options, as keyword arguments for ``set_printoptions``."""
    return {k: getattr(_Options, k) for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _ElementFormat:
    """The one width and style used for every element of a tensor, chosen from (a summary of) its values."""

    __slots__ = ("floating", "int_mode", "sci_mode", "width")

    def __init__(self, arr: np.ndarray):
        self.floating = arr.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = arr.reshape(-1)
        if not self.floating:
            if flat.size:
                self.width = max(1, max(len(str(v)) for v in flat.tolist()))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        magnitudes = np.abs(vals).astype(np.float64)
        lo, hi = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        forced = _Options.sci_mode
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if forced is None else forced
        values = vals.tolist()
        p = _Options.precision
        if self.sci_mode:
            widest = max(len(f"{v:.{p}e}") for v in values)
        elif self.int_mode:
            widest = max(len(f"{v:.0f}") for v in values) + 1  # room for the trailing '.'
        else:
            widest = max(len(f"{v:.{p}f}") for v in values)
        self.width = max(self.width, widest)

    def format(self, v) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{_Options.precision}e}"
        elif self.int_mode:
            s = f"{v:.0f}"
            if not (math.isinf(v) or math.isnan(v)):
                s += "."
        else:
            s = f"{v:.{_Options.precision}f}"
        return s.rjust(self.width)


def _summary(arr: np.ndarray, edge: int) -> np.ndarray:
    """The elements a summarised print shows (the edges of every long dimension)."""
    if arr.ndim == 0:
        return arr
    if edge == 0:
        # torch's quirk, kept: a 1-D tensor keeps every value (x[-0:] is all of x); higher dims keep none
        return arr if arr.ndim == 1 else arr[(slice(0, 0),) * arr.ndim]
    index = [np.r_[0:edge, n - edge:n] if n > 2 * edge else np.arange(n) for n in arr.shape]
    return arr[np.ix_(*index)]


def _rows(arr: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormat) -> str:
    if arr.ndim == 0:
        return fmt.format(arr.item())
    edge = _Options.edgeitems
    n = arr.shape[0]
    if arr.ndim == 1:
        per_line = max(1, math.floor((_Options.linewidth - indent) / (fmt.width + 2)))
        if summarize and not edge:
            items = ["..."]
        elif summarize and n > 2 * edge:
            items = ([fmt.format(v) for v in arr[:edge].tolist()] + [" ..."]
                     + [fmt.format(v) for v in arr[n - edge:].tolist()])
        else:
            items = [fmt.format(v) for v in arr.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and n > 2 * edge:
        parts = ([_rows(arr[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
                 + [_rows(arr[i], indent + 1, summarize, fmt) for i in range(n - edge, n)])
    else:
        parts = [_rows(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(arr: np.ndarray, indent: int) -> str:
    summarize = arr.size > _Options.threshold
    fmt = _ElementFormat(_summary(arr, _Options.edgeitems) if summarize else arr)
    return _rows(arr, indent, summarize, fmt)


def _with_suffixes(text: str, suffixes, indent: int) -> str:
    """Append ``, suffix`` items, moving one to a new line when the current line would pass linewidth."""
    out = [text]
    line_len = len(text) - text.rfind("\n") + 1  # torch's count (one more than the line's length)
    for s in suffixes:
        if line_len + len(s) + 2 > _Options.linewidth:
            out.append(",\n" + " " * indent + s)
            line_len = indent + len(s)
        else:
            out.append(", " + s)
            line_len += len(s) + 2
    out.append(")")
    return "".join(out)


def format_tensor(t, prefix=None) -> str:
    """torch's ``repr(tensor)`` text for an ember Tensor.

    ``prefix`` defaults to ``tensor(`` for a plain Tensor and ``ClassName(`` for a subclass (torch's rule);
    subclasses printed like plain tensors (nn.Parameter) pass ``prefix="tensor("``.
    """
    if prefix is None:
        prefix = "tensor(" if type(t) is Tensor else type(t).__name__ + "("
    arr = t._data
    dt = from_numpy_dtype(arr.dtype)
    default = get_default_dtype()
    indent = len(prefix)
    suffixes = []
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        text = "[]"
    else:
        if not _Options.edgeitems:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt is not default and dt is not int64 and dt is not bool_:
            suffixes.append(f"dtype={dt!r}")
        text = _body(arr, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + text, suffixes, indent)
