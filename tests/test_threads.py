"""ember.get_num_threads / set_num_threads: torch's API, setting BLAS's thread count."""
import pytest
import torch
from threadpoolctl import threadpool_info

import ember


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True])
def test_set_num_threads_rejects_what_torch_rejects(bad):
    with pytest.raises(RuntimeError, match="set_num_threads") as ours:
        ember.set_num_threads(bad)
    with pytest.raises(RuntimeError) as theirs:
        torch.set_num_threads(bad)
    assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]


def _blas_threads():
    import numpy  # noqa: F401  (loads NumPy's BLAS)

    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"]}


def test_set_num_threads_sets_blas_threads_and_round_trips():
    old = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1 and _blas_threads() == {1}
        ember.set_num_threads(2)
        assert ember.get_num_threads() == 2 and _blas_threads() == {2}
    finally:
        ember.set_num_threads(old)
