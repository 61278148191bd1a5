"""The ``ember`` command line: ``ember --version``, ``ember info``, ``ember demo [--api keras]``, ``ember bench``,
``ember run script.py`` (an unchanged PyTorch script, its ``torch`` imports resolved to ember).

Each command parses its arguments and calls into the library; new commands add a subparser and a ``_cmd_*``
function here.
"""
import argparse
import os
import platform
import sys

_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "EMBER_NO_MALLOPT")


def _blas_rows():
    """BLAS library and thread count: from threadpoolctl when installed, else NumPy's build config."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        import numpy  # noqa: F401  (loads the BLAS library so threadpoolctl can see it)

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return [("BLAS", f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')})")
                    for p in pools] + [("BLAS threads", ", ".join(str(p.get("num_threads")) for p in pools))]
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - build info layout differs across NumPy versions
        name = "unknown"
    return [("BLAS", name), ("BLAS threads", "unknown (pip install threadpoolctl to see them)")]


def _cmd_info(args) -> int:
    import numpy as np

    import ember
    from ember import _backend

    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable_cpus = os.cpu_count()
    rows = [
        ("ember", ember.__version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("NumPy", np.__version__),
        ("platform", platform.platform()),
        ("mallopt tuning applied", "yes" if _backend.MALLOPT_APPLIED else
         ("no (EMBER_NO_MALLOPT is set)" if os.environ.get("EMBER_NO_MALLOPT") else "no")),
        ("CPUs usable", str(usable_cpus)),
    ]
    rows += _blas_rows()
    rows += [(name, os.environ.get(name, "(unset)")) for name in _THREAD_ENV_VARS]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _cmd_bench(args) -> int:
    from .tools import bench

    try:
        bench.run(args)
    except (ValueError, FileNotFoundError) as e:
        print(e, file=sys.stderr)
        return 2
    return 0


def _cmd_demo(args) -> int:
    from ember.tools import demo as nn_demo

    if args.api == "keras":
        from ember.keras import demo
    else:
        demo = nn_demo
    result = demo.run(out=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                      progress=not args.no_progress)
    return nn_demo.report(result, args.api)


def build_parser() -> argparse.ArgumentParser:
    import ember

    parser = argparse.ArgumentParser(
        prog="ember", description="ember: a deep learning framework on NumPy with PyTorch's API.")
    parser.add_argument("--version", action="version", version=f"ember {ember.__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    info = commands.add_parser("info", help="print versions, allocator tuning and thread settings",
                               description="Print ember's and NumPy's versions, whether the malloc tuning "
                                           "was applied at import, and the BLAS/thread settings.")
    info.set_defaults(run=_cmd_info)
    demo = commands.add_parser(
        "demo", help="train a small CNN on the offline 8x8 digits and write curves, TensorBoard logs, a checkpoint",
        description="Train a small convolutional network on the 8x8 handwritten digits bundled with "
                    "scikit-learn (no download): prints the model summary and progress, reports the test "
                    "accuracy, and writes curves.png, tensorboard/ and a checkpoint to the output folder.")
    demo.add_argument("--api", choices=("nn", "keras"), default="nn",
                      help="PyTorch-style ember.nn (default) or ember.keras")
    demo.add_argument("--out", default="ember-demo", metavar="DIR", help="output folder (default: ./ember-demo)")
    demo.add_argument("--epochs", type=int, default=20, help="training epochs (default: 20)")
    demo.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    demo.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate, cosine-annealed (default: 3e-3)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars (one line per epoch)")
    demo.set_defaults(run=_cmd_demo)
    from .tools import bench as _bench

    bench = commands.add_parser("bench", help="benchmark training steps against torch, torch.compile and jax",
                                description=_bench.__doc__.split("\n\n")[0])
    _bench.add_arguments(bench)
    bench.set_defaults(run=_cmd_bench)
    run = commands.add_parser(
        "run", help="run an unchanged PyTorch script on ember (its torch imports resolve to ember)",
        description="Run a Python script whose `import torch`, `import torch.nn as nn`, `from torch.utils.data "
                    "import ...` resolve to ember's modules (ember.torch_alias); the script's own arguments "
                    "follow its path.")
    run.add_argument("script", help="the script to run")
    run.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    run.set_defaults(run=_cmd_run)
    return parser


def _cmd_run(args) -> int:
    from .torch_alias import run_path

    try:
        run_path(args.script, args.script_args)
    except SystemExit as e:  # the script's own sys.exit(code)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
