"""``ember.onnx.export``: trace a model's forward with compile mode's tracer and write it as an ONNX model.

Steps: the model is put in eval mode and run under ``no_grad`` by ``ember.jit.trace.trace``, giving the IR
graph (jit/ir.py); with ``dynamic_axes`` it is traced a second time with those axes grown (builder.py). Each
IR node is then either folded (all its inputs known at export time: constants, and with
``do_constant_folding`` parameters too) or lowered by the function registered for its Op class
(registry.py, lower_*.py). In-place kernels (``relu_``, ``+=``) rebind their target's ONNX name. The model is
assembled with ``onnx.helper``, checked with ``onnx.checker.check_model`` and written atomically.
"""
import inspect
import os

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from ..jit.ir import Value, param_values
from ..jit.trace import trace
from .builder import PRIMES, Builder, Symbol
from .errors import OnnxExporterError, UnsupportedOperatorError
from .registry import KERNEL_LOWERINGS, LOWERINGS

__all__ = ["export"]

MIN_OPSET = 13


def export(model, args, f, *, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
           do_constant_folding=True, export_params=True, verbose=False):
    """Export ``model`` (a Module or a function of tensors) to the ONNX file ``f`` (a path or a binary file object),
    with ``torch.onnx.export``'s (TorchScript exporter's) calling convention.

    ``args``: a tensor, or a tuple of arguments (tensors, nested tuples/lists of tensors, other values taken as
    constants), optionally ending with a dict of keyword arguments. ``input_names`` / ``output_names`` name the
    flattened tensor inputs and outputs; ``dynamic_axes`` maps a name to a list of axes (or a dict axis -> name)
    whose size is left symbolic. Parameters and buffers become initializers (``export_params=False``: graph
    inputs instead). The model runs in eval mode (restored afterwards). Returns the ``onnx.ModelProto``.
    Raises ``UnsupportedOperatorError`` naming the ember op and the source line when an op has no lowering."""
    onnx = _import_onnx()
    from . import lower_elementwise, lower_nn, lower_recurrent, lower_shape  # noqa: F401  (register lowerings)

    opset = _check_opset(onnx, opset_version)
    args, kwargs = _split_args(args)
    flat, rebuild = _flatten(args, kwargs)
    if not flat:
        raise ValueError("ember.onnx.export: args contain no tensor; the graph would have no input")

    def fn(*tensors):
        a, k = rebuild(tensors)
        return model(*a, **k)

    in_names = _names(input_names, len(flat), _default_input_names(model, args, len(flat)), "input_names")
    axes = _parse_dynamic_axes(dynamic_axes)
    with _eval_mode(model), no_grad():
        graph = _trace(fn, flat)
        outputs = graph.output_values()
        if not outputs:
            raise OnnxExporterError("ember.onnx.export: the model returned no tensor")
        default_out = ["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))]
        out_names = _names(output_names, len(outputs), default_out, "output_names")
        if set(in_names) & set(out_names):
            raise ValueError(f"ember.onnx.export: {sorted(set(in_names) & set(out_names))} named both an input and "
                             "an output")
        _check_axes(axes, in_names, out_names, graph, outputs)
        symbols = _symbols(axes, in_names, flat)
        twins = {}
        if symbols:
            grown = [_grow(t, axes.get(name, {}), symbols) for t, name in zip(flat, in_names)]
            twins = _match(graph, _trace(fn, grown))
    params = _param_names(model)
    g = Builder(opset, twins, symbols.values(), export_params, params)
    for v, name in zip(graph.inputs, in_names):
        g.bind(v, name)
    g.taken.update(out_names)  # (internal names never take an output's name)
    _load_known(g, graph, export_params)
    _lower_all(g, graph, outputs, do_constant_folding)
    proto = _assemble(onnx, g, graph, outputs, in_names, out_names, axes, symbols, opset,
                      _graph_name(model))
    onnx.checker.check_model(proto, full_check=True)
    _write(proto, f)
    if verbose:
        printer = getattr(onnx, "printer", None)
        print(printer.to_text(proto.graph) if printer is not None else onnx.helper.printable_graph(proto.graph))
    return proto


# ---- arguments ---------------------------------------------------------------------------------------------------
def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ember.onnx.export needs the onnx package: pip install 'ember[onnx]' "
                          "(or pip install onnx onnxruntime)") from None
    return onnx


def _check_opset(onnx, opset_version):
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= newest:
        raise ValueError(f"ember.onnx.export: opset_version must be an int in [{MIN_OPSET}, {newest}], "
                         f"got {opset_version!r}")
    return opset_version


def _split_args(args):
    if isinstance(args, Tensor):
        return (args,), {}
    if isinstance(args, list):
        args = tuple(args)
    if not isinstance(args, tuple):
        raise TypeError(f"ember.onnx.export: args must be a tensor or a tuple, got {type(args).__name__}")
    if args and isinstance(args[-1], dict):
        return args[:-1], dict(args[-1])
    return args, {}


def _flatten(args, kwargs):
    """The tensors inside (args, kwargs) in order, and a function rebuilding (args, kwargs) from new tensors."""
    flat = []

    def walk(o):
        if isinstance(o, Tensor):
            flat.append(o)
        elif isinstance(o, (tuple, list)):
            for x in o:
                walk(x)
        elif isinstance(o, dict):
            for x in o.values():
                walk(x)

    walk((args, kwargs))

    def rebuild(tensors):
        it = iter(tensors)

        def build(o):
            if isinstance(o, Tensor):
                return next(it)
            if isinstance(o, (tuple, list)):
                return type(o)(build(x) for x in o)
            if isinstance(o, dict):
                return {k: build(x) for k, x in o.items()}
            return o

        return build(args), build(kwargs)

    return flat, rebuild


def _default_input_names(model, args, n):
    """The forward's parameter names when each positional argument is one tensor, else input_0, input_1..."""
    if len(args) == n and all(isinstance(a, Tensor) for a in args):
        try:
            params = list(inspect.signature(getattr(model, "forward", model)).parameters.values())
        except (TypeError, ValueError):
            params = []
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:n]
        if len(names) == n:
            return names
    return ["input"] if n == 1 else [f"input_{i}" for i in range(n)]


def _graph_name(model):
    name = type(model).__name__ if hasattr(model, "forward") else getattr(model, "__name__", "")
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return name if name and not name[0].isdigit() else "ember_graph"


def _names(given, n, default, what):
    if given is None:
        return default
    given = [str(x) for x in given]
    if len(given) > n:
        raise ValueError(f"ember.onnx.export: {len(given)} {what} given for {n} tensors")
    names = given + default[len(given):]
    if len(set(names)) != len(names):
        raise ValueError(f"ember.onnx.export: {what} repeat a name: {names}")
    return names


def _parse_dynamic_axes(dynamic_axes):
    """{name: {axis: symbol}}; a list of axes gets torch's symbol names (``<name>_dynamic_axes_<k>``)."""
    out = {}
    for name, spec in (dynamic_axes or {}).items():
        if isinstance(spec, dict):
            out[name] = {int(a): str(s) for a, s in spec.items()}
        elif isinstance(spec, (list, tuple)):
            out[name] = {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(spec)}
        else:
            raise TypeError(f"ember.onnx.export: dynamic_axes[{name!r}] must be a list of axes or a dict "
                            f"{{axis: name}}, got {type(spec).__name__}")
    return out


def _check_axes(axes, in_names, out_names, graph, outputs):
    ranks = {n: len(v.shape) for n, v in zip(in_names, graph.inputs)}
    ranks.update({n: len(v.shape) for n, v in zip(out_names, outputs)})
    for name, spec in axes.items():
        if name not in ranks:
            raise ValueError(f"ember.onnx.export: dynamic_axes names {name!r}, which is neither an input name "
                             f"{in_names} nor an output name {out_names}")
        for a in list(spec):
            if not -ranks[name] <= a < ranks[name]:
                raise ValueError(f"ember.onnx.export: dynamic_axes[{name!r}] has axis {a}, out of range for "
                                 f"a tensor of {ranks[name]} dims")
            if a < 0:
                spec[a % ranks[name]] = spec.pop(a)


def _symbols(axes, in_names, flat):
    symbols = {}
    for name, t in zip(in_names, flat):
        for axis, sym in sorted(axes.get(name, {}).items()):
            size = t._data.shape[axis]
            s = symbols.get(sym)
            if s is None:
                if len(symbols) == len(PRIMES):
                    raise ValueError(f"ember.onnx.export: at most {len(PRIMES)} distinct dynamic axes")
                symbols[sym] = Symbol(sym, size, PRIMES[len(symbols)], name, axis)
            elif s.size != size:
                raise ValueError(f"ember.onnx.export: dynamic axis {sym!r} has size {s.size} in input "
                                 f"{s.source!r} but {size} in input {name!r}")
    return symbols


def _grow(t, spec, symbols):
    """The input for the second trace: each dynamic axis repeated (its symbol's prime) times."""
    arr = t._data
    for axis, sym in spec.items():
        arr = np.concatenate([arr] * symbols[sym].prime, axis=axis)
    return _make(np.ascontiguousarray(arr))


class _eval_mode:
    """Put a module in eval mode for the export and restore every submodule's flag afterwards."""

    def __init__(self, model):
        self.saved = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
        self.model = model

    def __enter__(self):
        if self.saved:
            self.model.eval()

    def __exit__(self, *exc):
        for m, flag in self.saved:
            m.training = flag
        return False


def _param_names(model):
    names = {}
    if hasattr(model, "named_parameters"):
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            names.setdefault(id(t), name)
    return names


# ---- tracing ------------------------------------------------------------------------------------------------------
def _trace(fn, flat):
    _, tracer = trace(fn, list(flat), {})
    if tracer.breaks:
        what, site = tracer.breaks[0]
        raise OnnxExporterError(f"ember.onnx.export: {what} at {site} while tracing; data-dependent Python control "
                                "flow cannot be exported as a static ONNX graph")
    return tracer.graph


def _match(a, b):
    """Pair each Value of trace ``a`` with its counterpart in trace ``b`` (same ops in the same order)."""
    twins = {}

    def changed(where):
        raise OnnxExporterError(f"ember.onnx.export: the traced graph changes when the dynamic axes change size "
                                f"({where}); the model's Python code depends on those sizes")

    def pair(xs, ys, where):
        if len(xs) != len(ys):
            changed(where)
        for x, y in zip(xs, ys):
            if len(x.shape) != len(y.shape):
                raise OnnxExporterError(f"ember.onnx.export: the rank of a tensor changes with the dynamic axes "
                                        f"({where})")
            twins[id(x)] = y

    pair(a.inputs, b.inputs, "inputs")
    for k, (m, n) in enumerate(zip(a.nodes, b.nodes)):
        where = f"{m.name} at {m.site}"
        if m.kind != n.kind or m.op is not n.op:
            changed(f"step {k}: {where} became {n.name} at {n.site}")
        pair(m.inputs, n.inputs, where)
        pair(m.outputs, n.outputs, where)
        pair(param_values(m.params), param_values(n.params), where)
        twins[id(m)] = n
    if len(a.nodes) != len(b.nodes):
        changed(f"{len(a.nodes)} vs {len(b.nodes)} steps")
    pair(a.output_values(), b.output_values(), "outputs")
    return twins


# ---- lowering -----------------------------------------------------------------------------------------------------
def _load_known(g, graph, export_params):
    for v in graph.constants:
        g.arrays[id(v)] = v.ref
    for v in graph.state:
        if export_params or id(v.ref) not in g.param_names:
            g.arrays[id(v)] = v.ref._data
            g.from_state.add(id(v))


def _lower_all(g, graph, outputs, folding):
    last_read, view_base = _reads_and_views(graph, outputs)
    for i, node in enumerate(graph.nodes):
        g.node = node
        if node.kind == "kernel":
            _lower_kernel(g, node, i, last_read, view_base)
            continue
        if node.kind != "op":
            raise OnnxExporterError(f"ember.onnx.export: the forward does more than compute (a .grad assignment, "
                                    f"an optimizer step or a backward: {node.name} at {node.site}); export an "
                                    "inference function")
        if _fold(g, node, folding):
            continue
        entry = LOWERINGS.get(node.op)
        if entry is None:
            reason = "it draws random numbers" if getattr(node.op, "random", False) else "no lowering is registered"
            raise UnsupportedOperatorError(node.name, node.site, g.opset, reason)
        fn, varying = entry
        _check_params(g, node, varying)
        result = fn(g, node)
        names = result if isinstance(result, (tuple, list)) else (result,)
        for v, name in zip(node.outputs, names):
            if name is not None:
                g.bind(v, name)
    g.node = None


def _reads_and_views(graph, outputs):
    """For each Value the index of its last reader (outputs: after the end), and the base a view was taken of."""
    last, base = {}, {}
    for i, n in enumerate(graph.nodes):
        for v in list(n.inputs) + param_values(n.params):
            last[id(v)] = i
        if n.kind == "op" and getattr(n.op, "is_view", False) and n.inputs:
            for v in n.outputs:
                base[id(v)] = (n.inputs[0], i)
    for v in outputs:
        last[id(v)] = len(graph.nodes)
    return last, base


def _fold(g, node, folding):
    """Evaluate an op whose inputs are all known with its own forward; its outputs become known arrays."""
    if getattr(node.op, "random", False):
        return False
    values = list(node.inputs) + param_values(node.params)
    if not all(id(v) in g.arrays for v in values):
        return False
    stateful = any(id(v) in g.from_state for v in values)
    if stateful and not folding:
        return False
    ctx = object.__new__(node.op)
    ctx.next_edges = None
    ctx._saved = None
    params = {k: _decode(p, g.arrays) for k, p in node.params.items() if not k.startswith("_")}
    try:
        out = node.op.forward(ctx, *[g.arrays[id(v)] for v in node.inputs], **params)
    except Exception:  # noqa: BLE001  (leave it to the lowering)
        return False
    results = out if isinstance(out, tuple) else (out,)
    for v, arr in zip(node.outputs, results):
        g.arrays[id(v)] = np.asarray(arr)
        if stateful:
            g.from_state.add(id(v))
    return True


def _decode(p, arrays):
    if isinstance(p, Value):
        return arrays[id(p)]
    if isinstance(p, tuple):
        return tuple(_decode(x, arrays) for x in p)
    if isinstance(p, list):
        return [_decode(x, arrays) for x in p]
    if isinstance(p, slice):
        return slice(_decode(p.start, arrays), _decode(p.stop, arrays), _decode(p.step, arrays))
    return p


def _lower_kernel(g, node, index, last_read, view_base):
    """An in-place write: folded when everything is known, else lowered and the target's name rebound."""
    target = node.inputs[0]
    kernel = getattr(node.op, "__name__", "?")
    if all(id(v) in g.arrays for v in node.inputs) and id(target) not in g.from_state:
        arr = g.arrays[id(target)].copy()
        node.op(arr, *_decode(node.params["args"], g.arrays))
        g.arrays[id(target)] = arr
        g.names.pop(id(target), None)
        return
    fn = KERNEL_LOWERINGS.get(kernel) if getattr(node.op, "__module__", "") == "ember._kernels" else None
    if fn is None:
        raise UnsupportedOperatorError(f"in-place {kernel}", node.site, g.opset, "no lowering is registered")
    if target.kind == "state":
        g.fail("the forward writes in place into a parameter or buffer (running statistics in train mode?)")
    _check_alias(g, target, index, last_read, view_base)
    name = fn(g, node)
    g.arrays.pop(id(target), None)
    g.bind(target, name)


def _check_alias(g, target, index, last_read, view_base):
    """ONNX has no aliasing: an in-place write is exported by renaming its target, which is only right when no
    other view of the same memory is read after the write."""
    def root(v):
        while id(v) in view_base:
            v = view_base[id(v)][0]
        return v

    r = root(target)
    for vid, (base, made) in view_base.items():  # views made before the write and read after it
        if made < index and vid != id(target) and root(base) is r and last_read.get(vid, -1) > index:
            g.fail("an in-place write into a tensor that shares memory with a view read later; use the "
                   "out-of-place op")
    if r is not target and last_read.get(id(r), -1) > index:
        g.fail("an in-place write into a view whose base tensor is read later; use the out-of-place op")


def _check_params(g, node, varying):
    twin = g.twins.get(id(node))
    if twin is None:
        return
    for k, p in node.params.items():
        if k.startswith("_") or k in varying:
            continue
        if not _same(p, twin.params.get(k)):
            g.fail(f"parameter {k}={p!r} of this op changes with the size of a dynamic axis, so it would be "
                   "hard-coded in the graph")


def _same(a, b):
    if isinstance(a, Value) or isinstance(b, Value):
        return isinstance(a, Value) and isinstance(b, Value)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, slice):
        return isinstance(b, slice) and all(_same(x, y) for x, y in ((a.start, b.start), (a.stop, b.stop),
                                                                     (a.step, b.step)))
    slots = getattr(type(a), "__slots__", None)
    if slots and type(a) is type(b) and not isinstance(a, (int, float, str)):
        return all(_same(getattr(a, s, None), getattr(b, s, None)) for s in slots)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


# ---- the model ----------------------------------------------------------------------------------------------------
def _assemble(onnx, g, graph, outputs, in_names, out_names, axes, symbols, opset, graph_name):
    helper = onnx.helper
    out_onnx = [g.name(v) for v in outputs]
    produced = {o for r in g.records for o in r[2]}
    rename, used = {}, set()
    for i, (name, wanted) in enumerate(zip(out_onnx, out_names)):
        if name in produced and name not in used and name not in rename:
            rename[name] = wanted
        else:  # an input, an initializer, or a value returned twice: give the output its own node
            g.records.append(["Identity", [name], [wanted], {}])
        used.add(name)
    nodes, live = [], _live(g.records, out_names, rename)
    read = {x for r in live for x in r[1]}
    for k, (op_type, ins, outs, attrs) in enumerate(live):
        nodes.append(helper.make_node(op_type, [rename.get(x, x) for x in ins], [rename.get(x, x) for x in outs],
                                      name=f"/{op_type}_{k}", **attrs))
    grown = {s.name: s for s in symbols.values()}

    def info(name, v, spec):
        dims = []
        twin = g.twin(v).shape
        for k, size in enumerate(v.shape):
            if k in spec:
                dims.append(spec[k])
            elif twin[k] != size:
                sym = next((s.name for s in grown.values() if twin[k] == size * s.prime and size == s.size), None)
                dims.append(sym or f"{name}_dim_{k}")
            else:
                dims.append(size)
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype), dims)

    inputs = [info(n, v, axes.get(n, {})) for n, v in zip(in_names, graph.inputs)]
    inputs += [info(n, v, {}) for n, v in g.param_inputs]
    outs = [info(n, v, axes.get(n, {})) for n, v in zip(out_names, outputs)]
    inits = [onnx.numpy_helper.from_array(np.asarray(a, order="C"), name) for name, a in g.initializers
             if name in read]
    onnx_graph = helper.make_graph(nodes, graph_name, inputs, outs, initializer=inits)
    opsets = [helper.make_opsetid("", opset)]
    from .. import __version__ as ember_version

    return helper.make_model(onnx_graph, opset_imports=opsets, producer_name="ember",
                             producer_version=str(ember_version), ir_version=helper.find_min_ir_version_for(opsets))


def _live(records, out_names, rename):
    """The records that contribute to an output (lowerings may leave nodes a later one bypassed)."""
    wanted = set(out_names) | {name for name, new in rename.items()}
    keep = []
    for r in reversed(records):
        if any(o in wanted for o in r[2]):
            keep.append(r)
            wanted.update(x for x in r[1] if x)
    return keep[::-1]


def _write(proto, f):
    data = proto.SerializeToString()
    if hasattr(f, "write"):
        f.write(data)
        return
    from ..io.atomic import atomic_write

    with atomic_write(os.fspath(f), "wb") as fh:
        fh.write(data)

