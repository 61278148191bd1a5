"""Native kernels for small arrays (``ember.compile(..., mode="reduce-overhead")``; needs numba).

On a tiny model every NumPy call costs more than its arithmetic: a 2-4-1 MLP's compiled step is ~45 µs of
~60 NumPy calls at 0.5-1 µs each. This pass replaces each run of consecutive ops that work on small arrays
(every operand at most ``MAX_ELEMENTS`` elements, every matrix product at most ``MAX_MACS``
multiply-adds) with one numba-compiled function: plain loops over the static shapes, one call instead of
dozens. The function's Python source is shown in ``step.source`` above the step itself.

Results are within float32 rounding of eager mode, not bitwise: the loops' exp/log/tanh are LLVM's libm
calls (NumPy's float32 transcendentals are its own SIMD code), sums and products accumulate left to right
(NumPy sums pairwise, BLAS in its own blocked order). That is why the pass is not in ``DEFAULT_PASSES``.

Each op that can run natively has a lowering in ``LOWERINGS``: a function of the node giving the loop body
that computes one element of each output (``None``: this node's parameters are not supported). ``.grad``
assignments inside a run move after its kernel (no op reads ``.grad``); anything else (an in-place kernel,
an optimizer call, an unsupported op) ends the run.
"""
import os
import sys
import tempfile
import types

import numpy as np

from ..ir import Node, Value, param_values

MAX_ELEMENTS = 4096
MAX_MACS = 4096  # numba's scalar loops: ~0.55 ns per multiply-add; a BLAS call ~1-1.5 µs + far less per MAC
# numba compiles each kernel when the step is traced (~0.3-1.5 s each): a graph gets at most this many, the
# longest runs first
MAX_KERNELS = 8
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.intp))


def available():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def run(graph):
    backward_targets = {id(n.target) for n in graph.nodes if n.kind == "backward"}
    runs, current = [], []  # runs of consecutive lowerable ops (.grad assignments between them skipped)
    for n in graph.nodes:
        if _lowerable(n, backward_targets, current):
            current.append(n)
        elif n.kind == "set_grad" and current:
            continue  # moved after its run's kernel (below)
        else:
            if len(current) >= 2:
                runs.append(current)
            current = []
    if len(current) >= 2:
        runs.append(current)
    if not runs or not available():  # (numba is imported only when there is something to compile)
        return graph
    read_outside = _read_outside(graph)
    replaced = {}  # id(first op of a run) -> kernel node; other ops of the run -> None
    for ops in sorted(runs, key=len, reverse=True)[:MAX_KERNELS]:
        node = _make_kernel_node(ops, read_outside)
        if node is not None:
            replaced[id(ops[0])] = node
            replaced.update((id(n), None) for n in ops[1:])
    out, pending = [], []  # pending: .grad assignments waiting for the end of their run
    in_run = False
    for n in graph.nodes:
        if id(n) in replaced:
            if replaced[id(n)] is not None:
                out.extend(pending)
                pending = []
                out.append(replaced[id(n)])
            in_run = True
            continue
        if in_run and n.kind == "set_grad":
            pending.append(n)
            continue
        out.extend(pending)
        pending = []
        in_run = False
        out.append(n)
    out.extend(pending)
    graph.nodes = out
    return graph


def _read_outside(graph):
    """A function (value id, nodes of a run) -> whether a node outside the run reads the value, or the step
    returns it."""
    returned = {id(v) for v in graph.output_values()}
    users = graph.users()

    def read_outside(vid, run_ids):
        return vid in returned or any(id(u) not in run_ids for u in users.get(vid, ()))

    return read_outside


def operands(n):
    """The Values a lowered node reads: its inputs, then the params listed in ``PARAM_INPUTS`` (a class target)."""
    return list(n.inputs) + [n.params[k] for k in PARAM_INPUTS.get(n.op.__name__, ())]


def _lowerable(n, backward_targets, current):
    if n.kind != "op" or id(n) in backward_targets or "_has_backward_call" in n.params:
        return False
    low = LOWERINGS.get(n.op.__name__)
    if low is None:
        return False
    index_params = PARAM_INPUTS.get(n.op.__name__, ())
    if any(not isinstance(n.params.get(k), Value) or n.params[k].dtype not in _INDEX_DTYPES
           for k in index_params):
        return False
    floats = list(n.inputs) + n.all_outputs()
    values = floats + [n.params[k] for k in index_params]
    if not floats or any(int(np.prod(v.shape)) > MAX_ELEMENTS for v in values):
        return False
    if any(v.dtype not in _DTYPES for v in floats) or len({v.dtype for v in floats}) != 1:
        return False
    if current and current[0].outputs[0].dtype != floats[0].dtype:
        return False
    if any(k not in index_params for k, v in n.params.items() if isinstance(v, Value)) or \
            len(param_values(n.params)) != len(index_params):
        return False
    return low(n) is not None


# ---- lowering ---------------------------------------------------------------------------------------------------
# A lowering returns ("map", loop shape, statements), ("block", None, statements) or None (not supported).
# "map" statements compute one element at the loop index and may use {in0}, {in1}... (the operands' elements
# at the broadcast index), {out0}, {out1}... (the outputs' elements), {tmp} (a prefix for temporaries) and
# ``_z``/``_o`` (0 and 1 in the dtype). "block" statements are whole loop nests (matrix products, reductions,
# softmax rows): there {in0}..., {out0}... are the array names.

def _elementwise(template):
    def lower(n):
        return ("map", n.outputs[0].shape, [f"{{out0}} = {template}"])
    return lower


def _relu(n):
    return ("map", n.outputs[0].shape, ["{tmp}a = {in0}",
                                        "{out0} = {tmp}a if ({tmp}a >= _z or {tmp}a != {tmp}a) else _z"])


def _maximum(op):
    def lower(n):
        return ("map", n.outputs[0].shape, ["{tmp}a = {in0}", "{tmp}b = {in1}",
                                            f"{{out0}} = {{tmp}}a if ({{tmp}}a {op} {{tmp}}b or {{tmp}}a != {{tmp}}a) "
                                            "else {tmp}b"])
    return lower


def _sigmoid(n):  # as ops.unary.sigmoid_array: e = exp(-|x|); (1 if x >= 0 else e) / (1 + e)
    return ("map", n.outputs[0].shape, ["{tmp}x = {in0}", "{tmp}e = np.exp(-abs({tmp}x))",
                                        "{out0} = (_o if {tmp}x >= _z else {tmp}e) / (_o + {tmp}e)"])


def _relu_grad(n):  # g * (y != 0)
    return ("map", n.outputs[0].shape, ["{out0} = {in0} * (_o if {in1} != _z else _z)"])


def _bce_with_logits(n):  # ops.loss.BinaryCrossEntropyWithLogits without weights; aux output: exp(-|x|)
    if n.params.get("weight") is not None or n.params.get("pos_weight") is not None:
        return None
    if any(path != ("saved", 2) for _, path in n.aux):
        return None
    body = ["{tmp}x = {in0}", "{tmp}n = -{tmp}x",
            "{tmp}e = np.exp({tmp}n if ({tmp}n <= {tmp}x or {tmp}n != {tmp}n) else {tmp}x)",
            "{tmp}l = ({tmp}n if ({tmp}n >= _z or {tmp}n != {tmp}n) else _z) + np.log1p({tmp}e)",
            "{out0} = (_o - {in1}) * {tmp}x + {tmp}l"]
    if n.aux:
        body.append("{out1} = {tmp}e")
    return ("map", n.outputs[0].shape, body)


def _bce_input_grad(n):  # g * (sigmoid(x) - t), the sigmoid from e = exp(-|x|)
    return ("map", n.outputs[0].shape, ["{tmp}e = {in3}",
                                        "{tmp}s = (_o if {in1} >= _z else {tmp}e) / (_o + {tmp}e)",
                                        "{out0} = {in0} * ({tmp}s - {in2})"])


def _matmul_like(kind):
    def lower(n):
        a, b = n.inputs[0].shape, n.inputs[1].shape
        if len(a) != 2 or len(b) != 2:
            return None
        if kind == "Linear":  # x (N, K) @ w (M, K).T (+ b)
            m, k, cols = a[0], a[1], b[0]
            term = "{in0}[i, k] * {in1}[j, k]"
        elif kind == "Matmul":  # a (N, K) @ b (K, M)
            m, k, cols = a[0], a[1], b[1]
            term = "{in0}[i, k] * {in1}[k, j]"
        else:  # TransposedMatmul: a (K, N).T @ b (K, M)
            m, k, cols = a[1], a[0], b[1]
            term = "{in0}[k, i] * {in1}[k, j]"
        if m * k * cols > MAX_MACS:
            return None
        bias = " + {in2}[j]" if kind == "Linear" and len(n.inputs) == 3 else ""
        return ("block", None, [f"for i in range({m}):",
                                f"    for j in range({cols}):",
                                "        acc = _z",
                                f"        for k in range({k}):",
                                f"            acc += {term}",
                                f"        {{out0}}[i, j] = acc{bias}"])
    return lower


def _reduction(mean):
    def lower(n):
        if not mean and n.params.get("dtype") is not None:
            return None
        shape = n.inputs[0].shape
        axes = n.params.get("axes")
        axes = tuple(range(len(shape))) if axes is None else tuple(a % max(len(shape), 1) for a in axes)
        keep = n.params.get("keepdim", False)
        idx = [f"i{d}" for d in range(len(shape))]
        out_idx = [("0" if keep else None) if d in axes else idx[d] for d in range(len(shape))]
        out_idx = [x for x in out_idx if x is not None]
        target = "{out0}[" + ", ".join(out_idx) + "]" if out_idx else "{out0}[()]"
        lines = ["{out0}.fill(_z)" if n.outputs[0].shape else "{out0}[()] = _z"]
        for d, size in enumerate(shape):
            lines.append("    " * d + f"for i{d} in range({size}):")
        src = "{in0}[" + ", ".join(idx) + "]" if idx else "{in0}[()]"
        lines.append("    " * len(shape) + f"{target} += {src}")
        if mean:
            count = int(np.prod([shape[a] for a in axes])) if shape else 1
            out_shape = n.outputs[0].shape
            for d, size in enumerate(out_shape):
                lines.append("    " * d + f"for o{d} in range({size}):")
            at = "{out0}[" + ", ".join(f"o{d}" for d in range(len(out_shape))) + "]" if out_shape else "{out0}[()]"
            lines.append("    " * len(out_shape) + f"{at} = {at} / _T({count})")
        return ("block", None, lines)
    return lower


def _rows_cols(n):
    """(rows, columns) of a softmax-like op's 2-D input over its last dim, or None."""
    shape = n.inputs[0].shape
    return shape if len(shape) == 2 and n.params.get("dim") in (1, -1) and shape[1] else None


def _log_softmax(n):  # as ops.activation.LogSoftmax over the last dim of a 2-D input: x - max - log(sum(exp))
    if _rows_cols(n) is None:
        return None
    rows, cols = _rows_cols(n)
    return ("block", None, [f"for i in range({rows}):",
                            "    m = {in0}[i, 0]",
                            f"    for j in range(1, {cols}):",
                            "        v = {in0}[i, j]",
                            "        if v > m or v != v:",  # NumPy's max: NaN wins
                            "            m = v",
                            "    acc = _z",
                            f"    for j in range({cols}):",
                            "        acc += np.exp({in0}[i, j] - m)",
                            "    acc = np.log(acc)",
                            f"    for j in range({cols}):",
                            "        {out0}[i, j] = ({in0}[i, j] - m) - acc"])


def _log_softmax_grad(n):  # g - exp(y) * sum(g) over the last dim
    if _rows_cols(n) is None:
        return None
    rows, cols = _rows_cols(n)
    return ("block", None, [f"for i in range({rows}):",
                            "    acc = _z",
                            f"    for j in range({cols}):",
                            "        acc += {in0}[i, j]",
                            f"    for j in range({cols}):",
                            "        {out0}[i, j] = {in0}[i, j] - np.exp({in1}[i, j]) * acc"])


def _target_check(cols, ignore):
    """Statements reading the class target of row i into ``t`` (0 for an ignored row) and ``w`` (1 or 0), and
    refusing an index outside [0, cols) as NllLoss.forward does (ops.loss._check_bounds)."""
    return ["    t = {in%d}[i]", "    w = _o",
            f"    if t == {ignore}:", "        t = 0", "        w = _z",
            f"    elif t < 0 or t >= {cols}:",
            "        raise IndexError('nll_loss: a target is out of bounds')"]


def _nll_loss(n):  # -logp[i, t[i]] * w[i], summed left to right; 'mean' divides by the number of counted rows
    shape = n.inputs[0].shape
    red = n.params.get("reduction")
    if len(shape) != 2 or n.params.get("weight") is not None or red not in ("mean", "sum", "none"):
        return None
    rows, cols = shape
    lines = ["tot = _z", "cnt = _z", f"for i in range({rows}):"]
    lines += [x.replace("%d", "1") for x in _target_check(cols, int(n.params["ignore_index"]))]
    if red == "none":
        lines.append("    {out0}[i] = -({in0}[i, t] * w)")
    else:
        lines += ["    tot += -({in0}[i, t] * w)", "    cnt += w"]
        lines.append("{out0}[()] = tot / cnt" if red == "mean" else "{out0}[()] = tot")
    return ("block", None, lines)


def _nll_loss_grad_weights(n):  # -w[i] (/ the count for 'mean') at [i, t[i]], zeros elsewhere
    shape = n.params.get("shape")
    red = n.params.get("reduction")
    if shape is None or len(shape) != 2 or n.params.get("weight") is not None or red not in ("mean", "sum", "none"):
        return None
    rows, cols = shape
    lines = ["{out0}.fill(_z)"]
    if red == "mean":
        lines += ["cnt = _z", f"for i in range({rows}):",
                  f"    if {{in0}}[i] != {int(n.params['ignore_index'])}:", "        cnt += _o"]
    lines.append(f"for i in range({rows}):")
    lines += [x.replace("%d", "0") for x in _target_check(cols, int(n.params["ignore_index"]))]
    lines.append("    {out0}[i, t] = -(w / cnt)" if red == "mean" else "    {out0}[i, t] = -w")
    return ("block", None, lines)


LOWERINGS = {
    "Add": _elementwise("{in0} + {in1}"), "Sub": _elementwise("{in0} - {in1}"),
    "Mul": _elementwise("{in0} * {in1}"), "Div": _elementwise("{in0} / {in1}"),
    "Neg": _elementwise("-{in0}"), "Exp": _elementwise("np.exp({in0})"), "Log": _elementwise("np.log({in0})"),
    "Tanh": _elementwise("np.tanh({in0})"), "Sqrt": _elementwise("np.sqrt({in0})"),
    "Relu": _relu, "Maximum": _maximum(">="), "Minimum": _maximum("<="), "Sigmoid": _sigmoid,
    "ReluGrad": _relu_grad, "BinaryCrossEntropyWithLogits": _bce_with_logits,
    "BCEWithLogitsInputGrad": _bce_input_grad,
    "Linear": _matmul_like("Linear"), "Matmul": _matmul_like("Matmul"),
    "TransposedMatmul": _matmul_like("TransposedMatmul"),
    "Sum": _reduction(False), "Mean": _reduction(True),
    "LogSoftmax": _log_softmax, "LogSoftmaxGrad": _log_softmax_grad, "NllLoss": _nll_loss,
    "NllLossGradWeights": _nll_loss_grad_weights,
}
PARAM_INPUTS = {"NllLoss": ("target",), "NllLossGradWeights": ("target",)}  # class targets: Values in params


def _broadcast_index(shape, out_shape):
    """The index expression of an operand of ``shape`` inside loops i0.. over ``out_shape`` (NumPy's rules)."""
    if not shape:
        return "[()]"
    n, m = len(out_shape), len(shape)
    return "[" + ", ".join(f"i{n - m + d}" if shape[d] == out_shape[n - m + d] else "0" for d in range(m)) + "]"


def _make_kernel_node(ops, read_outside):
    """One ``native`` node computing ``ops``: the numba function and the Values it reads and returns."""
    produced, inputs, seen = set(), [], set()
    for n in ops:
        for v in operands(n):
            if id(v) not in produced and id(v) not in seen:
                seen.add(id(v))
                inputs.append(v)
        produced.update(id(v) for v in n.all_outputs())
    run_ids = {id(n) for n in ops}
    outputs = [v for n in ops for v in n.all_outputs() if read_outside(id(v), run_ids)]
    dtype = ops[0].outputs[0].dtype
    arg = {id(v): f"a{i}" for i, v in enumerate(inputs)}
    local = {}
    body = ["_z = _T(0)", "_o = _T(1)"]
    for j, n in enumerate(ops):
        for v in n.all_outputs():
            local[id(v)] = v.name
            shape = "()" if not v.shape else "(" + ", ".join(map(str, v.shape)) + ",)"
            body.append(f"{v.name} = np.empty({shape}, _T)")
        kind, loop_shape, stmts = LOWERINGS[n.op.__name__](n)
        names = [local.get(id(v), arg.get(id(v))) for v in operands(n)]
        outs = [v.name for v in n.all_outputs()]
        body.append(f"# {n.op.__name__}")
        if kind == "block":
            fmt = {f"in{i}": name for i, name in enumerate(names)}
            fmt.update({f"out{i}": name for i, name in enumerate(outs)})
            body.extend(s.format(**fmt, tmp=f"t{j}_") for s in stmts)
            continue
        fmt = {f"in{i}": name + _broadcast_index(v.shape, loop_shape)
               for i, (name, v) in enumerate(zip(names, operands(n)))}
        fmt.update({f"out{i}": name + _broadcast_index(loop_shape, loop_shape) for i, name in enumerate(outs)})
        for d, size in enumerate(loop_shape):
            body.append("    " * d + f"for i{d} in range({size}):")
        indent = "    " * len(loop_shape)
        body.extend(indent + s.format(**fmt, tmp=f"t{j}_") for s in stmts)
    body.append("return (" + "".join(f"{local[id(v)]}, " for v in outputs) + ")")
    name = f"native_{ops[0].outputs[0].name}"
    args = ", ".join(arg[id(v)] for v in inputs)
    source = f"def {name}({args}):\n" + "".join(f"    {line}\n" for line in body)
    kernel = _compile(source, name, dtype, inputs)
    if kernel is None:
        return None
    node = Node("native", kernel, inputs, {"_source": source, "ops": tuple(n.op.__name__ for n in ops)}, outputs)
    node.text = name
    return node


def _compile(source, name, dtype, inputs):
    """The numba function for ``source``, compiled now for the inputs' types (any memory layout, read-only), or
    None if numba cannot compile it (the run then stays NumPy code). With a cache directory, numba keeps the
    machine code on disk next to a copy of the source (``_source_file``), so a later process loads it."""
    import numba

    from ... import _fused

    path = _source_file(source, dtype)
    # the function's globals are a module registered in sys.modules: numba's cache, when it loads a kernel,
    # finds the kernel's globals again by importing the module's name
    module = types.ModuleType(f"ember_native_{os.path.basename(path)[7:-3]}" if path else f"ember_native_{name}")
    env = module.__dict__
    env.update(np=np, _T=dtype.type)
    exec(compile(source, path or f"<ember.compile native:{name}>", "exec"), env)
    sys.modules.setdefault(module.__name__, module)
    sig = tuple(numba.types.Array(numba.from_dtype(v.dtype), len(v.shape), "A", readonly=True) for v in inputs)
    try:
        kernel = numba.njit(cache=path is not None, error_model="numpy")(env[name])
        lean_cache = _fused._lean_cache_class() if path is not None else None
        if lean_cache is not None:
            kernel._cache = lean_cache(env[name])
        kernel.compile(sig)
        kernel.disable_compile()  # (calls convert their arrays to the compiled signature)
    except Exception:  # noqa: BLE001 - a numba typing/lowering failure: keep the NumPy code for this run
        return None
    return kernel


def cache_dir():
    """Where native kernels are cached: ``$EMBER_CACHE_DIR/native``, else ``$XDG_CACHE_HOME/ember/native`` (by
    default ``~/.cache/ember/native``); None when ``EMBER_CACHE_DIR`` is empty (no cache)."""
    root = os.environ.get("EMBER_CACHE_DIR")
    if root is None:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ember")
    return os.path.join(root, "native") if root else None


def _source_file(source, dtype):
    """The path of a file holding exactly ``source`` in the cache directory (written atomically if missing), or
    None without a usable cache directory. The directory is created private (0700); one not owned by this
    user, or writable by group or others, is not used. The file is never imported: the kernel is compiled from the source in memory under this
    file name, which is what numba's cache indexes by."""
    import hashlib

    import numba

    d = cache_dir()
    if not d:
        return None
    key = hashlib.sha256(f"{numba.__version__}|{dtype.str}|{source}".encode()).hexdigest()[:24]
    path = os.path.join(d, f"native_{key}.py")
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
        st = os.stat(d)
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            return None  # someone else's, or writable by others: numba's cache there could be planted
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == source:
                    return path
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".native_", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        return None
    return path
