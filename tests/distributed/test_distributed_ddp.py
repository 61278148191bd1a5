"""DistributedDataParallel under `mpiexec -n 2` (workers/ddp.py) against torch on one process."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mpi_helpers import passed

CASES = ["train", "no_sync", "unused", "errors"]


@pytest.fixture(scope="module")
def ddp_run(run_mpi, tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    rng = np.random.default_rng(7)
    data = {"x": rng.standard_normal((16, 4)).astype(np.float32), "y": rng.standard_normal((16, 3)).astype(np.float32)}
    np.savez(root / "data.npz", **data)
    proc = run_mpi("ddp.py", root / "data.npz", root)
    return proc, root, data


def load(ddp_run, case, rank):
    proc, root, _ = ddp_run
    assert passed(proc, case)
    with np.load(root / f"{case}_rank{rank}.npz", allow_pickle=False) as f:
        out = {}
        for key in f.files:
            part, name = key.split("/", 1)
            out.setdefault(part, {})[name] = f[key]
        return out


def torch_params(init):
    return {k: torch.tensor(v, requires_grad=True) for k, v in init.items()}


def torch_loss(p, x, y, use_extra=False):
    out = F.linear(torch.tanh(F.linear(torch.tensor(x), p["fc1.weight"], p["fc1.bias"])), p["fc2.weight"],
                   p["fc2.bias"])
    if use_extra:
        out = out + F.linear(torch.tensor(x), p["extra.weight"], p["extra.bias"])
    return F.mse_loss(out, torch.tensor(y))


def torch_grads(init, x, y, use_extra=False):
    p = torch_params(init)
    torch_loss(p, x, y, use_extra).backward()
    return {k: v.grad.numpy() for k, v in p.items() if v.grad is not None}


@pytest.mark.parametrize("case", CASES)
def test_every_rank_finished(ddp_run, case):
    assert passed(ddp_run[0], case)


def test_ranks_start_from_rank0_weights_and_end_identical(ddp_run):
    r0, r1 = load(ddp_run, "train", 0), load(ddp_run, "train", 1)
    for name in r0["init"]:
        np.testing.assert_array_equal(r0["init"][name], r1["init"][name])
        np.testing.assert_array_equal(r0["final"][name], r1["final"][name])


def test_two_half_batches_equal_one_full_batch(ddp_run):
    """5 SGD steps with DDP, each rank on half the batch == 5 steps of torch on the whole batch."""
    _, _, data = ddp_run
    ranks = [load(ddp_run, "train", r) for r in range(2)]
    p = torch_params(ranks[0]["init"])
    opt = torch.optim.SGD(p.values(), lr=0.1, momentum=0.9)
    for _ in range(5):
        opt.zero_grad()
        torch_loss(p, data["x"], data["y"]).backward()
        opt.step()
    for r in ranks:
        for name, value in p.items():
            np.testing.assert_allclose(r["final"][name], value.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_no_sync_accumulates_locally_then_averages(ddp_run):
    _, _, data = ddp_run
    ranks = [load(ddp_run, "no_sync", r) for r in range(2)]
    init = ranks[0]["init"]
    a = [torch_grads(init, data["x"][4 * r:4 * r + 4], data["y"][4 * r:4 * r + 4]) for r in range(2)]
    b = [torch_grads(init, data["x"][8 + 4 * r:12 + 4 * r], data["y"][8 + 4 * r:12 + 4 * r]) for r in range(2)]
    for r in range(2):
        for name in init:
            np.testing.assert_allclose(ranks[r]["local"][name], a[r][name], rtol=1e-5, atol=1e-6)
            want = (a[0][name] + b[0][name] + a[1][name] + b[1][name]) / 2
            np.testing.assert_allclose(ranks[r]["synced"][name], want, rtol=1e-5, atol=1e-6, err_msg=name)
    assert not np.allclose(ranks[0]["local"]["fc1.weight"], ranks[1]["local"]["fc1.weight"])


def test_find_unused_parameters(ddp_run):
    """`extra` feeds the loss on rank 0 only: its gradient is rank 0's over 2; `never` keeps no gradient."""
    _, _, data = ddp_run
    ranks = [load(ddp_run, "unused", r) for r in range(2)]
    init = ranks[0]["init"]
    g = [torch_grads(init, data["x"][8 * r:8 * r + 8], data["y"][8 * r:8 * r + 8], use_extra=r == 0)
         for r in range(2)]
    for r in range(2):
        assert sorted(ranks[r]["grads"]) == sorted(k for k in init if k != "never")
        for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
            np.testing.assert_allclose(ranks[r]["grads"][name], (g[0][name] + g[1][name]) / 2, rtol=1e-5, atol=1e-6)
        for name in ("extra.weight", "extra.bias"):
            np.testing.assert_allclose(ranks[r]["grads"][name], g[0][name] / 2, rtol=1e-5, atol=1e-6)


def test_workers_exit_cleanly(ddp_run):
    assert ddp_run[0].returncode == 0, ddp_run[0].stderr
