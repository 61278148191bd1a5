"""ember bench: the workloads compute the same numbers in ember (eager and compiled) and torch from the same
weights, and the harness runs end to end. Timings are never asserted."""
import json
import os
import sys

import numpy as np
import pytest
import torch

import ember
from ember import cli
from ember.tools import bench

BENCH_DIR = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks")
sys.path.insert(0, os.path.abspath(BENCH_DIR))

import harness
from workloads import WORKLOADS, build_torch_like

N_STEPS = 4


def outputs(lib, name, compiled=False, n=N_STEPS):
    runner = build_torch_like(lib, WORKLOADS[name], "tiny", compiled=compiled)
    return [runner.to_numpy(runner.step(i)) for i in range(n)]


@pytest.fixture(scope="module")
def torch_outputs():
    return {name: outputs(torch, name) for name in WORKLOADS}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_first_step_equals_torch(name, compiled, torch_outputs):
    got = outputs(ember, name, compiled, n=1)[0]
    np.testing.assert_allclose(got, torch_outputs[name][0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_later_steps_equal_torch(name, compiled, torch_outputs):
    """Steps 2.. run the updated weights on other batches: this checks the optimiser, and compiled code that
    is run (not traced)."""
    got = outputs(ember, name, compiled)
    for step, (a, b) in enumerate(zip(got, torch_outputs[name])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=f"step {step}")


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_weights_have_torch_shapes_and_init_bounds(name):
    """Same names and shapes as torch's state_dict, drawn from torch's default U(-bound, bound)."""
    w = WORKLOADS[name]
    d = w.dims("tiny")
    model = w.model(torch, d)
    specs = w.param_specs(d)
    assert [s[0] for s in specs] == list(model.state_dict())
    for (key, shape, bound), ref in zip(specs, model.state_dict().values()):
        assert shape == tuple(ref.shape), key
        module = model.get_submodule(key.rsplit(".", 1)[0])
        if isinstance(module, torch.nn.LSTM):
            expected = 1 / np.sqrt(module.hidden_size)
        else:
            expected = 1 / np.sqrt(torch.nn.init._calculate_fan_in_and_fan_out(module.weight)[0])
        assert bound == pytest.approx(expected), key
    weights = w.weights(d)
    assert all(v.dtype == np.float32 and np.abs(v).max() <= b for v, (_, _, b) in zip(weights.values(), specs))


def test_harness_runs_every_workload_in_process():
    res = harness.run_benchmark(list(WORKLOADS), ["ember", "ember.compile", "torch"], steps=3, size="tiny",
                                warmup=2, rounds=2, in_process=True, import_repeats=0, log=lambda m: None)
    bench.summarize(res)
    assert [wl["workload"] for wl in res["workloads"]] == list(WORKLOADS)
    for wl in res["workloads"]:
        fws = wl["frameworks"]
        expected = ["ember", "ember.compile", "torch"] + (["numpy GEMM"] if wl["workload"] == "W5" else [])
        assert list(fws) == expected
        for r in fws.values():
            assert r["stats"]["n"] == 3 and len(r["times_ns"]) == 3
            assert r["stats"]["p10_ms"] <= r["stats"]["median_ms"] <= r["stats"]["p90_ms"]
        assert fws["torch"]["ratio_to_torch"] == 1.0
        assert fws["ember"]["first_steps_rel_diff_vs_torch"] < 1e-4
    w5 = res["workloads"][list(WORKLOADS).index("W5")]["frameworks"]
    assert 0 < w5["ember"]["fraction_of_gemm_peak"]
    report = bench.format_report(res)
    for name in WORKLOADS:
        assert f"### {name}:" in report
    statuses = {t["target"]: t["status"] for t in res["targets"]}
    assert set(statuses.values()) <= {"PASS", "MISS", "n/a"}
    assert statuses["import ember / import torch"] == "n/a"  # import_repeats=0
    assert "W5 ember.compile faster than ember" in statuses


def test_cli_runs_workers_in_their_own_processes(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = cli.main(["bench", "--workloads", "W1", "--against", "none", "--steps", "3", "--size", "tiny",
                     "--warmup", "2", "--rounds", "2", "--import-repeats", "1", "--threads", "1",
                     "--json", str(out)])
    assert code == 0
    res = json.loads(out.read_text())
    fws = res["workloads"][0]["frameworks"]
    assert list(fws) == ["ember", "ember.compile", "ember.compile(ro)"]
    for r in fws.values():
        assert len(r["times_ns"]) == 3 and r["maxrss_mb"] > 0
    assert fws["ember.compile"]["n_traces"] == 1 and fws["ember.compile(ro)"]["n_traces"] == 1
    assert len(res["imports"]["ember"]["wall_s"]) == 1
    captured = capsys.readouterr()
    assert "| ember.compile |" in captured.out and "| ember.compile(ro) |" in captured.out
    assert "kernel cache failed" not in captured.err  # the untimed worker that fills numba's cache ran


@pytest.mark.parametrize("argv, message", [
    (["--workloads", "W9"], "unknown workload"),
    (["--against", "tensorflow"], "unknown framework"),
])
def test_cli_rejects_unknown_names(argv, message, capsys):
    assert cli.main(["bench", *argv]) == 2
    assert message in capsys.readouterr().err


def test_step_stats_match_numpy_percentiles():
    rng = np.random.default_rng(0)
    ns = rng.integers(1_000, 5_000_000, 37).tolist()
    st = bench.step_stats(ns)
    ms = np.array(ns) / 1e6
    for key, q in (("median_ms", 50), ("p10_ms", 10), ("p90_ms", 90), ("p95_ms", 95)):
        assert st[key] == pytest.approx(np.percentile(ms, q))
    assert st["jitter"] == pytest.approx(np.percentile(ms, 95) / np.percentile(ms, 50))


def _fake(frameworks, workload="W1", flops=None):
    return {"workload": workload, "title": "", "flops": flops, "frameworks": {
        fw: {"times_ns": [int(ms * 1e6)] * 3, "maxrss_mb": rss} for fw, (ms, rss) in frameworks.items()}}


@pytest.mark.parametrize("ember_ms, compiled_ms, expected", [
    (0.4, 0.1, ("PASS", "PASS", "PASS")),
    (0.6, 0.2, ("MISS", "MISS", "PASS")),
    (0.4, 0.5, ("PASS", "MISS", "MISS")),
])
def test_targets_are_marked(ember_ms, compiled_ms, expected):
    res = {"workloads": [_fake({"ember": (ember_ms, 40), "ember.compile": (compiled_ms, 40), "torch": (1.0, 300)})],
           "imports": {"ember": {"wall_s": [0.1, 0.2, 0.3]}, "torch": {"wall_s": [1.0, 2.0, 3.0]}}}
    bench.summarize(res)
    status = {t["target"]: t["status"] for t in res["targets"]}
    got = (status["W1 ember / torch"], status["W1 ember.compile / torch"], status["W1 ember.compile faster than ember"])
    assert got == expected
    assert status["import ember / import torch"] == "PASS"  # 0.2 / 2.0
    assert "W2 ember / torch" not in status  # workloads not run get no row


def test_gemm_fraction_target():
    res = {"workloads": [_fake({"ember": (10.0, 0), "torch": (10.0, 0), "numpy GEMM": (1.0, 0)}, "W5", flops=8e9)]}
    res["workloads"][0]["frameworks"]["numpy GEMM"]["flops"] = 1e9
    bench.summarize(res)
    ember_r = res["workloads"][0]["frameworks"]["ember"]
    assert ember_r["gflops"] == pytest.approx(800.0) and ember_r["fraction_of_gemm_peak"] == pytest.approx(0.8)
    assert {t["target"]: t["status"] for t in res["targets"]}["W5 ember GFLOP/s / NumPy GEMM peak"] == "PASS"


def test_plot_writes_a_png_or_says_why_not(tmp_path):
    res = {"config": {"threads": 2}, "date": "2026-01-01", "workloads": [
        _fake({"ember": (0.4, 1), "ember.compile": (0.2, 1), "torch": (1.0, 1)})]}
    bench.summarize(res)
    path = tmp_path / "bench.png"
    note = bench.plot(res, str(path))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib" in note and not path.exists()
    else:
        assert note is None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("threads", [1, 2])
def test_in_process_runs_limit_blas_to_the_asked_threads(monkeypatch, threads):
    from threadpoolctl import threadpool_info

    seen = []
    monkeypatch.setattr(harness, "_measure", lambda *a: seen.append(
        {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"]}))
    harness.measure_workload("W1", ["ember"], 1, size="tiny", threads=threads, in_process=True, log=lambda m: None)
    assert seen == [{threads}]
