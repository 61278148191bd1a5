"""Helpers shared by the passes: value substitution and mutation/alias facts."""
import numpy as np

from ..ir import Value, param_values


def substitute(graph, mapping):
    """Replace Values by id according to ``mapping`` everywhere they are read."""
    if not mapping:
        return

    def sub(v):
        while isinstance(v, Value) and id(v) in mapping:
            v = mapping[id(v)]
        return v

    def sub_param(p):
        if isinstance(p, Value):
            return sub(p)
        if isinstance(p, tuple):
            return tuple(sub_param(x) for x in p)
        if isinstance(p, list):
            return [sub_param(x) for x in p]
        if isinstance(p, slice):
            return slice(sub_param(p.start), sub_param(p.stop), sub_param(p.step))
        return p

    for n in graph.nodes:
        n.inputs = [sub(v) for v in n.inputs]
        if param_values(n.params):
            n.params = {k: sub_param(v) for k, v in n.params.items()}
    graph.outputs = _sub_tree(graph.outputs, sub)


def _sub_tree(o, sub):
    if isinstance(o, Value):
        return sub(o)
    if isinstance(o, tuple):
        return tuple(_sub_tree(x, sub) for x in o)
    if isinstance(o, list):
        return [_sub_tree(x, sub) for x in o]
    if isinstance(o, dict):
        return {k: _sub_tree(x, sub) for k, x in o.items()}
    return o


def mutated_values(graph):
    """ids of Values written in place by a kernel, plus every Value that may share their memory."""
    view_of = {}
    for n in graph.nodes:
        if n.kind == "op" and getattr(n.op, "is_view", False) and n.inputs:
            for o in n.outputs:
                view_of[id(o)] = n.inputs[0]
    out = set()
    for n in graph.nodes:
        if n.kind == "kernel" and n.inputs:
            v = n.inputs[0]
            while v is not None:
                out.add(id(v))
                v = view_of.get(id(v))
    # a view of a mutated base changes too
    changed = True
    while changed:
        changed = False
        for vid, base in view_of.items():
            if id(base) in out and vid not in out:
                out.add(vid)
                changed = True
    return out


def escaping_values(graph):
    """ids of Values that leave the step or reach Python objects: returned, or read by a node that is not an op
    or a fused chain (a ``.grad`` assignment, an in-place kernel, an eager call, a NumPy backward)."""
    escaping = {id(v) for v in graph.output_values()}
    for n in graph.nodes:
        if n.kind not in ("op", "expr"):
            escaping.update(id(v) for v in n.inputs)
    return escaping


def is_random(node):
    return node.kind == "op" and getattr(node.op, "random", False)


def params_key(p):
    """A hashable identity for node params (arrays by identity, Values by identity)."""
    if isinstance(p, dict):
        return tuple(sorted((k, params_key(v)) for k, v in p.items()))
    if isinstance(p, (tuple, list)):
        return (type(p).__name__,) + tuple(params_key(x) for x in p)
    if isinstance(p, slice):
        return ("slice", params_key(p.start), params_key(p.stop), params_key(p.step))
    if isinstance(p, (Value, np.ndarray)):
        return ("id", id(p))
    try:
        hash(p)
        return p
    except TypeError:
        return ("id", id(p))
