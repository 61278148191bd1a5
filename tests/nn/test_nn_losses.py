"""Loss modules against torch.nn: values and gradients (input, and target where torch defines one), every
reduction, float32 and float64."""
import numpy as np
import pytest
import torch

import ember
import ember.nn
from nn_oracle import check_layer

_rng = np.random.default_rng(7)


def R(*shape, scale=1.0):
    return _rng.standard_normal(shape) * scale


def U(*shape, low=0.05, high=0.95):
    return _rng.uniform(low, high, size=shape)


def C(n_classes, *shape):
    return _rng.integers(0, n_classes, size=shape).astype(np.int64)


def SIGN(*shape):
    return np.where(_rng.random(shape) < 0.5, -1.0, 1.0)


def probs(*shape, axis=1):
    p = np.exp(R(*shape))
    return p / p.sum(axis=axis, keepdims=True)


REDUCTIONS = ["mean", "sum", "none"]

# (id, make(lib, reduction), inputs, indices of inputs that get a gradient)
CASES = [
    ("mse", lambda lib, r: lib.nn.MSELoss(reduction=r), [R(4, 5), R(4, 5)], (0, 1)),
    ("l1", lambda lib, r: lib.nn.L1Loss(reduction=r), [R(4, 5), R(4, 5)], (0, 1)),
    ("smooth_l1", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r), [R(4, 5), R(4, 5)], (0, 1)),
    ("smooth_l1_beta", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.5), [R(6), R(6)], (0, 1)),
    ("huber", lambda lib, r: lib.nn.HuberLoss(reduction=r), [R(4, 5, scale=2), R(4, 5)], (0, 1)),
    ("huber_delta", lambda lib, r: lib.nn.HuberLoss(reduction=r, delta=0.3), [R(3, 4), R(3, 4)], (0, 1)),
    ("cross_entropy", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [R(6, 4), C(4, 6)], (0,)),
    ("cross_entropy_weight", lambda lib, r: lib.nn.CrossEntropyLoss(weight=lib.tensor([0.5, 2.0, 1.0, 0.1]),
                                                                    reduction=r), [R(6, 4), C(4, 6)], (0,)),
    ("cross_entropy_ignore", lambda lib, r: lib.nn.CrossEntropyLoss(ignore_index=1, reduction=r),
     [R(8, 3), np.array([0, 1, 2, 1, 0, 2, 2, 1])], (0,)),
    ("cross_entropy_smoothing", lambda lib, r: lib.nn.CrossEntropyLoss(label_smoothing=0.2, reduction=r),
     [R(5, 4), C(4, 5)], (0,)),
    ("cross_entropy_all_options", lambda lib, r: lib.nn.CrossEntropyLoss(
        weight=lib.tensor([1.0, 2.0, 0.5]), ignore_index=0, label_smoothing=0.1, reduction=r),
     [R(7, 3), C(3, 7)], (0,)),
    ("cross_entropy_kdim", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [R(2, 4, 3, 5), C(4, 2, 3, 5)],
     (0,)),
    ("cross_entropy_unbatched", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [R(5), np.array(3)], (0,)),
    ("cross_entropy_probabilities", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [R(5, 4), probs(5, 4)],
     (0, 1)),
    ("cross_entropy_probabilities_smoothing_weight", lambda lib, r: lib.nn.CrossEntropyLoss(
        weight=lib.tensor([1.0, 3.0, 0.5]), label_smoothing=0.3, reduction=r), [R(4, 3), probs(4, 3)], (0, 1)),
    ("nll", lambda lib, r: lib.nn.NLLLoss(reduction=r), [R(6, 4), C(4, 6)], (0,)),
    ("nll_weight_ignore", lambda lib, r: lib.nn.NLLLoss(weight=lib.tensor([0.2, 1.0, 3.0]), ignore_index=2,
                                                        reduction=r), [R(7, 3), C(3, 7)], (0,)),
    ("nll_kdim", lambda lib, r: lib.nn.NLLLoss(reduction=r), [R(2, 3, 4), C(3, 2, 4)], (0,)),
    ("bce", lambda lib, r: lib.nn.BCELoss(reduction=r), [U(4, 3), U(4, 3, low=0, high=1)], (0,)),
    ("bce_weight", lambda lib, r: lib.nn.BCELoss(weight=lib.tensor([0.5, 1.0, 2.0]), reduction=r),
     [U(4, 3), (U(4, 3) > 0.5).astype(np.float64)], (0,)),
    ("bce_logits", lambda lib, r: lib.nn.BCEWithLogitsLoss(reduction=r), [R(4, 3, scale=3), U(4, 3)], (0, 1)),
    ("bce_logits_pos_weight", lambda lib, r: lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor([1.0, 2.0, 0.5]),
                                                                      reduction=r), [R(4, 3), U(4, 3)], (0, 1)),
    ("bce_logits_weight", lambda lib, r: lib.nn.BCEWithLogitsLoss(weight=lib.tensor([[2.0], [1.0], [0.5], [1.0]]),
                                                                  reduction=r), [R(4, 3), U(4, 3)], (0, 1)),
    ("kl_div", lambda lib, r: lib.nn.KLDivLoss(reduction=r), [np.log(probs(4, 5)), probs(4, 5)], (0, 1)),
    ("kl_div_log_target", lambda lib, r: lib.nn.KLDivLoss(reduction=r, log_target=True),
     [np.log(probs(4, 5)), np.log(probs(4, 5))], (0, 1)),
    ("cosine_embedding", lambda lib, r: lib.nn.CosineEmbeddingLoss(reduction=r), [R(5, 4), R(5, 4), SIGN(5)],
     (0, 1)),
    ("cosine_embedding_margin", lambda lib, r: lib.nn.CosineEmbeddingLoss(margin=0.2, reduction=r),
     [R(6, 3), R(6, 3), SIGN(6)], (0, 1)),
    ("margin_ranking", lambda lib, r: lib.nn.MarginRankingLoss(reduction=r), [R(6), R(6), SIGN(6)], (0, 1)),
    ("margin_ranking_margin", lambda lib, r: lib.nn.MarginRankingLoss(margin=0.5, reduction=r),
     [R(6), R(6), SIGN(6)], (0, 1)),
    ("soft_margin", lambda lib, r: lib.nn.SoftMarginLoss(reduction=r), [R(4, 3), SIGN(4, 3)], (0,)),
    ("triplet_margin", lambda lib, r: lib.nn.TripletMarginLoss(reduction=r), [R(5, 4), R(5, 4), R(5, 4)],
     (0, 1, 2)),
    ("triplet_margin_options", lambda lib, r: lib.nn.TripletMarginLoss(margin=0.5, p=1.0, eps=1e-3, swap=True,
                                                                       reduction=r), [R(5, 4), R(5, 4), R(5, 4)],
     (0, 1, 2)),
]


# losses beyond the core list
CASES += [
    ("hinge_embedding", lambda lib, r: lib.nn.HingeEmbeddingLoss(margin=0.5, reduction=r), [R(4, 3), SIGN(4, 3)],
     (0,)),
    ("poisson_nll", lambda lib, r: lib.nn.PoissonNLLLoss(reduction=r), [R(4, 3), U(4, 3, low=0, high=3)], (0,)),
    ("poisson_nll_full", lambda lib, r: lib.nn.PoissonNLLLoss(log_input=False, full=True, reduction=r),
     [U(4, 3, low=0.5, high=2), np.floor(U(4, 3, low=0, high=4))], (0,)),
    ("gaussian_nll", lambda lib, r: lib.nn.GaussianNLLLoss(reduction=r), [R(4, 3), R(4, 3), U(4, 3)], (0, 1, 2)),
    ("multi_margin", lambda lib, r: lib.nn.MultiMarginLoss(reduction=r), [R(5, 4), C(4, 5)], (0,)),
    ("multi_margin_p2_weight", lambda lib, r: lib.nn.MultiMarginLoss(p=2, margin=0.5,
                                                                     weight=lib.tensor([1.0, 2.0, 0.5]),
                                                                     reduction=r), [R(5, 3), C(3, 5)], (0,)),
    ("multilabel_soft_margin", lambda lib, r: lib.nn.MultiLabelSoftMarginLoss(reduction=r),
     [R(4, 3), (U(4, 3) > 0.5).astype(np.float64)], (0,)),
    ("triplet_with_distance", lambda lib, r: lib.nn.TripletMarginWithDistanceLoss(reduction=r),
     [R(5, 4), R(5, 4), R(5, 4)], (0, 1, 2)),
    ("triplet_with_cosine", lambda lib, r: lib.nn.TripletMarginWithDistanceLoss(
        distance_function=lib.nn.CosineSimilarity(), margin=0.3, swap=True, reduction=r),
     [R(5, 4), R(5, 4), R(5, 4)], (0, 1, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(case, reduction, dtype):
    _, make, inputs, grad_inputs = case
    check_layer(lambda lib: make(lib, reduction), *inputs, dtype=dtype, input_grad=grad_inputs)


def test_kl_div_batchmean():
    check_layer(lambda lib: lib.nn.KLDivLoss(reduction="batchmean"), np.log(probs(4, 5)), probs(4, 5))


@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True)])
def test_legacy_reduction_arguments(size_average, reduce):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        e = ember.nn.MSELoss(size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning):
        t = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert e.reduction == t.reduction


def test_weight_buffers_follow_the_module():
    loss = ember.nn.CrossEntropyLoss(weight=ember.ones(3))
    assert list(loss.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())
    loss.double()
    assert loss.weight.dtype is ember.float64
    assert list(ember.nn.BCEWithLogitsLoss(pos_weight=ember.ones(2)).state_dict()) == ["pos_weight"]


def test_losses_without_a_kernel_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="ctc_loss"):
        ember.nn.CTCLoss()(ember.zeros(5, 2, 3), ember.zeros(2, 2, dtype=ember.int64), ember.tensor([5, 5]),
                           ember.tensor([2, 2]))


def test_bad_reduction_raises_value_error():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            lib.nn.MSELoss(reduction="avg")(lib.ones(2), lib.ones(2))
