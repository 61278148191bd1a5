import numpy as np
import torch

import ember
from oracle import check_op


def test_mlp_grad_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    check_op(lambda x, w, b: (x @ w + b).relu().sum(), lambda x, w, b: (x @ w + b).relu().sum(), x, w, b)


def test_default_dtype_is_float32():
    assert ember.tensor([1.0, 2.0]).dtype is ember.float32
    assert (ember.tensor([1, 2]) * 0.5).dtype is ember.float32
    assert torch.tensor([1.0]).dtype == torch.float32
