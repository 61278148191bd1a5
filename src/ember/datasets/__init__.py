"""Ready-made datasets (as torchvision.datasets): Digits (offline, from scikit-learn), MNIST, FashionMNIST."""
from ._download import DownloadError, download_url
from .digits import Digits
from .mnist import MNIST, FashionMNIST, read_idx

__all__ = ["Digits", "MNIST", "FashionMNIST", "read_idx", "download_url", "DownloadError"]
