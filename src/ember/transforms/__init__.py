"""Image transforms (as torchvision.transforms) on (..., C, H, W) ember tensors; ToTensor converts HWC
NumPy/PIL images. Random transforms use ember's global generator (``ember.manual_seed``)."""
from . import functional
from .transforms import (CenterCrop, Compose, Lambda, Normalize, Pad, RandomAffine, RandomCrop, RandomErasing,
                         RandomHorizontalFlip, RandomVerticalFlip, ToTensor)

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "Pad", "CenterCrop", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomAffine", "RandomErasing", "functional"]
