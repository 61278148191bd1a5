"""Keras utilities: Progbar (Keras's progress bar), to_categorical, normalize, set_random_seed."""
import math
import random
import sys
import time

import numpy as np

__all__ = ["Progbar", "PyDataset", "Sequence", "to_categorical", "normalize", "set_random_seed"]


class PyDataset:
    """Base class for batch datasets given to fit/evaluate/predict: ``__len__`` is the number of batches,
    ``__getitem__(i)`` returns batch i as ``x`` or ``(x, y[, sample_weight])``, and ``on_epoch_end`` runs after
    each epoch (e.g. to reshuffle or re-augment)."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def on_epoch_end(self):
        pass


Sequence = PyDataset


def set_random_seed(seed):
    """Seed ember's generator (weights, dropout, shuffling), NumPy's global RNG and Python's ``random``."""
    from ..random import manual_seed

    manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    random.seed(seed)


def to_categorical(x, num_classes=None):
    """One-hot float32 rows for integer class vector ``x``."""
    x = np.asarray(x)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.size and (x.min() < 0 or (x.dtype.kind == "f" and not np.all(x == np.round(x)))):
        raise ValueError("to_categorical: class labels must be non-negative integers")
    x = x.astype(np.int64)
    num_classes = int(x.max()) + 1 if num_classes is None else int(num_classes)
    if x.size and x.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(x.max())} is out of range for num_classes={num_classes}")
    return np.eye(num_classes, dtype=np.float32)[x]


def normalize(x, axis=-1, order=2):
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


def _format_value(v):
    return f" {v:.4f}" if abs(v) > 1e-3 else f" {v:.4e}"


class Progbar:
    """Keras's progress bar: ``32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.1234``.

    ``verbose=1`` redraws one line (with the ETA while running, the elapsed time when done) on a terminal and
    prints only the final line elsewhere; ``verbose=2`` prints one line when finished. Values given to
    ``update`` are shown as they are (the trainer passes running means).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, unit_name="step", file=None):
        self.target, self.width, self.verbose, self.interval = target, width, verbose, interval
        self.unit_name = unit_name
        self.file = file
        out = file or sys.stdout
        self._dynamic = hasattr(out, "isatty") and out.isatty()
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._after_first = None
        self._prev_width = 0
        self._seen = 0

    def _write(self, text):
        out = self.file or sys.stdout
        out.write(text)
        out.flush()

    def _time_per_unit(self, current, now):
        if not current:
            return 0.0
        if self._after_first is not None and current > 1:
            per = (now - self._after_first) / (current - 1)
        else:
            per = (now - self._start) / current
        if current == 1:
            self._after_first = now
        return per

    @staticmethod
    def _format_time(per_unit, unit):
        if per_unit >= 1 or per_unit == 0:
            return f" {per_unit:.0f}s/{unit}"
        if per_unit >= 1e-3:
            return f" {per_unit * 1e3:.0f}ms/{unit}"
        return f" {per_unit * 1e6:.0f}us/{unit}"

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in (values or []):
            self._values[k] = float(v)
        self._seen = current
        now = time.time()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            if not finalize and (now - self._last_update < self.interval or not self._dynamic):
                return
            color = self._dynamic
            if self.target:
                digits = int(math.log10(self.target)) + 1
                count = f"{current:>{digits}d}/{self.target}"
                done = int(self.width * current / self.target)
                if color:
                    bar = (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m"
                           f"\x1b[37m{'━' * (self.width - done)}\x1b[0m")
                else:
                    bar = f"{count} {'━' * done}{'━' * (self.width - done)}"
                plain_len = len(count) + 1 + self.width
            else:
                bar = f"{current:7d}/Unknown"
                plain_len = len(bar)
            if self.target and not finalize:
                eta = per_unit * (self.target - current)
                if eta > 3600:
                    shown = f"{int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
                elif eta > 60:
                    shown = f"{int(eta // 60)}:{int(eta % 60):02d}"
                else:
                    shown = f"{int(eta)}s"
            else:
                shown = f"{now - self._start:.0f}s"
            info = f" {shown}" + self._format_time(per_unit, self.unit_name)
            for k, v in self._values.items():
                info += f" - {k}:" + _format_value(v)
            width = plain_len + len(info)
            line = ("\r" if self._dynamic else "") + bar + info
            if self._prev_width > width:
                line += " " * (self._prev_width - width)
            if finalize:
                line += "\n"
            self._write(line)
            self._prev_width = width
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:>{digits}d}/{self.target} - {now - self._start:.0f}s -"
            info += self._format_time(per_unit, self.unit_name)
            for k, v in self._values.items():
                info += f" - {k}:" + _format_value(v)
            self._write(info + "\n")
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen + n, values)
