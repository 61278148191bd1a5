"""Dead-code elimination: drop ops whose results nobody reads, and gradient assignments overwritten
before anything could read them. Effects (in-place kernels, optimizer calls) and random ops stay."""
from ..ir import param_values
from ._util import is_random


def run(graph):
    live = {id(v) for v in graph.output_values()}
    kept = []
    overwritten = set()  # leaves whose .grad a later set_grad replaces before any call could read it
    for n in reversed(graph.nodes):
        if n.kind == "set_grad":
            if id(n.target) in overwritten:
                continue
            overwritten.add(id(n.target))
        elif n.kind == "call":
            overwritten.clear()
        needed = n.has_effect() or is_random(n) or any(id(o) in live for o in n.all_outputs())
        if not needed:
            continue
        kept.append(n)
        for v in n.inputs:
            live.add(id(v))
        for v in param_values(n.params):
            live.add(id(v))
    graph.nodes = kept[::-1]
    graph.state = [v for v in graph.state if id(v) in live]
    graph.constants = [v for v in graph.constants if id(v) in live]
    return graph
