"""ember.datasets: Digits from scikit-learn's copy, MNIST/FashionMNIST from IDX files, downloads from a local
HTTP server on 127.0.0.1 (never the internet)."""
import contextlib
import functools
import gzip
import hashlib
import http.server
import itertools
import os
import socket
import struct
import threading

import numpy as np
import pytest

import ember
import ember.transforms as T
from ember.datasets import MNIST, Digits, FashionMNIST, read_idx
from ember.datasets.digits import split_permutation, splitmix64
from ember.utils.data import DataLoader


# ---- Digits ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sklearn_digits():
    from sklearn.datasets import load_digits

    return load_digits()


def test_splitmix64_reference_outputs():
    # the published first outputs of SplitMix64 seeded with 0
    assert list(itertools.islice(splitmix64(0), 3)) == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_digits_split_is_documented_permutation(sklearn_digits):
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    perm = split_permutation(1797)
    assert sorted(perm.tolist()) == list(range(1797))
    expected = np.rint(sklearn_digits.images * 255 / 16).astype(np.uint8)
    np.testing.assert_array_equal(train.data.numpy(), expected[perm[:1437]])
    np.testing.assert_array_equal(test.data.numpy(), expected[perm[1437:]])
    np.testing.assert_array_equal(train.targets.numpy(), sklearn_digits.target[perm[:1437]])
    np.testing.assert_array_equal(test.targets.numpy(), sklearn_digits.target[perm[1437:]])
    assert set(np.unique(train.targets.numpy())) == set(range(10)) == set(np.unique(test.targets.numpy()))


def test_digits_samples_and_transforms():
    ds = Digits(transform=T.ToTensor(), target_transform=lambda y: y + 100)
    img, target = ds[0]
    assert tuple(img.shape) == (1, 8, 8) and img.dtype is ember.float32
    assert 0.0 <= img.min().item() and img.max().item() <= 1.0
    assert target == int(ds.targets[0].item()) + 100
    raw, label = Digits()[0]
    assert isinstance(raw, np.ndarray) and raw.dtype == np.uint8 and raw.shape == (8, 8) and isinstance(label, int)
    x, y = next(iter(DataLoader(Digits(train=False), batch_size=16)))
    assert tuple(x.shape) == (16, 8, 8) and x.dtype is ember.uint8 and y.dtype is ember.int64


# ---- IDX files ---------------------------------------------------------------------------------------------------

def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + \
        array.astype(np.uint8).tobytes()


def fake_mnist(n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8)}
    return arrays


def write_raw(folder, arrays, compress):
    os.makedirs(folder, exist_ok=True)
    for stem, arr in arrays.items():
        blob = idx_bytes(arr)
        if compress:
            with gzip.open(os.path.join(folder, stem + ".gz"), "wb") as f:
                f.write(blob)
        else:
            with open(os.path.join(folder, stem), "wb") as f:
                f.write(blob)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_reads_idx_files_gz_or_raw(tmp_path, compress, cls):
    arrays = fake_mnist()
    write_raw(tmp_path / cls.__name__ / "raw", arrays, compress)
    train, test = cls(tmp_path, train=True), cls(str(tmp_path), train=False)
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(train.targets.numpy(), arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(test.data.numpy(), arrays["t10k-images-idx3-ubyte"])
    assert train.targets.dtype is ember.int64 and len(train) == 12 and len(test) == 5
    img, label = cls(tmp_path, transform=T.ToTensor())[3]
    assert tuple(img.shape) == (1, 28, 28) and label == int(arrays["train-labels-idx1-ubyte"][3])
    assert len(cls.classes) == 10


def test_missing_files_say_how_to_download(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found.*download=True"):
        MNIST(tmp_path)


@pytest.mark.parametrize("blob, match", [
    (b"\x00\x00\x08", "not an IDX file"),
    (b"\x01\x02\x08\x01" + b"\x00" * 8, "not an IDX file"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "5 bytes"),
])
def test_read_idx_rejects_bad_files(tmp_path, blob, match):
    path = tmp_path / "bad-idx"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=match):
        read_idx(path)
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read"):
        read_idx(tmp_path / "bad.gz")


# ---- download from a local server --------------------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def served_mnist(tmp_path, cls_name="FakeMNIST"):
    """Gzipped fake MNIST files in a served folder, and an MNIST subclass whose checksums match them."""
    arrays = fake_mnist()
    served = tmp_path / "served"
    write_raw(served, arrays, compress=True)
    resources = [(stem + ".gz", hashlib.sha256((served / (stem + ".gz")).read_bytes()).hexdigest())
                 for stem in arrays]
    cls = type(cls_name, (MNIST,), {"resources": resources, "mirrors": []})
    return arrays, served, cls


def test_download_from_base_url(tmp_path):
    arrays, served, Fake = served_mnist(tmp_path)
    root = tmp_path / "root"
    with serve(served) as url:
        ds = Fake(root, train=True, download=True, base_url=url)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train-images-idx3-ubyte"])
    raw = root / "FakeMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(f for f, _ in Fake.resources)  # all four, no temporary files
    test = Fake(root, train=False)  # now offline: the files are found and not fetched again
    np.testing.assert_array_equal(test.targets.numpy(), arrays["t10k-labels-idx1-ubyte"])
    Fake(root, download=True, base_url="http://127.0.0.1:9/")  # verified files present: no network needed


def test_download_tries_mirrors_in_order(tmp_path):
    arrays, served, Fake = served_mnist(tmp_path)
    with serve(served) as url:
        Fake.mirrors = [url + "missing/", url]  # the first mirror answers 404 for everything
        ds = Fake(tmp_path / "root", download=True)
    assert len(ds) == 12


def test_checksum_mismatch_keeps_nothing(tmp_path):
    arrays, served, Fake = served_mnist(tmp_path)
    Fake.resources = [(f, "0" * 64) for f, _ in Fake.resources]
    with serve(served) as url, pytest.raises(RuntimeError, match="SHA-256 mismatch"):
        Fake(tmp_path / "root", download=True, base_url=url)
    assert os.listdir(tmp_path / "root" / "FakeMNIST" / "raw") == []


def test_offline_is_a_clear_error(tmp_path):
    arrays, served, Fake = served_mnist(tmp_path)
    with socket.socket() as s:  # a port on loopback that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RuntimeError, match=r"(?s)could not download train-images-idx3-ubyte\.gz.*refused.*offline"):
        Fake(tmp_path / "root", download=True, base_url=f"http://127.0.0.1:{port}/")
    assert os.listdir(tmp_path / "root" / "FakeMNIST" / "raw") == []


def test_real_checksums_are_pinned():
    assert [f for f, _ in MNIST.resources] == [f for f, _ in FashionMNIST.resources]
    for cls in (MNIST, FashionMNIST):
        assert all(len(h) == 64 and int(h, 16) >= 0 for _, h in cls.resources)
        assert len({h for _, h in cls.resources}) == 4


def test_progress_bar_uses_tqdm_when_importable(tmp_path, monkeypatch):
    import sys
    import types

    updates = []

    class FakeTqdm:
        def __init__(self, total=None, **kwargs):
            updates.append(("total", total))

        def update(self, n):
            updates.append(("update", n))

        def close(self):
            updates.append(("close", None))

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    arrays, served, Fake = served_mnist(tmp_path)
    with serve(served) as url:
        Fake(tmp_path / "root", download=True, base_url=url)
    sizes = {f: (served / f).stat().st_size for f, _ in Fake.resources}
    assert [u for u in updates if u[0] == "total"] == [("total", sizes[f]) for f, _ in Fake.resources]
    assert sum(n for kind, n in updates if kind == "update") == sum(sizes.values())
    assert sum(kind == "close" for kind, _ in updates) == 4
