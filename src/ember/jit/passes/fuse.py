"""Elementwise fusion: a chain like matmul -> + bias -> relu, whose intermediates are read once and by
nothing else, becomes one ``expr`` node: a sequence of NumPy ufunc calls that the memory pass can run
in a single output buffer (``np.matmul(x, w, out=B); np.add(B, b, out=B); np.maximum(B, 0, out=B)``).
Only ops whose forward is exactly one ufunc (or matmul, as a chain head) take part, and every step must
keep the chain's shape and dtype, so the arithmetic is the eager arithmetic, bitwise.
"""
from ..ir import Node
from ._util import escaping_values, mutated_values

UFUNC = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Div": "true_divide", "Neg": "negative",
         "Exp": "exp", "Log": "log", "Tanh": "tanh", "Sqrt": "sqrt", "Maximum": "maximum", "Minimum": "minimum",
         "Relu": "maximum"}
HEADS = dict(UFUNC, Matmul="matmul")


def run(graph):
    users = graph.users()
    escaping = escaping_values(graph)
    mutated = mutated_values(graph)
    position = {id(n): i for i, n in enumerate(graph.nodes)}
    barriers = [i for i, n in enumerate(graph.nodes) if n.kind in ("kernel", "call")]
    chains = {}  # id(node) -> fused expr node that now stands in for it
    absorbed = set()  # ids of nodes already taken into a chain as its new tail
    for n in list(graph.nodes):
        if n.kind != "op" or n.op.__name__ not in HEADS or len(n.outputs) != 1 or "_has_backward_call" in n.params:
            continue
        head = chains.get(id(n))
        v = n.outputs[0]
        us = users.get(id(v), [])
        if len(us) != 1 or id(v) in escaping or id(v) in mutated:
            continue
        u = us[0]
        if u.kind != "op" or u.op.__name__ not in UFUNC or u.inputs.count(v) != 1 or id(u) in absorbed \
                or "_has_backward_call" in u.params:
            continue
        out = u.outputs[0]
        if out.shape != v.shape or out.dtype != v.dtype:
            continue
        lo, hi = position[id(n)], position[id(u)]
        if any(lo < b < hi for b in barriers):
            continue
        steps = head.params["steps"] if head is not None else [_step(n, None)]
        steps = steps + [_step(u, v)]
        fused = Node("expr", None, [], {"steps": steps}, [out], site=u.site)
        fused.inputs = _inputs(steps)
        fused.text = _text(steps)
        graph.nodes[hi] = fused
        chains[id(u)] = fused
        absorbed.add(id(u))
        graph.nodes[lo] = None
    graph.nodes = [n for n in graph.nodes if n is not None]
    return graph


def _step(n, acc):
    """(ufunc name, operands): operands are Values, the string 'acc' for the running result, or numbers."""
    name = HEADS[n.op.__name__]
    ops = ["acc" if (acc is not None and v is acc) else v for v in n.inputs]
    if n.op.__name__ == "Relu":
        ops = ops + [0]
    return (name, ops)


def _inputs(steps):
    seen, out = set(), []
    for _, ops in steps:
        for v in ops:
            if not isinstance(v, (str, int)) and id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out


def _text(steps):
    expr = None
    for name, ops in steps:
        args = [expr if o == "acc" else (str(o) if isinstance(o, int) else o.name) for o in ops]
        expr = f"np.{name}({', '.join(args)})"
    return expr
