"""Code generation: a Graph becomes straight-line Python calling NumPy, compiled once with ``compile()``.

Common ops are written as the NumPy expression they compute (``v3 = np.matmul(x1, s2)``); any other op
calls its own ``forward`` with a reusable context object (``v7 = Gelu.forward(_c_Gelu, v6, approximate='none')``),
so compiled and eager runs execute the same NumPy calls in the same order.
"""
import numpy as np

from .._dtype import dtype as ember_dtype
from .._tensor import _make
from .ir import Value

# op name -> template over input names {0}, {1} ... and params {name}. Each is the op's forward expression; a
# callable gives the template for a node (None: call the op's forward).
TEMPLATES = {
    "Add": "{0} + {1}",
    "Sub": "{0} - {1}",
    "Mul": "{0} * {1}",
    "Div": "{0} / {1}",
    "Neg": "np.negative({0})",
    "Matmul": "np.matmul({0}, {1})",
    "TransposedMatmul": "np.matmul({0}.T, {1})",
    "Exp": "np.exp({0})",
    "Log": "np.log({0})",
    "Tanh": "np.tanh({0})",
    "Sqrt": "np.sqrt({0})",
    "Relu": "np.maximum({0}, 0)",
    "Maximum": "np.maximum({0}, {1})",
    "Minimum": "np.minimum({0}, {1})",
    "Reshape": "{0}.reshape({shape})",
    "Permute": "{0}.transpose({dims})",
    "Clone": "np.array({0}, copy=True, order='C')",
    # Linear.forward on a 2-D input: the GEMM, then the bias added (the same two NumPy calls)
    "Linear": lambda n: None if len(n.inputs[0].shape) != 2 else (
        "np.matmul({0}, {1}.T)" + (" + {2}" if len(n.inputs) == 3 else "")),
}


class Namespace:
    """Names for Python objects the generated code refers to (op classes, constants, tensors)."""

    def __init__(self):
        self.env = {"np": np, "_run_backward": _run_backward}
        self._ids = {}
        self.node_ctx = {}  # id(IR node) -> name of its reusable ctx

    def named(self, obj, prefix):
        """``obj``'s own ``__name__`` when that name is free here (or already ``obj``), else a fresh name."""
        name = obj.__name__
        if self.env.get(name, obj) is not obj:
            return self.ref(obj, prefix)
        self.env[name] = obj
        return name

    def ref(self, obj, prefix):
        key = id(obj)
        name = self._ids.get(key)
        if name is None:
            name = f"{prefix}{len(self._ids)}"
            self._ids[key] = name
            self.env[name] = obj
        return name


def literal(v, ns):
    """Source text for a parameter value."""
    if isinstance(v, Value):
        return v.name
    if v is None or isinstance(v, (bool, int, float, str)) and not isinstance(v, np.generic):
        if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            return f"float({str(v)!r})"
        return repr(v)
    if isinstance(v, tuple):
        inner = ", ".join(literal(x, ns) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(literal(x, ns) for x in v) + "]"
    if isinstance(v, slice):
        return f"slice({literal(v.start, ns)}, {literal(v.stop, ns)}, {literal(v.step, ns)})"
    if v is Ellipsis:
        return "Ellipsis"
    if isinstance(v, np.dtype):
        return f"np.dtype({v.name!r})"
    if isinstance(v, type) and issubclass(v, np.generic):
        return f"np.{v.__name__}"
    if isinstance(v, np.ufunc) and getattr(np, v.__name__, None) is v:
        return f"np.{v.__name__}"
    if callable(v) and getattr(np, getattr(v, "__name__", ""), None) is v:
        return f"np.{v.__name__}"
    if isinstance(v, ember_dtype):
        return ns.ref(v, "dt")
    return ns.ref(v, "k")


def generate(graph, fn_name="compiled"):
    """Return (source, namespace dict, runner) for ``graph``."""
    ns = Namespace()
    ns.env["_wrap"] = _wrap
    lines = []
    args = [v.name for v in graph.inputs]
    lines.append(f"def {fn_name}({', '.join(args)}):")
    body = []
    for v in graph.state:
        body.append(f"{v.name} = {ns.ref(v.ref, 'T')}._data")
    from .passes._util import mutated_values

    written = mutated_values(graph)
    for v in graph.constants:
        # a constant written in place inside the step starts from its traced value at every call
        copy = ".copy()" if id(v) in written else ""
        body.append(f"{v.name} = {ns.ref(v.ref, 'C')}{copy}")
    grads = {}  # id(leaf) -> the Value its .grad holds at this point of the step
    for n in graph.nodes:
        if n.kind == "set_grad":
            grads[id(n.target)] = n.inputs[0] if n.inputs else None
        body.extend(_call_lines(n, ns, grads) if n.kind == "call" else _node_lines(n, ns))
    body.append("return " + _outputs_src(graph.outputs, ns))
    lines.extend("    " + b for b in body)
    source = "\n".join(lines) + "\n"
    env = ns.env
    code = compile(source, f"<ember.compile:{fn_name}>", "exec")
    exec(code, env)
    kernels = [n.params["_source"] for n in graph.nodes if n.kind == "native"]
    if kernels:  # shown above the step: each compiled by numba on its own (passes/native.py)
        source = "".join(f"@numba.njit\n{k}\n\n" for k in kernels) + source
    return source, env, env[fn_name]


def _node_lines(n, ns):
    if n.kind == "op":
        return _op_line(n, ns).split("\n")
    if n.kind == "expr":
        return _expr_lines(n, ns)
    if n.kind == "kernel":
        k = ns.named(n.op, "_k_") if _is_named_kernel(n.op) else ns.ref(n.op, "_k_")
        args = [n.inputs[0].name] + [literal(a, ns) for a in n.params["args"]]
        return [f"{k}({', '.join(args)})"]
    if n.kind == "set_grad":
        leaf = ns.ref(n.target, "L")
        val = f"_wrap({n.inputs[0].name})" if n.inputs else "None"
        return [f"{leaf}.grad = {val}"]
    if n.kind == "call":
        return [f"{ns.ref(n.target, 'O')}.step()"]
    if n.kind == "native":
        k = ns.named(n.op, "_nk")
        outs = "".join(f"{v.name}, " for v in n.outputs)
        call = f"{k}({', '.join(v.name for v in n.inputs)})"
        return [f"{outs}= {call}" if outs else call]
    if n.kind == "backward":
        ctx = ns.node_ctx[id(n.target)]
        grads = "(" + "".join(f"{literal(v, ns)}, " for v in n.params["grads"]) + ")"
        return [f"_r = _run_backward({ctx}, {grads})",
                *(f"{v.name} = _r[{i}]" for v, i in zip(n.outputs, n.params["picks"]))]
    raise ValueError(f"codegen: unknown node kind {n.kind}")


def _call_lines(n, ns, grads):
    """An optimizer step: its own update function run on its flat buffers when it offers them (every group
    flat, parameters living in the flat buffer, every gradient a value of this graph), else ``step()``.
    The flat update is guarded at each call (no step hooks, layout unchanged) and falls back to ``step()``."""
    opt = n.target
    o = ns.ref(opt, "O")
    plan = opt._flat_plan() if hasattr(opt, "_flat_plan") else None
    if plan is None or not all(grads.get(id(p)) is not None and grads[id(p)].dtype == flat.dtype
                               and tuple(grads[id(p)].shape) == tuple(p.shape)
                               for flat in plan for p in flat.params):
        return [f"{o}.step()"]
    cls = ns.named(type(opt), "_cls_")
    lines = [f"if {o}._flat_plan_holds({ns.ref(plan, 'F')}):  # {o}.step() on its flat buffers"]
    for i, flat in enumerate(plan):
        pieces = ", ".join(f"{grads[id(p)].name}.reshape(-1)" for p in flat.params)
        gb, fg = ns.ref(flat.grad_buf, "GB"), ns.ref(flat, "FG")
        group = ns.ref(opt.param_groups[i], "G")
        lines += [f"    np.concatenate(({pieces},), out={gb})",
                  f"    {cls}._update({ns.ref(flat.param_buf, 'PB')}, {gb}, {ns.ref(flat.state, 'FS')}, "
                  f"{cls}._hparams({group}))",
                  f"    {fg}.bump_versions()"]
    return lines + ["else:", f"    {o}.step()"]


def _is_named_kernel(fn):
    return getattr(fn, "__module__", "").endswith("kernels")


def _op_line(n, ns):
    outs = ", ".join(v.name for v in n.outputs)
    if len(n.outputs) == 1 and "_tuple" not in n.params:
        target = outs
    else:
        target = outs + ("," if len(n.outputs) == 1 else "")
    name = n.op.__name__
    ins = [v.name for v in n.inputs]
    out_buf = n.params.get("_out")
    own_ctx = "_has_backward_call" in n.params or bool(n.aux)  # later nodes read this op's context
    if out_buf is not None and not own_ctx:
        from .passes.fuse import HEADS

        buf = ns.ref(out_buf, "B")
        extra = ", 0" if name == "Relu" else ""
        return f"{target} = np.{HEADS[name]}({', '.join(ins)}{extra}, out={buf})"
    tmpl = TEMPLATES.get(name)
    if callable(tmpl):
        tmpl = tmpl(n)
    if tmpl is not None and out_buf is None and not own_ctx:
        params = {k: literal(v, ns) for k, v in n.params.items()}
        return f"{target} = {tmpl.format(*ins, **params)}"
    cls = ns.named(n.op, "_cls_")
    # one reusable context per node; it wants the same gradients as when traced, so forward saves the same
    c = object.__new__(n.op)
    c.next_edges = None if n.edges is None else [True if e else None for e in n.edges]
    c._saved = None
    ctx = ns.ref(c, f"_c_{cls}_")
    ns.node_ctx[id(n)] = ctx
    params = ", ".join(f"{k}={literal(v, ns)}" for k, v in n.params.items() if not k.startswith("_"))
    call_args = ", ".join(ins + ([params] if params else []))
    lines = [f"{target} = {cls}.forward({ctx}, {call_args})"]
    for v, path in n.aux:
        if path[0] == "attr":
            ref = f"{ctx}.{path[1]}" + (f"[{path[2]}]" if len(path) > 2 else "")
        else:
            ref = f"{ctx}._saved[{path[1]}]"
        lines.append(f"{v.name} = {ref}")
    return "\n".join(lines)


def _expr_lines(n, ns):
    out = n.outputs[0].name
    buf = n.params.get("_out")
    steps = n.params["steps"]
    if buf is None:
        return [f"{out} = {n.text}"]
    b = ns.ref(buf, "B")
    lines = []
    for name, ops in steps:
        args = [b if o == "acc" else (str(o) if isinstance(o, int) else o.name) for o in ops]
        lines.append(f"np.{name}({', '.join(args)}, out={b})")
    lines.append(f"{out} = {b}")
    return lines


def _outputs_src(o, ns):
    if isinstance(o, Value):
        return f"_wrap({o.name})"
    if isinstance(o, tuple):
        inner = ", ".join(_outputs_src(x, ns) for x in o)
        return f"({inner},)" if len(o) == 1 else f"({inner})"
    if isinstance(o, list):
        return "[" + ", ".join(_outputs_src(x, ns) for x in o) + "]"
    if isinstance(o, dict):
        return "{" + ", ".join(f"{literal(k, ns)}: {_outputs_src(x, ns)}" for k, x in o.items()) + "}"
    return literal(o, ns)


def _run_backward(ctx, grads):
    """Call an op's own backward on the context its forward just filled (for kernels written in NumPy)."""
    from ..autograd.grad_mode import _State

    saved = ctx._saved
    if saved is not None:
        ctx._saved = tuple(_make(a) if isinstance(a, np.ndarray) else a for a in saved)
    prev = _State.enabled
    _State.enabled = False
    try:
        out = type(ctx).backward(ctx, *[None if g is None else _make(g) for g in grads])
    finally:
        _State.enabled = prev
        ctx._saved = saved
    if not isinstance(out, tuple):
        out = (out,)
    return [None if o is None else o._data for o in out]


def _wrap(arr):
    if arr.__class__ is not np.ndarray:
        arr = np.asarray(arr)
    return _make(arr)
