"""Benchmark training steps of ember (eager, compiled, and compiled with ``mode="reduce-overhead"``, shown as
``ember.compile(ro)``) against torch, torch.compile and jax.jit, and mark the project's speed targets PASS or
MISS (the ``ember bench`` command).

    ember bench [--workloads W1,W3] [--against torch,jax] [--steps N] [--threads 2] [--json out.json]
                [--plot out.png]

The workloads and the measuring harness live in the ``benchmarks/`` directory of an ember source checkout
(they import torch and jax, which ember itself never does); this module finds that directory, runs the
harness, and turns its measurements into the report: per workload the median ms/step, p10/p90, jitter
(p95/p50), the ratio to torch eager, the peak RSS of each framework's process, import times, and the targets.
Set ``EMBER_BENCHMARKS_DIR`` when the checkout is elsewhere. See docs/performance.md.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W2i", "W3i")
AGAINST = {"torch": "torch", "torch.compile": "torch.compile", "torch-compile": "torch.compile",
           "inductor": "torch.compile", "jax": "jax.jit", "jax.jit": "jax.jit"}
DEFAULT_AGAINST = "torch,torch.compile,jax"

# (label, kind, workload, framework, limit): kind "ratio" is median / torch eager median (at most the limit),
# "gemm" the framework's GFLOP/s over the NumPy GEMM's (at least), "rss" peak RSS over torch's (at most),
# "import" import time over torch's (at most), "faster" the compiled median below ember eager's. The compile
# targets are checked for both compile modes: ember.compile (default mode: bitwise eager's results) and
# ember.compile(ro) (mode="reduce-overhead": small arrays' ops as native kernels, within float32 rounding).
COMPILED = ("ember.compile", "ember.compile(ro)")
TARGETS = (
    ("W1 ember / torch", "ratio", "W1", "ember", 0.5),
    ("W2 ember / torch", "ratio", "W2", "ember", 0.9),
    ("W3 ember / torch", "ratio", "W3", "ember", 1.0),
    ("W4 ember / torch", "ratio", "W4", "ember", 1.0),
    ("W5 ember GFLOP/s / NumPy GEMM peak", "gemm", "W5", "ember", 0.8),
    ("import ember / import torch", "import", None, "ember", 0.15),
    ("W2 peak RSS ember / torch", "rss", "W2", "ember", 0.5),
) + tuple((f"{w} {fw} / torch", "ratio", w, fw, limit) for fw in COMPILED
          for w, limit in (("W1", 0.12), ("W2", 0.8), ("W3", 0.8), ("W4", 0.8))
          ) + tuple((f"{w} {fw} faster than ember", "faster", w, fw, 1.0) for fw in COMPILED for w in WORKLOADS)


# ---- arguments ---------------------------------------------------------------------------------------------------
def add_arguments(parser):
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated workloads (default: all of {','.join(WORKLOADS)})")
    parser.add_argument("--against", default=DEFAULT_AGAINST,
                        help="frameworks to compare with besides ember, ember.compile and ember.compile(ro) "
                             "(mode='reduce-overhead'): torch (eager), "
                             f"torch.compile, jax (jax.jit); missing ones are skipped with a note (default: "
                             f"{DEFAULT_AGAINST}); 'none' for ember alone")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per framework and workload (default: per workload, 20 to 1000)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every framework (default: 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps after the first (default: "
                                                                  "max(5, steps/10))")
    parser.add_argument("--rounds", type=int, default=10, help="interleaving rounds (default: 10)")
    parser.add_argument("--import-repeats", type=int, default=7,
                        help="runs of `python -c 'import X'` per module, after one untimed run that caches "
                             "every module's bytecode (default: 7; 0 skips)")
    parser.add_argument("--size", choices=("full", "tiny"), default="full",
                        help="'tiny' shrinks every workload (smoke tests; its numbers mean nothing)")
    parser.add_argument("--in-process", action="store_true",
                        help="run all frameworks in this process (no per-framework memory; for debugging)")
    parser.add_argument("--json", metavar="PATH", help="write all measurements (and raw step times) as JSON")
    parser.add_argument("--plot", metavar="PATH", help="write a bar chart PNG (needs matplotlib)")
    return parser


def parse_frameworks(against):
    out = ["ember", *COMPILED]
    for tok in (t.strip() for t in against.split(",")):
        if not tok or tok == "none":
            continue
        if tok not in AGAINST:
            raise ValueError(f"ember bench: unknown framework {tok!r} in --against; choose from {sorted(AGAINST)}")
        if AGAINST[tok] not in out:
            out.append(AGAINST[tok])
    return out


def parse_workloads(text):
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in WORKLOADS]
    if bad or not names:
        raise ValueError(f"ember bench: unknown workload(s) {bad}; choose from {','.join(WORKLOADS)}")
    return names


# ---- finding and running the harness -------------------------------------------------------------------------------
def find_benchmarks_dir():
    """The ``benchmarks/`` directory: $EMBER_BENCHMARKS_DIR, the checkout this package sits in, or ./benchmarks."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("EMBER_BENCHMARKS_DIR"),
                  os.path.join(here, os.pardir, os.pardir, os.pardir, "benchmarks"),
                  os.path.join(os.getcwd(), "benchmarks")]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "harness.py")):
            return os.path.abspath(c)
    raise FileNotFoundError("ember bench needs the benchmarks/ directory of an ember source checkout; run it from "
                            "the checkout or set EMBER_BENCHMARKS_DIR")


def load_harness():
    path = find_benchmarks_dir()
    if path not in sys.path:
        sys.path.insert(0, path)
    import harness

    return harness


def run(args):
    """Run the benchmark for parsed ``args``; print the report; write JSON/plot. Returns the results dict."""
    frameworks = parse_frameworks(args.against)
    workloads = parse_workloads(args.workloads)
    harness = load_harness()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    results = harness.run_benchmark(workloads, frameworks, steps=args.steps, size=args.size, threads=args.threads,
                                    warmup=args.warmup, rounds=args.rounds, in_process=args.in_process,
                                    import_repeats=args.import_repeats, log=log)
    results["date"] = datetime.datetime.now().isoformat(timespec="seconds")
    results["machine"] = machine()
    summarize(results)
    print(format_report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.plot:
        note = plot(results, args.plot)
        if note:
            print(note, file=sys.stderr)
    return results


def main(argv=None):
    import argparse

    parser = add_arguments(argparse.ArgumentParser(prog="ember bench", description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError) as e:
        print(e, file=sys.stderr)
        return 2
    return 0


# ---- statistics and targets ----------------------------------------------------------------------------------------
def _percentile(sorted_ms, q):
    """Linear-interpolated percentile of an ascending list."""
    if not sorted_ms:
        return float("nan")
    pos = (len(sorted_ms) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (pos - lo)


def step_stats(times_ns):
    ms = sorted(t / 1e6 for t in times_ns)
    med = _percentile(ms, 50)
    return {"n": len(ms), "median_ms": med, "p10_ms": _percentile(ms, 10), "p90_ms": _percentile(ms, 90),
            "p95_ms": _percentile(ms, 95), "jitter": _percentile(ms, 95) / med if med else float("nan")}


def _max_rel_diff(outs, ref):
    """Largest |a - b| over max |b| across the recorded first steps (outputs are scalars or arrays)."""
    worst = 0.0
    for a, b in zip(outs, ref):
        fa, fb = _flat(a), _flat(b)
        if len(fa) != len(fb):
            return float("nan")
        scale = max((abs(v) for v in fb), default=0.0) or 1.0
        worst = max(worst, max((abs(x - y) for x, y in zip(fa, fb)), default=0.0) / scale)
    return worst


def _flat(v):
    if isinstance(v, list):
        return [x for item in v for x in _flat(item)]
    return [float(v)]


def summarize(results):
    """Add stats, ratios to torch eager, GFLOP/s and the targets table to ``results`` (in place)."""
    for wl in results["workloads"]:
        fws = wl["frameworks"]
        for r in fws.values():
            if "times_ns" in r:
                r["stats"] = step_stats(r["times_ns"])
        torch_med = fws.get("torch", {}).get("stats", {}).get("median_ms")
        ref = fws.get("torch", {}).get("first_outputs")
        gemm = fws.get("numpy GEMM", {})
        for fw, r in fws.items():
            st = r.get("stats")
            if not st:
                continue
            if torch_med:
                r["ratio_to_torch"] = st["median_ms"] / torch_med
            if ref is not None and "first_outputs" in r and fw != "numpy GEMM":
                r["first_steps_rel_diff_vs_torch"] = _max_rel_diff(r["first_outputs"], ref)
            flops = r.get("flops") or (wl.get("flops") if fw != "numpy GEMM" else None)
            if flops:
                r["gflops"] = flops / (st["median_ms"] * 1e6)
        if gemm.get("gflops"):
            for fw, r in fws.items():
                if "gflops" in r and fw != "numpy GEMM":
                    r["fraction_of_gemm_peak"] = r["gflops"] / gemm["gflops"]
    results["targets"] = evaluate_targets(results)
    return results


def _median(xs):
    xs = sorted(xs)
    return _percentile(xs, 50) if xs else None


def evaluate_targets(results):
    by_name = {wl["workload"]: wl["frameworks"] for wl in results["workloads"]}
    rows = []
    for label, kind, workload, fw, limit in TARGETS:
        value, at_least = None, kind == "gemm"
        fws = by_name.get(workload, {}) if workload else {}
        if kind == "ratio":
            value = fws.get(fw, {}).get("ratio_to_torch")
        elif kind == "gemm":
            value = fws.get(fw, {}).get("fraction_of_gemm_peak")
        elif kind == "rss":
            mine, theirs = fws.get(fw, {}).get("maxrss_mb"), fws.get("torch", {}).get("maxrss_mb")
            value = mine / theirs if mine and theirs else None
        elif kind == "import":
            imp = results.get("imports", {})
            mine, theirs = (_median(imp.get(m, {}).get("wall_s", [])) for m in ("ember", "torch"))
            value = mine / theirs if mine and theirs else None
        elif kind == "faster":
            c, e = (fws.get(f, {}).get("stats", {}).get("median_ms") for f in (fw, "ember"))
            value = c / e if c and e else None
        if value is None:
            if workload and workload not in by_name:
                continue  # workload not run: no row
            status = "n/a"
        elif at_least:
            status = "PASS" if value >= limit else "MISS"
        else:
            status = "PASS" if (value < limit if kind == "faster" else value <= limit) else "MISS"
        rows.append({"target": label, "value": value, "limit": limit, "at_least": at_least,
                     "strict": kind == "faster", "status": status})
    return rows


# ---- the report -----------------------------------------------------------------------------------------------------
def machine():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()[:15]
    except (OSError, subprocess.SubprocessError):
        out = []
    return out or [platform.processor() or platform.machine()]


def _fmt(v, spec=".2f", missing="-"):
    return missing if v is None else format(v, spec)


def versions(results):
    import numpy

    seen = {"Python": results["config"].get("python", platform.python_version()), "NumPy": numpy.__version__}
    for wl in results["workloads"]:
        for fw, r in wl["frameworks"].items():
            if r.get("version"):
                seen.setdefault({"numpy GEMM": "NumPy", "ember.compile": "ember", "ember.compile(ro)": "ember",
                                 "torch.compile": "torch",
                                 "jax.jit": "jax"}.get(fw, fw), r["version"])
    return seen


def format_report(results):
    cfg = results["config"]
    lines = [f"Date: {results.get('date', '')}  ",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in versions(results).items()) + "  ",
             f"Threads: {cfg['threads']} (OMP/OPENBLAS/MKL_NUM_THREADS and torch.set_num_threads, set in each "
             f"framework's own worker process before its imports); size: {cfg['size']}; "
             f"{cfg['rounds']} interleaved rounds{'; in-process' if cfg['in_process'] else ''}", ""]
    if results.get("machine"):
        lines += ["```", "$ lscpu | head -15", *results["machine"], "```", ""]
    for fw, why in results.get("skipped_frameworks", {}).items():
        lines.append(f"- {fw} skipped: {why}")
    for wl in results["workloads"]:
        lines += ["", f"### {wl['workload']}: {wl['title']}", ""]
        has_gflops = any("gflops" in r for r in wl["frameworks"].values())
        head = ("| framework | median ms | p10 ms | p90 ms | jitter p95/p50 | / torch | peak RSS MB | first step ms "
                "| Δ first steps vs torch |" + (" GFLOP/s | of GEMM peak |" if has_gflops else ""))
        lines += [head, "|---|" + "---:|" * (head.count("|") - 2)]
        for fw, r in wl["frameworks"].items():
            if "skipped" in r:
                lines.append(f"| {fw} | skipped: {r['skipped']} |")
                continue
            st = r["stats"]
            row = (f"| {fw} | {st['median_ms']:.3f} | {st['p10_ms']:.3f} | {st['p90_ms']:.3f} | {st['jitter']:.2f} "
                   f"| {_fmt(r.get('ratio_to_torch'))} | {_fmt(r.get('maxrss_mb'), '.0f')} "
                   f"| {r.get('first_step_ms', 0):.1f} | {_fmt(r.get('first_steps_rel_diff_vs_torch'), '.1e')} |")
            if has_gflops:
                row += f" {_fmt(r.get('gflops'), '.1f')} | {_fmt(r.get('fraction_of_gemm_peak'), '.0%')} |"
            lines.append(row)
        notes = [f"{fw}: {r['n_traces']} trace(s)" + (", fell back to eager" if r.get("fell_back_to_eager") else "")
                 for fw, r in wl["frameworks"].items() if "n_traces" in r]
        if notes:
            lines += ["", "Compile: " + "; ".join(notes)]
    imports = results.get("imports")
    if imports:
        lines += ["", "### Import time (median of `python -c 'import X'` runs, bytecode cached)", "",
                  "| module | process wall ms | import statement ms |", "|---|---:|---:|"]
        for m, r in imports.items():
            if "error" in r:
                lines.append(f"| {m} | error: {r['error']} | |")
            else:
                lines.append(f"| {m} | {_median(r['wall_s']) * 1e3:.0f} | {_median(r['inside_s']) * 1e3:.0f} |")
    lines += ["", "### Targets", "", "| target | measured | limit | status |", "|---|---:|---:|---|"]
    for t in results.get("targets", []):
        op = ">=" if t["at_least"] else ("<" if t["strict"] else "<=")
        value = "-" if t["value"] is None else (f"{t['value']:.0%}" if t["at_least"] else f"{t['value']:.2f}")
        limit = f"{t['limit']:.0%}" if t["at_least"] else f"{t['limit']:.2f}"
        lines.append(f"| {t['target']} | {value} | {op} {limit} | {t['status']} |")
    return "\n".join(lines)


def plot(results, path):
    """Grouped bars per workload: each framework's median over torch eager's (log scale); None or a note."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "--plot: matplotlib is not installed (pip install matplotlib); no plot written"
    wls = results["workloads"]
    fws = [fw for fw in ("ember", *COMPILED, "torch", "torch.compile", "jax.jit")
           if any("stats" in wl["frameworks"].get(fw, {}) for wl in wls)]
    use_ratio = all("ratio_to_torch" in wl["frameworks"].get("ember", {}) for wl in wls)
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(wls) + 2), 4.5))
    width = 0.8 / max(1, len(fws))
    for i, fw in enumerate(fws):
        xs, ys = [], []
        for j, wl in enumerate(wls):
            r = wl["frameworks"].get(fw, {})
            v = r.get("ratio_to_torch") if use_ratio else r.get("stats", {}).get("median_ms")
            if v:
                xs.append(j + (i - (len(fws) - 1) / 2) * width)
                ys.append(v)
        ax.bar(xs, ys, width, label=fw)
    ax.set_yscale("log")
    ax.set_xticks(range(len(wls)), [wl["workload"] for wl in wls])
    if use_ratio:
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel("time per step / torch eager (log)")
    else:
        ax.set_ylabel("median ms per step (log)")
    ax.set_title(f"ember bench, {results['config']['threads']} threads, {results.get('date', '')[:10]}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
