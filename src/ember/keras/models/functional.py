"""Functional models: a graph of layer calls from ``Input`` KerasTensors to output KerasTensors."""
from .._tree import flatten, map_structure
from ..backend import unique_name
from ..layers.base import InputLayer, KerasTensor, Layer
from .model import Model, _check_shape, register_layers

__all__ = ["Functional"]


def _history(t, what):
    if not isinstance(t, KerasTensor) or t._keras_history is None:
        raise ValueError(f"{what} must be KerasTensors made by keras.Input(...) and layer calls; got {t!r}")
    return t._keras_history


def _trace(inputs, outputs):
    """The nodes that connect ``inputs`` to ``outputs``, in creation (hence topological) order."""
    input_ids = {id(t) for t in inputs}
    seen, stack, nodes = set(), [], []
    for t in outputs:
        layer, node_index, _ = _history(t, "Model outputs")
        stack.append(layer._inbound_nodes[node_index])
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        if isinstance(node.layer, InputLayer) and not node.input_tensors:
            if id(node.outputs) not in input_ids:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {node.outputs} at layer "
                                 f'"{node.layer.name}". The following previous layers were accessed without issue: '
                                 f"{[n.layer.name for n in nodes if n is not node]}. Pass it in the model's inputs.")
            continue
        for t in node.input_tensors:
            layer, node_index, _ = _history(t, "Layer inputs")
            stack.append(layer._inbound_nodes[node_index])
    return sorted(nodes, key=lambda n: n.id)


def _layers_by_depth(inputs, outputs, nodes):
    """Layers in Keras's order: deepest first (distance from the outputs), ties broken by the order in which a
    depth-first walk from the outputs finishes them; input layers that feed nothing come first."""
    node_ids = {id(n) for n in nodes}
    finish, visited = [], set()

    def walk(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        for parent in node.parent_nodes:
            if id(parent) in node_ids:
                walk(parent)
        finish.append(node)

    for t in outputs:
        layer, node_index, _ = t._keras_history
        walk(layer._inbound_nodes[node_index])
    depth = {}
    for node in reversed(finish):  # outputs before their parents
        d = depth.setdefault(id(node), 0)
        for parent in node.parent_nodes:
            if id(parent) in node_ids:
                depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    layer_depth, layer_index = {}, {}
    for node in finish:
        layer_index.setdefault(id(node.layer), len(layer_index))
        layer_depth[id(node.layer)] = max(layer_depth.get(id(node.layer), 0), depth[id(node)])
    layers = {id(n.layer): n.layer for n in finish}
    ordered = sorted(layers.values(), key=lambda l: (-layer_depth[id(l)], layer_index[id(l)]))
    unused = [t._keras_history[0] for t in inputs if id(t._keras_history[0]) not in layers]
    return unused + ordered


class Functional(Model):
    """``Model(inputs, outputs)``: inputs/outputs are KerasTensors (single, list or dict)."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or unique_name("functional"), trainable=trainable, **kwargs)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for t in self.inputs:
            layer, _, _ = _history(t, "Model inputs")
            if not isinstance(layer, InputLayer):
                raise ValueError(f"Model inputs must come from keras.Input(); {t.name} was made by layer "
                                 f"'{layer.name}'")
        self._nodes = _trace(self.inputs, self.outputs)
        ordered = _layers_by_depth(self.inputs, self.outputs, self._nodes)
        names = [layer.name for layer in ordered]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"The name(s) {duplicates} are used by more than one layer; layer names in a model must "
                             "be unique")
        self._layer_list = ordered
        register_layers(self, ordered)
        self._node_set = {id(n) for n in self._nodes}
        self._build_input_shape = map_structure(lambda t: t.shape, inputs)
        self.built = True

    @property
    def layers(self):
        return list(self._layer_list)

    def _sublayers(self):
        return list(self._layer_list)

    @property
    def output_names(self):
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        return [t._keras_history[0].name for t in self.outputs]

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs]

    def _flat_inputs(self, inputs):
        if isinstance(inputs, dict):
            if isinstance(self._inputs_struct, dict):
                keys = list(self._inputs_struct)
            else:
                keys = self.input_names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(f"Missing data for input(s) {missing} of model '{self.name}'; got keys "
                                 f"{sorted(inputs)}")
            return [inputs[k] for k in keys]
        several = isinstance(inputs, (list, tuple)) and (len(self.inputs) > 1 or (
            inputs and all(hasattr(v, "shape") for v in inputs)))
        flat = list(inputs) if several else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self.inputs)} input(s), but it received "
                             f"{len(flat)} input tensors.")
        return flat

    def call(self, inputs, training=None):
        flat = self._flat_inputs(inputs)
        values = {}
        for i, (t, value) in enumerate(zip(self.inputs, flat)):
            _check_shape(self, i, t.shape, value)
            values[id(t)] = value
        for node in self._nodes:
            if isinstance(node.layer, InputLayer) and not node.input_tensors:
                continue

            def fetch(v):
                return values[id(v)] if isinstance(v, KerasTensor) else v

            args = map_structure(fetch, list(node.call_args))
            kwargs = map_structure(fetch, dict(node.call_kwargs))
            out = node.layer(*args, **kwargs)
            for t, o in zip(node.output_tensors, flatten(out)):
                values[id(t)] = o
        return map_structure(lambda t: values[id(t)], self._outputs_struct)

    def get_config(self):
        local_index = {}  # node id -> index among the layer's nodes that belong to this model
        for layer in self._layer_list:
            mine = [n for n in layer._inbound_nodes if id(n) in self._node_set]
            for i, n in enumerate(mine):
                local_index[id(n)] = i

        def ref(t):
            layer, node_index, tensor_index = t._keras_history
            return [layer.name, local_index[id(layer._inbound_nodes[node_index])], tensor_index]

        def encode(value):
            return {"__keras_tensor__": ref(value)} if isinstance(value, KerasTensor) else value

        layers = []
        for layer in self._layer_list:
            nodes = [n for n in layer._inbound_nodes if id(n) in self._node_set and n.input_tensors]
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config(), "name": layer.name,
                           "inbound_nodes": [{"args": map_structure(encode, list(n.call_args)),
                                              "kwargs": map_structure(encode, dict(n.call_kwargs))}
                                             for n in nodes]})
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": map_structure(ref, self._inputs_struct),
                "output_layers": map_structure(ref, self._outputs_struct)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .saving import layer_from_config

        created, tensors = {}, {}
        for spec in config["layers"]:
            layer = layer_from_config(spec, custom_objects)
            created[spec["name"]] = layer
            if isinstance(layer, InputLayer):
                tensors[(layer.name, 0, 0)] = layer.output

        def decode(value):
            if isinstance(value, dict):
                if "__keras_tensor__" in value:
                    return tensors[tuple(value["__keras_tensor__"])]
                return {k: decode(v) for k, v in value.items()}
            if isinstance(value, list):
                return [decode(v) for v in value]
            return value

        # call the layers in node order: repeat passes until every node's inputs exist
        pending = [(spec["name"], i, node) for spec in config["layers"] for i, node in enumerate(spec["inbound_nodes"])]
        while pending:
            progress, remaining = False, []
            for name, i, node in pending:
                refs = _refs([node["args"], node["kwargs"]])
                if all(r in tensors for r in refs):
                    layer = created[name]
                    out = layer(*decode(node["args"]), **decode(node["kwargs"]))
                    for j, t in enumerate(flatten(out)):
                        tensors[(name, len(layer._inbound_nodes) - 1, j)] = t
                    progress = True
                else:
                    remaining.append((name, i, node))
            if not progress:
                raise ValueError("model config: the layer graph cannot be rebuilt (a node's inputs never appear)")
            pending = remaining
        inputs = map_structure(lambda r: tensors[tuple(r)], _ref_structure(config["input_layers"]))
        outputs = map_structure(lambda r: tensors[tuple(r)], _ref_structure(config["output_layers"]))
        return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _refs(value):
    """Every [layer, node, tensor] reference inside an encoded argument structure."""
    if isinstance(value, dict):
        if "__keras_tensor__" in value:
            return [tuple(value["__keras_tensor__"])]
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _ref_structure(value):
    """JSON lists of [name, node, tensor] refs back to a structure whose leaves are refs."""
    if isinstance(value, dict):
        return {k: _ref_structure(v) for k, v in value.items()}
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return _RefLeaf(value)
    return [_ref_structure(v) for v in value]


class _RefLeaf:
    def __init__(self, ref):
        self.ref = ref

    def __iter__(self):
        return iter(self.ref)
