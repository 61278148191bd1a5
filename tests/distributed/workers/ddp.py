"""Run under `mpiexec -n 2 python ddp.py DATA.npz OUT_DIR`: DistributedDataParallel training, no_sync and unused
parameters on a small MLP. Writes each rank's parameters and gradients to OUT_DIR/<case>_rank<r>.npz for
test_distributed_ddp.py to compare with torch; prints "PASS <case> rank <r>"."""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402

import numpy as np  # noqa: E402

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.parallel import DistributedDataParallel as DDP  # noqa: E402


class MLP(nn.Module):
    def __init__(self, extra=False, never=False):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)
        self.extra = nn.Linear(4, 3) if extra else None
        self.never = nn.Parameter(ember.ones(3)) if never else None
        self.register_buffer("scale", ember.full((1,), float(dist.get_rank() + 1)))

    def forward(self, x, use_extra=False):
        out = self.fc2(ember.tanh(self.fc1(x))) * self.scale
        return out + self.extra(x) if use_extra else out


def arrays(named):
    return {name: t.detach().numpy().copy() for name, t in named}


def grads(module):
    return {name: p.grad.numpy().copy() for name, p in module.named_parameters() if p.grad is not None}


def save(case, **parts):
    flat = {f"{part}/{k}": v for part, values in parts.items() for k, v in values.items()}
    np.savez(os.path.join(OUT, f"{case}_rank{RANK}.npz"), **flat)
    print(f"PASS {case} rank {RANK}", flush=True)


def half(x, rank):
    n = x.shape[0] // WORLD
    return ember.tensor(x[rank * n:(rank + 1) * n])


def train():
    """5 SGD steps, each rank on its half of the batch; replicas start from different weights."""
    ember.manual_seed(100 + RANK)
    model = MLP()
    ddp = DDP(model)
    assert model.scale.item() == 1.0, "buffers come from rank 0"
    assert ddp.module is model and all(k.startswith("module.") for k in ddp.state_dict())
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    init = arrays(model.named_parameters())
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    x, y = half(DATA["x"], RANK), half(DATA["y"], RANK)
    for _ in range(5):
        opt.zero_grad()
        F.mse_loss(ddp(x), y).backward()
        opt.step()
    save("train", init=init, final=arrays(model.named_parameters()))


def no_sync():
    """Rank r: batch A's half r inside no_sync (local gradients), then batch B's half r synchronised."""
    ember.manual_seed(200 + RANK)
    model = MLP()
    ddp = DDP(model)
    init = arrays(model.named_parameters())
    a_x, a_y, b_x, b_y = DATA["x"][:8], DATA["y"][:8], DATA["x"][8:], DATA["y"][8:]
    with ddp.no_sync():
        F.mse_loss(ddp(half(a_x, RANK)), half(a_y, RANK)).backward()
    local = grads(model)
    F.mse_loss(ddp(half(b_x, RANK)), half(b_y, RANK)).backward()
    save("no_sync", init=init, local=local, synced=grads(model))


def unused():
    """find_unused_parameters=True: `extra` is used on rank 0 only, `never` on no rank."""
    ember.manual_seed(300 + RANK)
    model = MLP(extra=True, never=True)
    ddp = DDP(model, find_unused_parameters=True)
    init = arrays(model.named_parameters())
    x, y = half(DATA["x"], RANK), half(DATA["y"], RANK)
    F.mse_loss(ddp(x, use_extra=RANK == 0), y).backward()
    assert model.never.grad is None
    result = grads(model)
    ddp.zero_grad()
    F.mse_loss(ddp(x, use_extra=RANK == 0), y).backward()  # a second iteration runs as well
    save("unused", init=init, grads=result)


def errors():
    """A parameter without a gradient and find_unused_parameters=False: the next forward raises, as torch."""
    model = MLP(never=True)
    ddp = DDP(model)
    x, y = half(DATA["x"], RANK), half(DATA["y"], RANK)
    F.mse_loss(ddp(x), y).backward()
    try:
        ddp(x)
    except RuntimeError as e:
        assert "find_unused_parameters=True" in str(e) and "never" in str(e), str(e)
    else:
        raise AssertionError("DDP did not report the unused parameter")
    for kwargs, error in (({"device_ids": [0]}, ValueError), ({}, RuntimeError)):
        try:
            DDP(MLP(), **kwargs) if kwargs else DDP(nn.ReLU())
        except error:
            pass
        else:
            raise AssertionError(f"DDP({kwargs}) did not raise {error.__name__}")
    print(f"PASS errors rank {RANK}", flush=True)


if __name__ == "__main__":
    with np.load(sys.argv[1], allow_pickle=False) as data:
        DATA = {k: data[k] for k in data.files}
    OUT = sys.argv[2]
    dist.init_process_group("mpi")
    RANK, WORLD = dist.get_rank(), dist.get_world_size()
    for case in (train, no_sync, unused, errors):
        case()
    dist.destroy_process_group()
