"""The measuring side of ``ember bench``: one worker process per (workload, framework), frameworks interleaved
round by round, plus import times and the NumPy GEMM peak.

How a workload is measured:

1. For each framework a fresh worker process is started (``python harness.py --worker``) with the thread
   variables set in its environment before anything is imported (``OMP_NUM_THREADS``,
   ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``; torch workers also call ``torch.set_num_threads``; when
   fewer threads than CPUs are asked for, the worker is pinned to that many CPUs with
   ``os.sched_setaffinity``, which also bounds XLA's thread pool). It imports only its own framework, builds
   the model from the shared NumPy weights, runs and times the first step (which includes tracing or
   compiling), then ``warmup`` more steps, untimed. Before ember's workers start, one throwaway ember worker
   runs a first step so that numba's disk caches of ember's kernels are filled (``_fill_kernel_cache``).
2. The parent then runs ``rounds`` rounds; in each, every worker in turn (the order rotates from round to
   round) runs ``steps / rounds`` steps, each timed on its own with ``perf_counter_ns``. Only one worker runs
   at a time; the others wait on their pipe. Machine noise thus lands on all frameworks alike. Before each
   share the parent sleeps ``SETTLE_S`` so the previous worker's spinning BLAS/OpenMP threads go idle.
3. At the end each worker reports its peak resident set size (``ru_maxrss``), which covers the interpreter,
   the framework's import, the model and the steps.

Workers talk JSON lines over stdin/stdout (library output is sent to stderr). ``in_process=True`` runs the
same workers inside the calling process instead (for tests; no per-framework memory figure then).
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# ember.compile(ro): ember.compile(step, mode="reduce-overhead")
FRAMEWORKS = ("ember", "ember.compile", "ember.compile(ro)", "torch", "torch.compile", "jax.jit")
EMBER_COMPILE = {"ember": False, "ember.compile": True, "ember.compile(ro)": "reduce-overhead"}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
GEMM = "numpy GEMM"  # the pseudo-framework timing a plain float32 GEMM next to W5
GEMM_SIDE = {"full": 2048, "tiny": 64}
N_COMPARED = 6  # the results of the first steps (warm-up ones) are kept to compare frameworks' numbers


def thread_env(threads, base=None):
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


# ---- the worker ------------------------------------------------------------------------------------------------
def _maxrss_mb():
    """This process's peak resident set size in MB: VmHWM on Linux, else ru_maxrss. (On Linux ru_maxrss is
    carried over execve from the process that spawned us, so a small worker launched by a big parent would
    report the parent's peak; VmHWM belongs to the worker's own address space.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0  # bytes on macOS, else KiB


class GemmRunner:
    """``step`` is one ``np.matmul(a, b, out=c)`` of two side x side float32 matrices."""

    def __init__(self, side):
        import numpy as np

        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((side, side)).astype(np.float32)
        self.b = rng.standard_normal((side, side)).astype(np.float32)
        self.c = np.empty_like(self.a)
        self.flops = 2 * side ** 3
        self.info = {"version": np.__version__}

    def step(self, i):
        import numpy as np

        return np.matmul(self.a, self.b, out=self.c)

    def to_numpy(self, out):
        return out[:1, :4].copy()  # a sample: the worker sends its first results to the parent as JSON


def _build(framework, workload_name, size, threads):
    """(runner, version string) for one framework; imports only that framework."""
    from workloads import WORKLOADS, build_torch_like

    if framework == GEMM:
        runner = GemmRunner(GEMM_SIDE[size])
        return runner, runner.info["version"]
    w = WORKLOADS[workload_name]
    if framework in EMBER_COMPILE:
        import ember

        return build_torch_like(ember, w, size, compiled=EMBER_COMPILE[framework]), ember.__version__
    if framework in ("torch", "torch.compile"):
        import torch

        torch.set_num_threads(threads)
        return build_torch_like(torch, w, size, compiled=framework == "torch.compile"), torch.__version__
    if framework == "jax.jit":
        import jax

        from jax_workloads import build_jax

        return build_jax(w, size), jax.__version__
    raise ValueError(f"unknown framework {framework!r}; choose from {FRAMEWORKS}")


class Worker:
    """One framework on one workload: ``start`` builds and warms up, ``run(n)`` times n steps, ``finish``."""

    def __init__(self, framework, workload, size="full", threads=1, warmup=5):
        self.framework, self.workload, self.size = framework, workload, size
        self.threads, self.warmup = threads, warmup
        self.runner, self.i = None, 0

    def start(self):
        t0 = time.perf_counter()
        self.runner, version = _build(self.framework, self.workload, self.size, self.threads)
        build_s = time.perf_counter() - t0
        rss_built = _maxrss_mb()
        t0 = time.perf_counter_ns()
        first = self.runner.step(0)
        first_ms = (time.perf_counter_ns() - t0) / 1e6
        outputs = [self.runner.to_numpy(first)]
        for i in range(1, self.warmup + 1):
            out = self.runner.step(i)
            if i < N_COMPARED:
                outputs.append(self.runner.to_numpy(out))
        self.i = self.warmup + 1
        info = {"version": version, "build_s": build_s, "first_step_ms": first_ms, "rss_built_mb": rss_built,
                "first_outputs": [o.tolist() for o in outputs]}
        compiled = getattr(self.runner, "compiled_fn", None)
        if compiled is not None and hasattr(compiled, "n_traces"):  # ember.compile: traces, eager fallback
            info["n_traces"] = compiled.n_traces
            info["fell_back_to_eager"] = bool(getattr(compiled, "_eager", False))
        if hasattr(self.runner, "flops"):
            info["flops"] = self.runner.flops
        return info

    def run(self, n):
        times = []
        step, clock = self.runner.step, time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            step(self.i)
            times.append(clock() - t0)
            self.i += 1
        return times

    def finish(self):
        info = {"maxrss_mb": _maxrss_mb(), "steps_run": self.i}
        compiled = getattr(self.runner, "compiled_fn", None)
        if compiled is not None and hasattr(compiled, "n_traces"):
            info["n_traces"] = compiled.n_traces
        return info


def _worker_main():
    """The worker process loop: a config line, then commands; replies are JSON lines on the real stdout."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything the libraries print goes to stderr
    sys.stdout = sys.stderr
    cfg = json.loads(sys.stdin.readline())
    if cfg.get("cpus"):
        os.sched_setaffinity(0, cfg["cpus"])
    worker = Worker(cfg["framework"], cfg["workload"], cfg["size"], cfg["threads"], cfg["warmup"])
    try:
        proto.write(json.dumps({"ok": True, **worker.start()}) + "\n")
    except Exception as e:  # noqa: BLE001 - reported to the parent, which skips this framework
        proto.write(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
        return 1
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "run":
            proto.write(json.dumps({"times_ns": worker.run(cmd["n"])}) + "\n")
        elif cmd["cmd"] == "finish":
            proto.write(json.dumps(worker.finish()) + "\n")
            return 0
    return 0


class ProcessWorker:
    """A Worker in its own process (same methods)."""

    def __init__(self, framework, workload, size="full", threads=1, warmup=5):
        self.framework = framework
        self.cfg = {"framework": framework, "workload": workload, "size": size, "threads": threads,
                    "warmup": warmup, "cpus": _cpus_for(threads)}
        self.env = thread_env(threads)
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = None

    def _ask(self, msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.framework} worker died:\n{self._stderr_tail()}")
        return json.loads(line)

    def _stderr_tail(self, n=15):
        self.stderr.seek(0)
        return "".join(self.stderr.readlines()[-n:])

    def start(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=self.env, cwd=HERE)
        reply = self._ask(self.cfg)
        if not reply.pop("ok"):
            self.close()
            raise RuntimeError(reply["error"])
        return reply

    def run(self, n):
        return self._ask({"cmd": "run", "n": n})["times_ns"]

    def finish(self):
        info = self._ask({"cmd": "finish"})
        self.close()
        return info

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self.stderr.close()


def _cpus_for(threads):
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None
    return cpus[:threads] if threads < len(cpus) else None


# ---- the measurement ----------------------------------------------------------------------------------------------
def available_frameworks():
    """{framework: None if usable, else the reason it is skipped}."""
    import importlib.util

    out = {"ember": None, "ember.compile": None}
    out["ember.compile(ro)"] = None if importlib.util.find_spec("numba") else (
        "numba is not installed: mode='reduce-overhead' would be ember.compile's default passes")
    has_torch = importlib.util.find_spec("torch") is not None
    out["torch"] = None if has_torch else "torch is not installed"
    out["torch.compile"] = None if has_torch else "torch is not installed"
    if importlib.util.find_spec("jax") is None:
        out["jax.jit"] = "jax is not installed (pip install jax jaxlib)"
    else:
        out["jax.jit"] = None
    return out


# Pause before each worker's share of a round: BLAS and OpenMP helper threads keep spinning for a while after
# their last parallel region (OpenBLAS up to 2^28 cycles, ~0.1 s here), and would take a core from whichever
# worker runs next.
SETTLE_S = 0.15


def measure_workload(name, frameworks, steps, size="full", threads=1, warmup=5, rounds=10, in_process=False,
                     log=print, settle=SETTLE_S):
    """Interleaved timings of one workload. Returns {framework: result dict} where a result holds the per-step
    times (``times_ns``), the worker's info (first step, first outputs, memory) or ``skipped`` and a reason."""
    args = (name, frameworks, steps, size, threads, warmup, rounds, in_process, log, settle)
    if not in_process:
        return _measure(*args)
    # in this process BLAS was loaded long before: its thread variables cannot apply, so limit it directly
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        log("  (threadpoolctl is not installed: in-process runs keep BLAS's own thread count)")
        return _measure(*args)
    with threadpool_limits(limits=threads, user_api="blas"):
        return _measure(*args)


def _measure(name, frameworks, steps, size, threads, warmup, rounds, in_process, log, settle):
    from workloads import WORKLOADS

    names = list(frameworks)
    if name == "W5":
        names.append(GEMM)
    make = Worker if in_process else ProcessWorker
    if not in_process and any(fw.startswith("ember") for fw in names):
        _fill_kernel_cache("ember.compile(ro)" if "ember.compile(ro)" in names else "ember", name, size, threads,
                           log)
    workers, results = {}, {}
    for fw in names:
        worker = make(fw, name, size, threads, warmup)
        try:
            info = worker.start()
        except Exception as e:  # noqa: BLE001 - the framework is skipped and the reason reported
            results[fw] = {"skipped": str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__}
            log(f"  {name} {fw}: skipped ({results[fw]['skipped']})")
            continue
        results[fw] = dict(info, times_ns=[])
        workers[fw] = worker
        log(f"  {name} {fw}: first step {info['first_step_ms']:.1f} ms (build {info['build_s']:.1f} s)")
    rounds = max(1, min(rounds, steps))
    per_round = [steps // rounds + (1 if r < steps % rounds else 0) for r in range(rounds)]
    order = list(workers)
    for r, n in enumerate(per_round):
        k = r % len(order) if order else 0
        for fw in order[k:] + order[:k]:
            if settle and not in_process:
                time.sleep(settle)
            results[fw]["times_ns"] += workers[fw].run(n)
    for fw, worker in workers.items():
        results[fw].update(worker.finish())
        if in_process:
            results[fw].pop("maxrss_mb", None)  # one process for all frameworks: meaningless per framework
    return {"workload": name, "title": WORKLOADS[name].title, "flops": WORKLOADS[name].flops(
        WORKLOADS[name].dims(size)), "frameworks": results}


def _fill_kernel_cache(framework, name, size, threads, log):
    """Run ember's first step once, untimed, in a throwaway worker, so that every measured ember worker finds
    numba's on-disk caches filled, as a user's second and later runs do: the fused kernels (ember._fused) and,
    with ``framework`` ember.compile(ro), the native kernels compile mode generates for this workload (its first
    call also runs the step eagerly). The first run after an install (or an edit of _fused.py) compiles them:
    seconds, and ~50 MB more peak memory. torch's kernels likewise come compiled ahead of time."""
    worker = ProcessWorker(framework, name, size, threads, warmup=0)
    try:
        worker.start()
        worker.finish()
    except Exception as e:  # noqa: BLE001 - the measured ember worker will report the failure
        log(f"  {name}: filling ember's kernel cache failed ({str(e).strip().splitlines()[-1:]})")


def measure_imports(modules, threads=1, repeats=7):
    """Wall time of ``python -c 'import m'`` for each module, interleaved, ``repeats`` times each; also the time
    of the import statement alone as measured inside that process. Returns {module: {...}} (seconds).

    Imports are timed as a user's second and later imports run: with every module's bytecode cached. The
    child processes write their caches under a fresh ``PYTHONPYCACHEPREFIX`` (one untimed import of each
    module fills it) whatever ``PYTHONDONTWRITEBYTECODE`` says here: without that, a source checkout such as
    an editable install would be compiled from source at every timed import, while a wheel's modules (torch's)
    come with their bytecode."""
    code = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"
    env = thread_env(threads)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache_dir = tempfile.mkdtemp(prefix="ember-bench-pycache-")
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    for m in modules:  # fill the bytecode cache (untimed)
        subprocess.run([sys.executable, "-c", f"import {m}"], capture_output=True, env=env,
                       cwd=tempfile.gettempdir())
    out = {m: {"wall_s": [], "inside_s": []} for m in modules}
    for r in range(repeats):
        for m in (modules[r % len(modules):] + modules[:r % len(modules)]):
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", code.format(m=m)], capture_output=True, text=True, env=env,
                               cwd=tempfile.gettempdir())
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                out[m] = {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"}
                continue
            if "error" not in out[m]:
                out[m]["wall_s"].append(wall)
                out[m]["inside_s"].append(float(p.stdout.strip().splitlines()[-1]))
    shutil.rmtree(cache_dir, ignore_errors=True)
    return out


def run_benchmark(workloads, frameworks, steps=None, size="full", threads=1, warmup=None, rounds=10,
                  in_process=False, import_repeats=7, log=print):
    """Everything ``ember bench`` reports, as a dict (see ember.tools.bench for the report)."""
    from workloads import WORKLOADS

    avail = available_frameworks()
    skipped = {fw: avail[fw] for fw in frameworks if avail.get(fw)}
    usable = [fw for fw in frameworks if not avail.get(fw)]
    result = {"config": {"workloads": list(workloads), "frameworks": list(frameworks), "steps": steps,
                         "size": size, "threads": threads, "warmup": warmup, "rounds": rounds,
                         "in_process": in_process, "python": sys.version.split()[0]},
              "skipped_frameworks": skipped, "workloads": []}
    for name in workloads:
        n = steps if steps is not None else WORKLOADS[name].default_steps
        wu = warmup if warmup is not None else max(5, n // 10)
        log(f"{name}: {WORKLOADS[name].title} ({n} timed steps per framework, {wu} warm-up)")
        result["workloads"].append(measure_workload(name, usable, n, size, threads, wu, rounds, in_process, log))
    modules = ["ember"] + [m for m, fw in (("torch", "torch"), ("jax", "jax.jit")) if fw in usable
                           or (m == "torch" and "torch.compile" in usable)]
    if import_repeats:
        log(f"import times ({import_repeats} runs each)")
        result["imports"] = measure_imports(modules, threads, import_repeats)
    return result


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(_worker_main())
    sys.exit("harness.py is run by ember bench (or benchmarks/run.py); --worker is for its worker processes")
