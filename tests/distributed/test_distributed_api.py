"""ember.distributed without a process group (no MPI in this process), the engine's end-of-backward callback
that DDP uses, and DataParallel (a pass-through on CPUs, as torch's)."""
import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as dist
from ember import nn
from ember.autograd.engine import queue_callback


def test_importing_ember_does_not_start_mpi(run_python):
    code = ("import sys, ember, ember.nn, ember.distributed, ember.utils.data; "
            "print(sorted(m for m in sys.modules if m.startswith('mpi4py')))")
    proc = run_python("-c", code)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


def test_available_and_names():
    assert dist.is_available() and dist.is_mpi_available() and not dist.is_nccl_available()
    assert not dist.is_initialized()
    assert ember.distributed is dist and ember.nn.parallel.DistributedDataParallel is not None
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert int(getattr(dist.ReduceOp, name)) == int(getattr(tdist.ReduceOp, name))


@pytest.mark.parametrize("call", [
    lambda d, t: d.get_rank(),
    lambda d, t: d.get_world_size(),
    lambda d, t: d.get_backend(),
    lambda d, t: d.barrier(),
    lambda d, t: d.all_reduce(t.ones(2)),
    lambda d, t: d.broadcast(t.ones(2), 0),
    lambda d, t: d.all_gather([t.ones(2)], t.ones(2)),
    lambda d, t: d.broadcast_object_list([1]),
])
def test_not_initialized(call):
    with pytest.raises(ValueError) as theirs:
        call(tdist, torch)
    with pytest.raises(ValueError) as mine:
        call(dist, ember)
    assert str(mine.value) == str(theirs.value)
    assert isinstance(mine.value, RuntimeError)  # either except clause catches it


def test_ddp_needs_a_process_group():
    with pytest.raises(ValueError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_backend_errors():
    with pytest.raises(RuntimeError, match="NCCL"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend: 'smoke'"):
        dist.init_process_group("smoke")
    assert not dist.is_initialized()


@pytest.mark.parametrize("env, args", [
    ({"RANK": "1", "WORLD_SIZE": "2"}, ""),
    ({}, "world_size=3"),
    ({}, "rank=2"),
])
def test_rank_disagreeing_with_mpi(run_python, env, args):
    """A single process is MPI's rank 0 of 1: other ranks or sizes from the environment or arguments fail."""
    proc = run_python("-c", f"import ember.distributed as d; d.init_process_group('mpi', {args})", env=env)
    assert proc.returncode != 0
    assert "RuntimeError" in proc.stderr and "disagrees with MPI" in proc.stderr, proc.stderr


def test_single_process_group(run_python):
    code = ("import ember, ember.distributed as d; d.init_process_group(); t = ember.ones(3); "
            "d.all_reduce(t, op=d.ReduceOp.AVG); print(d.get_rank(), d.get_world_size(), t.tolist())")
    proc = run_python("-c", code)
    assert proc.returncode == 0 and proc.stdout.split() == ["0", "1", "[1.0,", "1.0,", "1.0]"], proc.stderr


def test_queue_callback_runs_after_backward():
    w = ember.ones(3, requires_grad=True)
    b = ember.ones(1, requires_grad=True)
    seen = []

    def hook(param):
        if not seen:
            queue_callback(lambda: seen.append((w.grad.tolist(), b.grad.tolist())))
        seen.append("hook")

    w.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    ((w * 2).sum() + (w * w).sum() + b.sum() * 3).backward()
    assert seen[-1] == ([4.0, 4.0, 4.0], [3.0]) and "hook" in seen[:-1]
    with pytest.raises(RuntimeError, match="only be installed during backward"):
        queue_callback(lambda: None)


def test_data_parallel_is_a_pass_through():
    inner = nn.Linear(3, 2)
    model = nn.DataParallel(inner)
    x = ember.randn(4, 3)
    assert model(x).tolist() == inner(x).tolist() and model.module is inner
    assert list(model.state_dict()) == list(torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())
    assert model.device_ids == []
