"""SummaryWriter writes real event files; they are read back with tensorboard's EventAccumulator."""
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import ember
from ember import nn


def read(path, **guidance):
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0,
                                                     **guidance})
    acc.Reload()
    return acc


def test_import_paths():
    from ember.tools import SummaryWriter as from_tools
    from ember.tools.tensorboard import SummaryWriter as from_module
    from ember.utils.tensorboard import SummaryWriter

    assert from_tools is from_module is SummaryWriter


def test_scalars_histograms_text(tmp_path):
    from ember.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss", ember.tensor(1.0 / (step + 1)), step)
        w.add_scalar("lr", 0.5, 7)
        w.add_histogram("weights", ember.randn(1000), 2)
        w.add_text("note", "hello **ember**", 0)
    acc = read(tmp_path)
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, round(1 / 3, 6))]
    assert acc.Scalars("lr")[0].step == 7
    hist = acc.Histograms("weights")[0]
    assert hist.step == 2 and hist.histogram_value.num == 1000
    assert "note/text_summary" in acc.Tags()["tensors"]
    text = acc.Tensors("note/text_summary")[0].tensor_proto.string_val[0]
    assert b"hello **ember**" in text


def test_add_scalars_writes_one_run_per_key(tmp_path):
    from ember.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path) as w:
        w.add_scalars("loss", {"train": 1.0, "val": 2.0}, 0)
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert runs == ["loss_train", "loss_val"]
    assert read(tmp_path / "loss_val").Scalars("loss")[0].value == 2.0


def test_add_image(tmp_path):
    from ember.utils.tensorboard import SummaryWriter

    img = np.linspace(0, 1, 3 * 5 * 7, dtype=np.float32).reshape(3, 5, 7)
    with SummaryWriter(tmp_path) as w:
        w.add_image("img", ember.tensor(img), 0)
        w.add_image("hwc", img.transpose(1, 2, 0), 1, dataformats="HWC")
    acc = read(tmp_path)
    event = acc.Images("img")[0]
    assert (event.width, event.height) == (7, 5)
    assert acc.Images("hwc")[0].step == 1


def test_add_graph_records_modules_and_data_flow(tmp_path):
    from ember.utils.tensorboard import SummaryWriter

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.fc = nn.Linear(2 * 4 * 4, 3)

        def forward(self, x):
            return self.fc(ember.relu(self.conv(x)).flatten(1))  # functional calls between the modules

    with SummaryWriter(tmp_path) as w:
        w.add_graph(Net(), ember.zeros(1, 1, 6, 6))
    graph = read(tmp_path).Graph()
    nodes = {n.name: n for n in graph.node}
    assert set(nodes) == {"Net/input.0", "Net/conv", "Net/fc", "Net/output.0"}
    assert nodes["Net/conv"].op == "Conv2d" and list(nodes["Net/conv"].input) == ["Net/input.0"]
    assert list(nodes["Net/fc"].input) == ["Net/conv"]
    assert list(nodes["Net/output.0"].input) == ["Net/fc"]
    dims = [d.size for d in nodes["Net/conv"].attr["_output_shapes"].list.shape[0].dim]
    assert dims == [1, 2, 4, 4]


def test_add_graph_of_keras_model_without_input(tmp_path):
    from ember import keras
    from ember.utils.tensorboard import SummaryWriter

    a = keras.Input((4,))
    h = keras.layers.Dense(3, name="hidden")(a)
    model = keras.Model(a, keras.layers.Add(name="plus")([h, keras.layers.Dense(3, name="skip")(a)]))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model)
    nodes = {n.name: list(n.input) for n in read(tmp_path).Graph().node}
    assert nodes["Functional/plus"] == ["Functional/hidden", "Functional/skip"]


def test_add_hparams(tmp_path):
    from ember.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "optimizer": "adam"}, {"hparam/accuracy": 0.9})
    from tensorboard.plugins.hparams import plugin_data_pb2

    runs = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(runs) == 1
    acc = read(runs[0])
    assert acc.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)
    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["lr"].number_value == pytest.approx(0.1) and hparams["optimizer"].string_value == "adam"


def test_scalar_must_be_single_value(tmp_path):
    from ember.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match="single value"):
        w.add_scalar("bad", np.ones(3), 0)
