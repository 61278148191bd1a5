"""Keras losses (formulas, reductions, sample weights, gradients) and stateful metrics."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember.keras import losses, metrics

RNG = np.random.default_rng(3)
EPS = 1e-7


def value(t):
    return float(t.detach().numpy()) if hasattr(t, "detach") else float(t)


def probs(*shape):
    return RNG.uniform(0.02, 0.98, size=shape).astype(np.float32)


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# ---- loss functions against their Keras formulas ------------------------------------------------------------------
def test_regression_losses():
    t, p = RNG.normal(size=(6, 3)).astype(np.float32), RNG.normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_allclose(losses.mean_squared_error(t, p).numpy(), ((p - t) ** 2).mean(-1), rtol=1e-5)
    np.testing.assert_allclose(losses.mean_absolute_error(t, p).numpy(), np.abs(p - t).mean(-1), rtol=1e-5)
    np.testing.assert_allclose(losses.mean_absolute_percentage_error(t, p).numpy(),
                               100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1), rtol=1e-5)
    tp, pp = np.abs(t), np.abs(p)
    np.testing.assert_allclose(losses.mean_squared_logarithmic_error(tp, pp).numpy(),
                               ((np.log1p(pp) - np.log1p(tp)) ** 2).mean(-1), rtol=1e-4)
    d = np.abs(p - t)
    huber = np.where(d <= 1.0, 0.5 * d ** 2, d - 0.5).mean(-1)
    np.testing.assert_allclose(losses.huber(t, p).numpy(), huber, rtol=1e-5)
    np.testing.assert_allclose(losses.log_cosh(t, p).numpy(), np.log(np.cosh(p - t)).mean(-1), rtol=1e-4)


def test_huber_matches_torch_with_delta():
    t, p = RNG.normal(size=(5, 4)).astype(np.float32) * 3, RNG.normal(size=(5, 4)).astype(np.float32)
    ref = TF.huber_loss(torch.tensor(p), torch.tensor(t), delta=2.0)
    assert value(losses.Huber(delta=2.0)(t, p)) == pytest.approx(ref.item(), rel=1e-5)


def test_binary_crossentropy_probabilities_and_logits():
    t = (RNG.uniform(size=(8, 2)) > 0.5).astype(np.float32)
    p = probs(8, 2)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(t, p).numpy(), expected, rtol=1e-5)
    z = RNG.normal(size=(8, 2)).astype(np.float32) * 4
    ref = TF.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(t), reduction="none").mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(t, z, from_logits=True).numpy(), ref.numpy(), rtol=1e-5)
    # predictions of exactly 0 and 1 are clipped to [1e-7, 1 - 1e-7]
    clipped = losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]])).numpy()
    np.testing.assert_allclose(clipped, [-np.log(np.float32(EPS))], rtol=1e-3)
    smoothed = losses.BinaryCrossentropy(label_smoothing=0.2)(t, p)
    ts = t * 0.8 + 0.1
    assert value(smoothed) == pytest.approx(np.mean(-(ts * np.log(p) + (1 - ts) * np.log(1 - p))), rel=1e-5)


def test_categorical_crossentropies():
    z = RNG.normal(size=(7, 4)).astype(np.float32)
    labels = RNG.integers(0, 4, 7)
    onehot = np.eye(4, dtype=np.float32)[labels]
    ref = TF.cross_entropy(torch.tensor(z), torch.tensor(labels), reduction="none").numpy()
    np.testing.assert_allclose(losses.categorical_crossentropy(onehot, z, from_logits=True).numpy(), ref, rtol=1e-5)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(), ref,
                               rtol=1e-5)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels[:, None], softmax(z)).numpy(), ref,
                               rtol=1e-4)
    # probabilities are renormalised, then clipped
    unnormalised = softmax(z) * 3
    np.testing.assert_allclose(losses.categorical_crossentropy(onehot, unnormalised).numpy(), ref, rtol=1e-4)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(labels, z)


def test_other_losses():
    t, p = probs(4, 3), probs(4, 3)
    np.testing.assert_allclose(losses.kl_divergence(t, p).numpy(), (t * np.log(t / p)).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(losses.poisson(t, p).numpy(), (p - t * np.log(p + EPS)).mean(-1), rtol=1e-5)
    labels = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    z = RNG.normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(losses.hinge(labels, z).numpy(), np.maximum(1 - (2 * labels - 1) * z, 0).mean(-1),
                               rtol=1e-5)
    cos = -(t / np.linalg.norm(t, axis=-1, keepdims=True) * p / np.linalg.norm(p, axis=-1, keepdims=True)).sum(-1)
    np.testing.assert_allclose(losses.cosine_similarity(t, p).numpy(), cos, rtol=1e-5)


def test_rank_alignment_like_keras():
    # y_true (N,) against y_pred (N, 1): a trailing dim is added, never an (N, N) broadcast
    t, p = np.arange(4, dtype=np.float32), np.arange(4, dtype=np.float32)[:, None] + 1
    np.testing.assert_allclose(losses.mean_squared_error(t, p).numpy(), np.ones(4))
    with pytest.raises(ValueError, match=r"incompatible shapes: y_true.shape=\(4, 2\), y_pred.shape=\(4, 3\)"):
        losses.mean_squared_error(np.zeros((4, 2)), np.zeros((4, 3)))


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
def test_reductions_and_sample_weight(reduction):
    t, p = RNG.normal(size=(5, 2)).astype(np.float32), RNG.normal(size=(5, 2)).astype(np.float32)
    w = RNG.uniform(size=5).astype(np.float32)
    per = ((p - t) ** 2).mean(-1) * w
    got = losses.MeanSquaredError(reduction=reduction)(t, p, sample_weight=w)
    expected = {"sum_over_batch_size": per.sum() / 5, "sum": per.sum(), None: per}[reduction]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_loss_gradient_matches_torch():
    z = RNG.normal(size=(6, 5)).astype(np.float32)
    labels = RNG.integers(0, 5, 6)
    ze = ember.tensor(z, requires_grad=True)
    losses.SparseCategoricalCrossentropy(from_logits=True)(labels, ze).backward()
    zt = torch.tensor(z, requires_grad=True)
    TF.cross_entropy(zt, torch.tensor(labels)).backward()
    np.testing.assert_allclose(ze.grad.numpy(), zt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_loss_get_and_custom_function():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    custom = losses.get(lambda y_true, y_pred: ember.abs(ember.tensor(y_true) - y_pred) * 2)
    assert value(custom(np.zeros((2, 1), np.float32), ember.ones(2, 1))) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="Unknown loss function: 'hubber'"):
        losses.get("hubber")
    with pytest.raises(ValueError, match="outside the valid range of \\[0, 2\\]"):
        losses.sparse_categorical_crossentropy(np.array([3]), np.ones((1, 3), np.float32))


# ---- metrics -------------------------------------------------------------------------------------------------
def test_mean_metric_wrappers_accumulate_over_updates():
    m = metrics.MeanAbsoluteError()
    t1, p1 = np.zeros((4, 1)), np.ones((4, 1))
    t2, p2 = np.zeros((2, 1)), np.full((2, 1), 4.0)
    m.update_state(t1, p1)
    m.update_state(t2, p2, sample_weight=np.array([1.0, 3.0]))
    assert value(m.result()) == pytest.approx((4 * 1 + 4 * 4) / (4 + 4))
    m.reset_state()
    assert value(m.result()) == 0.0
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(np.zeros(4), np.array([1.0, 1.0, 3.0, 3.0]))
    assert value(rmse.result()) == pytest.approx(np.sqrt(5.0))


def test_accuracy_metrics():
    p = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
    assert value(metrics.SparseCategoricalAccuracy()(np.array([1, 2, 2]), p)) == pytest.approx(2 / 3)
    assert value(metrics.CategoricalAccuracy()(np.eye(3)[[1, 0, 0]], p)) == pytest.approx(2 / 3)
    assert value(metrics.BinaryAccuracy()(np.array([1, 0, 1, 1]), np.array([0.6, 0.4, 0.4, 0.9]))) == 0.75
    assert value(metrics.BinaryAccuracy(threshold=0.3)(np.array([1, 0]), np.array([0.4, 0.2]))) == 1.0
    assert value(metrics.TopKCategoricalAccuracy(k=2)(np.eye(3)[[2, 2, 1]], p)) == pytest.approx(2 / 3)


def test_precision_recall():
    t = RNG.integers(0, 2, 50)
    p = RNG.uniform(size=50)
    pred = p > 0.5
    prec, rec = metrics.Precision(), metrics.Recall()
    prec.update_state(t[:20], p[:20])
    prec.update_state(t[20:], p[20:])
    rec.update_state(t, p)
    tp = np.sum(pred & (t == 1))
    assert value(prec.result()) == pytest.approx(tp / pred.sum())
    assert value(rec.result()) == pytest.approx(tp / (t == 1).sum())
    assert value(metrics.Precision(thresholds=0.9)(t, p)) == pytest.approx(
        np.sum((p > 0.9) & (t == 1)) / np.sum(p > 0.9))


def test_auc_approximates_exact_roc_auc():
    from sklearn.metrics import roc_auc_score

    t = RNG.integers(0, 2, 400)
    p = np.clip(t * 0.3 + RNG.uniform(size=400) * 0.7, 0, 1)
    auc = metrics.AUC()
    auc.update_state(t[:200], p[:200])
    auc.update_state(t[200:], p[200:])
    assert value(auc.result()) == pytest.approx(roc_auc_score(t, p), abs=5e-3)
    # predictions on the threshold grid: the trapezoid rule is exact
    grid = metrics.AUC(num_thresholds=11)
    pg = np.round(p * 10) / 10
    grid.update_state(t, pg)
    assert value(grid.result()) == pytest.approx(roc_auc_score(t, pg), abs=1e-6)
    pr = metrics.AUC(curve="PR")
    pr.update_state(t, p)
    assert 0.5 < value(pr.result()) <= 1.0


def test_metric_get():
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError) and metrics.get("mae").name == "mae"
    assert metrics.get("auc").name == "auc" and metrics.AUC().name == "auc"
    with pytest.raises(ValueError, match="Unknown metric function: 'f2'"):
        metrics.get("f2")
