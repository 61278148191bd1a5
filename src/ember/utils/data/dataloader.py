"""DataLoader: batches from a dataset, in the main process or in worker processes.

With ``num_workers > 0`` each worker is a process (forked where the platform allows, so the dataset is not
copied through pickle) with its own index queue and its own result pipe. The main process hands out up to
``prefetch_factor`` batches per worker, returns them in sampler order, and waits on the pipes together with
the workers' process sentinels, so a worker that dies is reported at once as a RuntimeError instead of a hang.
"""
import itertools
import multiprocessing
import multiprocessing.connection
import signal
import time
import weakref

from . import _worker
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, draw_seed

__all__ = ["DataLoader", "get_worker_info"]

get_worker_info = _worker.get_worker_info
_SHUTDOWN_SECONDS = 5.0


class _InfiniteConstantSampler(Sampler):
    """For IterableDatasets: an endless stream of ``None`` (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    ``shuffle`` draws its permutation from ``generator`` (or ember's global generator, so ``ember.manual_seed``
    makes it reproducible). Workers are seeded with ``base_seed + worker_id`` (ember, ``random`` and NumPy's
    global RNG), where ``base_seed`` is drawn from the same generator each epoch. ``pin_memory`` is accepted
    and ignored (there is no GPU).
    """

    _GUARDED = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        object.__setattr__(self, "_initialized", False)
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self._pool = None
        self._initialized = True

    def __setattr__(self, attr, value):
        if self._initialized and attr in self._GUARDED:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        object.__setattr__(self, attr, value)

    @property
    def multiprocessing_context(self):
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            if not isinstance(ctx, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={ctx}")
        object.__setattr__(self, "_mp_context", ctx)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self):
        base_seed = draw_seed(self.generator)
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._pool is None or self._pool.closed:
                object.__setattr__(self, "_pool", _WorkerPool(self, base_seed))
            return _MultiProcessIter(self, self._pool, owns_pool=False)
        return _MultiProcessIter(self, _WorkerPool(self, base_seed), owns_pool=True)

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            try:
                pool.shutdown()
            except Exception:  # at interpreter exit modules may already be torn down
                pass


class _SingleProcessIter:
    def __init__(self, loader):
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = _worker._Fetcher(loader.dataset, loader._iterable, loader._auto_collation,
                                         loader.collate_fn, loader.drop_last)
        self._length = _safe_len(loader)

    def __iter__(self):
        return self

    def __next__(self):
        indices = next(self._sampler_iter)
        return self._fetcher.fetch(indices)  # StopIteration ends an IterableDataset

    def __len__(self):
        return self._length


def _safe_len(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _worker_died(i, p) -> RuntimeError:
    p.join(timeout=1.0)
    code = p.exitcode
    if code is None:
        how = "closed its result pipe"
    elif code < 0:
        try:
            how = f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    return RuntimeError(f"DataLoader worker {i} (pid {p.pid}) exited unexpectedly ({how})")


class _WorkerPool:
    """The worker processes, their index queues and result pipes."""

    def __init__(self, loader, base_seed):
        ctx = loader.multiprocessing_context
        if ctx is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        _worker.register_tensor_reducer()
        self.closed = False
        self.epoch = 0
        self.active_iter = None  # weak reference to the iterator using the workers
        self.workers, self.index_queues, self.readers = [], [], []
        self.done_event = ctx.Event()
        n = loader.num_workers
        try:
            for i in range(n):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()
                reader, writer = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_worker.worker_loop, daemon=True,
                                args=(loader.dataset, loader._iterable, index_queue, writer, list(self.readers),
                                      self.done_event, loader._auto_collation, loader.collate_fn, loader.drop_last,
                                      base_seed, loader.worker_init_fn, i, n))
                p.start()
                writer.close()  # only the worker holds the write end now, so its death reads as EOF
                self.workers.append(p)
                self.index_queues.append(index_queue)
                self.readers.append(reader)
        except BaseException:
            self.shutdown()
            raise

    def new_epoch(self) -> int:
        self.epoch += 1
        if self.epoch > 1:
            for q in self.index_queues:
                q.put(("reset", self.epoch))
        return self.epoch

    def shutdown(self, graceful=True):
        """Stop the workers: ask them to exit, give them a few seconds (unless not ``graceful``), then terminate."""
        if self.closed:
            return
        self.closed = True
        if hasattr(self, "done_event"):
            self.done_event.set()
        for q, p in zip(self.index_queues, self.workers):
            if p.is_alive():
                try:
                    q.put(None)
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + (_SHUTDOWN_SECONDS if graceful else 0.0)
        pending = [(r, p) for r, p in zip(self.readers, self.workers)]
        while pending and time.monotonic() < deadline:  # drain pipes so workers blocked in send() can exit
            pending = [(r, p) for r, p in pending if p.is_alive()]
            objs = [r for r, _ in pending if not r.closed] + [p.sentinel for _, p in pending]
            for r in multiprocessing.connection.wait(objs, timeout=0.05):
                if isinstance(r, multiprocessing.connection.Connection):
                    try:
                        r.recv_bytes()
                    except (EOFError, OSError):
                        r.close()
        for p in self.workers:
            if p.is_alive():
                p.terminate()
            p.join(timeout=_SHUTDOWN_SECONDS)
        for q in self.index_queues:
            q.close()
        for r in self.readers:
            r.close()


class _MultiProcessIter:
    def __init__(self, loader, pool, owns_pool):
        self._loader = loader
        self._pool = pool
        self._owns_pool = owns_pool
        self._epoch = pool.new_epoch()
        previous = pool.active_iter() if pool.active_iter is not None else None
        if previous is not None:  # persistent workers serve one epoch at a time: the older iterator ends
            previous._done = True
        pool.active_iter = weakref.ref(self)
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._length = _safe_len(loader)
        self._sampler_iter = iter(loader._index_sampler)
        self._sampler_done = False
        n = len(pool.workers)
        self._active = [True] * n
        self._cycle = itertools.cycle(range(n))
        self._next_task = 0
        self._outstanding = {}  # task -> worker id, for tasks not yet returned to the user
        self._results = {}  # task -> payload that arrived but is not yet returned
        self._done = False
        for _ in range(loader.prefetch_factor * n):
            self._put_task()

    def __iter__(self):
        return self

    def __len__(self):
        return self._length

    def _put_task(self):
        if self._sampler_done:
            return
        if not any(self._active):
            self._sampler_done = True
            return
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            self._sampler_done = True
            return
        worker = next(self._cycle)
        while not self._active[worker]:
            worker = next(self._cycle)
        self._pool.index_queues[worker].put(("fetch", self._epoch, self._next_task, indices))
        self._outstanding[self._next_task] = worker
        self._next_task += 1

    def __next__(self):
        if self._done:
            raise StopIteration
        try:
            while True:
                if not self._outstanding:
                    self._finish()
                    raise StopIteration
                if self._in_order:
                    task = min(self._outstanding)
                    if task not in self._results:
                        self._receive()
                        continue
                else:
                    if not self._results:
                        self._receive()
                        continue
                    task = min(self._results)
                payload = self._results.pop(task)
                worker = self._outstanding.pop(task)
                if isinstance(payload, str) and payload == _worker.ITERATION_END:
                    self._active[worker] = False
                    self._put_task()
                    continue
                self._put_task()
                if isinstance(payload, _worker.WorkerError):
                    payload.reraise()
                return payload
        except StopIteration:
            raise
        except BaseException:
            self._finish(graceful=False)
            raise

    def _receive(self):
        """Block until at least one result of this epoch arrives; raise if a worker dies or time runs out."""
        pool = self._pool
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait_for = min(deadline - time.monotonic(), 5.0) if deadline is not None else 5.0
            objs = [r for r in pool.readers if not r.closed] + [p.sentinel for p in pool.workers]
            ready = multiprocessing.connection.wait(objs, timeout=max(wait_for, 0))
            got = False
            for obj in ready:
                if not isinstance(obj, multiprocessing.connection.Connection):
                    continue
                got |= self._read_from(pool.readers.index(obj))
            if got:
                return
            for i, p in enumerate(pool.workers):
                if p.sentinel in ready or not p.is_alive():
                    while not pool.readers[i].closed and pool.readers[i].poll(0):  # results sent before dying
                        got |= self._read_from(i)
                    if got:
                        return
                    raise _worker_died(i, p)
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _read_from(self, i) -> bool:
        reader = self._pool.readers[i]
        try:
            epoch, task, payload = reader.recv()
        except (EOFError, OSError):
            reader.close()
            raise _worker_died(i, self._pool.workers[i]) from None
        if epoch != self._epoch:
            return False  # a late answer from an abandoned epoch of persistent workers
        self._results[task] = payload
        return True

    def _finish(self, graceful=True):
        self._done = True
        self._outstanding.clear()
        self._results.clear()
        if self._owns_pool or not graceful:  # after an error, persistent workers are not trusted either
            self._pool.shutdown(graceful)

    def __del__(self):
        if getattr(self, "_owns_pool", False):
            try:
                self._pool.shutdown()
            except Exception:  # at interpreter exit modules may already be torn down
                pass
