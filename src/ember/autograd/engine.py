"""The backward pass: a dependency-counted walk of the graph (iterative, so long RNN graphs are fine)."""

import numpy as np

from .. import _kernels
from .function import _Anomaly, _Hooks
from .grad_mode import _State

__all__ = ["backward", "grad", "queue_callback"]

_sum_to = None  # set by ember.ops: (Tensor, shape) -> Tensor summed down to shape
_ones_like = None
_make = None  # set by ember._tensor


def _collect(roots):
    """Count, for every node reachable from ``roots``, how many edges lead into it."""
    deps = {}
    stack = list(roots)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for e in node.next_edges:
            if e is None:
                continue
            fn = e[0]
            if fn is None:
                continue
            if fn in deps:
                deps[fn] += 1
            else:
                deps[fn] = 1
            if fn not in seen:
                seen.add(fn)
                stack.append(fn)
    return deps


def _check_nan(node, grads):
    for g in grads:
        if g is not None and g._data.dtype.kind == "f" and not np.isfinite(g._data).all():
            where = f"\nThe forward call that created it:\n{node.forward_trace}" if node.forward_trace else ""
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its output.{where}")


def _run_pre_hooks(hooks, g):
    for h in hooks:
        r = h(g)
        if r is not None:
            g = r
    return g


_final_callbacks = []  # one list per running backward pass (a backward inside a hook pushes its own)


def queue_callback(callback):
    """Run ``callback()`` when the running backward pass has finished (torch's
    ``Variable._execution_engine.queue_callback``): DistributedDataParallel reduces gradients there."""
    if not _final_callbacks:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _final_callbacks[-1].append(callback)


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None, accumulate=True):
    """Push ``root_grads`` back from ``roots`` (Tensors), then run the callbacks queued meanwhile.

    With ``accumulate`` (``Tensor.backward``), leaf gradients are added into ``.grad``. With ``inputs``
    (``autograd.grad``), the gradients reaching those tensors are returned instead.
    """
    callbacks = []
    _final_callbacks.append(callbacks)
    try:
        result = _run_graph(roots, root_grads, retain_graph, create_graph, inputs, accumulate)
    finally:
        _final_callbacks.pop()
    for callback in callbacks:
        callback()
    return result


def _run_graph(roots, root_grads, retain_graph, create_graph, inputs, accumulate):
    capture = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            key = id(t) if t.grad_fn is None else (t.grad_fn, t._out_nr)
            capture.setdefault(key, []).append(i)
        results = [None] * len(inputs)

    buffers = {}
    ready = []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        if fn is None:
            if t.requires_grad:
                _deliver_leaf(t, g, capture, results if capture is not None else None, accumulate, set())
            continue
        slot = buffers.get(fn)
        if slot is None:
            slot = buffers[fn] = [None] * fn.n_outputs
        nr = t._out_nr
        slot[nr] = g if slot[nr] is None else slot[nr] + g
    root_nodes = list(buffers)
    deps = _collect(root_nodes)
    ready = [n for n in root_nodes if n not in deps]

    prev_mode = _State.enabled
    _State.enabled = bool(create_graph)
    assigned = set()
    on_backward = _Hooks.on_backward  # (fixed for the whole pass: read once)
    anomaly = _Anomaly.enabled
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if node.pre_hooks:
                for nr, hooks in node.pre_hooks.items():
                    if grads[nr] is not None:
                        grads[nr] = _run_pre_hooks(hooks, grads[nr])
            if capture is not None:
                for nr, g in enumerate(grads):
                    idx = capture.get((node, nr))
                    if idx is not None:
                        for i in idx:
                            results[i] = g
            if node.n_outputs > 1:
                if node.materialize_grads:
                    grads = _materialize(node, grads)
                no_grad_in = all(g is None for g in grads)
            else:
                no_grad_in = grads[0] is None
            if no_grad_in:  # nothing flowed into this node (e.g. a custom backward returned None)
                in_grads = (None,) * len(node.next_edges)
            else:
                in_grads = type(node).backward(node, *grads)
                if in_grads.__class__ is not tuple:
                    in_grads = (in_grads,)
                if on_backward is not None:
                    on_backward(node, grads, in_grads)
            if not retain_graph:
                node._saved = None
            if anomaly:
                _check_nan(node, in_grads)
            if node.post_hooks:
                for h in node.post_hooks:
                    h(in_grads, tuple(grads))
            edges = node.next_edges
            if len(in_grads) != len(edges):
                raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                   f"(expected {len(edges)}, got {len(in_grads)})")
            for e, g in zip(edges, in_grads):
                if e is None:
                    continue
                fn = e[0]
                if g is not None:
                    shape = e[2]
                    if g._data.shape != shape:
                        g = _sum_to(g, shape)
                if fn is None:
                    if g is not None:
                        _deliver_leaf(e[1], g, capture, results if capture is not None else None, accumulate,
                                      assigned)
                    continue
                slot = buffers.get(fn)
                if slot is None:
                    slot = buffers[fn] = [None] * fn.n_outputs
                if g is not None:
                    nr = e[1]
                    slot[nr] = g if slot[nr] is None else slot[nr] + g
                d = deps[fn] - 1
                deps[fn] = d
                if d == 0:
                    ready.append(fn)
    finally:
        _State.enabled = prev_mode
    return results if capture is not None else None


def _materialize(node, grads):
    """Multi-output nodes get zeros for outputs that received no gradient (torch's materialize_grads)."""
    if all(g is not None for g in grads):
        return grads
    shapes = getattr(node, "output_shapes", None)
    if shapes is None:
        return grads
    from .._tensor import _make

    return [g if g is not None else _make(np.zeros(s, dtype=dt), False, None)
            for g, (s, dt) in zip(grads, shapes)]


def _deliver_leaf(t, g, capture, results, accumulate, assigned):
    if t._hooks:
        for h in t._hooks:
            r = h(g)
            if r is not None:
                g = r
    if capture is not None:
        idx = capture.get(id(t))
        if idx is not None:
            for i in idx:
                results[i] = g if results[i] is None else results[i] + g
        return
    if not accumulate:
        return
    if t.grad is None:
        if not _State.enabled:  # plain backward: never let two leaves (or a leaf and a user tensor) share a buffer
            arr = g._data
            base = arr if arr.base is None else arr.base
            if (id(base) in assigned or not arr.flags.c_contiguous or not arr.flags.writeable
                    or arr.dtype != t._data.dtype):
                g = g.detach().contiguous().to(t.dtype)
                if g._data is arr:
                    g = g.clone()
                base = g._data
            assigned.add(id(base))
            g = g.detach() if g.requires_grad else g
        t.grad = g
        if _Hooks.on_grad_set is not None:
            _Hooks.on_grad_set(t, True)
    elif _State.enabled:
        t.grad = t.grad + g
        if _Hooks.on_grad_set is not None:
            _Hooks.on_grad_set(t, False)
    else:
        _kernels.run(_kernels.iadd, t.grad, g)
        if _Hooks.on_grad_set is not None:
            _Hooks.on_grad_set(t, False)
    if t._post_accumulate_hooks:
        for h in t._post_accumulate_hooks:
            h(t)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """ember.autograd.backward: accumulate gradients of ``tensors`` into the leaves' ``.grad``."""
    from .._tensor import Tensor

    if grad_tensors is None and inputs is None and isinstance(tensors, Tensor):  # the common loss.backward()
        run_backward((tensors,), (_make_root_grad(tensors, None, "backward"),), bool(retain_graph or create_graph),
                     create_graph)
        return
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    grads = tuple(_make_root_grad(t, g, "backward") for t, g in zip(tensors, grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        got = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)
        for t, g in zip(inputs, got):
            if g is not None:
                _deliver_leaf_final(t, g, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def _deliver_leaf_final(t, g, create_graph):
    if t.grad is None:
        t.grad = g if create_graph else g.detach().clone()
    else:
        t.grad = t.grad + g


def _make_root_grad(t, g, what):
    from .._tensor import Tensor

    if not t.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if g is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if t._data.dtype.kind != "f":
            raise RuntimeError("grad can be implicitly created only for real scalar outputs")
        return _make(np.ones(t._data.shape, dtype=t._data.dtype))
    if not isinstance(g, Tensor):
        from .._tensor import tensor

        g = tensor(g, dtype=t.dtype)
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and output[0] has a "
                           f"shape of {tuple(t.shape)}.")
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """ember.autograd.grad: gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``."""
    from .._tensor import Tensor

    if isinstance(outputs, Tensor):
        outputs = (outputs,)
    single_input = isinstance(inputs, Tensor)
    inputs = (inputs,) if single_input else tuple(inputs)
    outputs = tuple(outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = tuple(_make_root_grad(t, g, "grad") for t, g in zip(outputs, grad_outputs))
    if retain_graph is None:
        retain_graph = create_graph
    got = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False)
    result = []
    for t, g in zip(inputs, got):
        if g is None:
            if materialize_grads:
                g = _ones_like(t) * 0
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
        elif not create_graph and g.requires_grad:
            g = g.detach()
        result.append(g)
    return tuple(result)


