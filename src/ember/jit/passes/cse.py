"""Common-subexpression elimination: an op applied twice to the same inputs with the same params is
computed once. In-place kernels and eager calls are barriers (they may change what inputs hold)."""
from ._util import is_random, mutated_values, params_key, substitute


def run(graph):
    mutated = mutated_values(graph)
    seen = {}
    mapping = {}
    kept = []
    for n in graph.nodes:
        if mapping:
            _remap(n, mapping)
        if n.kind in ("kernel", "call"):
            seen.clear()
            kept.append(n)
            continue
        if n.kind != "op" or is_random(n) or n.aux or "_has_backward_call" in n.params \
                or any(id(o) in mutated for o in n.outputs):
            kept.append(n)
            continue
        key = (n.op, tuple(id(v) for v in n.inputs), params_key(n.params))
        prev = seen.get(key)
        if prev is not None and any(id(o) in mutated for o in prev.outputs):
            prev = None
        if prev is None:
            seen[key] = n
            kept.append(n)
            continue
        for old, new in zip(n.outputs, prev.outputs):
            mapping[id(old)] = new
    graph.nodes = kept
    substitute(graph, mapping)
    return graph


def _remap(n, mapping):
    n.inputs = [mapping.get(id(v), v) for v in n.inputs]
