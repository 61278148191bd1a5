"""Helpers for tests that start processes under mpiexec (the `mpich` wheel's, beside the venv's python)."""
import os
import subprocess
import sys

import pytest
from mpi_helpers import WORKERS


def _env(**extra):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID"):
        env.pop(var, None)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def run_mpi():
    """run_mpi(worker_file, *args, n=2) -> CompletedProcess of `mpiexec -n n <python> worker args`."""
    from ember.distributed.run import find_mpiexec

    mpiexec = find_mpiexec()

    def run(worker, *args, n=2, env=None):
        cmd = [mpiexec, "-n", str(n), sys.executable, os.path.join(WORKERS, worker), *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env(**(env or {})))

    return run


@pytest.fixture(scope="session")
def run_python():
    """run_python(*argv, env=None) -> CompletedProcess of `<python> argv` (a single process, no mpiexec)."""

    def run(*argv, env=None, cwd=None):
        return subprocess.run([sys.executable, *map(str, argv)], capture_output=True, text=True, timeout=120,
                              env=_env(**(env or {})), cwd=cwd)

    return run
