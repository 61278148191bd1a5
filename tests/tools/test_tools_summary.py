"""ember.summary: per-module output shapes and parameter counts, checked against the torch twin."""
import numpy as np
import pytest
import torch

import ember
from ember import keras


def build(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 8)), nn.BatchNorm1d(8), nn.Linear(8, 3))


def torch_rows(model, x):
    rows = []
    names = {id(m): n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(lambda m, i, o: rows.append(
        (names[id(m)], list(o.shape), sum(p.numel() for p in m.parameters(recurse=False)))))
        for m in model.modules()]
    model.eval()
    model(x)
    for h in handles:
        h.remove()
    root = [r for r in rows if r[0] == ""]
    return root + [r for r in rows if r[0] != ""]


def test_summary_matches_torch_shapes_and_counts(capsys):
    result = ember.summary(build(ember), (2, 1, 8, 8))
    printed = capsys.readouterr().out
    expected = torch_rows(build(torch), torch.zeros(2, 1, 8, 8))
    got = [(r["name"], eval(r["output_shape"]), r["params"]) for r in result.rows]
    assert got == expected
    th = build(torch)
    assert result.total_params == sum(p.numel() for p in th.parameters()) == result.trainable_params
    assert result.non_trainable_params == 0
    assert "Layer (type:depth-idx)" in printed and "├─Conv2d: 1-1" in printed and "│    └─Linear: 2-2" not in printed
    assert "│    ├─Linear: 2-2" in printed and f"Total params: {result.total_params:,}" in printed


def test_summary_depth_frozen_params_and_quiet():
    model = build(ember)
    for p in model[0].parameters():
        p.requires_grad_(False)
    result = ember.summary(model, input_size=(1, 1, 8, 8), depth=1, verbose=0)
    assert all(r["depth"] <= 1 for r in result.rows)
    assert result.non_trainable_params == 4 * 9 + 4
    assert model.training  # mode restored


def test_summary_of_keras_model_and_input_data():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    result = ember.summary(model, input_data=np.zeros((3, 6), np.float32), verbose=0)
    assert [(r["type"], r["output_shape"], r["params"]) for r in result.rows] == [
        ("Sequential", "[3, 2]", 0), ("Dense", "[3, 4]", 28), ("Dense", "[3, 2]", 10)]
    assert result.total_params == 38


def test_summary_needs_an_input():
    with pytest.raises(ValueError, match="input_size"):
        ember.summary(build(ember))
