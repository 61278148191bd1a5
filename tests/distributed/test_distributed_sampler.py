"""DistributedSampler against torch's for the same arguments (no MPI needed: num_replicas and rank are given)."""
import pytest
import torch
import torch.utils.data as tdata

import ember
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

CASES = [  # (dataset length, num_replicas, shuffle, drop_last, seed, epoch)
    (10, 2, False, False, 0, 0),
    (10, 3, False, False, 0, 0),
    (10, 3, False, True, 0, 0),
    (11, 4, False, False, 0, 0),
    (11, 4, False, True, 0, 0),
    (2, 5, False, False, 0, 0),  # fewer samples than replicas: padding repeats the list
    (3, 8, False, False, 0, 0),
    (3, 8, False, True, 0, 0),
    (10, 3, True, False, 0, 0),
    (10, 3, True, True, 5, 2),
    (17, 4, True, False, 123, 7),
    (2, 5, True, False, 1, 1),
    (1, 1, True, False, 0, 0),
]


@pytest.fixture
def ember_permutation_in_torch(monkeypatch):
    """ember's random streams are not torch's: let torch's sampler draw ember's permutation for the seed it uses,
    so the comparison covers everything else (seed + epoch, padding, dropping, striding)."""

    def randperm(n, generator=None, **kwargs):
        g = ember.Generator().manual_seed(generator.initial_seed())
        return torch.tensor(ember.randperm(n, generator=g).tolist())

    monkeypatch.setattr(torch, "randperm", randperm)


@pytest.mark.parametrize("n, replicas, shuffle, drop_last, seed, epoch", CASES)
def test_same_indices_as_torch(ember_permutation_in_torch, n, replicas, shuffle, drop_last, seed, epoch):
    for rank in range(replicas):
        mine = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)
        theirs = tdata.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                          drop_last=drop_last)
        mine.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(mine) == list(theirs)
        assert len(mine) == len(theirs) and mine.total_size == theirs.total_size


def test_shuffle_is_shared_by_ranks_and_changes_with_epoch():
    samplers = [DistributedSampler(range(20), num_replicas=2, rank=r, seed=3) for r in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(20))
    assert first[0] != list(range(0, 20, 2))
    assert [list(s) for s in samplers] == first  # same epoch, same order
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(second[0] + second[1]) == list(range(20))


def test_with_dataloader():
    data = TensorDataset(ember.arange(10.0))
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, num_replicas=3, rank=1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1.0, 4.0], [7.0, 0.0]]


@pytest.mark.parametrize("rank", [-1, 3])
def test_invalid_rank(rank):
    with pytest.raises(ValueError, match=r"Invalid rank .*interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=rank)
    with pytest.raises(ValueError, match=r"Invalid rank .*interval \[0, 2\]"):
        tdata.DistributedSampler(range(4), num_replicas=3, rank=rank)


def test_defaults_need_a_process_group():
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="init_process_group"):
        tdata.DistributedSampler(range(4))
