"""Collectives on Python objects, sent as JSON bytes through mpi4py's buffer methods (never pickle).

Only JSON values travel: dicts with string keys, lists, strings, numbers, booleans and None; tuples arrive as
lists. An object JSON cannot encode raises TypeError on every rank (the ranks agree on the failure first, so
none is left waiting).
"""
import json

import numpy as np

from .process_group import _default_group

__all__ = ["broadcast_object_list", "all_gather_object"]


def _encode(obj):
    """(bytes as a uint8 array, None) or (None, the reason JSON refused)."""
    try:
        return np.frombuffer(json.dumps(obj, separators=(",", ":")).encode("utf-8"), dtype=np.uint8), None
    except (TypeError, ValueError) as e:
        return None, str(e)


def _decode(data):
    return json.loads(data.tobytes().decode("utf-8"))


def _refused(what, ranks, reason):
    where = f"rank {ranks[0]}" if len(ranks) == 1 else f"ranks {ranks}"
    detail = f" ({reason})" if reason else ""
    return TypeError(f"{what}: the object on {where} is not JSON-serialisable{detail}; ember.distributed sends "
                     "only JSON values (dict, list, str, int, float, bool, None) and never pickles")


def broadcast_object_list(object_list, src=0, group=None, device=None, group_src=None):
    """Replace the items of ``object_list`` on every rank with rank ``src``'s (the lists must have equal lengths)."""
    pg = _default_group(group)
    src = int(src if group_src is None else group_src)
    if not 0 <= src < pg.size():
        raise RuntimeError(f"broadcast_object_list: invalid root rank: {src} (the group has {pg.size()} processes)")
    comm = pg.comm
    reason = None
    size = np.zeros(1, dtype=np.int64)
    if pg.rank() == src:
        data, reason = _encode(list(object_list))
        size[0] = -1 if data is None else data.size
    comm.Bcast(size, root=src)
    if size[0] < 0:
        raise _refused("broadcast_object_list", [src], reason)
    if pg.rank() != src:
        data = np.empty(int(size[0]), dtype=np.uint8)
    comm.Bcast(data, root=src)
    if pg.rank() != src:
        received = _decode(data)
        if len(received) != len(object_list):
            raise RuntimeError(f"broadcast_object_list: rank {src} sent {len(received)} objects but this rank's list "
                               f"has {len(object_list)} (the lists must have the same length on every rank)")
        object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[r]`` with rank r's ``obj`` on every rank (``object_list`` has world-size items)."""
    from mpi4py import MPI

    pg = _default_group(group)
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} items; it needs one per rank "
                         f"({pg.size()})")
    data, reason = _encode(obj)
    sizes = np.empty(pg.size(), dtype=np.int64)
    pg.comm.Allgather(np.array([-1 if data is None else data.size], dtype=np.int64), sizes)
    refused = [r for r, n in enumerate(sizes.tolist()) if n < 0]
    if refused:
        raise _refused("all_gather_object", refused, reason)
    counts = sizes.tolist()
    displacements = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    pg.comm.Allgatherv(data, [out, counts, displacements, MPI.BYTE])
    for r in range(pg.size()):
        object_list[r] = _decode(out[displacements[r]:displacements[r] + counts[r]])
