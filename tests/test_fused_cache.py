"""numba's disk cache of the fused kernels, loaded without numba's context refresh (ember._fused._lean_cache_class):
a fresh process that finds the kernels cached must load them without compiling numba's runtime, and the loaded
kernels must give the NumPy path's results bit for bit (including max pooling, whose kernel allocates)."""
import json
import os
import subprocess
import sys

# with argv[1] == "fail-once": the first lean load raises, and numba's own load (refresh, then load) must take over
SCRIPT = r"""
import json, sys
import numpy as np
if sys.argv[1:] == ["fail-once"]:
    from numba.core.caching import FunctionCache
    real, failed = FunctionCache._load_overload, []

    def load_failing_once(self, sig, target_context):
        if not failed:
            failed.append(1)
            raise RuntimeError("a cache load that fails")
        return real(self, sig, target_context)

    FunctionCache._load_overload = load_failing_once
import ember
import ember.nn.functional as F
from ember import _fused


def run():
    rng = np.random.default_rng(0)
    out = []
    for dt in (np.float32, np.float64):
        x = ember.tensor(rng.standard_normal((2, 3, 33, 33)).astype(dt), requires_grad=True)
        y = F.max_pool2d(x, 3, 2, 1)
        F.relu(y).sum().backward()
        out += [y.detach().numpy(), x.grad.numpy()]
        p = ember.nn.Parameter(ember.tensor(rng.standard_normal(5000).astype(dt)))
        opt = ember.optim.Adam([p], lr=1e-2)
        for _ in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        out.append(p.detach().numpy().copy())
    return out


fused = run()
k = _fused.kernels()
hits = sum(sum(getattr(k, n)._cache_hits.values()) for n in vars(k))
misses = sum(sum(getattr(k, n)._cache_misses.values()) for n in vars(k))
from numba.core.runtime import rtsys
refreshed = bool(rtsys._init)
_fused.set_enabled(False)
plain = run()
same = len(fused) == len(plain) and all(
    a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8)) for a, b in zip(fused, plain))
print(json.dumps({"hits": hits, "misses": misses, "refreshed": refreshed, "bitwise": same}))
"""


def _run(cache_dir, *args):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    env.pop("EMBER_NO_NUMBA", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cached_kernels_load_without_numba_runtime_compile_and_match_numpy(tmp_path):
    cold = _run(tmp_path)  # compiles and writes the cache (compiling refreshes numba's context as usual)
    assert cold["misses"] > 0 and cold["refreshed"] and cold["bitwise"]
    warm = _run(tmp_path)
    assert warm["misses"] == 0 and warm["hits"] > 0
    assert not warm["refreshed"]  # the lean load: numba's runtime module was never compiled
    assert warm["bitwise"]
    failing = _run(tmp_path, "fail-once")  # a lean load that raises falls back to numba's own load
    assert failing["misses"] == 0 and failing["hits"] > 0 and failing["refreshed"] and failing["bitwise"]
