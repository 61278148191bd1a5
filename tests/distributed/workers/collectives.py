"""Run under `mpiexec -n 2`: every collective of ember.distributed, checked against values computed here from
each rank's known input. Prints "PASS <check> rank <r>" per check (test_distributed_collectives.py reads them)."""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
from ember.distributed import ReduceOp  # noqa: E402

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def local(rank, dtype=np.float32):
    """Rank r's input: values that differ per rank and per element."""
    return (np.arange(6).reshape(2, 3) * (rank + 1) - 2 * rank + 0.5 * (rank + 1)).astype(dtype)


def every_rank(dtype=np.float32):
    return [local(r, dtype) for r in range(WORLD)]


@check
def init_state():
    assert dist.is_available() and dist.is_initialized()
    assert dist.get_world_size() == WORLD == 2 and dist.get_rank() == RANK
    assert dist.get_backend() == "gloo" and dist.group.WORLD.size() == 2
    assert len(GLOO_WARNINGS) == 1, GLOO_WARNINGS
    try:
        dist.init_process_group("mpi")
    except ValueError as e:
        assert "twice" in str(e)
    else:
        raise AssertionError("second init_process_group did not raise")


@check
def all_reduce_ops():
    expected = {ReduceOp.SUM: np.sum, ReduceOp.PRODUCT: np.prod, ReduceOp.MIN: np.min, ReduceOp.MAX: np.max,
                ReduceOp.AVG: np.mean}
    for dtype in (np.float32, np.float64):
        for op, reduce_fn in expected.items():
            t = ember.tensor(local(RANK, dtype))
            version = t._version_value
            assert dist.all_reduce(t, op=op) is None
            want = reduce_fn(np.stack(every_rank(dtype)), axis=0)
            assert t.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
            np.testing.assert_allclose(t.numpy(), want, rtol=1e-6, err_msg=f"{op!r} {dtype}")
            assert t._version_value > version


@check
def all_reduce_integers_and_bool():
    ints = [np.array([3, 5, 12], dtype=np.int64) + 2 * r for r in range(WORLD)]
    for op, fn in ((ReduceOp.SUM, np.sum), (ReduceOp.MAX, np.max), (ReduceOp.PRODUCT, np.prod)):
        t = ember.tensor(ints[RANK])
        dist.all_reduce(t, op=op)
        assert t.dtype == ember.int64 and t.tolist() == fn(np.stack(ints), axis=0).tolist()
    t = ember.tensor(ints[RANK])
    dist.all_reduce(t, op=ReduceOp.BXOR)
    assert t.tolist() == (ints[0] ^ ints[1]).tolist()
    flags = [np.array([True, False, False]), np.array([True, True, False])]
    t = ember.tensor(flags[RANK])
    dist.all_reduce(t)  # SUM on bool is a logical or, as torch's
    assert t.tolist() == [True, True, False]
    t = ember.tensor(flags[RANK])
    dist.all_reduce(t, op=ReduceOp.MIN)
    assert t.tolist() == [True, False, False]
    try:
        dist.all_reduce(ember.tensor(ints[RANK]), op=ReduceOp.AVG)
    except RuntimeError as e:
        assert "AVG" in str(e)
    else:
        raise AssertionError("AVG on int64 did not raise")


@check
def all_reduce_views_and_float16():
    base = ember.tensor(local(RANK))
    view = base.t()  # not contiguous: reduced through a copy, written back into base
    dist.all_reduce(view)
    np.testing.assert_allclose(base.numpy(), np.sum(every_rank(), axis=0))
    half = ember.tensor(local(RANK, np.float16))
    dist.all_reduce(half)
    assert half.dtype == ember.float16
    np.testing.assert_allclose(half.numpy(), np.sum(every_rank(np.float16), axis=0))
    work = dist.all_reduce(ember.ones(2), async_op=True)
    assert work.wait() and work.is_completed()


@check
def broadcast():
    for src in range(WORLD):
        t = ember.tensor(local(RANK))
        dist.broadcast(t, src=src)
        np.testing.assert_array_equal(t.numpy(), local(src))
    try:
        dist.broadcast(ember.ones(2), src=WORLD)
    except RuntimeError as e:
        assert "invalid root rank" in str(e)
    else:
        raise AssertionError("broadcast from a missing rank did not raise")


@check
def reduce():
    t = ember.tensor(local(RANK))
    dist.reduce(t, dst=1, op=ReduceOp.MAX)
    want = np.max(every_rank(), axis=0) if RANK == 1 else local(RANK)
    np.testing.assert_array_equal(t.numpy(), want)


@check
def all_gather():
    out = [ember.zeros(2, 3) for _ in range(WORLD)]
    dist.all_gather(out, ember.tensor(local(RANK)))
    for r in range(WORLD):
        np.testing.assert_array_equal(out[r].numpy(), local(r))
    for bad, error in (([ember.zeros(2, 3)], RuntimeError), ([ember.zeros(2, 3), ember.zeros(3, 2)], RuntimeError),
                       ([ember.zeros(2, 3), ember.zeros(2, 3, dtype=ember.float64)], ValueError)):
        try:
            dist.all_gather(bad, ember.tensor(local(RANK)))
        except error:
            pass
        else:
            raise AssertionError(f"all_gather did not raise {error.__name__}")


@check
def all_gather_into_tensor():
    flat = ember.zeros(WORLD * 2, 3)
    dist.all_gather_into_tensor(flat, ember.tensor(local(RANK)))
    np.testing.assert_array_equal(flat.numpy(), np.concatenate(every_rank()))
    stacked = ember.zeros(WORLD, 2, 3)
    dist.all_gather_into_tensor(stacked, ember.tensor(local(RANK)))
    np.testing.assert_array_equal(stacked.numpy(), np.stack(every_rank()))


@check
def gather_and_scatter():
    target = [ember.zeros(2, 3) for _ in range(WORLD)] if RANK == 0 else None
    dist.gather(ember.tensor(local(RANK)), target, dst=0)
    if RANK == 0:
        for r in range(WORLD):
            np.testing.assert_array_equal(target[r].numpy(), local(r))
    parts = [ember.tensor(local(10 + r)) for r in range(WORLD)] if RANK == 1 else None
    received = ember.zeros(2, 3)
    dist.scatter(received, parts, src=1)
    np.testing.assert_array_equal(received.numpy(), local(10 + RANK))


@check
def barrier():
    for _ in range(3):
        assert dist.barrier() is None


@check
def objects_as_json():
    sent = [{"epoch": 3, "name": "ember"}, [1.5, None, True], "text"] if RANK == 0 else [None, None, None]
    dist.broadcast_object_list(sent, src=0)
    assert sent == [{"epoch": 3, "name": "ember"}, [1.5, None, True], "text"]
    gathered = [None] * WORLD
    dist.all_gather_object(gathered, {"rank": RANK, "items": list(range(RANK + 1))})
    assert gathered == [{"rank": r, "items": list(range(r + 1))} for r in range(WORLD)]
    refused = [object()] if RANK == 0 else [None]
    for call in (lambda: dist.broadcast_object_list(refused, src=0),
                 lambda: dist.all_gather_object([None] * WORLD, {1, 2} if RANK == 1 else 0)):
        try:
            call()
        except TypeError as e:
            assert "JSON" in str(e) and "pickle" in str(e)
        else:
            raise AssertionError("a non-JSON object did not raise TypeError")


@check
def destroy_and_reinit():
    dist.destroy_process_group()
    assert not dist.is_initialized()
    for call in (dist.get_rank, lambda: dist.all_reduce(ember.ones(1)), dist.barrier):
        try:
            call()
        except ValueError as e:  # torch's type (also a RuntimeError here)
            assert isinstance(e, RuntimeError) and "init_process_group" in str(e)
        else:
            raise AssertionError("a collective without a process group did not raise")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.init_process_group("gloo")
    assert not [w for w in caught if "gloo" in str(w.message)], "the gloo warning is given once per process"
    t = ember.ones(3)
    dist.all_reduce(t)
    assert t.tolist() == [2.0, 2.0, 2.0]


if __name__ == "__main__":
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.init_process_group("gloo")
    GLOO_WARNINGS = [str(w.message) for w in caught if "gloo" in str(w.message)]
    RANK, WORLD = dist.get_rank(), dist.get_world_size()
    only = set(json.loads(sys.argv[1])) if len(sys.argv) > 1 else None
    for fn in CHECKS:
        if only is None or fn.__name__ in only:
            fn()
            print(f"PASS {fn.__name__} rank {RANK}", flush=True)
    dist.destroy_process_group()
