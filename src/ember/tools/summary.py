"""``ember.summary(model, input_size)``: each module's output shape and parameter count, found by running the
model once on zeros with forward hooks (torchinfo's layout).

``input_size`` includes the batch dimension, e.g. ``(1, 1, 28, 28)``; several inputs are a list of sizes.
Modules appear in call order, indented by depth (``depth`` limits how deep); a module's ``Param #`` counts its
own parameters, ``--`` when it has none (its children's are listed with them). Works for ``ember.nn`` modules
and ``ember.keras`` models alike.
"""
import numpy as np

from .._tensor import Tensor, from_numpy
from ..autograd.grad_mode import no_grad

__all__ = ["summary", "ModelSummary"]

_RULE_WIDTH = 90


def _shape_text(output):
    tensors = _tensors(output)
    if not tensors:
        return "--"
    if len(tensors) == 1:
        return str(list(tensors[0].shape))
    return "[" + ", ".join(str(list(t.shape)) for t in tensors) + "]"


def _tensors(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _make_inputs(input_size, dtypes):
    sizes = input_size
    single = isinstance(sizes, (tuple, list)) and all(isinstance(s, int) for s in sizes)
    sizes = [tuple(sizes)] if single else [tuple(s) for s in sizes]
    if dtypes is None:
        dtypes = [None] * len(sizes)
    out = []
    for size, dtype in zip(sizes, dtypes):
        if any((not isinstance(s, int)) or s < 0 for s in size):
            raise ValueError(f"summary: input_size must be a tuple of non-negative ints (batch first), got {size}")
        np_dtype = np.dtype(dtype.np) if hasattr(dtype, "np") else np.dtype(dtype or "float32")
        out.append(from_numpy(np.zeros(size, dtype=np_dtype)))
    return out


class ModelSummary:
    """The rows of a summary and the parameter totals; ``str()`` gives the printed table."""

    def __init__(self, model_name, rows, total_params, trainable_params, input_bytes, output_bytes, param_bytes):
        self.model_name = model_name
        self.rows = rows  # dicts: name, type, depth, index, output_shape, params
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.non_trainable_params = total_params - trainable_params
        self.input_bytes, self.output_bytes, self.param_bytes = input_bytes, output_bytes, param_bytes

    def __str__(self):
        rule = thin = "=" * _RULE_WIDTH
        lines = [rule, f"{'Layer (type:depth-idx)':<45}{'Output Shape':<30}{'Param #':>15}", rule]
        for row in self.rows:
            if row["depth"] == 0:
                label = row["type"]
            else:
                label = "│    " * (row["depth"] - 1) + f"├─{row['type']}: {row['depth']}-{row['index']}"
            params = f"{row['params']:,}" if row["params"] else "--"
            lines.append(f"{label:<45}{row['output_shape']:<30}{params:>15}")
        mb = 1024 ** 2
        lines += [thin, f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}", thin,
                  f"Input size (MB): {self.input_bytes / mb:.2f}",
                  f"Forward/backward pass size (MB): {2 * self.output_bytes / mb:.2f}",
                  f"Params size (MB): {self.param_bytes / mb:.2f}",
                  f"Estimated Total Size (MB): {(self.input_bytes + 2 * self.output_bytes + self.param_bytes) / mb:.2f}",
                  rule]
        return "\n".join(lines)

    __repr__ = __str__


def summary(model, input_size=None, input_data=None, dtypes=None, depth=3, verbose=1):
    """Run ``model`` once on zeros of ``input_size`` (or on ``input_data``) and print/return a ModelSummary.

    ``verbose=0`` only returns it. The model's train/eval mode is restored afterwards (it runs in eval mode,
    so BatchNorm statistics are not updated).
    """
    if input_data is None and input_size is None:
        raise ValueError("summary: give input_size (with the batch dimension, e.g. (1, 3, 32, 32)) or input_data")
    if input_data is not None:
        inputs = list(input_data) if isinstance(input_data, (list, tuple)) else [input_data]
        inputs = [t if isinstance(t, Tensor) else from_numpy(np.asarray(t)) for t in inputs]
    else:
        inputs = _make_inputs(input_size, dtypes)
    names = {id(m): (name, name.count(".") + 1 if name else 0) for name, m in model.named_modules()}
    rows, counters, handles = [], {}, []

    def hook(module, args, output):
        name, level = names.get(id(module), ("", 0))
        counters[level] = counters.get(level, 0) + 1
        own = sum(p.numel() for p in module.parameters(recurse=False)) if hasattr(module, "parameters") else 0
        rows.append({"name": name, "type": type(module).__name__, "depth": level, "index": counters[level],
                     "output_shape": _shape_text(output), "params": own, "output": _tensors(output)})

    for name, module in model.named_modules():
        if name and name.count(".") + 1 > depth:
            continue
        handles.append(module.register_forward_hook(hook))
    was_training = getattr(model, "training", False)
    try:
        model.eval()
        with no_grad():
            if len(inputs) > 1 and not hasattr(model, "_inbound_nodes"):
                model(*inputs)
            else:
                model(inputs[0] if len(inputs) == 1 else inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    # the root module's hook fires last; show it first, as its row describes the whole model
    root = [r for r in rows if r["depth"] == 0]
    rows = root[-1:] + [r for r in rows if r["depth"] > 0]
    seen, total, trainable, param_bytes = set(), 0, 0, 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
            trainable += p.numel() if p.requires_grad else 0
            param_bytes += p.numel() * p.element_size()
    buffers = getattr(model, "buffers", lambda: [])()
    param_bytes += sum(b.numel() * b.element_size() for b in buffers)
    output_bytes = sum(t.numel() * t.element_size() for r in rows[1:] for t in r["output"])
    input_bytes = sum(t.numel() * t.element_size() for t in inputs)
    for r in rows:
        del r["output"]
    result = ModelSummary(type(model).__name__, rows, total, trainable, input_bytes, output_bytes, param_bytes)
    if verbose:
        print(result)
    return result

