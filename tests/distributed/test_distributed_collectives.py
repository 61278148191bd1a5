"""ember.distributed's collectives under `mpiexec -n 2` (checks in workers/collectives.py)."""
import pytest
from mpi_helpers import pass_count, passed

CHECKS = ["init_state", "all_reduce_ops", "all_reduce_integers_and_bool", "all_reduce_views_and_float16", "broadcast",
          "reduce", "all_gather", "all_gather_into_tensor", "gather_and_scatter", "barrier", "objects_as_json",
          "destroy_and_reinit"]


@pytest.fixture(scope="module")
def collectives_run(run_mpi):
    return run_mpi("collectives.py")


@pytest.mark.parametrize("check", CHECKS)
def test_collective(collectives_run, check):
    assert passed(collectives_run, check)


def test_workers_exit_cleanly(collectives_run):
    assert collectives_run.returncode == 0, collectives_run.stderr
    assert pass_count(collectives_run) == 2 * len(CHECKS)
