"""relu before max pooling runs after it: max_pool(relu(x)) = relu(max_pool(x)), on a quarter of the data for
2x2 pooling, and relu's backward moves before the pooling's scatter to match.

Why it is exact: relu is monotone, so the largest relu(x) of a window is relu of its largest x; NumPy's
``maximum(v, 0)`` gives +0.0 for -0.0 either way, and NaN wins both maxima. The backward ``ReluGrad(
PlaneScatter(g, idx), relu(x))`` becomes ``PlaneScatter(ReluGrad(g, relu(pooled)), idx')``: where a window's
maximum is positive (or NaN) both pass g to that maximum's position (idx' = idx there); where it is <= 0
both give the window zero gradient. So every value is the eager one; only the position of a signed zero
(g * 0 with g < 0 is -0.0), or of the NaN that an inf/NaN in g times a zero mask makes, can differ.

Matched only when the relu's output feeds nothing but that pooling (and relu's backward), and the pooling's
index output nothing (inference, eval-mode forwards: then only the forward changes) or nothing but its backward
scatter, whose result nothing but relu's backward.
"""
from ..ir import Node
from ._util import escaping_values, mutated_values, substitute


def run(graph):
    users = graph.users()
    escaping = escaping_values(graph)
    mutated = mutated_values(graph)
    matches = [m for m in (_match(n, users, escaping, mutated) for n in graph.nodes) if m is not None]
    for m in matches:  # (matches share no node)
        _rewrite(graph, *m)
    return graph


def _is_op(n, name):
    return n is not None and n.kind == "op" and n.op.__name__ == name and "_has_backward_call" not in n.params


def _match(pool, users, escaping, mutated):
    """(relu, pool, scatter, relu_grad) nodes of the pattern around ``pool`` (the last two None when the
    pooling's indices are not used: inference, or nothing needs relu's input gradient), or None."""
    if not _is_op(pool, "MaxPool") or len(pool.outputs) != 2:
        return None
    r, idx = pool.inputs[0], pool.outputs[1]
    relu = r.producer
    # (the pooled values may leave the step: their readers, the step's outputs included, get the relu'd ones)
    if not _is_op(relu, "Relu") or id(r) in escaping or id(idx) in escaping or \
            any(id(v) in mutated for v in (r, *pool.outputs)):
        return None
    readers = users.get(id(r), [])
    if not users.get(id(idx)):  # forward only
        return (relu, pool, None, None) if readers == [pool] else None
    scatters = users[id(idx)]
    if len(scatters) != 1 or not _is_op(scatters[0], "PlaneScatter"):
        return None
    scatter = scatters[0]
    s = scatter.outputs[0]
    grads = users.get(id(s), [])
    if len(grads) != 1 or not _is_op(grads[0], "ReluGrad") or grads[0].inputs != [s, r]:
        return None
    relu_grad = grads[0]
    if sorted(map(id, readers)) != sorted((id(pool), id(relu_grad))):
        return None
    if id(s) in escaping or id(s) in mutated or scatter.inputs[0].shape != pool.outputs[0].shape:
        return None
    return relu, pool, scatter, relu_grad


def _rewrite(graph, relu, pool, scatter, relu_grad):
    x, pooled = relu.inputs[0], pool.outputs[0]
    # forward: pool x itself, then relu the pooled values (read by everything that read the pooled relu)
    relu_out = graph.new_value(pooled.shape, pooled.dtype, "node")
    substitute(graph, {id(pooled): relu_out})
    new_relu = Node("op", relu.op, [pooled], {}, [relu_out], site=relu.site)
    relu_out.producer = new_relu
    new_relu.edges = relu.edges
    pool.inputs = [x]
    graph.nodes.remove(relu)
    graph.nodes.insert(graph.nodes.index(pool) + 1, new_relu)
    if scatter is None:
        return
    # backward: relu's mask on the pooled gradient, then the scatter into the input's shape
    g, out = scatter.inputs[0], relu_grad.outputs[0]
    masked = graph.new_value(g.shape, g.dtype, "node", producer=relu_grad)
    relu_grad.inputs, relu_grad.outputs = [g, relu_out], [masked]
    scatter.inputs, scatter.outputs = [masked], [out]
    out.producer = scatter
    a, b = graph.nodes.index(scatter), graph.nodes.index(relu_grad)
    graph.nodes[a], graph.nodes[b] = relu_grad, scatter
