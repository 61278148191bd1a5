"""``ember.compile(fn, check_trace=True)``: trace the first two calls that share a guard signature and compare
the graphs before compiling (torch.jit.trace's ``check_trace`` does the same with its check inputs).

A trace is only valid for other inputs if everything it captured as a constant is the same at every call.
Two calls with different tensor values that give different graphs reveal the hazards a single trace cannot:
- a constant that differs: a value computed from tensor data outside ember's ops (NumPy on ``.numpy()`` or
  ``._data``, a random draw from NumPy) was frozen into the graph at the first call;
- a different sequence of ops or parameters: Python control flow that depends on something the guards do not
  see (a global counter, ``time``, Python's ``random``), which the compiled graph would not follow.
Either raises ``TracingCheckError`` naming the first node that differs and its source line.
"""
import numpy as np

from .ir import Node, Value

__all__ = ["TracingCheckError", "compare_graphs"]


class TracingCheckError(RuntimeError):
    """Two traces of one function with the same guard signature differ (see ``ember.compile(check_trace=True)``)."""


def compare_graphs(first, second):
    """None when the two traced graphs are the same computation, else a sentence naming the first difference."""
    return _Comparison(first, second).run()


class _Differs(Exception):
    pass


class _Comparison:
    def __init__(self, first, second):
        self.first, self.second = first, second
        self.values = {}  # id(Value of first) -> Value of second
        self.nodes = {}  # id(Node of first) -> Node of second
        self.where = "the graph's inputs"

    def run(self):
        a, b = self.first, self.second
        try:
            if len(a.inputs) != len(b.inputs):
                raise _Differs(f"{len(a.inputs)} against {len(b.inputs)} tensor inputs")
            for va, vb in zip(a.inputs, b.inputs):
                self._same_shape(va, vb)
                self.values[id(va)] = vb
            for i, (na, nb) in enumerate(zip(a.nodes, b.nodes)):
                self._node(i, na, nb)
            if len(a.nodes) != len(b.nodes):
                extra = a.nodes[len(b.nodes)] if len(a.nodes) > len(b.nodes) else b.nodes[len(a.nodes)]
                raise _Differs(f"one trace has {len(a.nodes)} steps, the other {len(b.nodes)}; the first extra "
                               f"one is {_describe(extra)}")
            self.where = "the function's result"
            self._param(a.outputs, b.outputs)
        except _Differs as e:
            return f"{e} (in {self.where})"
        return None

    def _node(self, i, na, nb):
        self.where = f"step {i}: {_describe(na)}"
        if na.kind != nb.kind or (na.op is not nb.op and na.op != nb.op):  # (bound methods compare by ==)
            raise _Differs(f"the first trace ran {na.name}, the second {_describe(nb)}")
        if na.target is not nb.target and self.nodes.get(id(na.target)) is not nb.target:
            raise _Differs(f"{na.name} acts on a different object")
        if len(na.inputs) != len(nb.inputs):
            raise _Differs(f"{na.name} has {len(na.inputs)} inputs in one trace, {len(nb.inputs)} in the other")
        for k, (va, vb) in enumerate(zip(na.inputs, nb.inputs)):
            self._value(va, vb, f"input {k} of {na.name}")
        if set(na.params) != set(nb.params):
            raise _Differs(f"{na.name} has parameters {sorted(na.params)} in one trace, {sorted(nb.params)} in "
                           "the other")
        for key in na.params:
            self._param(na.params[key], nb.params[key], f"parameter {key!r} of {na.name}")
        outs_a, outs_b = na.all_outputs(), nb.all_outputs()
        if len(outs_a) != len(outs_b):
            raise _Differs(f"{na.name} gives {len(outs_a)} results in one trace, {len(outs_b)} in the other")
        for va, vb in zip(outs_a, outs_b):
            self._same_shape(va, vb)
            self.values[id(va)] = vb
        self.nodes[id(na)] = nb

    def _value(self, va, vb, what="a value"):
        mapped = self.values.get(id(va))
        if mapped is not None:
            if mapped is not vb:
                raise _Differs(f"{what} comes from a different place")
            return
        if va.kind != vb.kind:
            raise _Differs(f"{what} is a {va.kind} in one trace, a {vb.kind} in the other")
        self._same_shape(va, vb, what)
        if va.kind == "state":
            if va.ref is not vb.ref:
                raise _Differs(f"{what} reads a different tensor")
        elif va.kind == "constant":
            self._same_array(va.ref, vb.ref, f"{what}, a constant captured while tracing ({va.type_str()}),")
        else:
            raise _Differs(f"{what} comes from a different place")
        self.values[id(va)] = vb

    def _param(self, pa, pb, what="a parameter"):
        if isinstance(pa, Value) or isinstance(pb, Value):
            if not (isinstance(pa, Value) and isinstance(pb, Value)):
                raise _Differs(f"{what} is a traced value in only one trace")
            self._value(pa, pb, what)
        elif isinstance(pa, np.ndarray) or isinstance(pb, np.ndarray):
            if not (isinstance(pa, np.ndarray) and isinstance(pb, np.ndarray)):
                raise _Differs(f"{what} is an array in only one trace")
            self._same_array(pa, pb, what)
        elif isinstance(pa, (tuple, list)) and type(pa) is type(pb):
            if len(pa) != len(pb):
                raise _Differs(f"{what} has {len(pa)} items in one trace, {len(pb)} in the other")
            for xa, xb in zip(pa, pb):
                self._param(xa, xb, what)
        elif isinstance(pa, dict) and isinstance(pb, dict):
            if set(pa) != set(pb):
                raise _Differs(f"{what} has different keys")
            for k in pa:
                self._param(pa[k], pb[k], what)
        elif isinstance(pa, slice) and isinstance(pb, slice):
            for xa, xb in ((pa.start, pb.start), (pa.stop, pb.stop), (pa.step, pb.step)):
                self._param(xa, xb, what)
        elif isinstance(pa, Node) and isinstance(pb, Node):
            if self.nodes.get(id(pa)) is not pb:
                raise _Differs(f"{what} refers to a different step")
        elif type(pa) is type(pb) and type(pa).__eq__ is object.__eq__ and _fields(pa) is not None:
            self._param(_fields(pa), _fields(pb), what)  # a plain object (a conv geometry): by its attributes
        elif not _same_python_value(pa, pb):
            raise _Differs(f"{what} is {pa!r} in the first trace, {pb!r} in the second")

    def _same_shape(self, va, vb, what="a value"):
        if va.shape != vb.shape or va.dtype != vb.dtype:
            raise _Differs(f"{what} is {va.type_str()} in one trace, {vb.type_str()} in the other")

    def _same_array(self, a, b, what):
        if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
            detail = f" ({_n_changed(a, b)} of {a.size} elements)" if a.shape == b.shape and a.dtype == b.dtype else ""
            raise _Differs(f"{what} differs between the two calls{detail}: it was computed from tensor values "
                           "outside ember's ops, and a compiled graph would keep the first call's value")


def _n_changed(a, b):
    """How many elements of two same-shaped arrays differ bitwise."""
    rows = [np.ascontiguousarray(x).reshape(-1).view(np.uint8).reshape(a.size, -1) for x in (a, b)]
    return int((rows[0] != rows[1]).any(axis=1).sum())


def _fields(obj):
    """A plain object's attributes as a dict (``__slots__`` or ``__dict__``), None for other objects."""
    if callable(obj) or isinstance(obj, type):
        return None
    if hasattr(obj, "__dict__"):
        return dict(vars(obj))
    slots = [n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())]
    return {n: getattr(obj, n, None) for n in slots} if slots else None


def _same_python_value(a, b):
    if a is b:
        return True
    if callable(a) or callable(b):
        return a == b  # functions by identity, bound methods by (self, function)
    try:
        same = a == b
        if isinstance(same, bool):
            return same or (a != a and b != b)  # NaN parameters
        return bool(np.all(same))
    except Exception:  # noqa: BLE001 - objects that cannot compare count as different
        return False


def _describe(node):
    return f"{node.name} at {node.site}" if node.site else node.name
