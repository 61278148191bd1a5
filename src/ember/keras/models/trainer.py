"""compile / fit / evaluate / predict and the *_on_batch methods, as Keras 3 does them.

The training loss of a batch is the compiled loss (reduced with sample weights, ``sum_over_batch_size``) plus
the layers' regularization losses; the ``loss`` reported in logs is its mean over the epoch's samples
(batches weighted by size). Metrics accumulate over all samples of the epoch. ``evaluate`` returns the loss
alone when no metrics are compiled, else ``[loss, *metrics]`` (``return_dict=True`` gives the dict).
"""
import copy

import numpy as np

from ...autograd.grad_mode import no_grad
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from .._tree import flatten, map_structure, to_numpy
from ..callbacks import CallbackList
from .data import ArrayData, make_data, train_validation_split, unpack


def _is_tensor(v):
    return hasattr(v, "_data") and hasattr(v, "grad_fn")

__all__ = ["Trainer"]


def _per_output(spec, names, what):
    """Spread a compile argument over the outputs: one value for all, a list in output order, or a dict by
    output name."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"compile: {what} has keys {sorted(unknown)} that are not output names {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile: {what} is a list of {len(spec)} entries but the model has {len(names)} outputs "
                             f"{names}")
        return list(spec)
    return [spec] * len(names)


class Trainer:
    """Mixin of Model: the Keras training API."""

    compiled = False
    optimizer = None
    stop_training = False
    history = None

    # ---- compile ---------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile=None, auto_scale_loss=True):
        """Configure training: optimizer (name or object), loss (name, Loss or fn(y_true, y_pred), or one per
        output as a list/dict), metrics (names such as 'mae' / 'accuracy', or Metric objects).
        ``jit_compile`` (default: on where supported, i.e. unless ``run_eagerly``) runs each training batch as
        one compiled step (``ember.compile``): forward, loss, backward and the optimizer update as generated
        NumPy code; a model whose step cannot be a static graph falls back to eager mode (with a warning when
        ``jit_compile=True`` was asked for explicitly). ``"auto"`` is the default; an ``ember.compile`` mode name
        (``jit_compile="reduce-overhead"``, an ember extension) compiles in that mode: small models' steps as
        native kernels, within float32 rounding of eager mode instead of bitwise."""
        self.optimizer = optimizers_mod.get(optimizer)
        self._loss_spec, self._metrics_spec = loss, metrics
        self._weighted_metrics_spec = weighted_metrics
        self._loss_weights_spec = loss_weights
        self._compile_config = {"optimizer": optimizer if isinstance(optimizer, str) else None, "loss": loss,
                                "metrics": metrics, "loss_weights": loss_weights}
        names = self.output_names
        self._losses = [None if spec is None else losses_mod.get(spec) for spec in _per_output(loss, names, "loss")] \
            if loss is not None else [None] * len(names)
        weights = _per_output(loss_weights, names, "loss_weights") if loss_weights is not None else [1.0] * len(names)
        self._loss_weights = [1.0 if w is None else float(w) for w in weights]
        self._metric_specs = self._metric_spec_lists(metrics, names) if metrics is not None else \
            [[] for _ in names]
        if weighted_metrics is not None:
            extra = self._metric_spec_lists(weighted_metrics, names)
            self._metric_specs = [a + b for a, b in zip(self._metric_specs, extra)]
        for specs in self._metric_specs:  # validate names now, build objects at the first batch
            for spec in specs:
                if not (isinstance(spec, str) and spec in metrics_mod.ACCURACY_NAMES):
                    metrics_mod.get(spec)
        self._metric_objects = None
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self._output_loss_trackers = [metrics_mod.Mean(name=f"{n}_loss") for n in names] if len(names) > 1 else []
        self.compiled = True
        self.stop_training = False
        mode = None
        if isinstance(jit_compile, str):
            from ...jit.api import MODES

            if jit_compile != "auto" and jit_compile not in MODES:
                raise ValueError(f"compile: jit_compile should be True, False, 'auto' or an ember.compile mode "
                                 f"({', '.join(MODES)}), got {jit_compile!r}")
            jit_compile, mode = (None, None) if jit_compile == "auto" else (True, jit_compile)
        self.jit_compile = (not run_eagerly) if jit_compile is None else bool(jit_compile)
        self._jit_step = None
        if self.jit_compile:
            from ...jit import compile as _compile

            self._jit_step = _compile(self._train_core, mode=mode, fallback="warn" if jit_compile else "quiet")

    @staticmethod
    def _metric_spec_lists(metrics, names):
        if isinstance(metrics, dict):
            per = _per_output(metrics, names, "metrics")
            return [list(m) if isinstance(m, (list, tuple)) else ([] if m is None else [m]) for m in per]
        if not isinstance(metrics, (list, tuple)):
            raise ValueError(f"compile: `metrics` should be a list or a dict, got {metrics!r}")
        if len(names) > 1 and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
            return [list(m) for m in _per_output(list(metrics), names, "metrics")]
        return [list(metrics) for _ in names]

    def _assert_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model ({what}).")

    @property
    def output_names(self):
        return ["output"]

    @property
    def metrics(self):
        if not self.compiled:
            return []
        out = [self._loss_tracker] + self._output_loss_trackers
        return out + [m for group in (self._metric_objects or []) for m in group]

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def _build_metric_objects(self, ys, y_preds):
        names = self.output_names
        groups = []
        for i, specs in enumerate(self._metric_specs):
            group = []
            for spec in specs:
                if isinstance(spec, str) and spec in metrics_mod.ACCURACY_NAMES:
                    m = metrics_mod.accuracy_for(spec, tuple(ys[i].shape), tuple(y_preds[i].shape), self._losses[i])
                else:
                    m = metrics_mod.get(spec)
                    if isinstance(spec, metrics_mod.Metric) and len(names) > 1:
                        m = copy.deepcopy(spec)
                if len(names) > 1:
                    m.name = f"{names[i]}_{m.name}"
                group.append(m)
            groups.append(group)
        self._metric_objects = groups

    # ---- steps -----------------------------------------------------------------------------------------------
    def _flat_targets(self, y, y_pred):
        preds = flatten(y_pred) if isinstance(y_pred, (list, tuple, dict)) else [y_pred]
        if y is None:
            return [None] * len(preds), preds
        if isinstance(y, dict):
            missing = [n for n in self.output_names if n not in y]
            if missing:
                raise ValueError(f"y is a dict without entries for the outputs {missing} (keys: {sorted(y)})")
            ys = [y[n] for n in self.output_names]
        elif isinstance(y, (list, tuple)) and len(preds) > 1:
            ys = list(y)
        else:
            ys = [y]
        if len(ys) != len(preds):
            raise ValueError(f"the model has {len(preds)} outputs but y provides {len(ys)} target arrays")
        return ys, preds

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Total loss of a batch: weighted sum of the per-output losses plus the layers' losses."""
        ys, preds = self._flat_targets(y, y_pred)
        total = None
        for i, (loss_fn, t, p) in enumerate(zip(self._losses, ys, preds)):
            if loss_fn is None:
                continue
            if t is None:
                raise ValueError("the model was compiled with a loss but no target data (y) was given")
            value = loss_fn(t, p, sample_weight)
            if self._output_loss_trackers:
                self._output_loss_trackers[i].update_state(to_numpy(value), sample_weight=len(p))
            value = value * self._loss_weights[i] if self._loss_weights[i] != 1.0 else value
            total = value if total is None else total + value
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError("No loss to compute: compile the model with a `loss` (or add losses with add_loss)")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        ys, preds = self._flat_targets(y, y_pred)
        preds = [p.detach() if hasattr(p, "detach") else p for p in preds]
        if self._metric_objects is None:
            self._build_metric_objects(ys, preds)
        for group, t, p in zip(self._metric_objects, ys, preds):
            for m in group:
                m.update_state(t, p, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The current value of every metric, keys in alphabetical order (as Keras 3 logs them)."""
        return dict(sorted((m.name, float(m.result())) for m in self.metrics))

    def _batch_size_of(self, x):
        return len(flatten(x)[0])

    def train_step(self, data):
        """One optimisation step on a batch ``(x, y, sample_weight)``; returns the logs."""
        x, y, sample_weight = unpack(data)
        jit = getattr(self, "_jit_step", None)
        if jit is not None and sample_weight is None and _is_tensor(x) and _is_tensor(y):
            loss, y_pred = jit(x, y)
        else:
            loss, y_pred = self._train_core(x, y, sample_weight)
        self._loss_tracker.update_state(float(loss.item()), sample_weight=self._batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _train_core(self, x, y, sample_weight=None):
        """Forward, loss, backward and update: the part of a training step that compile mode compiles."""
        self._clear_losses()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        self.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss, y_pred

    def test_step(self, data):
        x, y, sample_weight = unpack(data)
        self._clear_losses()
        with no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.item()), sample_weight=self._batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack(data)
        with no_grad():
            return self(x, training=False)

    def _prepare_training(self, first_x):
        """Build the model from the first batch and the optimizer on its trainable weights."""
        if not self.built:
            self._build_from_batch(first_x)
        if not self.optimizer.built:
            weights = self.trainable_weights
            if not weights:
                raise ValueError(f"model '{self.name}' has no trainable weights to train")
            self.optimizer.build(weights)

    def _build_from_batch(self, x):
        with no_grad():
            self(x, training=False)

    # ---- fit / evaluate / predict ----------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns the History (``history.history['loss']`` ...)."""
        self._assert_compiled("fit")
        data = make_data(x, y, sample_weight, batch_size, shuffle, class_weight, steps_per_epoch)
        if validation_split and validation_data is None:
            (tx, ty, tsw), validation_data = train_validation_split(data, validation_split)
            data = ArrayData(tx, ty, tsw, data.batch_size, shuffle, None, steps_per_epoch)
        val_data = None
        if validation_data is not None:
            vx, vy, vsw = unpack(validation_data)
            val_data = make_data(vx, vy, vsw, validation_batch_size or (data.batch_size if isinstance(data, ArrayData)
                                                                        else None), False, None, validation_steps)
        if hasattr(data, "peek"):  # build now, so callbacks see a built model in on_train_begin
            self._prepare_training(data.peek())
        callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
                                 epochs=epochs, steps=data.num_batches)
        self.stop_training = False
        callbacks.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            for step, batch in enumerate(data):
                if step == 0 and epoch == initial_epoch:
                    self._prepare_training(batch[0])
                callbacks.on_train_batch_begin(step)
                batch_logs = self.train_step(batch)
                callbacks.on_train_batch_end(step, batch_logs)
                if self.stop_training:
                    break
            logs = self.get_metrics_result()
            if val_data is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_data(val_data, callbacks)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callbacks.on_train_end(logs)
        return callbacks.history

    def _evaluate_data(self, data, callbacks):
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = {}
        for step, batch in enumerate(data):
            if not self.built:
                self._build_from_batch(batch[0])
            callbacks.on_test_batch_begin(step)
            logs = self.test_step(batch)
            callbacks.on_test_batch_end(step, logs)
        logs = self.get_metrics_result()
        callbacks.on_test_end(logs)
        return logs

    def _flatten_logs(self, logs, return_dict):
        """Keras's order: loss, the per-output losses, then the compiled metrics (in compile order for one output,
        alphabetically for several)."""
        if return_dict:
            return logs
        metrics = [m for group in (self._metric_objects or []) for m in group]
        if len(self.output_names) > 1:
            metrics = sorted(metrics, key=lambda m: m.name)
        order = [self._loss_tracker] + self._output_loss_trackers + metrics
        values = [logs[m.name] for m in order if m.name in logs]
        return values[0] if len(values) == 1 else values

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss (and metrics) over the data: a float when only the loss is compiled, else [loss, *metrics]."""
        self._assert_compiled("evaluate")
        data = make_data(x, y, sample_weight, batch_size, False, None, steps)
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                 steps=data.num_batches)
        return self._flatten_logs(self._evaluate_data(data, callbacks), return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` as NumPy arrays (one array, or a list/dict for several outputs)."""
        data = make_data(x, None, None, batch_size, False, None, steps)
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                 steps=data.num_batches)
        callbacks.on_predict_begin()
        outputs = []
        for step, batch in enumerate(data):
            callbacks.on_predict_batch_begin(step)
            out = self.predict_step(batch)
            outputs.append(map_structure(lambda t: np.array(to_numpy(t)), out))
            callbacks.on_predict_batch_end(step, {"outputs": out})
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data produced no batches")
        first = outputs[0]
        flat = [flatten(o) for o in outputs]
        joined = iter([np.concatenate([f[i] for f in flat], axis=0) for i in range(len(flat[0]))])
        return map_structure(lambda _: next(joined), first)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the batch's loss (and metrics) like evaluate."""
        self._assert_compiled("train_on_batch")
        data = make_data(x, y, sample_weight, len(flatten(_as_list(x))[0]), False, class_weight)
        batch = next(iter(data))
        self._prepare_training(batch[0])
        self.reset_metrics()
        return self._flatten_logs(self.train_step(batch), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        data = make_data(x, y, sample_weight, len(flatten(_as_list(x))[0]), False)
        batch = next(iter(data))
        if not self.built:
            self._build_from_batch(batch[0])
        self.reset_metrics()
        return self._flatten_logs(self.test_step(batch), return_dict)

    def predict_on_batch(self, x):
        data = make_data(x, None, None, len(flatten(_as_list(x))[0]), False)
        out = self.predict_step(next(iter(data)))
        return map_structure(lambda t: np.array(to_numpy(t)), out)


def _as_list(x):
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        return list(x)
    return [np.asarray(x) if not hasattr(x, "shape") else x]

