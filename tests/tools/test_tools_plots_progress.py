"""Training-curve PNGs (decoded back with matplotlib) and tqdm progress over a DataLoader."""
import io

import numpy as np
import pytest
from matplotlib.image import imread

import ember
from ember import keras
from ember.tools.plots import plot_history
from ember.tools.progress import track


def test_plot_history_writes_png_of_expected_size(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8],
               "val_accuracy": [0.4, 0.6, 0.7], "learning_rate": [0.1, 0.1, 0.1]}
    path = tmp_path / "curves" / "h.png"
    fig = plot_history(history, path, dpi=50)
    pixels = imread(path)
    # two panels (loss, accuracy): 2 * 4.5 x 3.4 inches at 50 dpi
    assert pixels.shape[:2] == (170, 450)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss", "val_loss"]
    assert pixels.std() > 0  # something was drawn


def test_history_plot_after_fit(tmp_path):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    history = model.fit(x, x.sum(1), epochs=2, verbose=0)
    history.plot(tmp_path / "fit.png")
    assert imread(tmp_path / "fit.png").shape[:2] == (340, 900)  # loss and mae panels at the default 100 dpi


def test_plot_history_rejects_unknown_metric():
    with pytest.raises(ValueError, match="no values for"):
        plot_history({"loss": [1.0]}, metrics=["auc"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_history({})


def test_track_wraps_a_dataloader():
    data = ember.utils.data.TensorDataset(ember.arange(10).float())
    loader = ember.utils.data.DataLoader(data, batch_size=4)
    out = io.StringIO()
    bar = track(loader, desc="epoch 1", file=out, mininterval=0)
    batches = [b[0].tolist() for b in bar]
    assert batches == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0]]
    assert bar.total == 3 and "epoch 1" in out.getvalue() and "3/3" in out.getvalue()
    gen = track((i for i in range(3)), file=io.StringIO())
    assert gen.total is None and list(gen) == [0, 1, 2]
