"""The 8x8 handwritten digits of scikit-learn (UCI optdigits test set): 1797 images, 10 classes, offline."""
import os

import numpy as np

from ..utils.data import Dataset

__all__ = ["Digits", "split_permutation", "splitmix64"]

_N_TRAIN = 1437  # 80 % of 1797


def splitmix64(seed):
    """SplitMix64 (Steele, Lea and Flood, 2014): an endless stream of 64-bit ints."""
    mask = (1 << 64) - 1
    state = seed & mask
    while True:
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        yield z ^ (z >> 31)


def split_permutation(n, seed=0):
    """A fixed permutation of range(n): Fisher-Yates driven by SplitMix64, identical on every platform and
    NumPy version (NumPy does not promise that its shuffles stay the same)."""
    perm = list(range(n))
    stream = splitmix64(seed)
    for i in range(n - 1, 0, -1):
        j = next(stream) % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)


def _load_sklearn_digits():
    """(pixels (1797, 64) in 0..16, labels) from scikit-learn's bundled CSV, read directly because importing
    sklearn.datasets takes seconds; falls back to ``load_digits()`` if the file has moved."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError("ember.datasets.Digits reads scikit-learn's bundled copy of the digits; install "
                          "scikit-learn (pip install scikit-learn)")
    for folder in spec.submodule_search_locations or ():
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            table = np.loadtxt(path, delimiter=",")
            return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target.astype(np.int64)


class Digits(Dataset):
    """8x8 grey-scale handwritten digits, read from scikit-learn's bundled copy (no download).

    The split is fixed: the 1797 images are put in the order of a SplitMix64-driven Fisher-Yates shuffle with
    seed 0 (``split_permutation``); ``train=True`` is the first 1437 of that order, ``train=False`` the
    remaining 360. A sample is ``(image, target)``: ``image`` a uint8 NumPy array of shape (8, 8) with values
    0-255 (the original 0-16 levels times 255/16, rounded), so ``transforms.ToTensor()`` turns it into a
    (1, 8, 8) float tensor in [0, 1]; ``target`` an int. ``data`` (uint8, N x 8 x 8) and ``targets`` (int64)
    hold the whole split as tensors. ``root`` and ``download`` are accepted for signature compatibility.
    """

    classes = [str(i) for i in range(10)]
    n_train = _N_TRAIN

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        from .. import from_numpy

        pixels, labels = _load_sklearn_digits()
        images = np.rint(pixels.reshape(-1, 8, 8) * (255.0 / 16.0)).astype(np.uint8)
        perm = split_permutation(len(images))
        chosen = perm[:_N_TRAIN] if train else perm[_N_TRAIN:]
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self._images = np.ascontiguousarray(images[chosen])
        self._labels = np.ascontiguousarray(labels[chosen])
        self.data = from_numpy(self._images)
        self.targets = from_numpy(self._labels)

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
        return f"Digits(split={'train' if self.train else 'test'}, n={len(self)})"

