"""Tracing: run a function once in eager mode while recording every op, in-place kernel, gradient
assignment and optimizer step into a ``Graph``.

Arrays are tracked by identity: an op's output array becomes a node output; an array that existed before
tracing (a parameter, a buffer, an optimizer moment, a .grad) becomes ``state``, read by reference at each
call; any other array is a ``constant`` captured at trace time (the scalars inside gradient formulas, the
root gradient of ``loss.backward()``). Reading a tensor's value in Python (``item()``, ``bool()``,
``tolist()``, ``numpy()``) during tracing is a graph break: the caller falls back to eager mode.
"""
import gc
import sys

import numpy as np

from .._tensor import Tensor, _ValueReadObserver
from ..autograd.function import _Hooks
from .ir import Graph, Node, Value

_EMBER_DIR = __file__.rsplit("/jit/", 1)[0]


class GraphBreak(Exception):
    pass


def _user_site():
    """file:line of the innermost frame outside ember (for error messages and the IR listing)."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_EMBER_DIR):
        f = f.f_back
    return f"{f.f_code.co_filename}:{f.f_lineno}" if f is not None else "?"


class Tracer:
    def __init__(self):
        self.graph = Graph()
        self.values = {}  # id(ndarray) -> Value
        self.keep = []  # every array seen, kept alive so ids are not reused while tracing
        self.state_owner = {}  # id(ndarray) -> Tensor that owned it before tracing
        self.state_arrays = []  # (tensor, its array) for every tensor alive before tracing
        self.leaves = {}  # id(leaf) -> leaf whose .grad the trace assigned
        self.optimizers = []
        self.modules = {}
        self.breaks = []  # (how, site) of value reads
        self.suspended = 0
        self.node_of_ctx = {}  # id(ctx) -> IR node of that op's forward
        self.grad_none_at_start = {}  # id(tensor) -> whether its .grad was None when tracing began
        self.cleared = set()  # ids of leaves whose .grad the step sets to None before its backward

    # ---- setup --------------------------------------------------------------------------------------------
    def snapshot_state(self):
        """Remember every tensor alive before tracing: their arrays are state, not constants."""
        for obj in gc.get_objects():
            if issubclass(type(obj), Tensor):  # (isinstance would consult foreign __class__ properties)
                self.grad_none_at_start[id(obj)] = obj.grad is None
                self.state_owner.setdefault(id(obj._data), obj)
                self.keep.append(obj._data)
                self.state_arrays.append((obj, obj._data))

    def __enter__(self):
        self._saved_hooks = (_Hooks.on_apply, _Hooks.on_inplace, _Hooks.on_grad_set, _Hooks.on_optimizer_step,
                             _Hooks.on_module_call, _Hooks.on_backward, _Hooks.on_grad_cleared,
                             _ValueReadObserver.hook)
        _Hooks.on_backward = self.on_backward
        _Hooks.on_grad_cleared = self.on_grad_cleared
        _Hooks.on_apply = self.on_apply
        _Hooks.on_inplace = self.on_inplace
        _Hooks.on_grad_set = self.on_grad_set
        _Hooks.on_optimizer_step = self.on_optimizer_step
        _Hooks.on_module_call = self.on_module_call
        _ValueReadObserver.hook = self.on_value_read
        return self

    def __exit__(self, *exc):
        (_Hooks.on_apply, _Hooks.on_inplace, _Hooks.on_grad_set, _Hooks.on_optimizer_step,
         _Hooks.on_module_call, _Hooks.on_backward, _Hooks.on_grad_cleared, _ValueReadObserver.hook) = \
            self._saved_hooks
        return False

    # ---- values ---------------------------------------------------------------------------------------------
    def add_input(self, t):
        arr = t._data
        v = self.graph.new_value(arr.shape, arr.dtype, "input", prefix="x")
        self.graph.inputs.append(v)
        self.values[id(arr)] = v
        self.keep.append(arr)
        return v

    def value_of_array(self, arr, owner=None):
        v = self.values.get(id(arr))
        if v is not None:
            return v
        g = self.graph
        state_t = self.state_owner.get(id(arr))
        if state_t is not None:
            v = g.new_value(arr.shape, arr.dtype, "state", ref=state_t, prefix="s")
            g.state.append(v)
        else:
            # snapshot: the traced run may go on to write into it
            v = g.new_value(arr.shape, arr.dtype, "constant", ref=arr.copy(), prefix="c")
            g.constants.append(v)
        self.values[id(arr)] = v
        self.keep.append(arr)
        return v

    def value_of(self, t):
        return self.value_of_array(t._data, t)

    def encode(self, p):
        """Params may hold arrays (index masks, ...): traced ones become graph Values."""
        if isinstance(p, np.ndarray):
            if id(p) in self.values or id(p) in self.state_owner:
                return self.value_of_array(p)
            return p
        if isinstance(p, tuple):
            return tuple(self.encode(x) for x in p)
        if isinstance(p, list):
            return [self.encode(x) for x in p]
        if isinstance(p, slice):
            return slice(self.encode(p.start), self.encode(p.stop), self.encode(p.step))
        if isinstance(p, Tensor):
            return self.value_of(p)
        return p

    # ---- hooks ----------------------------------------------------------------------------------------------
    def on_apply(self, cls, inputs, params, results, ctx):
        if self.suspended:
            return
        if cls.shape_depends_on_values(params):
            self.breaks.append((f"{cls.__name__} gives a result whose shape depends on tensor values",
                                _user_site()))
        g = self.graph
        ins = [self.value_of(t) for t in inputs]
        node = Node("op", cls, ins, {k: self.encode(v) for k, v in params.items()}, [], site=_user_site())
        for r in results:
            arr = r._data
            v = g.new_value(arr.shape, arr.dtype, "node", producer=node)
            node.outputs.append(v)
            self.values[id(arr)] = v
            self.keep.append(arr)
        if ctx.next_edges is not None:
            node.edges = [e is not None for e in ctx.next_edges]
        if getattr(ctx, "multi_output", False):
            node.params["_tuple"] = True
        self._capture_aux(node, ctx)
        if ctx.next_edges is not None:
            self.node_of_ctx[id(ctx)] = node
            self.keep.append(ctx)
        g.nodes.append(node)

    def _capture_aux(self, node, ctx):
        """Arrays the forward computed and left on ctx (an attribute, or a saved array that is neither an input
        nor an output: a mask, argmax indices) are results of this node too: backward ops read them."""
        found = []
        for name, val in getattr(ctx, "__dict__", {}).items():
            if isinstance(val, np.ndarray):
                found.append((val, ("attr", name)))
            elif isinstance(val, tuple):
                found.extend((x, ("attr", name, i)) for i, x in enumerate(val) if isinstance(x, np.ndarray))
        saved = ctx._saved
        if saved:
            for k, s in enumerate(saved):
                if isinstance(s, Tensor) and s.grad_fn is None:  # an array saved as a constant by _convert_saved
                    found.append((s._data, ("saved", k)))
                elif isinstance(s, np.ndarray):
                    found.append((s, ("saved", k)))
        for arr, path in found:
            if id(arr) in self.values or id(arr) in self.state_owner or arr.size == 0:
                continue
            v = self.graph.new_value(arr.shape, arr.dtype, "node", producer=node)
            node.aux.append((v, path))
            self.values[id(arr)] = v
            self.keep.append(arr)

    def on_inplace(self, kernel, target, args):
        if self.suspended:
            return
        enc = tuple(self.encode(a) for a in args)
        ins = [self.value_of(target)] + [a for a in enc if isinstance(a, Value)]
        self.graph.nodes.append(Node("kernel", kernel, ins, {"args": enc}, [], site=_user_site()))

    def on_grad_cleared(self, leaf):
        if not self.suspended and id(leaf) not in self.leaves:
            self.cleared.add(id(leaf))

    def on_grad_set(self, leaf, was_none=True):
        if self.suspended:
            return
        self.leaves[id(leaf)] = leaf
        ins = [self.value_of(leaf.grad)] if leaf.grad is not None else []
        self.graph.nodes.append(Node("set_grad", None, ins, {}, [], target=leaf))

    def on_optimizer_step(self, optimizer, closure):
        """The optimizer's step is one ``call`` node (codegen runs it as ``step()``, or as the optimizer's own
        update on its flat buffers: same maths, same state).
        Returns (handled, result) for the optimizer's step wrapper."""
        if self.suspended:
            return False, None
        if closure is not None:
            self.breaks.append(("optimizer.step(closure) re-evaluates the model inside the step",
                                _user_site()))
            return False, None
        self.optimizers.append(optimizer)
        self.graph.nodes.append(Node("call", optimizer.step, [], {}, [], target=optimizer, site=_user_site()))
        self.suspended += 1
        try:
            return True, optimizer.step()
        finally:
            self.suspended -= 1

    def on_backward(self, ctx, grads, in_grads):
        """A backward that computed gradients in NumPy directly (a fused kernel, e.g. the LSTM's) is recorded as
        one node that calls it again on the forward node's context; ordinary backwards were traced op by op."""
        if self.suspended:
            return
        slots = tuple(None if x is None else self.value_of(x) for x in grads)  # (the root grad is a constant)
        unknown = [i for i, gi in enumerate(in_grads) if gi is not None and id(gi._data) not in self.values
                   and id(gi._data) not in self.state_owner]
        if not unknown:
            return
        fwd = self.node_of_ctx.get(id(ctx))
        if fwd is None:
            self.breaks.append((f"{ctx.name()} computes gradients outside ember ops and has no traced forward",
                                _user_site()))
            return
        g = self.graph
        node = Node("backward", type(ctx), [v for v in slots if v is not None],
                    {"grads": slots, "picks": tuple(unknown), "_deps": [fwd.outputs[0]]}, [], target=fwd)
        fwd.params = dict(fwd.params, _has_backward_call=True)
        for i in unknown:
            arr = in_grads[i]._data
            v = g.new_value(arr.shape, arr.dtype, "node", producer=node)
            node.outputs.append(v)
            self.values[id(arr)] = v
            self.keep.append(arr)
        g.nodes.append(node)

    def on_module_call(self, module):
        self.modules[id(module)] = module

    def on_value_read(self, t, how):
        if not self.suspended:
            self.breaks.append((f"{how}() reads a tensor's value", _user_site()))


def trace(fn, args, kwargs):
    """Run ``fn(*args, **kwargs)`` eagerly, recording it. Returns (result, tracer)."""
    tracer = Tracer()
    tracer.snapshot_state()
    arg_tensors = [a for a in args if isinstance(a, Tensor)]
    for t in arg_tensors:
        tracer.add_input(t)
    structure = _Hooks.structure_version
    with tracer:
        result = fn(*args, **kwargs)
        tracer.graph.outputs = _map_outputs(tracer, result)
    if _Hooks.structure_version != structure:  # a Python side effect on module state the graph cannot replay
        tracer.breaks.append((f"a module re-bound a parameter, buffer or submodule inside "
                              f"{getattr(fn, '__qualname__', 'the function')} (e.g. `self.stat = new_tensor`; "
                              "update it in place instead: `self.stat.copy_(new_tensor)`)", "the traced call"))
    # a pre-existing tensor given a new array during the call (a lazy layer materialising its weight, `p.data =
    # ...`, `module.to(...)`, an optimizer laying its state out flat): the graph read the old arrays, so this
    # trace describes a one-off call, not the steady state; the caller should not keep it
    tracer.repointed = any(t._data is not a for t, a in tracer.state_arrays)
    tracer.state_arrays.clear()
    _finish_grads(tracer)
    tracer.keep.clear()  # the graph is built: ids no longer need protecting, and the arrays can be freed
    return result, tracer


def _map_outputs(tracer, out):
    if isinstance(out, Tensor):
        return tracer.value_of(out)
    if isinstance(out, tuple):
        return tuple(_map_outputs(tracer, o) for o in out)
    if isinstance(out, list):
        return [_map_outputs(tracer, o) for o in out]
    if isinstance(out, dict):
        return {k: _map_outputs(tracer, o) for k, o in out.items()}
    return out


def _finish_grads(tracer):
    """After the run, make each traced leaf's .grad end up as eager left it (a value, or None)."""
    for leaf in tracer.leaves.values():
        ins = [] if leaf.grad is None else [tracer.value_of(leaf.grad)]
        last = next((n for n in reversed(tracer.graph.nodes) if n.kind == "set_grad" and n.target is leaf), None)
        if last is not None and last.inputs == ins:  # .grad already holds this value
            continue
        tracer.graph.nodes.append(Node("set_grad", None, ins, {}, [], target=leaf))
