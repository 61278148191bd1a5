"""``SummaryWriter`` with torch.utils.tensorboard's method names, writing real TensorBoard event files through
tensorboardX (``pip install tensorboardX``; imported when a writer is created).

Values may be ember Tensors, NumPy arrays or Python numbers. ``add_graph(model, input_to_model)`` records the
model's structure: one graph node per leaf module (named by its path, e.g. ``Net/features.0``, op = its class,
with output shapes), connected by the data flow seen while running the model once (found through the autograd
graph, so functional calls between modules are followed). Without an input, a built Keras model runs on zeros
of its input shape and any other module is drawn as the chain of its leaf modules in registration order.

This module imports only ember's core (it sits beside ``nn`` in the layering); ``ember.tools.tensorboard``
re-exports it.
"""
import os
import socket
import time

import numpy as np

from .._tensor import Tensor, from_numpy
from ..autograd.grad_mode import enable_grad

__all__ = ["SummaryWriter"]


def _np(value):
    if isinstance(value, Tensor):
        return np.array(value.detach()._data)
    return np.asarray(value)


def _scalar(value):
    a = _np(value)
    if a.size != 1:
        raise ValueError(f"add_scalar: expected a single value, got an array of shape {a.shape}")
    return float(a.reshape(()))


def _default_log_dir(comment):
    stamp = time.strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Write scalars, histograms, images, text, graphs and hyper-parameters for TensorBoard to ``log_dir``
    (default ``runs/<date>_<host><comment>``)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        try:
            from tensorboardX import SummaryWriter as _Writer
        except ImportError:
            raise ImportError("ember's SummaryWriter writes through tensorboardX: pip install tensorboardX "
                              "(or pip install 'ember[tools]')") from None
        self.log_dir = os.fspath(log_dir) if log_dir is not None else _default_log_dir(comment)
        self._writer = _Writer(logdir=self.log_dir, purge_step=purge_step, max_queue=max_queue,
                               flush_secs=flush_secs, filename_suffix=filename_suffix)
        self._queue_args = {"max_queue": max_queue, "flush_secs": flush_secs, "filename_suffix": filename_suffix}
        self._sub_writers = {}

    def get_logdir(self):
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False):
        self._writer.add_scalar(tag, _scalar(scalar_value), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """One scalar per key, each in a sub-run ``<log_dir>/<main_tag>_<key>`` under the tag ``main_tag`` (torch's
        layout, so the curves share one chart)."""
        from tensorboardX.summary import scalar
        from tensorboardX.writer import FileWriter

        for key, value in tag_scalar_dict.items():
            folder = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            writer = self._sub_writers.get(folder)
            if writer is None:
                writer = self._sub_writers[folder] = FileWriter(folder, **self._queue_args)
            writer.add_summary(scalar(main_tag, _scalar(value)), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        self._writer.add_histogram(tag, _np(values).astype(np.float64), global_step, bins, walltime, max_bins)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """An image of floats in [0, 1] or uint8 in [0, 255]; ``dataformats`` 'CHW', 'HWC', 'HW' ..."""
        self._writer.add_image(tag, _np(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._writer.add_images(tag, _np(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        self._writer.add_figure(tag, figure, global_step, close, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        self._writer.add_pr_curve(tag, _np(labels), _np(predictions), global_step, num_thresholds,
                                  None if weights is None else _np(weights), walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """Hyper-parameters and their final metrics for TensorBoard's HParams tab (written in a sub-run, as
        torch does)."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("hparam_dict and metric_dict should be dictionaries.")
        self._writer.add_hparams({k: (v.item() if isinstance(v, Tensor) else v) for k, v in hparam_dict.items()},
                                 {k: _scalar(v) for k, v in metric_dict.items()}, name=run_name,
                                 global_step=global_step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's structure as a TensorBoard graph (see the module docstring)."""
        graph = build_graph(model, input_to_model)
        if verbose:
            print(graph)
        from tensorboardX.proto import event_pb2

        self._writer._get_file_writer().add_event(event_pb2.Event(graph_def=graph.SerializeToString()))

    def flush(self):
        self._writer.flush()
        for writer in self._sub_writers.values():
            writer.flush()

    def close(self):
        self._writer.close()
        for writer in self._sub_writers.values():
            writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- graphs ------------------------------------------------------------------------------------------------------
def _flat_tensors(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat_tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flat_tensors(v)]
    return []


def _leaf_modules(model):
    leaves = [(name, m) for name, m in model.named_modules() if name and not any(True for _ in m.children())]
    return leaves or [("", model)]


def _default_input(model):
    """Zeros of a built Keras model's input shape (unknown dims as 1), or None."""
    shape = getattr(model, "_build_input_shape", None)
    if not getattr(model, "built", False) or shape is None:
        return None

    def zeros(s):
        return from_numpy(np.zeros(tuple(1 if d is None else d for d in s), dtype=np.float32))

    if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
        return zeros(shape)
    if isinstance(shape, (list, tuple)):
        return [zeros(s) for s in shape]
    return None


def _node(name, op, inputs, shapes, attr=""):
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    shape_protos = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in s]) for s in shapes]
    attrs = {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=shape_protos))}
    if attr:
        attrs["attr"] = AttrValue(s=attr.encode("utf-8"))
    return NodeDef(name=name, op=op, input=list(inputs), attr=attrs)


def _describe(module):
    extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
    if not extra and hasattr(module, "get_config"):
        try:
            extra = ", ".join(f"{k}={v}" for k, v in module.get_config().items() if k not in ("name", "dtype"))
        except Exception:  # noqa: BLE001 - a description is optional
            extra = ""
    return extra


def build_graph(model, input_to_model=None):
    """A tensorboardX GraphDef of ``model`` (see the module docstring)."""
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    root = type(model).__name__
    leaves = _leaf_modules(model)

    def path(name):
        return f"{root}/{name.replace('.', '/')}" if name else f"{root}/{root}"

    if input_to_model is None:
        input_to_model = _default_input(model)
    nodes = []
    if input_to_model is None:
        previous = []
        for name, m in leaves:
            nodes.append(_node(path(name), type(m).__name__, previous, [], _describe(m)))
            previous = [path(name)]
        return GraphDef(node=nodes, versions=VersionDef(producer=22))

    inputs = list(input_to_model) if isinstance(input_to_model, (list, tuple)) else [input_to_model]
    inputs = [t if isinstance(t, Tensor) else from_numpy(np.ascontiguousarray(np.asarray(t, dtype=np.float32)
                                                                                if np.asarray(t).dtype.kind == "f"
                                                                                else np.asarray(t)))
              for t in inputs]
    by_tensor, by_fn, keep = {}, {}, []
    traced = []
    for i, t in enumerate(inputs):
        if t.is_floating_point():
            t = t.detach().requires_grad_(True)
        name = f"{root}/input.{i}"
        by_tensor[id(t)] = name
        keep.append(t)
        traced.append(t)
        nodes.append(_node(name, "IO Node", [], [tuple(t.shape)]))

    def sources(t):
        if id(t) in by_tensor:
            return [by_tensor[id(t)]]
        found, stack, seen = [], [t.grad_fn] if t.grad_fn is not None else [], set()
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            if id(fn) in by_fn:
                found.append(by_fn[id(fn)])
                continue
            variable = getattr(fn, "variable", None)
            if variable is not None:
                if id(variable) in by_tensor:
                    found.append(by_tensor[id(variable)])
                continue
            stack.extend(f for f, _ in fn.next_functions)
        return sorted(set(found), key=found.index)

    def hook_for(name):
        def hook(module, args, output):
            ins = []
            for a in _flat_tensors(args):
                for s in sources(a):
                    if s not in ins:
                        ins.append(s)
            outs = _flat_tensors(output)
            nodes.append(_node(path(name), type(module).__name__, ins, [tuple(o.shape) for o in outs],
                               _describe(module)))
            for o in outs:
                keep.append(o)
                by_tensor[id(o)] = path(name)
                if o.grad_fn is not None:
                    by_fn[id(o.grad_fn)] = path(name)
        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in leaves]
    was_training = getattr(model, "training", False)
    try:
        if hasattr(model, "eval"):
            model.eval()
        with enable_grad():
            output = model(*traced) if len(traced) > 1 and not hasattr(model, "_inbound_nodes") else \
                model(traced[0] if len(traced) == 1 else traced)
    finally:
        for h in handles:
            h.remove()
        if hasattr(model, "train"):
            model.train(was_training)
    for i, o in enumerate(_flat_tensors(output)):
        nodes.append(_node(f"{root}/output.{i}", "IO Node", sources(o), [tuple(o.shape)]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
