"""The loop a DataLoader worker process runs, ``get_worker_info()``, and how results cross the process boundary.

Protocol: the main process puts ``("fetch", epoch, task, indices)``, ``("reset", epoch)`` or ``None`` (stop)
on the worker's own index queue; the worker answers every fetch with ``(epoch, task, payload)`` on its own
pipe, where ``payload`` is the batch, a ``WorkerError`` or ``ITERATION_END``. ember tensors refuse to be
pickled into files; for this process-to-process pipe only, they are sent as their NumPy array.
"""
import os
import queue
import random
import traceback

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info"]

ITERATION_END = "ember.utils.data: worker's IterableDataset is exhausted"
_PARENT_CHECK_SECONDS = 2.0


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __setattr__(self, key, value):
        if hasattr(self, key):
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        object.__setattr__(self, key, value)

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker process: its ``WorkerInfo``; in the main process: ``None``."""
    return _worker_info


class WorkerError:
    """An exception raised in a worker, carried to the main process and re-raised there."""

    def __init__(self, exc: BaseException, worker_id, indices):
        self.exc_type = type(exc)
        try:  # local classes cannot be sent; the main process then raises RuntimeError
            import pickle

            pickle.dumps(self.exc_type)
        except Exception:
            self.exc_type = None
        self.type_name = type(exc).__qualname__
        self.message = str(exc)
        self.where = f"in DataLoader worker process {worker_id}" + (
            "" if indices is None else f" while fetching sample index {_short(indices)}")
        self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        msg = f"{self.message}\n\n[{self.type_name} raised {self.where}. Original traceback:\n{self.traceback}]"
        if self.exc_type is None:
            raise RuntimeError(f"{self.type_name}: {msg}")
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(f"{self.type_name}: {msg}") from None
        raise exc


class _KeyErrorMessage(str):
    """KeyError shows the repr of its argument; this keeps the message readable."""

    def __repr__(self):
        return str(self)


def _short(indices):
    if isinstance(indices, list) and len(indices) > 16:
        return f"[{', '.join(map(str, indices[:16]))}, ...] ({len(indices)} indices)"
    return str(indices)


def _rebuild_tensor(array, requires_grad):
    from ..._tensor import _make

    return _make(array, requires_grad)


def _reduce_tensor(t):
    return _rebuild_tensor, (t._data, bool(t.requires_grad and t.grad_fn is None))


_registered = False


def register_tensor_reducer() -> None:
    """Let multiprocessing (and only multiprocessing) send ember tensors between processes."""
    global _registered
    if not _registered:
        from multiprocessing.reduction import ForkingPickler

        from ..._tensor import Tensor

        ForkingPickler.register(Tensor, _reduce_tensor)
        _registered = True


def worker_seed_everything(base_seed, worker_id) -> int:
    from ...random import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32]).generate_state(4))
    return seed


class _Fetcher:
    def __init__(self, dataset, iterable, auto_collation, collate_fn, drop_last):
        self.dataset, self.iterable = dataset, iterable
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.iterator = None
        self.ended = False

    def reset(self):
        self.iterator, self.ended = None, False

    def fetch(self, indices):
        if self.iterable:
            if self.ended:
                raise StopIteration
            if self.iterator is None:
                self.iterator = iter(self.dataset)
            if not self.auto_collation:
                return self.collate_fn(next(self.iterator))
            batch = []
            for _ in indices:
                try:
                    batch.append(next(self.iterator))
                except StopIteration:
                    self.ended = True
                    break
            if not batch or (self.drop_last and len(batch) < len(indices)):
                raise StopIteration
            return self.collate_fn(batch)
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(indices) if callable(getitems) else [self.dataset[i] for i in indices]
            return self.collate_fn(data)
        return self.collate_fn(self.dataset[indices])


def worker_loop(dataset, iterable, index_queue, result_conn, close_conns, done_event, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers):
    """Body of a worker process. Exits on ``None``, or when the main process has gone away; once
    ``done_event`` is set it skips the work still queued."""
    global _worker_info
    for conn in close_conns:  # pipes to other workers: close them so a dead worker's pipe reads as EOF
        conn.close()
    parent = os.getppid()
    register_tensor_reducer()  # a spawned worker starts without it
    try:
        seed = worker_seed_everything(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception as e:
            init_error = WorkerError(e, worker_id, None)
            init_error.where = f"in DataLoader worker process {worker_id} (worker_init_fn)"
        fetcher = _Fetcher(dataset, iterable, auto_collation, collate_fn, drop_last)
        while True:
            try:
                msg = index_queue.get(timeout=_PARENT_CHECK_SECONDS)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                continue
            if msg is None:
                return
            if msg[0] == "reset":
                fetcher.reset()
                continue
            if done_event.is_set():
                continue
            _, epoch, task, indices = msg
            if init_error is not None:
                payload = init_error
            else:
                try:
                    payload = fetcher.fetch(indices)
                except StopIteration:
                    payload = ITERATION_END
                except Exception as e:
                    payload = WorkerError(e, worker_id, indices)
            try:
                result_conn.send((epoch, task, payload))
            except (BrokenPipeError, ConnectionError, EOFError):
                return
            except Exception as e:  # e.g. the batch cannot be pickled
                result_conn.send((epoch, task, WorkerError(e, worker_id, indices)))
            del payload
    except KeyboardInterrupt:
        pass
