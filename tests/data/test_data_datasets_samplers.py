"""Datasets, random_split and samplers, checked against torch.utils.data where the result is deterministic."""
import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud


class Squares(eud.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class TorchSquares(tud.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i * i


class Stream(eud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_tensor_dataset():
    x, y = ember.randn(5, 3), ember.arange(5)
    ds = eud.TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), x[2].numpy())
    assert yi.item() == 2


def test_tensor_dataset_size_mismatch_like_torch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        tud.TensorDataset(torch.ones(3), torch.ones(4))
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        eud.TensorDataset(ember.ones(3), ember.ones(4))


@pytest.mark.parametrize("idx", [0, 4, 5, 11, -1, -12])
def test_concat_dataset_indexing_matches_torch(idx):
    e = eud.ConcatDataset([Squares(5), Squares(7)])
    t = tud.ConcatDataset([TorchSquares(5), TorchSquares(7)])
    assert len(e) == len(t) == 12
    assert e[idx] == t[idx]
    assert e.cumulative_sizes == t.cumulative_sizes


def test_concat_dataset_errors_like_torch():
    with pytest.raises(AssertionError, match="empty"):
        eud.ConcatDataset([])
    with pytest.raises(AssertionError, match="IterableDataset"):
        eud.ConcatDataset([Stream(3)])
    with pytest.raises(ValueError, match="absolute value of index"):
        eud.ConcatDataset([Squares(2)])[-3]
    assert len(Squares(2) + Squares(3)) == 5


def test_chain_and_stack_dataset():
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]
    assert len(eud.ChainDataset([Stream(2), Stream(3)])) == 5
    s = eud.StackDataset(Squares(3), Squares(3))
    assert s[2] == (4, 4) and len(s) == 3
    assert eud.StackDataset(a=Squares(2), b=Squares(2))[1] == {"a": 1, "b": 1}
    with pytest.raises(ValueError, match="Size mismatch"):
        eud.StackDataset(Squares(2), Squares(3))


def test_subset():
    s = eud.Subset(Squares(10), [9, 0, 3])
    assert len(s) == 3 and [s[i] for i in range(3)] == [81, 0, 9]
    assert s.__getitems__([0, 2]) == [81, 9]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5], [0.33, 0.33, 0.34], [1.0], [10], [0.1] * 10,
                                     [0.25, 0.25, 0.25, 0.25]])
def test_random_split_sizes_match_torch(lengths):
    e = eud.random_split(Squares(10), lengths, generator=ember.Generator().manual_seed(0))
    t = tud.random_split(TorchSquares(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    all_indices = sorted(i for s in e for i in s.indices)
    assert all_indices == list(range(10))


def test_random_split_is_seeded_and_errors_like_torch():
    a = eud.random_split(Squares(20), [10, 10], generator=ember.Generator().manual_seed(3))
    b = eud.random_split(Squares(20), [10, 10], generator=ember.Generator().manual_seed(3))
    assert a[0].indices == b[0].indices
    ember.manual_seed(1)
    c = eud.random_split(Squares(20), [10, 10])
    ember.manual_seed(1)
    d = eud.random_split(Squares(20), [10, 10])
    assert c[1].indices == d[1].indices
    for mod, ds in ((tud, TorchSquares(10)), (eud, Squares(10))):
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            mod.random_split(ds, [3, 3])
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            mod.random_split(ds, [0.2, 0.2])


def test_sequential_sampler():
    assert list(eud.SequentialSampler(range(5))) == list(tud.SequentialSampler(range(5))) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("n, num_samples", [(10, None), (10, 4), (10, 25), (3, 7)])
def test_random_sampler_without_replacement_is_permutation_like_torch(n, num_samples):
    e = list(eud.RandomSampler(range(n), num_samples=num_samples, generator=ember.Generator().manual_seed(0)))
    t = list(tud.RandomSampler(range(n), num_samples=num_samples, generator=torch.Generator().manual_seed(0)))
    assert len(e) == len(t) == (num_samples or n)
    for start in range(0, len(e) - len(e) % n, n):  # every full block of n is a permutation
        assert sorted(e[start:start + n]) == list(range(n))
    assert len(set(e[len(e) - len(e) % n:])) == len(e) % n


def test_random_sampler_with_replacement():
    s = eud.RandomSampler(range(4), replacement=True, num_samples=100, generator=ember.Generator().manual_seed(0))
    draws = list(s)
    assert len(draws) == len(s) == 100 and set(draws) == {0, 1, 2, 3}


def test_random_sampler_uses_global_seed():
    ember.manual_seed(5)
    a = list(eud.RandomSampler(range(50)))
    b = list(eud.RandomSampler(range(50)))
    ember.manual_seed(5)
    assert list(eud.RandomSampler(range(50))) == a
    assert a != b


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(replacement=1), TypeError, "replacement should be a boolean"),
    (dict(num_samples=0), ValueError, "num_samples should be a positive integer"),
    (dict(num_samples=2.5), ValueError, "num_samples should be a positive integer"),
])
def test_random_sampler_errors_like_torch(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tud.RandomSampler(range(3), **kwargs)
    with pytest.raises(exc, match=match):
        eud.RandomSampler(range(3), **kwargs)


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    out = list(eud.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0)))
    assert sorted(out) == idx and len(eud.SubsetRandomSampler(idx)) == 4


def test_weighted_random_sampler():
    s = eud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 2000, generator=ember.Generator().manual_seed(0))
    draws = np.array(list(s))
    assert len(draws) == len(s) == 2000 and set(draws) <= {1, 3}
    assert 0.70 < (draws == 3).mean() < 0.80
    no_repl = list(eud.WeightedRandomSampler([1, 1, 1, 1, 1], 5, replacement=False))
    assert sorted(no_repl) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("args, exc, match", [
    (([[1.0, 2.0]], 2), ValueError, "weights should be a 1d sequence"),
    (([1.0, 2.0], 0), ValueError, "num_samples should be a positive integer"),
    (([1.0, 2.0], 2, 1), ValueError, "replacement should be a boolean"),
])
def test_weighted_random_sampler_errors_like_torch(args, exc, match):
    with pytest.raises(exc, match=match):
        tud.WeightedRandomSampler(*args)
    with pytest.raises(exc, match=match):
        eud.WeightedRandomSampler(*args)


@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                             (2, 5, True), (0, 4, False)])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    e = eud.BatchSampler(eud.SequentialSampler(range(n)), bs, drop_last)
    t = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop_last)
    assert list(e) == list(t) and len(e) == len(t)


@pytest.mark.parametrize("bs, drop_last, match", [(0, False, "batch_size"), (True, False, "batch_size"),
                                                  (2, 1, "drop_last")])
def test_batch_sampler_errors_like_torch(bs, drop_last, match):
    with pytest.raises(ValueError, match=match):
        tud.BatchSampler(range(3), bs, drop_last)
    with pytest.raises(ValueError, match=match):
        eud.BatchSampler(range(3), bs, drop_last)
