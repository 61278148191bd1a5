"""Graph nodes. ``Op`` is ember's primitive (NumPy arrays in forward, Tensors in backward); ``Function`` is
torch's user-facing custom-op API (Tensors in forward). The engine sees both as ``Node``.

An op's forward and backward live together in one small class:

    class Exp(Op):
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

Backward formulas are written with Tensor ops. The engine runs them under no_grad for a plain
``backward()`` and with recording on for ``create_graph=True``, so every formula is written once and
higher-order gradients come from reusing it. Gradients of broadcast inputs are summed back to the input's
shape by the engine (``sum_to``), never by the op.
"""
import sys
import traceback

import numpy as np

from .grad_mode import _State

__all__ = ["Node", "Op", "Function", "FunctionCtx", "OP_REGISTRY", "once_differentiable"]

OP_REGISTRY = {}  # name -> Op subclass; compile mode reads it
_ndarray = np.ndarray
_new = object.__new__


class _Anomaly:
    enabled = False
    check_nan = True


class _Hooks:
    """Observers that compile mode's tracer installs: every op application, in-place kernel, leaf
    gradient assignment, optimizer step and module call. All None (one attribute check) otherwise."""

    on_apply = None
    on_inplace = None
    on_grad_set = None
    on_optimizer_step = None
    on_module_call = None
    on_backward = None
    on_grad_cleared = None
    # bumped whenever a module re-binds (or deletes) a parameter, buffer or submodule name it had: a compiled
    # graph holds the objects it traced, so compile mode re-traces when this changes
    structure_version = 0


class Node:
    """A vertex of the backward graph.

    ``next_edges[i]`` says where the gradient of input ``i`` goes: ``None`` (no gradient wanted),
    ``(node, output_nr, shape)`` for a non-leaf input, or ``(None, leaf_tensor, shape)`` for a leaf.
    It is set before ``forward`` runs (``None`` when the op is not recorded), so a forward can save only
    what the needed gradients use.
    """

    __slots__ = ("next_edges", "_saved", "__dict__", "__weakref__")
    pre_hooks = None  # {output_nr: [hook]}, set by Tensor.register_hook on a non-leaf
    post_hooks = None
    forward_trace = None  # user stack recorded in anomaly mode
    non_differentiable = ()  # output indices that never require grad (multi-output ops)
    differentiable = True  # False for ops whose output never requires grad (comparisons, argmax)
    is_view = False  # True for ops whose output shares memory (and so the version counter) with input 0
    materialize_grads = True

    @staticmethod
    def shape_depends_on_values(params) -> bool:
        """Whether the output's shape depends on the input values, not only on their shapes (``unique``, a
        boolean-mask index): compile mode cannot make a static graph of such an op (a graph break)."""
        return False
    n_outputs = 1

    def name(self) -> str:
        return type(self).__name__ + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        out = []
        for e in self.next_edges:
            if e is None:
                out.append((None, 0))
            elif e[0] is None:
                out.append((_AccumulateGrad(e[1]), 0))
            else:
                out.append((e[0], e[1]))
        return tuple(out)

    @property
    def needs_input_grad(self):
        edges = self.next_edges
        return tuple(e is not None for e in edges) if edges is not None else ()

    def needs_grad(self, i) -> bool:
        """Whether input ``i`` wants a gradient (usable in forward to save only what backward needs)."""
        edges = self.next_edges
        return edges is not None and edges[i] is not None

    def register_hook(self, fn):
        if self.post_hooks is None:
            self.post_hooks = []
        self.post_hooks.append(fn)
        return _RemovableHandle(self.post_hooks, fn)

    def register_prehook(self, fn):
        return self._add_pre_hook(0, fn)

    def _add_pre_hook(self, output_nr, fn):
        if self.pre_hooks is None:
            self.pre_hooks = {}
        hooks = self.pre_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    # saved tensors ---------------------------------------------------------------------------------------
    def save_for_backward(self, *items):
        self._saved = items

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after they "
                "have already been freed). Saved intermediate values of the graph are freed when you call "
                ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved tensors after calling backward.")
        out = []
        for s in saved:
            if s.__class__ is _SavedOutput:
                out.append(s.unpack(self))
            elif s.__class__ is _SavedInput:
                out.append(s.unpack(self))
            else:
                out.append(s)
        return tuple(out)

    def release(self):
        self._saved = None

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__} has no backward")


class _SavedInput:
    __slots__ = ("tensor", "version")

    def __init__(self, tensor):
        self.tensor = tensor
        self.version = tensor._version[0]

    def unpack(self, node):
        t = self.tensor
        if t._version[0] != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[{t.dtype.name} {list(t.shape)}] is at version {t._version[0]}; expected version {self.version} "
                f"instead (saved by {node.name()}). Hint: do not modify that tensor in place before backward, or "
                "clone() it first.")
        return t


class _SavedOutput:
    """An op's own output, saved without a reference cycle; re-attached to the node when unpacked."""

    __slots__ = ("data", "version_counter", "version", "output_nr", "requires_grad")

    def __init__(self, tensor):
        self.data = tensor._data
        self.version_counter = tensor._version
        self.version = tensor._version[0]
        self.output_nr = tensor._out_nr
        self.requires_grad = tensor.requires_grad

    def unpack(self, node):
        if self.version_counter[0] != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"the output of {node.name()[:-9]} {list(self.data.shape)} is at version {self.version_counter[0]}; "
                f"expected version {self.version} instead. Hint: clone() the result before modifying it in place.")
        t = _make(self.data, self.requires_grad, node if self.requires_grad else None)
        t._version = self.version_counter
        t._out_nr = self.output_nr
        return t


class _AccumulateGrad:
    """Stand-in shown by ``next_functions`` for a leaf (torch's AccumulateGrad)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class _RemovableHandle:
    def __init__(self, container, item):
        self._container, self._item = container, item

    def remove(self):
        try:
            self._container.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_make = None  # set by ember._tensor: (ndarray, requires_grad, grad_fn) -> Tensor


def _edge(t):
    """Where the gradient for input tensor ``t`` goes (see Node.next_edges)."""
    if not t.requires_grad:
        return None
    fn = t.grad_fn
    if fn is None:
        return (None, t, t._data.shape)
    return (fn, t._out_nr, t._data.shape)


def _record_anomaly(node):
    stack = traceback.extract_stack()[:-3]
    node.forward_trace = "".join(traceback.format_list(stack[-6:]))


class Op(Node):
    """A primitive op. Subclass with ``forward(ctx, *arrays, **params) -> array`` and
    ``backward(ctx, grad) -> grad per input`` (a tuple when there are several inputs)."""

    __slots__ = ()

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        OP_REGISTRY[cls.__name__] = cls

    @classmethod
    def apply(cls, *inputs, **params):
        ctx = _new(cls)
        ctx._saved = None
        requires_grad = False
        if _State.enabled and cls.differentiable:
            for t in inputs:
                if t.requires_grad:
                    requires_grad = True
                    break
        if requires_grad:
            edges = []
            for t in inputs:
                if t.requires_grad:
                    fn = t.grad_fn
                    edges.append((None, t, t._data.shape) if fn is None else (fn, t._out_nr, t._data.shape))
                else:
                    edges.append(None)
            ctx.next_edges = edges
        else:
            ctx.next_edges = None
        n = len(inputs)
        if n == 1:
            out = ctx.forward(inputs[0]._data, **params)
        elif n == 2:
            out = ctx.forward(inputs[0]._data, inputs[1]._data, **params)
        else:
            out = ctx.forward(*[t._data for t in inputs], **params)
        if out.__class__ is not _ndarray:
            if out.__class__ is tuple:
                return cls._wrap_many(ctx, inputs, params, out, requires_grad)
            out = np.asarray(out)
        if requires_grad and out.dtype.kind not in "fc":  # only floating tensors require grad (torch)
            requires_grad = False
        result = _make(out, requires_grad, ctx if requires_grad else None)
        if cls.is_view:
            result._version = inputs[0]._version
        if requires_grad:
            if ctx._saved is not None:
                ctx._saved = _convert_saved(ctx._saved, inputs, (result,))
            if _Anomaly.enabled:
                _record_anomaly(ctx)
        if _Hooks.on_apply is not None:
            _Hooks.on_apply(cls, inputs, params, (result,), ctx)
        return result

    @classmethod
    def _wrap_many(cls, ctx, inputs, params, outs, requires_grad):
        ctx.multi_output = True  # (compile mode unpacks the forward's tuple)
        results = []
        for i, o in enumerate(outs):
            if o.__class__ is not _ndarray:
                o = np.asarray(o)
            diff = requires_grad and i not in cls.non_differentiable and o.dtype.kind in "fc"
            t = _make(o, diff, ctx if diff else None)
            t._out_nr = i
            results.append(t)
        results = tuple(results)
        if requires_grad:
            ctx.n_outputs = len(outs)
            if ctx._saved is not None:
                ctx._saved = _convert_saved(ctx._saved, inputs, results)
            if _Anomaly.enabled:
                _record_anomaly(ctx)
        if _Hooks.on_apply is not None:
            _Hooks.on_apply(cls, inputs, params, results, ctx)
        return results


def _convert_saved(saved, inputs, outputs):
    """Turn what forward saved (arrays) into version-checked references to the op's inputs and outputs."""
    out = []
    for s in saved:
        if s is None or s.__class__ is not _ndarray:
            # NumPy ufuncs return scalars for 0-d inputs: save those as 0-d tensors too
            out.append(_make(np.asarray(s), False, None) if isinstance(s, np.generic) else s)
            continue
        for t in inputs:
            if t._data is s:
                out.append(_SavedInput(t))
                break
        else:
            for t in outputs:
                if t._data is s:
                    out.append(_SavedOutput(t))
                    break
            else:
                out.append(_make(s, False, None))
    return tuple(out)


class FunctionCtx:
    """Namespace for user Function contexts (kept for torch compatibility of isinstance checks)."""


class Function(Node):
    """torch.autograd.Function: subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.

    ``forward`` receives Tensors (and any other arguments) and runs with gradient recording off;
    ``backward`` returns one gradient (or None) per forward argument.
    """

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method and call it with .apply()")

    def name(self):
        return type(self).__name__ + "Backward"

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = bool(value)

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor

        ctx = cls.__new__(cls)
        ctx._saved = None
        ctx._non_diff = ()
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        ctx.next_edges = tuple(_edge(t) if t is not None else None for t in tensor_args)
        prev = _State.enabled
        _State.enabled = False
        try:
            raw = cls.forward(ctx, *args, **kwargs)
        finally:
            _State.enabled = prev
        requires_grad = prev and any(e is not None for e in ctx.next_edges)
        many = isinstance(raw, tuple)
        outs = raw if many else (raw,)
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)
                continue
            diff = requires_grad and id(o) not in ctx._non_diff and o._data.dtype.kind in "fc"
            t = _make(o._data, diff, ctx if diff else None)
            t._out_nr = i
            results.append(t)
        ctx.n_outputs = len(outs)
        ctx.output_shapes = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), np.float32)
                             for o in outs]
        if requires_grad and ctx._saved is not None:
            ctx._saved = tuple(_SavedInput(s) if isinstance(s, Tensor) and s.grad_fn is not ctx else s
                               for s in ctx._saved)
        if requires_grad and _Anomaly.enabled:
            _record_anomaly(ctx)
        return tuple(results) if many else results[0]

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")


def once_differentiable(fn):
    """Decorator for a Function.backward that is not itself differentiable (runs it with recording off)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = _State.enabled
        _State.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            _State.enabled = prev

    return wrapper


def _frame_summary():
    f = sys._getframe(2)
    return f"{f.f_code.co_filename}:{f.f_lineno}"
