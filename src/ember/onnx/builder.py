"""The ONNX graph under construction while ``export`` walks the traced IR: names, initializers, nodes, and the
symbolic sizes of the dynamic axes.

Every IR Value gets one ONNX name (``name``). Values known at export time (constants of the trace, parameters,
results folded from them) live in ``arrays`` and become initializers only when a lowering reads them.

Dynamic axes: the model is traced twice, at the sizes given and with each dynamic axis ``k`` multiplied by the
k-th prime (``Symbol.prime``); ``twins`` maps each Value of the first trace to its counterpart in the second.
A dimension that differs between the two is dynamic, and since the growth factors are distinct primes its
ratio tells which symbols (and powers) it is the product of, times a constant: ``dim`` rebuilds it at run time
from ``Shape`` of the graph inputs, so that reshapes, expands and made-up tensors follow the actual sizes.
"""
import numpy as np

from ..jit.ir import Value
from .errors import OnnxExporterError, UnsupportedOperatorError

INT64_MAX = 2 ** 63 - 1
INT64_MIN = -2 ** 63
PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29)


class Symbol:
    """One named dynamic axis: its size in the first trace, its growth factor in the second, and where a
    graph input carries it (ONNX input name, axis)."""

    __slots__ = ("axis", "name", "prime", "size", "source")

    def __init__(self, name, size, prime, source, axis):
        self.name, self.size, self.prime, self.source, self.axis = name, size, prime, source, axis


class Builder:
    def __init__(self, opset, twins=None, symbols=(), export_params=True, param_names=None):
        self.opset = opset
        self.twins = twins or {}  # id(Value of the trace) -> Value of the second trace (dynamic axes)
        self.symbols = list(symbols)
        self.export_params = export_params
        self.param_names = param_names or {}  # id(Tensor) -> qualified parameter / buffer name
        self.records = []  # [op_type, inputs, outputs, attrs]
        self.initializers = []  # (name, ndarray)
        self.param_inputs = []  # (name, Value): parameters exported as graph inputs (export_params=False)
        self.names = {}  # id(Value) -> ONNX name
        self.arrays = {}  # id(Value) -> ndarray known at export time
        self.from_state = set()  # ids of known Values computed from parameters (folded only when asked to)
        self.taken = set()
        self.node = None  # the IR node being lowered (for messages)
        self._consts = {}
        self._sym_dims = {}
        self._n = 0

    # ---- messages --------------------------------------------------------------------------------------------
    def site(self):
        return getattr(self.node, "site", None) or "?"

    def unsupported(self, reason=""):
        """Raise UnsupportedOperatorError for the node being lowered."""
        raise UnsupportedOperatorError(self.node.name if self.node is not None else "?", self.site(), self.opset,
                                       reason)

    def fail(self, message):
        where = f"{self.node.name} at {self.site()}" if self.node is not None else "export"
        raise OnnxExporterError(f"ember.onnx.export: {message} (in {where})")

    # ---- names and values -------------------------------------------------------------------------------------
    def fresh(self, hint):
        while True:
            self._n += 1
            name = f"{hint}_{self._n}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def bind(self, value, name):
        self.names[id(value)] = name
        self.taken.add(name)

    def array(self, value):
        """The array of a Value known at export time, or None."""
        return self.arrays.get(id(value)) if isinstance(value, Value) else None

    def name(self, value):
        """The ONNX name of an IR Value (an initializer is made on first use for a known array)."""
        name = self.names.get(id(value))
        if name is not None:
            return name
        if id(value) in self.arrays:
            name = self._known(value, self.arrays[id(value)])
        elif value.kind == "state" and not self.export_params:
            name = self.param_names.get(id(value.ref)) or self.fresh("param")
            self.param_inputs.append((name, value))
        else:
            producer = value.producer
            what = f"an output of ember op '{producer.name}' (at {producer.site})" if producer is not None \
                else f"value %{value.name}"
            raise UnsupportedOperatorError(producer.name if producer is not None else "?",
                                           getattr(producer, "site", "?"), self.opset,
                                           f"{what} has no ONNX counterpart (e.g. pooling indices)")
        self.bind(value, name)
        return name

    def _known(self, value, arr):
        grown = self.twin(value).shape
        if grown != tuple(arr.shape):  # made inside forward with a size that follows a dynamic axis
            flat = arr.reshape(-1)
            if flat.size and bool((flat == flat[0]).all()):
                return self.op("Expand", self.const(flat[0]), self.shape_tensor(arr.shape, grown))
            self.fail(f"a tensor of shape {tuple(arr.shape)} whose size follows a dynamic axis was made inside "
                      "forward from data the exporter cannot rebuild at run time; make it from the input "
                      "(e.g. zeros_like) or do not mark that axis dynamic")
        hint = "const"
        if value.kind == "state":
            hint = self.param_names.get(id(value.ref)) or "const"
        return self.initializer(arr, hint, exact_name=value.kind == "state" and hint != "const")

    def initializer(self, arr, hint="const", exact_name=False):
        arr = np.asarray(arr)
        name = hint if exact_name and hint not in self.taken else self.fresh(hint)
        self.taken.add(name)
        self.initializers.append((name, arr))
        return name

    def const(self, value, dtype=None):
        """A small constant (shared between uses) of ``value``, as an array of ``dtype``."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        name = self._consts.get(key) if arr.size <= 64 else None
        if name is None:
            name = self.initializer(arr)
            if arr.size <= 64:
                self._consts[key] = name
        return name

    def ints(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1))

    def op(self, op_type, *inputs, outputs=1, **attrs):
        """Append one ONNX node; returns its output name (or the list of ``outputs`` names)."""
        outs = [self.fresh(op_type) for _ in range(outputs)]
        self.records.append([op_type, list(inputs), outs, attrs])
        return outs[0] if outputs == 1 else outs

    # ---- common node patterns -----------------------------------------------------------------------------------
    def cast(self, name, src_dtype, dst_dtype):
        src_dtype, dst_dtype = np.dtype(src_dtype), np.dtype(dst_dtype)
        if src_dtype == dst_dtype:
            return name
        from onnx.helper import np_dtype_to_tensor_dtype

        return self.op("Cast", name, to=int(np_dtype_to_tensor_dtype(dst_dtype)))

    def input_as(self, value, dtype):
        """The ONNX name of ``value`` cast to ``dtype`` (a known array is converted at export time)."""
        arr = self.array(value)
        if arr is not None and arr.dtype != np.dtype(dtype) and self.twin(value).shape == arr.shape:
            return self.const(arr.astype(dtype)) if arr.size <= 64 else self.initializer(arr.astype(dtype))
        return self.cast(self.name(value), value.dtype, dtype)

    def reduce(self, op_type, x, axes, keepdims):
        """ReduceX over ``axes`` (None: all); axes is an input of ReduceSum from opset 13, of the others from 18."""
        if axes is None or len(axes) == 0:
            return self.op(op_type, x, keepdims=int(keepdims))
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, self.ints(axes), keepdims=int(keepdims))
        return self.op(op_type, x, axes=axes, keepdims=int(keepdims))

    def unsqueeze(self, x, axes):
        return self.op("Unsqueeze", x, self.ints(axes))

    def squeeze(self, x, axes):
        return self.op("Squeeze", x, self.ints(axes))

    # ---- dynamic axes ------------------------------------------------------------------------------------------
    def twin(self, value):
        return self.twins.get(id(value), value)

    def dynamic(self, value):
        """Per dim of ``value``: True where its size follows a dynamic axis."""
        return tuple(a != b for a, b in zip(value.shape, self.twin(value).shape))

    def _symbol_dim(self, s):
        name = self._sym_dims.get(s.name)
        if name is None:
            shape = self._sym_dims.get(("shape", s.source)) or self.op("Shape", s.source)
            self._sym_dims[("shape", s.source)] = shape
            name = self.op("Gather", shape, self.ints([s.axis]), axis=0)
            self._sym_dims[s.name] = name
        return name

    def dim(self, size, grown, required=True):
        """A 1-element int64 tensor holding, at run time, the dimension that was ``size`` in the first trace and
        ``grown`` in the second: a constant times a product of dynamic axes (else an error, or None when not
        ``required``)."""
        if size == grown:
            return self.ints([size])
        factors, rest = [], grown // size if size and grown % size == 0 else 0
        for s in self.symbols:
            while rest and rest % s.prime == 0:
                rest //= s.prime
                factors.append(s)
        denominator = int(np.prod([s.size for s in factors])) if factors else 1
        if rest != 1 or size % denominator:
            if not required:
                return None
            self.fail(f"a size ({size}) that changes with the dynamic axes but is not a product of them (size "
                      f"{grown} when they grow) would be hard-coded in the graph")
        out = self._symbol_dim(factors[0])
        for s in factors[1:]:
            out = self.op("Mul", out, self._symbol_dim(s))
        if size // denominator != 1:
            out = self.op("Mul", out, self.ints([size // denominator]))
        return out

    def shape_tensor(self, shape, grown, minus_one=False):
        """A 1-D int64 shape tensor for a shape that was ``shape`` in the first trace and ``grown`` in the second;
        with ``minus_one`` a single dynamic dim is written as -1 (for Reshape)."""
        shape, grown = tuple(shape), tuple(grown)
        if shape == grown:
            return self.ints(shape)
        key = ("shape", shape, grown, minus_one)
        if key not in self._sym_dims:
            self._sym_dims[key] = self._shape_tensor(shape, grown, minus_one)
        return self._sym_dims[key]

    def _shape_tensor(self, shape, grown, minus_one):
        dynamic = [a != b for a, b in zip(shape, grown)]
        if minus_one and sum(dynamic) == 1:
            return self.ints([-1 if d else a for a, d in zip(shape, dynamic)])
        parts, static, inferred = [], [], False
        for a, b, d in zip(shape, grown, dynamic):
            if not d:
                static.append(a)
                continue
            part = self.dim(a, b, required=not minus_one or inferred)
            if part is None:  # Reshape infers this one (-1) from the others
                static.append(-1)
                inferred = True
                continue
            if static:
                parts.append(self.ints(static))
                static = []
            parts.append(part)
        if static:
            parts.append(self.ints(static))
        return self.op("Concat", *parts, axis=0)
