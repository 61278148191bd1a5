"""Collectives on tensors: each is one MPI call (mpi4py's buffer methods) on the tensors' NumPy buffers, in place.

Every process of the group must make the same calls in the same order, as with torch. ``async_op=True`` returns
a completed ``Work`` (MPI's calls here are blocking), so ``work.wait()`` code runs unchanged.
"""
import numpy as np

from .._tensor import Tensor
from .process_group import RedOpType, _default_group

__all__ = ["Work", "barrier", "broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "gather",
           "scatter"]


class Work:
    """The handle an ``async_op=True`` collective returns; the operation has already completed."""

    def wait(self, timeout=None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True

    def is_success(self) -> bool:
        return True

    def exception(self):
        return None


def _done(async_op):
    return Work() if async_op else None


def _check_tensor(tensor, param):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type torch.Tensor but got "
                        f"{type(tensor)} instead.")


def _buffer(tensor, param):
    """The tensor's array if MPI can write into it directly, else a contiguous copy (written back by _store)."""
    _check_tensor(tensor, param)
    arr = tensor._data
    if arr.dtype == np.float16:  # no MPI float16 type: reduce in float32
        return arr.astype(np.float32)
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.ascontiguousarray(arr)


def _store(tensor, buf):
    if buf is not tensor._data:
        tensor._data[...] = buf
    tensor._version[0] += 1


def _check_root(pg, root, what):
    if not 0 <= int(root) < pg.size():
        raise RuntimeError(f"{what}: invalid root rank: {root} (the group has {pg.size()} processes)")
    return int(root)


def _mpi_op(op, buf, what):
    """(MPI op, array to reduce): bool tensors reduce as uint8 (SUM/MAX = or, PRODUCT/MIN = and, as torch)."""
    from mpi4py import MPI

    op = RedOpType(op)
    kind = buf.dtype.kind
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in "biu":
        raise RuntimeError(f"{what}: ReduceOp.{op.name} needs an integer or bool tensor, got {buf.dtype}")
    if op == RedOpType.AVG and kind not in "fc":
        raise RuntimeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {buf.dtype}")
    if kind == "b":
        table = {RedOpType.SUM: MPI.MAX, RedOpType.MAX: MPI.MAX, RedOpType.BOR: MPI.MAX, RedOpType.PRODUCT: MPI.MIN,
                 RedOpType.MIN: MPI.MIN, RedOpType.BAND: MPI.MIN, RedOpType.BXOR: MPI.BXOR}
        return table[op], buf.view(np.uint8)
    table = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
             RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
    return table[op], buf


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every process of the group has reached this call."""
    _default_group(group).comm.Barrier()
    return _done(async_op)


def broadcast(tensor, src, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` from rank ``src`` into ``tensor`` on every other rank."""
    pg = _default_group(group)
    src = _check_root(pg, src if group_src is None else group_src, "broadcast")
    buf = _buffer(tensor, "tensor")
    pg.comm.Bcast(buf, root=src)
    _store(tensor, buf)
    return _done(async_op)


def all_reduce(tensor, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks with ``op`` (ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR) and
    leave the result in ``tensor`` on every rank."""
    from mpi4py import MPI

    pg = _default_group(group)
    buf = _buffer(tensor, "tensor")
    mpi_op, view = _mpi_op(op, buf, "all_reduce")
    pg.comm.Allreduce(MPI.IN_PLACE, view, op=mpi_op)
    if op == RedOpType.AVG:
        np.divide(buf, pg.size(), out=buf)
    _store(tensor, buf)
    return _done(async_op)


def reduce(tensor, dst, op=RedOpType.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over all ranks into ``tensor`` on rank ``dst`` (the others' tensors are left as given)."""
    from mpi4py import MPI

    pg = _default_group(group)
    dst = _check_root(pg, dst if group_dst is None else group_dst, "reduce")
    buf = _buffer(tensor, "tensor")
    mpi_op, view = _mpi_op(op, buf, "reduce")
    if pg.rank() == dst:
        pg.comm.Reduce(MPI.IN_PLACE, view, op=mpi_op, root=dst)
        if op == RedOpType.AVG:
            np.divide(buf, pg.size(), out=buf)
        _store(tensor, buf)
    else:
        pg.comm.Reduce(view, None, op=mpi_op, root=dst)
    return _done(async_op)


def _check_list(tensors, like, n, what, param):
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{what}: `{param}` must be a list of tensors, got {type(tensors).__name__}")
    if len(tensors) != n:
        raise RuntimeError(f"{what}: invalid {param} (expected length {n}, one tensor per rank, got {len(tensors)})")
    for i, t in enumerate(tensors):
        if t.dtype != like.dtype:
            raise ValueError(f"{what}: invalid usage of tensors with different dtypes: found {t.dtype} at index {i} "
                             f"and {like.dtype}")
        if tuple(t.shape) != tuple(like.shape):
            raise RuntimeError(f"{what}: invalid tensor size at index {i} (expected {tuple(like.shape)}, got "
                               f"{tuple(t.shape)})")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` on every rank."""
    pg = _default_group(group)
    _check_tensor(tensor, "tensor")
    _check_list(tensor_list, tensor, pg.size(), "all_gather", "tensor_list")
    buf = _buffer(tensor, "tensor")
    out = np.empty((pg.size(),) + buf.shape, dtype=buf.dtype)
    pg.comm.Allgather(buf, out)
    for t, part in zip(tensor_list, out):
        t._data[...] = part
        t._version[0] += 1
    return _done(async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` along dim 0 (or stack them) into ``output_tensor``."""
    pg = _default_group(group)
    _check_tensor(input_tensor, "input_tensor")
    _check_tensor(output_tensor, "output_tensor")
    if output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: invalid usage of tensors with different dtypes: found "
                         f"{output_tensor.dtype} and {input_tensor.dtype}")
    if output_tensor.numel() != pg.size() * input_tensor.numel():
        raise RuntimeError(f"all_gather_into_tensor: output tensor of shape {tuple(output_tensor.shape)} must hold "
                           f"world size ({pg.size()}) times the input's {input_tensor.numel()} elements "
                           f"(input shape {tuple(input_tensor.shape)})")
    buf = _buffer(input_tensor, "input_tensor")
    out = _buffer(output_tensor, "output_tensor")
    pg.comm.Allgather(buf, out.reshape(-1))
    _store(output_tensor, out)
    return _done(async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    """Collect every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    pg = _default_group(group)
    dst = _check_root(pg, dst if group_dst is None else group_dst, "gather")
    _check_tensor(tensor, "tensor")
    if pg.rank() == dst:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, tensor, pg.size(), "gather", "gather_list")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    buf = _buffer(tensor, "tensor")
    if pg.rank() == dst:
        out = np.empty((pg.size(),) + buf.shape, dtype=buf.dtype)
        pg.comm.Gather(buf, out, root=dst)
        for t, part in zip(gather_list, out):
            t._data[...] = part
            t._version[0] += 1
    else:
        pg.comm.Gather(buf, None, root=dst)
    return _done(async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    """Rank ``src`` sends ``scatter_list[r]`` to rank r, which receives it into ``tensor``."""
    pg = _default_group(group)
    src = _check_root(pg, src if group_src is None else group_src, "scatter")
    _check_tensor(tensor, "tensor")
    if pg.rank() == src:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, tensor, pg.size(), "scatter", "scatter_list")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    buf = _buffer(tensor, "tensor")
    send = None
    if pg.rank() == src:
        send = np.stack([t._data for t in scatter_list]).astype(buf.dtype, copy=False)
    pg.comm.Scatter(send, buf, root=src)
    _store(tensor, buf)
    return _done(async_op)
