"""Atomic writes: a save killed half-way leaves the previous file intact and loadable."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
from ember.io import atomic_write

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import ember
    path = sys.argv[1]
    data = np.empty(6_000_000, dtype=np.float32)  # 24 MB per save
    i = 0
    while True:
        data.fill(i)
        ember.save({"step": i, "w": ember.from_numpy(data)}, path)
        if i == 0:
            print("ready", flush=True)
        i += 1
""")


@pytest.mark.parametrize("delay", [0.0, 0.2])
def test_sigkill_during_save_leaves_previous_file_intact(tmp_path, delay):
    path = tmp_path / "ckpt.safetensors"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    out = ember.load(path)
    w = out["w"].numpy()
    assert w.shape == (6_000_000,)
    assert (w == out["step"]).all(), "the file mixes two saves"
    leftovers = [n for n in os.listdir(tmp_path) if n != "ckpt.safetensors"]
    assert all(n.startswith(".ckpt.safetensors.") and n.endswith(".tmp") for n in leftovers), leftovers


PAUSING_CHILD = textwrap.dedent("""
    import sys, time
    import ember
    import ember.io.atomic as atomic
    path = sys.argv[1]
    ember.save({"v": ember.zeros(1000)}, path)
    real_write = atomic.os.fdopen

    class HalfWriter:  # writes half the bytes, then stops so the parent can kill the process mid-save
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def write(self, b):
            self.f.write(b[: len(b) // 2])
            self.f.flush()
            print("half written", flush=True)
            time.sleep(60)

    atomic.os.fdopen = lambda fd, mode: HalfWriter(real_write(fd, mode))
    ember.save({"v": ember.ones(1000)}, path)
""")


def test_sigkill_with_half_written_temp_file(tmp_path):
    path = tmp_path / "c.safetensors"
    child = subprocess.Popen([sys.executable, "-c", PAUSING_CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "half written"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    leftovers = [n for n in os.listdir(tmp_path) if n != "c.safetensors"]
    assert len(leftovers) == 1 and 0 < (tmp_path / leftovers[0]).stat().st_size < path.stat().st_size
    np.testing.assert_array_equal(ember.load(path)["v"].numpy(), np.zeros(1000, np.float32))


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(path) as f:
            f.write(b"new partial")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_replaces(tmp_path):
    path = tmp_path / "f.txt"
    with atomic_write(path, "w") as f:
        f.write("hello")
    assert path.read_text() == "hello"
    with pytest.raises(ValueError, match="write mode"):
        with atomic_write(path, "r"):
            pass


def test_save_that_fails_midway_keeps_old_file(tmp_path):
    path = tmp_path / "x.safetensors"
    ember.save({"a": ember.ones(2)}, path)
    with pytest.raises(TypeError):
        ember.save({"a": ember.zeros(2), "bad": object()}, path)
    np.testing.assert_array_equal(ember.load(path)["a"].numpy(), [1, 1])
    assert os.listdir(tmp_path) == ["x.safetensors"]
