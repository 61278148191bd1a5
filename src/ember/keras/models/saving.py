"""Saving models without pickle: a JSON config for the architecture (and compile settings), safetensors for the
weights (through ember.io), so loading never runs code from the file.

``model.save('model.keras')`` writes one zip file holding ``metadata.json``, ``config.json`` and
``model.weights.safetensors`` (Keras's ``.keras`` layout with safetensors instead of HDF5). A path that is an
existing directory or ends with a path separator gets the same three files inside it instead.
``model.save_weights(path)`` writes a single safetensors file (name suggestion: ``*.weights.safetensors``).
Weights are stored under positional layer paths such as ``dense/kernel``, ``dense_1/kernel`` (class name and
repeat count within the parent, as Keras 3), so weights load into any instance of the same architecture. Sequential and functional models (and nested
ones) are rebuilt from their config; a subclassed model or custom layer needs ``get_config`` and must be passed in
``custom_objects`` when loading, as in Keras.
"""
import json
import os
import time
import zipfile

import numpy as np

from ... import __version__
from ...autograd.grad_mode import no_grad
from ...io import safetensors as st
from ...io.atomic import atomic_write
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from ..backend import to_snake_case

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "layer_from_config"]

FORMAT = "ember.keras/1"
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.safetensors"


def structural_weights(layer, prefix=""):
    """(path, weight) pairs keyed by position, not by layer name: a sublayer is ``<class in snake_case>`` and
    ``_1``, ``_2`` ... for repeats within its parent (as Keras 3 weight files), so two instances of one
    architecture share paths even when their automatic layer names differ."""
    names = {id(v): k for k, v in list(layer._parameters.items()) + list(layer._buffers.items()) if v is not None}
    out, seen = [], set()
    for w in layer._trainable_list + layer._non_trainable_list:
        if id(w) not in seen:
            seen.add(id(w))
            out.append((prefix + names.get(id(w), "variable"), w))
    counts = {}
    for sub in layer._sublayers():
        base = to_snake_case(type(sub).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        for path, w in structural_weights(sub, f"{prefix}{base if n == 0 else f'{base}_{n}'}/"):
            if id(w) not in seen:
                seen.add(id(w))
                out.append((path, w))
    return out


def _weights_blob(model):
    tensors = {path: w.detach() for path, w in structural_weights(model)}
    return st.save(tensors, metadata={"format": FORMAT})


def _assign(model, tensors, skip_mismatch, source):
    named = structural_weights(model)
    expected = {path for path, _ in named}
    missing = sorted(expected - set(tensors))
    unexpected = sorted(set(tensors) - expected)
    if (missing or unexpected) and not skip_mismatch:
        raise ValueError(f"{source}: the saved weights do not match model '{model.name}': missing "
                         f"{missing[:10]}{'...' if len(missing) > 10 else ''}, unexpected "
                         f"{unexpected[:10]}{'...' if len(unexpected) > 10 else ''}")
    with no_grad():
        for path, w in named:
            if path not in tensors:
                continue
            value = tensors[path]._data
            if tuple(value.shape) != tuple(w.shape):
                if skip_mismatch:
                    continue
                raise ValueError(f"{source}: weight {path} has shape {tuple(value.shape)} in the file but "
                                 f"{tuple(w.shape)} in the model")
            w._data[...] = value.astype(w._data.dtype, copy=False)
            w._version[0] += 1


def save_weights(model, filepath, overwrite=True):
    """All weights of ``model`` in one safetensors file, keyed by layer path (``dense/kernel``)."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    if not model.built:
        raise ValueError(f"model '{model.name}' is not built yet: call it on data or build() it before saving")
    with atomic_write(filepath) as f:
        f.write(_weights_blob(model))


def load_weights(model, filepath, skip_mismatch=False):
    filepath = os.fspath(filepath)
    if zipfile.is_zipfile(filepath) or os.path.isdir(filepath):
        blob = _read_member(filepath, _WEIGHTS)
    else:
        with open(filepath, "rb") as f:
            blob = f.read()
    _assign(model, st.load(blob), skip_mismatch, filepath)


def _compile_config(model):
    if not getattr(model, "compiled", False):
        return None
    spec = model._compile_config
    try:
        optimizer = optimizers_mod.serialize(model.optimizer)

        def loss(value):
            if value is None or isinstance(value, str):
                return value
            if isinstance(value, (list, tuple)):
                return [loss(v) for v in value]
            if isinstance(value, dict):
                return {k: loss(v) for k, v in value.items()}
            return losses_mod.serialize(losses_mod.get(value))

        def metric(value):
            if value is None or isinstance(value, str):
                return value
            if isinstance(value, (list, tuple)):
                return [metric(v) for v in value]
            if isinstance(value, dict):
                return {k: metric(v) for k, v in value.items()}
            return metrics_mod.serialize(value)

        return {"optimizer": optimizer, "loss": loss(spec["loss"]), "metrics": metric(spec["metrics"]),
                "loss_weights": spec["loss_weights"]}
    except ValueError:
        return None  # custom losses/metrics/optimizers are not saved; compile again after loading


def _config_json(model):
    config = {"class_name": _class_name(model), "config": model.get_config(),
              "build_config": {"input_shape": model._build_input_shape}, "compile_config": _compile_config(model)}
    try:
        return json.dumps(config, indent=1, default=_json_default)
    except TypeError as e:
        raise ValueError(f"model '{model.name}': its config cannot be written as JSON ({e}); save_weights() works "
                         "for any model") from None


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _class_name(model):
    from .functional import Functional

    return "Functional" if isinstance(model, Functional) else type(model).__name__


def save_model(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"model '{model.name}' is not built yet: call it on data or build() it before saving")
    as_dir = filepath.endswith(os.sep) or os.path.isdir(filepath)
    if not as_dir and not filepath.endswith(".keras"):
        raise ValueError(f"Invalid filepath extension for saving: {filepath!r}. Use a path ending in '.keras' "
                         "(one zip file) or an existing directory; for weights only use save_weights()")
    if not overwrite and os.path.exists(filepath) and not as_dir:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    members = {
        _METADATA: json.dumps({"keras_version": f"ember-{__version__}", "format": FORMAT,
                               "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}).encode(),
        _CONFIG: _config_json(model).encode(),
        _WEIGHTS: _weights_blob(model),
    }
    if as_dir:
        os.makedirs(filepath, exist_ok=True)
        for name, blob in members.items():
            with atomic_write(os.path.join(filepath, name)) as f:
                f.write(blob)
        return
    with atomic_write(filepath) as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
            for name, blob in members.items():
                z.writestr(name, blob)


def _read_member(filepath, name):
    if os.path.isdir(filepath):
        with open(os.path.join(filepath, name), "rb") as f:
            return f.read()
    with zipfile.ZipFile(filepath) as z:
        try:
            return z.read(name)
        except KeyError:
            raise ValueError(f"{filepath} is not an ember.keras model file (no {name})") from None


def _model_classes():
    from .functional import Functional
    from .sequential import Sequential

    return {"Sequential": Sequential, "Functional": Functional}


def layer_from_config(spec, custom_objects=None):
    """A layer (or nested model) from ``{"class_name": ..., "config": ...}``."""
    from ..layers import serializable_classes

    name = spec["class_name"]
    custom = dict(custom_objects or {})
    cls = custom.get(name) or _model_classes().get(name) or serializable_classes().get(name)
    if cls is None:
        raise ValueError(f"Unknown layer class {name!r} in the model config; pass it in custom_objects "
                         "(e.g. load_model(path, custom_objects={'MyLayer': MyLayer}))")
    config = dict(spec["config"])
    if name in _model_classes() or hasattr(cls, "layers") and "layers" in config:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002
    """Rebuild a model saved by ``model.save`` (architecture, weights, and compile settings if saved)."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"no such model file or directory: {filepath}")
    if not os.path.isdir(filepath) and not zipfile.is_zipfile(filepath):
        raise ValueError(f"{filepath} is not a model saved by ember.keras (expected a .keras zip file or a "
                         "directory)")
    config = json.loads(_read_member(filepath, _CONFIG).decode())
    model = layer_from_config(config, custom_objects)
    shape = (config.get("build_config") or {}).get("input_shape")
    if not model.built and shape is not None:
        model.build(tuple(shape) if shape and not isinstance(shape[0], list) else [tuple(s) for s in shape])
    if not model.built:
        raise ValueError(f"{filepath}: the model could not be built from its config (unknown input shape)")
    _assign(model, st.load(_read_member(filepath, _WEIGHTS)), False, filepath)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile(optimizer=optimizers_mod.get(compile_config["optimizer"]),
                      loss=_decode(compile_config["loss"], losses_mod.get),
                      metrics=_decode(compile_config["metrics"], metrics_mod.get),
                      loss_weights=compile_config.get("loss_weights"))
    return model


def _decode(value, get):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_decode(v, get) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _decode(v, get) for k, v in value.items()}
    if get is metrics_mod.get:
        cls = metrics_mod._CLASSES.get(value["class_name"])
        if cls is None:
            raise ValueError(f"unknown metric class {value['class_name']!r} in the saved compile config")
        return cls.from_config(value.get("config", {}))
    return get(value)
