"""DataLoader with worker processes: order, seeding, worker info, errors, deaths, timeouts, persistence."""
import os
import random
import signal
import time

import numpy as np
import pytest

import ember
import ember.utils.data as eud


class Numbers(eud.Dataset):
    def __init__(self, n, fail_at=None, die_at=None, kill_at=None, sleep=0.0):
        self.n, self.fail_at, self.die_at, self.kill_at, self.sleep = n, fail_at, die_at, kill_at, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"sample {i} is broken")
        if i == self.die_at:
            os._exit(7)
        if i == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.sleep:
            time.sleep(self.sleep * ((i * 7) % 3))  # uneven work so workers finish out of order
        return ember.tensor([float(i)]), i


def values(loader):
    return [int(v) for _, y in loader for v in y.tolist()]


@pytest.mark.parametrize("workers, bs, drop_last", [(1, 4, False), (2, 3, False), (3, 3, True), (2, 1, False)])
def test_results_in_order_and_same_as_single_process(workers, bs, drop_last):
    ds = Numbers(17, sleep=0.002)
    single = list(eud.DataLoader(ds, batch_size=bs, drop_last=drop_last))
    multi = list(eud.DataLoader(ds, batch_size=bs, drop_last=drop_last, num_workers=workers))
    assert len(single) == len(multi)
    for (xs, ys), (xm, ym) in zip(single, multi):
        assert isinstance(xm, ember.Tensor) and xm.dtype is ember.float32 and ym.dtype is ember.int64
        np.testing.assert_array_equal(xs.numpy(), xm.numpy())
        np.testing.assert_array_equal(ys.numpy(), ym.numpy())


def test_out_of_order_mode_yields_everything():
    loader = eud.DataLoader(Numbers(12, sleep=0.003), batch_size=2, num_workers=3, in_order=False)
    assert sorted(values(loader)) == list(range(12))


def test_shuffle_with_workers_matches_single_process_for_same_seed():
    ember.manual_seed(3)
    a = values(eud.DataLoader(Numbers(20), batch_size=4, shuffle=True))
    ember.manual_seed(3)
    b = values(eud.DataLoader(Numbers(20), batch_size=4, shuffle=True, num_workers=2))
    assert a == b and sorted(a) == list(range(20))


class Probe(eud.Dataset):
    """Each sample reports which worker made it and what its RNGs drew first."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = eud.get_worker_info()
        return {"id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                "same_dataset": info.dataset.__class__.__name__, "ember": ember.rand(1).item(),
                "python": random.random(), "numpy": float(np.random.rand())}


def test_worker_seeding_and_info():
    loader = eud.DataLoader(Probe(), batch_size=None, num_workers=2, generator=ember.Generator().manual_seed(11))
    first = list(loader)
    assert [s["id"] for s in first] == [0, 1, 0, 1]
    assert all(s["num_workers"] == 2 and s["same_dataset"] == "Probe" for s in first)
    w0, w1 = first[0], first[1]
    assert w1["seed"] == w0["seed"] + 1  # base_seed + worker_id
    for s in (w0, w1):  # the first ember draw in a worker is the first draw of manual_seed(seed)
        assert s["ember"] == ember.rand(1, generator=ember.Generator().manual_seed(s["seed"])).item()
        random.seed(s["seed"])
        assert s["python"] == random.random()
    assert len({w0["numpy"], w1["numpy"]}) == 2
    again = list(eud.DataLoader(Probe(), batch_size=None, num_workers=2, generator=ember.Generator().manual_seed(11)))
    assert again == first  # same generator seed -> same worker seeds -> same draws
    assert list(loader)[0]["seed"] != w0["seed"]  # a new base seed each epoch


def test_worker_init_fn_runs_in_each_worker():
    class WhoAmI(eud.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return os.environ.get("EMBER_TEST_WORKER", "unset")

    loader = eud.DataLoader(WhoAmI(), batch_size=None, num_workers=2,
                            worker_init_fn=lambda wid: os.environ.__setitem__("EMBER_TEST_WORKER", f"w{wid}"))
    assert list(loader) == ["w0", "w1", "w0", "w1"]
    assert "EMBER_TEST_WORKER" not in os.environ


def test_worker_init_fn_error_is_reported():
    def init(wid):
        raise OSError("no device")

    with pytest.raises(OSError, match="no device") as info:
        list(eud.DataLoader(Numbers(4), num_workers=1, worker_init_fn=init))
    assert "worker_init_fn" in str(info.value)


def test_worker_exception_keeps_type_message_and_index():
    loader = eud.DataLoader(Numbers(10, fail_at=5), batch_size=2, num_workers=2)
    it = iter(loader)
    assert [int(v) for v in next(it)[1].tolist()] == [0, 1]
    assert [int(v) for v in next(it)[1].tolist()] == [2, 3]
    with pytest.raises(ValueError, match="sample 5 is broken") as info:
        next(it)
    message = str(info.value)
    assert "worker process 0" in message and "[4, 5]" in message and "Traceback" in message


def test_worker_key_error_message_is_readable():
    class Missing(eud.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            raise KeyError("label")

    with pytest.raises(KeyError) as info:
        list(eud.DataLoader(Missing(), num_workers=1))
    assert str(info.value).startswith("'label'") and "\n" in str(info.value)


def test_unpicklable_local_exception_becomes_runtime_error():
    class LocalError(Exception):
        pass

    class Raises(eud.Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            raise LocalError("custom failure")

    with pytest.raises(RuntimeError, match="LocalError: custom failure"):
        list(eud.DataLoader(Raises(), num_workers=1))


@pytest.mark.parametrize("how", ["die_at", "kill_at"])
def test_dead_worker_is_a_runtime_error_not_a_hang(how):
    loader = eud.DataLoader(Numbers(20, **{how: 9}), batch_size=2, num_workers=2)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \d \(pid \d+\) exited unexpectedly") as info:
        list(loader)
    assert ("exit code 7" if how == "die_at" else "SIGKILL") in str(info.value)
    assert time.monotonic() - start < 30


def test_timeout_raises_runtime_error():
    loader = eud.DataLoader(Numbers(4, sleep=30.0), batch_size=1, num_workers=1, timeout=1.0)
    it = iter(loader)
    next(it)  # sample 0 does not sleep
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 1.0 seconds"):
        next(it)  # sample 1 sleeps 30 s
    assert time.monotonic() - start < 20  # the sleeping worker is terminated, not waited for


def test_workers_exit_after_epoch_and_on_early_break():
    loader = eud.DataLoader(Numbers(8), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    workers = list(it._pool.workers)
    del it
    for p in workers:
        p.join(timeout=10)
        assert not p.is_alive()
    it = iter(loader)
    workers = list(it._pool.workers)
    assert len(list(it)) == 4
    for p in workers:
        p.join(timeout=10)
        assert p.exitcode == 0


def test_persistent_workers_are_reused_across_epochs():
    loader = eud.DataLoader(Numbers(9), batch_size=2, num_workers=2, persistent_workers=True)
    first_iter = iter(loader)
    pids = [p.pid for p in first_iter._pool.workers]
    next(first_iter)  # abandon the first epoch half-way: its late results must not leak into the next one
    assert values(loader) == list(range(9))
    assert values(loader) == list(range(9))
    assert [p.pid for p in loader._pool.workers] == pids
    loader._pool.shutdown()
    assert all(not p.is_alive() for p in loader._pool.workers)


def test_new_epoch_on_persistent_workers_ends_the_previous_iterator():
    loader = eud.DataLoader(Numbers(9), batch_size=2, num_workers=2, persistent_workers=True)
    old = iter(loader)
    next(old)
    new = iter(loader)
    with pytest.raises(StopIteration):
        next(old)
    assert [int(v) for _, y in new for v in y.tolist()] == list(range(9))
    loader._pool.shutdown()


class Shards(eud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = eud.get_worker_info()
        wid, num = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(wid, self.n, num))


@pytest.mark.parametrize("persistent", [False, True])
def test_iterable_dataset_with_workers(persistent):
    loader = eud.DataLoader(Shards(11), batch_size=2, num_workers=3, persistent_workers=persistent)
    for _ in range(2):
        batches = [b.tolist() for b in loader]
        assert sorted(v for b in batches for v in b) == list(range(11))
        assert batches[:3] == [[0, 3], [1, 4], [2, 5]]  # round-robin over the workers


def test_iterable_dataset_without_sharding_repeats_per_worker():
    class Plain(eud.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    got = sorted(v for b in eud.DataLoader(Plain(), batch_size=None, num_workers=2) for v in [int(b)])
    assert got == [0, 0, 1, 1, 2, 2]


def test_prefetch_factor_and_len():
    loader = eud.DataLoader(Numbers(10), batch_size=3, num_workers=2, prefetch_factor=1)
    assert len(loader) == 4 and values(loader) == list(range(10))


def test_spawn_context_works_with_tensor_dataset():
    ds = eud.TensorDataset(ember.arange(6).float(), ember.arange(6))
    loader = eud.DataLoader(ds, batch_size=3, num_workers=1, multiprocessing_context="spawn")
    xs = [x.tolist() for x, _ in loader]
    assert xs == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_tensors_still_refuse_plain_pickle():
    import pickle

    list(eud.DataLoader(Numbers(2), num_workers=1))  # registers the process-to-process reducer
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(ember.ones(1))
