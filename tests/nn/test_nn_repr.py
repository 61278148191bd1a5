"""print(model) gives torch's text for the same model."""
from collections import OrderedDict

import pytest
import torch

import ember
import ember.nn


def layers(lib):
    """Every layer with default and non-default arguments (the ones that change the repr)."""
    nn = lib.nn
    return [
        nn.Identity(), nn.Linear(3, 4), nn.Linear(3, 4, bias=False), nn.Bilinear(2, 3, 4, bias=False),
        nn.Flatten(), nn.Flatten(0, 2), nn.Unflatten(1, (2, 3)), nn.Unflatten(-1, [4, 1]),
        nn.Conv1d(2, 4, 3), nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                                      padding_mode="reflect"),
        nn.Conv2d(3, 6, (3, 5)), nn.Conv2d(3, 6, 3, padding="same"), nn.Conv2d(3, 6, 3, padding="valid"),
        nn.Conv2d(4, 8, 3, stride=(2, 1), padding=(1, 0), groups=4, padding_mode="circular"),
        nn.ConvTranspose1d(2, 3, 4, stride=2, output_padding=1), nn.ConvTranspose2d(4, 2, 3, groups=2, dilation=2),
        nn.MaxPool1d(2), nn.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True),
        nn.MaxPool2d((2, 3), return_indices=True), nn.AvgPool1d(3, 2, 1), nn.AvgPool2d(2),
        nn.AvgPool2d((2, 2), stride=1, count_include_pad=False), nn.AdaptiveAvgPool1d(4),
        nn.AdaptiveAvgPool2d((None, 3)), nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d((2, 2)),
        nn.LPPool2d(2, 3), nn.MaxUnpool2d(2),
        nn.BatchNorm1d(5), nn.BatchNorm2d(3, eps=1e-3, momentum=None, affine=False, track_running_stats=False),
        nn.LayerNorm(4), nn.LayerNorm([2, 3], eps=1e-6, elementwise_affine=False), nn.LayerNorm(3, bias=False),
        nn.GroupNorm(2, 4), nn.GroupNorm(1, 3, affine=False), nn.InstanceNorm1d(3),
        nn.InstanceNorm2d(3, affine=True, track_running_stats=True), nn.RMSNorm(4), nn.LocalResponseNorm(3),
        nn.Dropout(), nn.Dropout(0.2, inplace=True), nn.Dropout1d(0.1), nn.Dropout2d(0.3), nn.AlphaDropout(0.1),
        nn.Embedding(10, 3), nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0, norm_type=1.0,
                                          scale_grad_by_freq=True),
        nn.ReLU(), nn.ReLU(inplace=True), nn.ReLU6(), nn.ReLU6(True), nn.LeakyReLU(), nn.LeakyReLU(0.2, True),
        nn.PReLU(), nn.PReLU(3, 0.1), nn.ELU(), nn.ELU(0.5, True), nn.SELU(), nn.SELU(True), nn.CELU(2.0),
        nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.SiLU(True), nn.Mish(), nn.Sigmoid(), nn.Tanh(), nn.Hardtanh(),
        nn.Hardtanh(-2.0, 3.0, True), nn.Hardsigmoid(), nn.Hardswish(True), nn.Softplus(), nn.Softplus(2, 10),
        nn.Softsign(), nn.Softmax(dim=1), nn.Softmax(), nn.LogSoftmax(-1), nn.Softmin(0), nn.Softmax2d(),
        nn.LogSigmoid(), nn.Tanhshrink(), nn.Threshold(0.1, 20), nn.Threshold(0.1, 20.0, True), nn.GLU(),
        nn.GLU(1), nn.Hardshrink(), nn.Softshrink(0.3), nn.RReLU(),
        nn.MSELoss(), nn.L1Loss(reduction="sum"), nn.SmoothL1Loss(beta=0.5), nn.HuberLoss(), nn.CrossEntropyLoss(),
        nn.NLLLoss(), nn.BCELoss(), nn.BCEWithLogitsLoss(pos_weight=lib.ones(2)), nn.KLDivLoss(),
        nn.CosineEmbeddingLoss(), nn.MarginRankingLoss(), nn.SoftMarginLoss(), nn.TripletMarginLoss(),
        nn.TripletMarginWithDistanceLoss(), nn.PairwiseDistance(), nn.CosineSimilarity(),
        nn.HingeEmbeddingLoss(), nn.PoissonNLLLoss(), nn.GaussianNLLLoss(), nn.MultiMarginLoss(),
        nn.MultiLabelSoftMarginLoss(), nn.LPPool1d(2, 3), nn.MaxUnpool1d(2, 1), nn.FeatureAlphaDropout(0.2),
        nn.Dropout3d(), nn.ZeroPad2d(2), nn.ZeroPad1d((1, 2)), nn.ConstantPad2d((1, 2, 3, 4), 0.5),
        nn.ConstantPad3d(1, 2), nn.ReflectionPad1d(2), nn.ReflectionPad2d((1, 1, 2, 0)), nn.ReplicationPad2d(1),
        nn.ReplicationPad3d(1), nn.CircularPad1d(3), nn.CircularPad2d((1, 0, 1, 0)), nn.Conv3d(2, 2, 3),
        nn.ConvTranspose3d(2, 2, 2, stride=2), nn.MaxPool3d(2), nn.AvgPool3d(2), nn.AdaptiveAvgPool3d(2),
        nn.AdaptiveMaxPool3d(2), nn.BatchNorm3d(2), nn.InstanceNorm3d(2),
    ]


@pytest.mark.parametrize("index", range(len(layers(torch))))
def test_layer_repr_matches_torch(index):
    assert repr(layers(ember)[index]) == repr(layers(torch)[index])


def nested(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.act = nn.ReLU()

        def extra_repr(self):
            return "custom=1\nsecond line"

    class Quiet(nn.Module):
        def extra_repr(self):
            return "just one line"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 3, 3), bn=nn.BatchNorm2d(3), act=nn.ReLU()))
            self.blocks = nn.ModuleList([Block() for _ in range(3)] + [nn.Linear(2, 2), nn.Linear(2, 2),
                                                                        nn.ReLU()])
            self.heads = nn.ModuleDict({"a": nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), "b": Quiet()})
            self.empty = nn.Sequential()
            self.empty_list = nn.ModuleList()
            self.nothing = None
            self.params = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(2, dtype=lib.float64)])
            self.pdict = nn.ParameterDict({"w": nn.Parameter(lib.ones(4))})
            self.loss = nn.CrossEntropyLoss()

    return Net()


def test_nested_model_repr_matches_torch():
    expected = str(nested(torch)).replace("torch.", "ember.")
    assert str(nested(ember)) == expected
    assert "(0-2): 3 x Block(" in expected and "(3-4): 2 x Linear" in expected


def test_sequential_repr_and_print(capsys):
    def build(nn):
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))

    print(build(ember.nn))
    ember_out = capsys.readouterr().out
    print(build(torch.nn))
    assert ember_out == capsys.readouterr().out
