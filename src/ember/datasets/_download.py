"""Downloading a file with SHA-256 verification, an optional tqdm progress bar and atomic placement."""
import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request

__all__ = ["download_url", "sha256_of", "DownloadError"]

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A file could not be fetched or did not match its checksum."""


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress_bar(total, desc):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def download_url(url, dest, sha256=None, timeout=30.0, progress=True) -> None:
    """Fetch ``url`` into ``dest``: streamed into a temporary file beside it, checked against ``sha256`` (if
    given), then renamed into place, so ``dest`` is either absent or complete and verified."""
    from ..io.atomic import atomic_write

    request = urllib.request.Request(url, headers={"User-Agent": "ember-datasets"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            bar = _progress_bar(total, os.path.basename(dest)) if progress else None
            digest = hashlib.sha256()
            try:
                with atomic_write(dest) as f:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        f.write(chunk)
                        digest.update(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                    if sha256 is not None and digest.hexdigest() != sha256.lower():
                        raise DownloadError(f"SHA-256 mismatch for {url}: expected {sha256}, got "
                                            f"{digest.hexdigest()} (the file was not kept)")
            finally:
                if bar is not None:
                    bar.close()
    except DownloadError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, socket.timeout, ConnectionError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise DownloadError(f"{url}: {reason}") from None
