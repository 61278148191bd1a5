"""Memory formats (ember._memory_format) against torch: the strides that ``to``/``contiguous``/``clone``/the
``*_like`` constructors/``Module.to`` give, ``is_contiguous`` in each format, errors, and a CNN trained on
channels_last tensors giving torch's numbers."""
import numpy as np
import pytest
import torch

import ember

SHAPES = {"channels_last": (2, 3, 4, 5), "channels_last_3d": (2, 3, 4, 5, 6)}


def both(fn):
    """fn(lib) for ember and torch."""
    return fn(ember), fn(torch)


def _x(lib, shape):
    return lib.arange(int(np.prod(shape)), dtype=lib.float32).reshape(shape)


FORMAT_CASES = {
    "to": lambda lib, f, s: _x(lib, s).to(memory_format=getattr(lib, f)),
    "to with dtype": lambda lib, f, s: _x(lib, s).to(lib.float64, memory_format=getattr(lib, f)),
    "contiguous": lambda lib, f, s: _x(lib, s).contiguous(memory_format=getattr(lib, f)),
    "clone into": lambda lib, f, s: _x(lib, s).clone(memory_format=getattr(lib, f)),
    "clone keeps": lambda lib, f, s: _x(lib, s).to(memory_format=getattr(lib, f)).clone(),
    "back to contiguous": lambda lib, f, s: _x(lib, s).to(memory_format=getattr(lib, f)).contiguous(),
    "elementwise keeps": lambda lib, f, s: _x(lib, s).to(memory_format=getattr(lib, f)) * 2 + 1,
    "zeros_like keeps": lambda lib, f, s: lib.zeros_like(_x(lib, s).to(memory_format=getattr(lib, f))),
    "full_like keeps": lambda lib, f, s: lib.full_like(_x(lib, s).to(memory_format=getattr(lib, f)), 7.0),
    "ones_like into": lambda lib, f, s: lib.ones_like(_x(lib, s), memory_format=getattr(lib, f)),
    "empty": lambda lib, f, s: lib.empty(*s, memory_format=getattr(lib, f)).zero_(),  # (torch: uninitialised)
    "cast keeps": lambda lib, f, s: _x(lib, s).to(memory_format=getattr(lib, f)).double(),
}


@pytest.mark.parametrize("fmt", SHAPES)
@pytest.mark.parametrize("case", FORMAT_CASES)
def test_strides_values_and_is_contiguous_match_torch(case, fmt):
    fn = FORMAT_CASES[case]
    e, t = both(lambda lib: fn(lib, fmt, SHAPES[fmt]))
    assert e.stride() == t.stride()
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    for name in ("contiguous_format", "preserve_format", fmt):
        assert e.is_contiguous(memory_format=getattr(ember, name)) == t.is_contiguous(
            memory_format=getattr(torch, name)), name


@pytest.mark.parametrize("shape", [(2, 3, 1, 1), (2, 1, 1, 1), (1, 3, 4, 5), (2, 3, 4, 1)])
def test_size_one_dimensions_count_as_either_format(shape):
    e, t = both(lambda lib: lib.ones(shape))
    for name in ("contiguous_format", "channels_last"):
        assert e.is_contiguous(memory_format=getattr(ember, name)) == t.is_contiguous(
            memory_format=getattr(torch, name))


def test_transposed_view_clone_keeps_its_strides_as_torch():
    e, t = both(lambda lib: _x(lib, (3, 4)).t().clone())
    assert e.stride() == t.stride() and not e.is_contiguous()


def test_module_to_changes_only_4d_tensors():
    def model(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.Flatten(),
                                 lib.nn.Linear(4 * 4 * 4, 2)).to(memory_format=lib.channels_last)

    e, t = both(model)
    for (name, pe), (_, pt) in zip(e.state_dict().items(), t.state_dict().items()):
        assert pe.stride() == pt.stride(), name


def test_cnn_on_channels_last_tensors_trains_as_torch():
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Conv2d(3, 8, 3, padding=1), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
                                lib.nn.Conv2d(8, 4, 3), lib.nn.Flatten(), lib.nn.Linear(4 * 2 * 2, 5))
        state = {k: v.detach().numpy().copy() for k, v in torch_net.state_dict().items()}
        net.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        net = net.to(memory_format=lib.channels_last)
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        x = lib.tensor(data).to(memory_format=lib.channels_last)
        y = lib.tensor(labels)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, [p.detach().numpy() for p in net.parameters()]

    rng = np.random.default_rng(0)
    data = rng.standard_normal((6, 3, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 5, 6)
    torch.manual_seed(0)
    torch_net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Conv2d(8, 4, 3), torch.nn.Flatten(), torch.nn.Linear(16, 5))
    (le, pe), (lt, pt) = run(ember), run(torch)
    np.testing.assert_allclose(le, lt, rtol=1e-5, atol=1e-6)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


ERRORS = {
    "contiguous of rank 2": (RuntimeError, "rank 4", lambda lib: lib.ones(2, 3).contiguous(
        memory_format=lib.channels_last)),
    "channels_last_3d of rank 4": (RuntimeError, "rank 5", lambda lib: lib.ones(2, 3, 4, 5).contiguous(
        memory_format=lib.channels_last_3d)),
    "empty of rank 2": (RuntimeError, "rank 4", lambda lib: lib.empty(2, 3, memory_format=lib.channels_last)),
    "to of rank 3": (RuntimeError, "rank 4", lambda lib: lib.ones(2, 3, 4).to(memory_format=lib.channels_last)),
    "not a format": (TypeError, "memory_format", lambda lib: lib.ones(2, 3, 4, 5).is_contiguous(memory_format=3)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    exc, match, fn = ERRORS[case]
    with pytest.raises(exc, match=match):
        fn(torch)
    with pytest.raises(exc, match=match):
        fn(ember)


def test_formats_are_distinct_objects_named_like_torchs():
    names = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]
    assert len({id(getattr(ember, n)) for n in names}) == 4
    assert [repr(getattr(ember, n)) for n in names] == [repr(getattr(torch, n)).replace("torch", "ember")
                                                         for n in names]
    assert isinstance(ember.channels_last, ember.memory_format)
