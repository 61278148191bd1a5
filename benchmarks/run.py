"""Run the framework benchmarks: ``python benchmarks/run.py [options]`` is ``ember bench [options]``.

    python benchmarks/run.py --workloads W1,W2 --against torch --steps 200 --json out.json --plot out.png

See ``python benchmarks/run.py --help``, ``harness.py`` (how workers, interleaving and memory are measured),
``workloads.py`` (the workloads) and docs/performance.md (results and how to read them).
"""
import sys

from ember.tools.bench import main

if __name__ == "__main__":
    sys.exit(main())
