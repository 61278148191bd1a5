"""DataLoader in the main process, against torch.utils.data.DataLoader where the result is deterministic."""
import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from test_data_collate import assert_matches


class Pairs(eud.Dataset):
    """Sample i: (float32 image of value i, int label i % 3)."""

    def __init__(self, n, tensor_mod=ember):
        self.n, self.mod = n, tensor_mod

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.mod.full((2, 2), float(i)), i % 3


class TorchPairs(tud.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((2, 2), float(i)), i % 3


class Stream(eud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield {"x": np.full(2, i, dtype=np.float32), "i": i}

    def __len__(self):
        return self.n


class TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield {"x": np.full(2, i, dtype=np.float32), "i": i}

    def __len__(self):
        return self.n


@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (10, 5, False), (10, 5, True),
                                             (4, 10, False), (4, 10, True), (1, 1, False)])
def test_sequential_batches_match_torch(n, bs, drop_last):
    e = eud.DataLoader(Pairs(n), batch_size=bs, drop_last=drop_last)
    t = tud.DataLoader(TorchPairs(n), batch_size=bs, drop_last=drop_last)
    e_batches, t_batches = list(e), list(t)
    assert len(e) == len(t) == len(t_batches) == len(e_batches)
    for eb, tb in zip(e_batches, t_batches):
        assert_matches(eb, tb)


@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, True)])
def test_iterable_dataset_batches_match_torch(n, bs, drop_last):
    e = eud.DataLoader(Stream(n), batch_size=bs, drop_last=drop_last)
    t = tud.DataLoader(TorchStream(n), batch_size=bs, drop_last=drop_last)
    e_batches, t_batches = list(e), list(t)
    assert len(e) == len(t) and len(e_batches) == len(t_batches)
    for eb, tb in zip(e_batches, t_batches):
        assert_matches(eb, tb)


def test_batch_size_none_converts_without_batching_like_torch():
    e = list(eud.DataLoader(Stream(3), batch_size=None))
    t = list(tud.DataLoader(TorchStream(3), batch_size=None))
    assert len(e) == len(t) == 3
    for eb, tb in zip(e, t):
        assert_matches(eb, tb)
    assert len(eud.DataLoader(Pairs(4), batch_size=None)) == 4


def test_custom_batch_sampler_and_collate_fn():
    loader = eud.DataLoader(Pairs(6), batch_sampler=[[5, 0], [1], [2, 3, 4]], collate_fn=lambda b: [s[1] for s in b])
    assert list(loader) == [[2, 0], [1], [2, 0, 1]]
    assert len(loader) == 3


def test_sampler_argument():
    loader = eud.DataLoader(Pairs(6), sampler=[4, 2], batch_size=2)
    (x, y), = list(loader)
    assert y.tolist() == [1, 2] and x[:, 0, 0].tolist() == [4.0, 2.0]


def test_shuffle_is_a_permutation_and_seeded():
    def epoch(loader):
        return [int(v) for x, _ in loader for v in x[:, 0, 0].tolist()]

    ember.manual_seed(0)
    a = epoch(eud.DataLoader(Pairs(20), batch_size=4, shuffle=True))
    ember.manual_seed(0)
    b = epoch(eud.DataLoader(Pairs(20), batch_size=4, shuffle=True))
    assert a == b and sorted(a) == list(range(20)) and a != list(range(20))
    loader = eud.DataLoader(Pairs(20), batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(1))
    first, second = epoch(loader), epoch(loader)
    assert first != second  # a new permutation each epoch
    again = eud.DataLoader(Pairs(20), batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(1))
    assert epoch(again) == first


def test_getitems_is_used_for_batches():
    class Batched(Pairs):
        def __getitems__(self, indices):
            return [(ember.tensor(float(i)), -i) for i in indices]

    (x, y), = list(eud.DataLoader(Batched(3), batch_size=3))
    assert y.tolist() == [0, -1, -2]


def test_exception_in_main_process_propagates_unchanged():
    class Bad(Pairs):
        def __getitem__(self, i):
            raise KeyError(f"missing {i}")

    with pytest.raises(KeyError, match="missing 0"):
        next(iter(eud.DataLoader(Bad(3))))


def test_len_of_iterable_without_len_raises_type_error():
    class NoLen(eud.IterableDataset):
        def __iter__(self):
            return iter([1, 2])

    with pytest.raises(TypeError):
        len(tud.DataLoader(NoLen()))
    with pytest.raises(TypeError):
        len(eud.DataLoader(NoLen()))
    assert [b.tolist() for b in eud.DataLoader(NoLen())] == [[1], [2]]


def test_pin_memory_accepted():
    (x, y), = list(eud.DataLoader(Pairs(2), batch_size=2, pin_memory=True))
    assert tuple(x.shape) == (2, 2, 2)


ARG_ERRORS = [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used"),
    (dict(num_workers=1, multiprocessing_context="nope"), "multiprocessing_context option should specify"),
]


@pytest.mark.parametrize("kwargs, match", ARG_ERRORS, ids=[m for _, m in ARG_ERRORS])
def test_argument_errors_match_torch(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tud.DataLoader(TorchPairs(4), **kwargs)
    with pytest.raises(ValueError, match=match):
        eud.DataLoader(Pairs(4), **kwargs)


@pytest.mark.parametrize("kwargs, match", [(dict(shuffle=True), "expected unspecified shuffle option"),
                                           (dict(sampler=[0]), "expected unspecified sampler option"),
                                           (dict(batch_sampler=[[0]]), "expected unspecified batch_sampler")])
def test_iterable_dataset_argument_errors_match_torch(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tud.DataLoader(TorchStream(2), **kwargs)
    with pytest.raises(ValueError, match=match):
        eud.DataLoader(Stream(2), **kwargs)


def test_attributes_frozen_after_init_like_torch():
    for loader in (tud.DataLoader(TorchPairs(2)), eud.DataLoader(Pairs(2))):
        with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader"):
            loader.batch_size = 4


def test_main_process_worker_info_is_none():
    assert eud.get_worker_info() is None
