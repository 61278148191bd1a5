"""MNIST and Fashion-MNIST from their standard IDX files (gzipped or raw) in ``root/<Name>/raw``."""
import gzip
import os

import numpy as np

from ..utils.data import Dataset
from ._download import DownloadError, download_url, sha256_of

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw); raise ValueError naming the file if it is malformed."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            blob = f.read()
    except (OSError, EOFError) as e:  # gzip raises these for damaged archives
        raise ValueError(f"{path!r}: cannot read ({e})") from None
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0 or blob[2] not in _IDX_DTYPES:
        raise ValueError(f"{path!r} is not an IDX file (bad magic number {blob[:4].hex()})")
    ndim = blob[3]
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise ValueError(f"{path!r}: truncated IDX header")
    shape = tuple(int.from_bytes(blob[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[blob[2]])
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if len(blob) != header + count * dtype.itemsize:
        raise ValueError(f"{path!r}: IDX header says shape {shape} ({count * dtype.itemsize} bytes) but the file "
                         f"holds {len(blob) - header} bytes of data")
    return np.frombuffer(blob, dtype=dtype, count=count, offset=header).astype(dtype.newbyteorder("="))\
        .reshape(shape)


class MNIST(Dataset):
    """The MNIST handwritten digits (60,000 train / 10,000 test images, 28x28, 10 classes).

    Files are read from ``root/MNIST/raw`` (``train-images-idx3-ubyte[.gz]`` ...). With ``download=True``
    missing files are fetched from ``base_url`` (or each of the class's ``mirrors`` in turn), checked against
    their SHA-256 and moved into place atomically; a progress bar is shown if tqdm is installed. A sample is
    ``(image, target)``: a uint8 NumPy array (28, 28) and an int; ``data``/``targets`` hold the split as
    tensors.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    download_timeout = 30.0

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False, base_url=None):
        from .. import from_numpy

        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        self.base_url = base_url
        if download:
            self.download()
        images_file, labels_file = self._split_files()
        missing = [name for name in (images_file, labels_file) if self._find(name) is None]
        if missing:
            raise RuntimeError(f"Dataset not found: {', '.join(missing)} (or .gz) missing in {self.raw_folder}. "
                               "You can use download=True to download it")
        images = read_idx(self._find(images_file))
        labels = read_idx(self._find(labels_file))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{self.raw_folder}: images {images.shape} and labels {labels.shape} do not match")
        self._images = images.astype(np.uint8, copy=False)
        self._labels = labels.astype(np.int64)
        self.data = from_numpy(self._images)
        self.targets = from_numpy(self._labels)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _find(self, stem):
        for name in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _have(self, filename, sha256) -> bool:
        stem = filename[:-3] if filename.endswith(".gz") else filename
        if os.path.isfile(os.path.join(self.raw_folder, stem)):
            return True  # decompressed by the user; its checksum is not the archive's
        path = os.path.join(self.raw_folder, filename)
        return os.path.isfile(path) and sha256_of(path) == sha256

    def download(self) -> None:
        """Fetch the files that are missing (or fail their checksum) into ``raw_folder``."""
        os.makedirs(self.raw_folder, exist_ok=True)
        sources = [self.base_url] if self.base_url else list(self.mirrors)
        for filename, sha256 in self.resources:
            if self._have(filename, sha256):
                continue
            errors = []
            for base in sources:
                url = base.rstrip("/") + "/" + filename
                try:
                    download_url(url, os.path.join(self.raw_folder, filename), sha256,
                                 timeout=self.download_timeout)
                    break
                except DownloadError as e:
                    errors.append(str(e))
            else:
                raise RuntimeError(
                    f"{type(self).__name__}: could not download {filename}:\n  " + "\n  ".join(errors) +
                    f"\nIf this machine is offline, copy the files ({', '.join(f for f, _ in self.resources)}) "
                    f"into {self.raw_folder} yourself.")

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        return f"{type(self).__name__}(split={'train' if self.train else 'test'}, n={len(self)}, root={self.root!r})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 images of 10 kinds of clothing, in MNIST's file format and layout."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
