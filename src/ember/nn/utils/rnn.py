"""Variable-length sequences for recurrent layers (torch.nn.utils.rnn): PackedSequence, packing and padding.

A PackedSequence stores the time steps of a batch one after another, longest sequences first: the rows of
step ``t`` are ``data[sum(batch_sizes[:t]):][:batch_sizes[t]]``. Packing and unpacking are one row gather or
scatter each (``ember.ops.recurrent``), so they are differentiable.
"""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ... import ops
from ..._tensor import Tensor, _make, _notify_value_read
from ...ops.recurrent import gather_rows, scatter_rows

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """(data, batch_sizes, sorted_indices, unsorted_indices). Make them with ``pack_padded_sequence`` or
    ``pack_sequence`` rather than by hand."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self

    def cuda(self, *args, **kwargs):
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def pin_memory(self):
        return self

    def double(self):
        return self.to(dtype=_dtype("float64"))

    def float(self):
        return self.to(dtype=_dtype("float32"))

    def half(self):
        return self.to(dtype=_dtype("float16"))

    def long(self):
        return self.to(dtype=_dtype("int64"))

    def int(self):
        return self.to(dtype=_dtype("int32"))

    def short(self):
        return self.to(dtype=_dtype("int16"))

    def char(self):
        return self.to(dtype=_dtype("int8"))

    def byte(self):
        return self.to(dtype=_dtype("uint8"))

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _dtype(name):
    from ... import _dtype as dt

    return dt.as_dtype(name)


def _int64(values):
    return _make(np.asarray(values, dtype=np.int64))


def invert_permutation(permutation):
    """The permutation ``inv`` with ``inv[permutation[i]] = i`` (None stays None)."""
    if permutation is None:
        return None
    perm = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation, dtype=np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=np.int64)
    return _make(inv)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        if lengths._data.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths._data.ndim}D "
                               "cpu tensor")
        _notify_value_read(lengths, "pack_padded_sequence")  # the packing's layout depends on the lengths
        return lengths._data.astype(np.int64)
    arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {arr.ndim}D cpu tensor")
    return arr.astype(np.int64)


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = how many of the (decreasing) lengths exceed t."""
    steps = np.arange(int(sorted_lengths[0]) if sorted_lengths.size else 0)
    return (sorted_lengths[None, :] > steps[:, None]).sum(1).astype(np.int64)


def _packed_rows(batch_sizes, sorted_indices, n_batch, n_steps, batch_first):
    """For each packed row, its row in the flattened padded (T, B) or (B, T) tensor."""
    t_idx = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    starts = np.concatenate(([0], np.cumsum(batch_sizes)[:-1])) if batch_sizes.size else np.zeros(0, np.int64)
    j_idx = np.arange(t_idx.size) - np.repeat(starts, batch_sizes)
    b_idx = j_idx if sorted_indices is None else sorted_indices[j_idx]
    return b_idx * n_steps + t_idx if batch_first else t_idx * n_batch + b_idx


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of the given lengths.

    With ``enforce_sorted=False`` the batch is sorted by decreasing length with a stable sort. torch sorts
    more than 16 lengths with an unstable one, so sequences of equal length may then be packed in another
    order than torch's (``sorted_indices`` differs); unpacked results are the same.
    """
    lengths = _lengths_array(lengths)
    n_batch = input.shape[0] if batch_first else input.shape[1]
    n_steps = input.shape[1] if batch_first else input.shape[0]
    if lengths.size != n_batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                           f"(batch_size={n_batch})")
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        order = None
        sorted_lengths = lengths
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_lengths = lengths[order]
    if sorted_lengths.size and sorted_lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if sorted_lengths.size and sorted_lengths[0] > n_steps:
        raise RuntimeError(f"pack_padded_sequence: a length of {int(sorted_lengths[0])} exceeds the padded sequence "
                           f"length {n_steps}")
    batch_sizes = _batch_sizes(sorted_lengths)
    rows = _packed_rows(batch_sizes, order, n_batch, n_steps, batch_first)
    flat = ops.reshape(input, (n_batch * n_steps,) + tuple(input.shape[2:]))
    data = gather_rows(flat, rows)
    sorted_indices = None if order is None else _int64(order)
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: (padded tensor, lengths) in the original batch order."""
    batch_sizes = sequence.batch_sizes._data.astype(np.int64)
    n_steps = batch_sizes.size
    if total_length is not None:
        if total_length < n_steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {n_steps}")
        n_steps = int(total_length)
    n_batch = int(batch_sizes[0]) if batch_sizes.size else 0
    order = None if sequence.sorted_indices is None else sequence.sorted_indices._data.astype(np.int64)
    rows = _packed_rows(batch_sizes, order, n_batch, n_steps, batch_first)
    data = sequence.data
    rest = tuple(data.shape[1:])
    padded = scatter_rows(data, rows, n_batch * n_steps, padding_value)
    padded = ops.reshape(padded, ((n_batch, n_steps) if batch_first else (n_steps, n_batch)) + rest)
    sorted_lengths = (batch_sizes[None, :] > np.arange(n_batch)[:, None]).sum(1).astype(np.int64)
    lengths = sorted_lengths.copy()
    if order is not None:
        lengths[order] = sorted_lengths
    return padded, _int64(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padding with ``padding_value``."""
    if isinstance(sequences, Tensor):
        sequences = ops.unbind(sequences, 0)
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    rest = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if tuple(s.shape[1:]) != rest:
            raise RuntimeError(f"pad_sequence: sequence {i} has trailing shape {tuple(s.shape[1:])} but sequence 0 "
                               f"has {rest}; all sequences must agree after their first dimension")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    n_batch, n_steps = len(sequences), int(lengths.max())
    seq_idx = np.repeat(np.arange(n_batch), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    pos = np.arange(seq_idx.size) - np.repeat(starts, lengths)
    if padding_side == "left":
        pos = pos + np.repeat(n_steps - lengths, lengths)
    rows = seq_idx * n_steps + pos if batch_first else pos * n_batch + seq_idx
    data = ops.cat(list(sequences), 0)
    padded = scatter_rows(data, rows, n_batch * n_steps, padding_value)
    return ops.reshape(padded, ((n_batch, n_steps) if batch_first else (n_steps, n_batch)) + rest)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of sequences of the given lengths."""
    lengths = _lengths_array(lengths)
    out = []
    for i, n in enumerate(lengths.tolist()):
        out.append(padded_sequences[i, :n] if batch_first else padded_sequences[:n, i])
    return out


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences held by a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
