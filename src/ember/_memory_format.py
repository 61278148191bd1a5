"""Memory formats (``torch.memory_format``): how a tensor's elements are laid out, never what they are.

``channels_last`` keeps the logical (N, C, H, W) shape and stores the elements in N, H, W, C order: a NumPy array
that is the (0, 3, 1, 2) transpose of a C-contiguous (N, H, W, C) array, so ``stride()`` reads as torch's. NumPy
ufuncs allocate their outputs in their inputs' order, so elementwise ops keep the format as torch's do; other ops
(convolutions, reductions, matmul) return C-contiguous results, where torch's may return channels_last ones:
values and shapes are the same either way, only ``stride()`` and ``is_contiguous(memory_format=...)`` differ.
"""
import numpy as np


class memory_format:
    """One of ``ember.contiguous_format``, ``channels_last``, ``channels_last_3d``, ``preserve_format``."""

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return "ember." + self._name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# format -> (rank, the axis order in memory)
_CHANNELS_LAST = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def _check(fmt, op):
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be ember.memory_format, not {type(fmt).__name__}")


def is_laid_out(array, fmt, op="is_contiguous"):
    """Whether ``array`` is contiguous in memory format ``fmt`` (dimensions of size 1 may have any stride)."""
    _check(fmt, op)
    if fmt is contiguous_format or fmt is preserve_format:  # (torch's answer for preserve_format)
        return bool(array.flags.c_contiguous)
    rank, order = _CHANNELS_LAST[fmt]
    return array.ndim == rank and bool(array.transpose(order).flags.c_contiguous)


def lay_out(array, fmt, op):
    """A copy of ``array`` in memory format ``fmt`` (``preserve_format``: the order of ``array``'s own strides,
    as NumPy's order="K")."""
    _check(fmt, op)
    if fmt is preserve_format:
        return np.array(array, copy=True, order="K")
    if fmt is contiguous_format:
        return np.array(array, copy=True, order="C")
    rank, order = _CHANNELS_LAST[fmt]
    if array.ndim != rank:
        raise RuntimeError(f"{op}(): required rank {rank} tensor to use {fmt._name} format, but got a tensor of "
                           f"rank {array.ndim} (shape {tuple(array.shape)})")
    return np.ascontiguousarray(array.transpose(order)).transpose(np.argsort(order))
