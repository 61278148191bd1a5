"""The ``ember`` command line, run as a subprocess the way users run it."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember


def run(*args, env_extra=None, entry="module"):
    env = dict(os.environ)
    env.pop("EMBER_NO_MALLOPT", None)
    env.update(env_extra or {})
    if entry == "module":
        cmd = [sys.executable, "-m", "ember", *args]
    else:  # the console script pip installed next to this Python
        script = Path(sys.executable).with_name("ember")
        cmd = [str(script) if script.exists() else shutil.which("ember"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def info_table(stdout):
    """``ember info`` rows as a dict: the key is everything before the first run of 2+ spaces."""
    rows = {}
    for line in stdout.splitlines():
        key, _, value = re.split(r"(\s{2,})", line, maxsplit=1)
        rows[key] = value
    return rows


@pytest.mark.parametrize("entry", ["module", "script"])
def test_version(entry):
    r = run("--version", entry=entry)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"ember {ember.__version__}"


def test_help_lists_the_commands():
    r = run("--help")
    assert r.returncode == 0, r.stderr
    assert "usage: ember" in r.stdout
    for command in ("info", "demo", "bench"):
        assert re.search(rf"^\s+{command}\s+\S", r.stdout, re.M), r.stdout


def test_no_command_prints_help_and_fails():
    r = run()
    assert r.returncode == 2
    assert "usage: ember" in r.stdout


def test_unknown_command_is_an_error():
    r = run("no-such-command")
    assert r.returncode == 2
    assert "invalid choice" in r.stderr


def test_info_reports_versions_and_threads():
    r = run("info", env_extra={"OMP_NUM_THREADS": "3"})
    assert r.returncode == 0, r.stderr
    rows = info_table(r.stdout)
    assert rows["ember"] == ember.__version__
    assert rows["NumPy"] == np.__version__
    assert rows["OMP_NUM_THREADS"] == "3"
    assert rows["OPENBLAS_NUM_THREADS"] == os.environ.get("OPENBLAS_NUM_THREADS", "(unset)")
    assert "BLAS threads" in rows


def _mallopt_applied_in_fresh_process(env_extra):
    env = dict(os.environ)
    env.pop("EMBER_NO_MALLOPT", None)
    env.update(env_extra)
    r = subprocess.run([sys.executable, "-c", "import ember._backend as b; print(b.MALLOPT_APPLIED)"],
                       capture_output=True, text=True, env=env, timeout=120)
    return r.stdout.strip() == "True"


@pytest.mark.parametrize("env_extra", [{}, {"EMBER_NO_MALLOPT": "1"}], ids=["default", "opt-out"])
def test_info_reports_mallopt_as_the_backend_applied_it(env_extra):
    rows = info_table(run("info", env_extra=env_extra).stdout)
    applied = _mallopt_applied_in_fresh_process(env_extra)
    assert rows["mallopt tuning applied"].startswith("yes" if applied else "no")
    if env_extra:
        assert rows["mallopt tuning applied"] == "no (EMBER_NO_MALLOPT is set)"
