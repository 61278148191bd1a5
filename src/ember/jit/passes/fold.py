"""Constant folding and algebraic simplification.

- an op whose inputs are all constants is evaluated once, at compile time;
- x * 1, x - 0, x / 1 (exact identities) with a constant that changes neither shape nor dtype become x;
- transpose of transpose composes into one permutation (or none); reshape of reshape into one reshape;
  a reshape or permutation that changes nothing disappears.
Nothing here reorders floating-point arithmetic, so results stay bitwise equal to eager mode.
A result is only replaced by an alias of its input when neither is written in place later.
"""
import numpy as np

from ..ir import Value
from ._util import escaping_values, is_random, mutated_values, substitute

# exact identities only: x * 1, x / 1 and x - 0 return x bit for bit (x + 0 turns -0.0 into +0.0: kept)
_IDENTITY = {"Mul": 1, "Div": 1, "Sub": 0}


def run(graph):
    mutated = mutated_values(graph)
    global _contained
    _contained = _contained_values(graph)
    producer = {}
    mapping = {}
    kept = []
    for n in graph.nodes:
        n.inputs = [mapping.get(id(v), v) for v in n.inputs]
        if n.kind != "op" or n.aux or "_has_backward_call" in n.params:
            if n.kind == "op":
                for o in n.outputs:
                    producer[id(o)] = n
            kept.append(n)
            continue
        out = n.outputs[0] if len(n.outputs) == 1 else None
        if out is not None and not is_random(n) and n.inputs and all(v.kind == "constant" for v in n.inputs) \
                and not any(isinstance(p, Value) for p in n.params.values()) and id(out) not in mutated \
                and not any(id(v) in mutated for v in n.inputs):
            arr = _evaluate(n)
            if arr is not None:
                c = graph.new_value(arr.shape, arr.dtype, "constant", ref=arr, prefix="c")
                graph.constants.append(c)
                mapping[id(out)] = c
                continue
        alias = _simplify(n, producer, mutated)
        if alias is not None:
            mapping[id(out)] = alias
            continue
        for o in n.outputs:
            producer[id(o)] = n
        kept.append(n)
    graph.nodes = kept
    substitute(graph, mapping)
    return graph


def _evaluate(n):
    ctx = object.__new__(n.op)
    ctx.next_edges = None
    ctx._saved = None
    try:
        out = n.op.forward(ctx, *[v.ref for v in n.inputs], **n.params)
    except Exception:  # leave it to run time, where the error (if any) surfaces as in eager mode
        return None
    if isinstance(out, tuple):
        return None
    return np.asarray(out)


def _simplify(n, producer, mutated):
    name = n.op.__name__
    if len(n.outputs) != 1:
        return None
    out = n.outputs[0]
    if id(out) in mutated:
        return None
    if name in _IDENTITY and len(n.inputs) == 2:
        x, c = n.inputs
        if _is_const(c, _IDENTITY[name]) and _aliasable(x, out, mutated):
            return x
        if name == "Mul" and _is_const(x, 1) and _aliasable(c, out, mutated):
            return c
        return None
    if name == "Permute":
        src = n.inputs[0]
        dims = n.params["dims"]
        p = producer.get(id(src))
        if p is not None and p.op.__name__ == "Permute" and id(src) not in mutated:
            inner = p.params["dims"]
            dims = tuple(inner[d] for d in dims)
            n.inputs = [p.inputs[0]]
            n.params = dict(n.params, dims=dims)
            src = n.inputs[0]
        if dims == tuple(range(len(dims))) and id(src) not in mutated:
            return src
        return None
    if name == "Reshape":
        src = n.inputs[0]
        p = producer.get(id(src))
        if p is not None and p.op.__name__ == "Reshape" and id(src) not in mutated:
            n.inputs = [p.inputs[0]]
            src = n.inputs[0]
        if src.shape == out.shape and id(src) not in mutated and src.kind != "input":
            return src
    return None


_contained = set()


def _contained_values(graph):
    """ids of values only ever read by ops that make fresh arrays (so they cannot leak out of the step)."""
    users = graph.users()
    escaping = escaping_values(graph)
    out = set()
    for n in graph.nodes:
        for v in n.outputs:
            us = users.get(id(v), [])
            if id(v) not in escaping and all(u.kind == "expr" or (u.kind == "op" and not getattr(u.op, "is_view", False))
                                              for u in us):
                out.add(id(v))
    return out


def _aliasable(x, out, mutated):
    """``out`` may become ``x`` itself: same type, nobody writes to either, and an input or state array only
    when the result stays inside the step (returned, it would share memory with the caller's tensor)."""
    if x.shape != out.shape or x.dtype != out.dtype or id(x) in mutated:
        return False
    return x.kind in ("node", "constant") or id(out) in _contained


def _is_const(v, value):
    return v.kind == "constant" and v.ref.size <= 1 and bool(np.all(v.ref == value))
