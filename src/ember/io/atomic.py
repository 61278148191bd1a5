"""Atomic file replacement: write a temporary file beside the target, fsync it, rename it over the target.

A reader (or a crash) sees either the old complete file or the new complete file, never a partial one:
``os.replace`` is atomic on POSIX and Windows when both names are in the same folder, and the directory is
fsynced afterwards so the rename itself survives a power cut.
"""
import contextlib
import os
import tempfile

__all__ = ["atomic_write", "atomic_path", "fsync_dir"]


def fsync_dir(folder) -> None:
    """Flush a directory entry to disk (a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _temp_beside(path):
    folder = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:  # mkstemp makes 0600 files; give the result the permissions a plain open() would
        os.fchmod(fd, 0o666 & ~_umask())
    except (AttributeError, OSError):
        pass
    return folder, fd, tmp


def _fsync_file(name) -> None:
    fd = os.open(name, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; once the block succeeds, fsync it and move it onto ``path``."""
    path = os.fspath(path)
    folder, fd, tmp = _temp_beside(path)
    os.close(fd)
    try:
        yield tmp
        with contextlib.suppress(OSError):  # the writer may have recreated the file with other permissions
            os.chmod(tmp, 0o666 & ~_umask())
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Yield a file object writing a temporary file; on success it replaces ``path`` atomically."""
    if "r" in mode or "a" in mode or "+" in mode:
        raise ValueError(f"atomic_write: mode must be a write mode ('w' or 'wb'), got {mode!r}")
    path = os.fspath(path)
    folder, fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
