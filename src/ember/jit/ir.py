"""The static graph that compile mode builds: typed, shaped values and the nodes that produce them.

A ``Graph`` is straight-line: ``nodes`` run in order. Values come from four places:
- ``inputs``: the compiled function's tensor arguments;
- ``state``: tensors that existed before tracing (parameters, buffers, optimiser moments, grads), read by
  reference at every call, so in-place updates persist exactly as in eager mode;
- ``constants``: arrays made during tracing outside any op (scalars in gradient formulas, the root gradient);
- node outputs.
Node kinds: ``op`` (a primitive ``Op``'s forward), ``kernel`` (an in-place NumPy kernel writing into its first
argument), ``expr`` (a fused elementwise expression, made by the fusion pass), and effects that touch Python
objects: ``set_grad`` (leaf.grad = value), ``call`` (an eager call the trace kept opaque, e.g. optimizer.step()).
"""
import numpy as np


class Value:
    """One array in the graph. ``name`` is its variable name in the generated code."""

    __slots__ = ("name", "shape", "dtype", "producer", "kind", "ref")

    def __init__(self, name, shape, dtype, kind, producer=None, ref=None):
        self.name, self.shape, self.dtype, self.kind = name, tuple(shape), np.dtype(dtype), kind
        self.producer, self.ref = producer, ref  # ref: the Tensor (state) or ndarray (constant)

    def type_str(self):
        short = {"float32": "f32", "float64": "f64", "float16": "f16", "int64": "i64", "int32": "i32",
                 "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "bool"}.get(self.dtype.name, self.dtype.name)
        return f"{short}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        return f"%{self.name}"


class Node:
    """One step of the graph: ``kind`` says how it runs; ``op`` is the Op class (kind 'op') or a callable."""

    __slots__ = ("kind", "op", "inputs", "params", "outputs", "target", "text", "site", "aux", "edges")

    def __init__(self, kind, op, inputs, params, outputs, target=None, text=None, site=None):
        self.kind, self.op, self.inputs, self.params = kind, op, list(inputs), dict(params)
        self.outputs, self.target, self.text, self.site = list(outputs), target, text, site
        self.aux = []  # [(Value, path)]: arrays the op's forward left on its ctx (masks, indices) for backward
        self.edges = None  # which inputs wanted gradients when traced (the forward may save accordingly)

    def all_outputs(self):
        return self.outputs + [v for v, _ in self.aux]

    @property
    def name(self):
        if self.kind == "op":
            return self.op.__name__
        if self.kind == "expr":
            return "fused"
        if self.kind == "backward":
            return self.op.__name__ + "Backward"
        return getattr(self.op, "__name__", self.kind)

    def has_effect(self) -> bool:
        return self.kind in ("kernel", "set_grad", "call")

    def __repr__(self):
        return format_node(self)


def _param_str(v):
    if isinstance(v, np.ndarray):
        return f"<array {v.dtype}{list(v.shape)}>"
    if isinstance(v, Value):
        return repr(v)
    if callable(v) and hasattr(v, "__name__"):
        return v.__name__
    if isinstance(v, tuple):
        return "(" + ", ".join(_param_str(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


_LEAF_NAMES = {}


def leaf_name(t):
    """How the IR listing names a leaf tensor: the state Value that reads it, else its shape and id."""
    name = _LEAF_NAMES.get(id(t))
    return name if name is not None else f"leaf<{list(t._data.shape)}@{id(t) % 100000}>"


def format_node(n):
    args = ", ".join(repr(v) for v in n.inputs)
    params = ", ".join(f"{k}={_param_str(v)}" for k, v in n.params.items() if not k.startswith("_"))
    call = f"{n.name}({args}{', ' if args and params else ''}{params})"
    if n.kind == "expr":
        call = f"fused[{n.text}]({args})"
    if n.outputs:
        outs = ", ".join(f"{v!r}: {v.type_str()}" for v in n.all_outputs())
        return f"{outs} = {call}"
    if n.kind == "set_grad":
        return f"{leaf_name(n.target)}.grad = {args or 'None'}"
    return call


class Graph:
    def __init__(self):
        self.inputs = []  # Values of the function's tensor arguments, in order
        self.state = []  # Values read from persistent tensors
        self.constants = []  # Values holding arrays captured at trace time
        self.nodes = []
        self.outputs = None  # a pytree of Values / Python constants (what the function returns)
        self._n = 0

    def new_value(self, shape, dtype, kind, producer=None, ref=None, prefix="v"):
        self._n += 1
        return Value(f"{prefix}{self._n}", shape, dtype, kind, producer, ref)

    def output_values(self):
        out = []

        def walk(o):
            if isinstance(o, Value):
                out.append(o)
            elif isinstance(o, (list, tuple)):
                for x in o:
                    walk(x)
            elif isinstance(o, dict):
                for x in o.values():
                    walk(x)

        walk(self.outputs)
        return out

    def __str__(self):
        for v in self.state:
            _LEAF_NAMES[id(v.ref)] = f"%{v.name}"
        lines = ["graph(" + ", ".join(f"{v!r}: {v.type_str()}" for v in self.inputs) + "):"]
        for v in self.state:
            lines.append(f"  {v!r}: {v.type_str()} = state")
        for v in self.constants:
            lines.append(f"  {v!r}: {v.type_str()} = constant")
        for n in self.nodes:
            lines.append("  " + format_node(n))
        lines.append(f"  return {self.outputs!r}")
        return "\n".join(lines)

    __repr__ = __str__

    def users(self):
        """Map each Value (by identity) to the nodes that read it, in order."""
        users = {}
        for n in self.nodes:
            for v in n.inputs:
                users.setdefault(id(v), []).append(n)
            for v in param_values(n.params):
                users.setdefault(id(v), []).append(n)
        return users


def param_values(params):
    """Values referenced inside a node's params (e.g. a boolean mask used as an index)."""
    out = []

    def walk(p):
        if isinstance(p, Value):
            out.append(p)
        elif isinstance(p, (tuple, list)):
            for x in p:
                walk(x)
        elif isinstance(p, slice):
            walk(p.start)
            walk(p.stop)
            walk(p.step)

    for p in params.values():
        walk(p)
    return out
