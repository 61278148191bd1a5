import os

import tempfile  # noqa: E402

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # for subprocesses the tests start
# compile mode's native kernels (mode="reduce-overhead") cache on disk: a fresh directory per test process, so the
# tests compile them (and never write to the user's ~/.cache)
os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember-test-cache-")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# pytest-xdist runs one worker per core: BLAS thread pools on top would oversubscribe the cores (NumPy may
# already be imported, so the environment variables alone come too late for this process)
threadpool_limits(1)


@pytest.fixture(autouse=True)
def _seed():
    import ember

    ember.manual_seed(0)
    np.random.seed(0)
    yield
    ember.set_default_dtype(ember.float32)
