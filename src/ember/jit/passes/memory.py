"""Memory plan: results that never leave the compiled step are computed into preallocated buffers
(``out=``), and buffers are shared between values whose lifetimes do not overlap (liveness).

A value gets a buffer only when its producer is a matmul/ufunc op or a fused chain, no reader is a view
op (so nothing can keep a view of the buffer: every other op returns a fresh array), and it is not
returned, stored as a .grad, written in place, or read by an eager call. Buffers persist across calls, so a compiled step allocates nothing for them.
"""
import numpy as np

from ._util import escaping_values, mutated_values
from .fuse import HEADS


def run(graph):
    escaping = escaping_values(graph)
    mutated = mutated_values(graph)
    users = graph.users()
    last_use = {}
    for i, n in enumerate(graph.nodes):
        for v in n.inputs:
            last_use[id(v)] = i
    eligible = set()
    for n in graph.nodes:
        if not _produces_into_out(n):
            continue
        v = n.outputs[0]
        if id(v) in escaping or id(v) in mutated or v.shape == ():
            continue
        if all(_safe_reader(u) for u in users.get(id(v), [])):
            eligible.add(id(v))
    free = {}  # (shape, dtype) -> [buffer]
    releases = {}  # node index -> buffers to free after it
    n_buffers = 0
    for i, n in enumerate(graph.nodes):
        if n.outputs and id(n.outputs[0]) in eligible:
            v = n.outputs[0]
            key = (v.shape, v.dtype.str)
            pool = free.get(key)
            if pool:
                buf = pool.pop()
            else:
                buf = np.empty(v.shape, dtype=v.dtype)
                n_buffers += 1
            n.params = dict(n.params, _out=buf)
            end = last_use.get(id(v), i)
            releases.setdefault(max(end, i), []).append((key, buf))
        for key, buf in releases.pop(i, ()):
            free.setdefault(key, []).append(buf)
    graph.n_buffers = n_buffers
    return graph


def _produces_into_out(n):
    if len(n.outputs) != 1:
        return False
    if n.kind == "expr":
        return True
    return n.kind == "op" and n.op.__name__ in HEADS and "_has_backward_call" not in n.params


def _safe_reader(u):
    # an op that leaves arrays on its ctx (aux) might keep a view of its input there
    return u.kind == "expr" or (u.kind == "op" and not getattr(u.op, "is_view", False) and not u.aux)
