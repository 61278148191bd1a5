"""ember.transforms: conversions and normalisation against NumPy/torch arithmetic, geometry against NumPy,
and reproducibility under ember.manual_seed."""
import numpy as np
import pytest
import torch

import ember
import ember.transforms as T
import ember.transforms.functional as F

rng = np.random.default_rng(0)
IMG_HWC = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)


def chw(h=6, w=6, c=3, dtype=np.float32):
    return ember.from_numpy(rng.standard_normal((c, h, w)).astype(dtype))


@pytest.mark.parametrize("arr", [IMG_HWC, IMG_HWC[:, :, 0], rng.integers(0, 256, (2, 3, 1), dtype=np.uint8)],
                         ids=["HWC", "HW", "HW1"])
def test_to_tensor_uint8(arr):
    out = T.ToTensor()(arr)
    expected = (arr if arr.ndim == 3 else arr[:, :, None]).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    assert out.dtype is ember.float32 and out.is_contiguous()
    np.testing.assert_array_equal(out.numpy(), expected)
    torch_out = torch.from_numpy(np.ascontiguousarray(expected))
    assert tuple(out.shape) == tuple(torch_out.shape)


def test_to_tensor_other_dtypes_are_not_scaled():
    arr = rng.standard_normal((4, 4, 2))
    out = T.ToTensor()(arr)
    assert out.dtype is ember.float64
    np.testing.assert_array_equal(out.numpy(), arr.transpose(2, 0, 1))


@pytest.mark.parametrize("pic, exc, match", [(ember.ones(3, 2, 2), TypeError, "pic should be PIL Image or ndarray"),
                                             ([[1, 2]], TypeError, "pic should be PIL Image or ndarray"),
                                             (np.zeros((1, 2, 2, 3)), ValueError, "2/3 dimensional")])
def test_to_tensor_errors(pic, exc, match):
    with pytest.raises(exc, match=match):
        T.ToTensor()(pic)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_matches_torch_arithmetic(dtype):
    x = chw(4, 5, 3, dtype)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(x)
    tx = torch.from_numpy(x.numpy().copy())
    t_mean = torch.tensor(mean, dtype=tx.dtype).view(-1, 1, 1)
    expected = (tx - t_mean) / torch.tensor(std, dtype=tx.dtype).view(-1, 1, 1)
    assert out.dtype is x.dtype
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    batch = ember.stack([x, x])
    np.testing.assert_allclose(T.Normalize(mean, std)(batch).numpy(), np.stack([out.numpy()] * 2), rtol=1e-6)


def test_normalize_inplace_and_errors():
    x = chw()
    before = x.numpy().copy()
    out = T.Normalize([1.0] * 3, [2.0] * 3, inplace=True)(x)
    assert out is x
    np.testing.assert_allclose(x.numpy(), (before - 1) / 2, rtol=1e-6)
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize([0.5], [0.5])(ember.ones(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.5, 0.5, 0.5], [1.0, 0.0, 1.0])(chw())
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image"):
        T.Normalize([0.5], [0.5])(ember.ones(4, 4))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding, np_widths", [(2, ((2, 2), (2, 2))), ((1, 3), ((3, 3), (1, 1))),
                                                ((1, 2, 3, 4), ((2, 4), (1, 3)))])
def test_pad_matches_numpy(mode, padding, np_widths):
    x = chw(5, 6)
    out = F.pad(x, padding, fill=0.5, padding_mode=mode)
    kwargs = {"constant_values": 0.5} if mode == "constant" else {}
    np.testing.assert_array_equal(out.numpy(), np.pad(x.numpy(), ((0, 0),) + np_widths, mode=mode, **kwargs))


def windows(padded, th, tw):
    """Every (top, left) whose window of padded equals the crop."""
    return [(i, j) for i in range(padded.shape[-2] - th + 1) for j in range(padded.shape[-1] - tw + 1)]


def test_random_crop_with_padding_reaches_every_position():
    x = ember.from_numpy(np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4) + 1)
    crop = T.RandomCrop(4, padding=1)
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)))
    seen = set()
    for _ in range(200):
        out = crop(x).numpy()
        matches = [(i, j) for i, j in windows(padded, 4, 4) if np.array_equal(padded[:, i:i + 4, j:j + 4], out)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(windows(padded, 4, 4))  # all 9 offsets occur


def test_random_crop_pad_if_needed_and_errors():
    x = chw(3, 5)
    assert tuple(T.RandomCrop((4, 6), pad_if_needed=True)(x).shape) == (3, 4, 6)
    with pytest.raises(ValueError, match=r"Required crop size \(4, 4\) is larger than input image size \(3, 5\)"):
        T.RandomCrop(4)(x)
    np.testing.assert_array_equal(T.RandomCrop((3, 5))(x).numpy(), x.numpy())


def test_center_crop():
    x = ember.from_numpy(np.arange(36, dtype=np.float32).reshape(1, 6, 6))
    np.testing.assert_array_equal(T.CenterCrop(2)(x).numpy(), x.numpy()[:, 2:4, 2:4])
    assert tuple(T.CenterCrop(8)(x).shape) == (1, 8, 8)


def test_flips():
    x = chw()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    flips = sum(T.RandomHorizontalFlip()(x) is not x for _ in range(400))
    assert 140 < flips < 260


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_right_angle_rotation_is_rot90(k, interpolation):
    x = chw(5, 5)
    out = T.RandomAffine(degrees=(90 * k, 90 * k), interpolation=interpolation)(x)
    np.testing.assert_allclose(out.numpy(), np.rot90(x.numpy(), k, axes=(1, 2)), atol=1e-5)


def test_affine_identity_and_translation():
    x = ember.from_numpy(np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6) + 1)
    np.testing.assert_array_equal(T.RandomAffine(0, interpolation="bilinear")(x).numpy(), x.numpy())
    out = F.affine(x, 0.0, (2, -1), 1.0, 0.0, fill=-5.0)
    expected = np.full((2, 6, 6), -5.0, np.float32)
    expected[:, 0:5, 2:6] = x.numpy()[:, 1:6, 0:4]  # content moves right by 2 and up by 1
    np.testing.assert_array_equal(out.numpy(), expected)
    for _ in range(20):  # random translations are integer shifts within the allowed range
        moved = T.RandomAffine(0, translate=(0.34, 0.34))(x).numpy()
        shifts = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)
                  if np.array_equal(moved, F.affine(x, 0.0, (dx, dy), 1.0, 0.0).numpy())]
        assert shifts


def test_affine_uint8_fill_per_channel_and_scale():
    x = ember.from_numpy(np.full((3, 4, 4), 200, dtype=np.uint8))
    out = F.affine(x, 45.0, (0, 0), 1.0, 0.0, interpolation="nearest", fill=[10, 20, 30])
    assert out.dtype is ember.uint8
    assert out.numpy()[:, 0, 0].tolist() == [10, 20, 30] and (out.numpy()[:, 1:3, 1:3] == 200).all()
    blended = F.affine(x, 45.0, (0, 0), 1.0, 0.0, interpolation="bilinear", fill=[10, 20, 30]).numpy()
    assert blended.dtype == np.uint8 and all(f < v < 200 for f, v in zip([10, 20, 30], blended[:, 0, 0]))
    half = F.affine(chw(8, 8), 0.0, (0, 0), 0.5, 0.0).numpy()
    assert (half[:, 0, :] == 0).all() and (half[:, :, 0] == 0).all()


def test_affine_argument_errors():
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomAffine(-5)
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(1.5, 0))
    with pytest.raises(ValueError, match="interpolation"):
        T.RandomAffine(0, interpolation="bicubic")


def test_random_erasing():
    x = ember.ones(3, 10, 10)
    out = T.RandomErasing(p=1.0, value=0)(x)
    assert x.sum().item() == 300  # not in place
    zero = out.numpy() == 0
    assert zero.any() and not zero.all()
    rows, cols = np.where(zero[0])
    rect = zero[:, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert rect.all() and zero.sum() == rect.size  # exactly one solid rectangle, same in every channel
    per_channel = T.RandomErasing(p=1.0, value=(2.0, 3.0, 4.0))(x).numpy()
    assert set(np.unique(per_channel[1])) <= {1.0, 3.0}
    noisy = T.RandomErasing(p=1.0, value="random")(x).numpy()
    assert (noisy != 1).any()
    assert T.RandomErasing(p=0.0)(x) is x
    inplace = ember.ones(3, 10, 10)
    assert T.RandomErasing(p=1.0, inplace=True)(inplace) is inplace and inplace.sum().item() < 300


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(value=object()), TypeError, "Argument value should be either a number or str or a sequence"),
    (dict(value="noise"), ValueError, "If value is str, it should be 'random'"),
    (dict(scale=0.5), TypeError, "Scale should be a sequence"),
    (dict(ratio=2), TypeError, "Ratio should be a sequence"),
    (dict(scale=(0.5, 1.5)), ValueError, "Scale should be between 0 and 1"),
    (dict(p=2), ValueError, "Random erasing probability should be between 0 and 1"),
])
def test_random_erasing_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        T.RandomErasing(**kwargs)


def test_lambda_and_compose():
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize([1.0] * 3, [1.0] * 3)])
    out = pipeline(IMG_HWC)
    np.testing.assert_allclose(out.numpy(), IMG_HWC.transpose(2, 0, 1) / np.float32(255) * 2 - 1, rtol=1e-6)
    assert "Lambda()" in repr(pipeline)


def test_random_pipeline_is_reproducible_under_manual_seed():
    pipeline = T.Compose([T.ToTensor(), T.RandomCrop(5, padding=2), T.RandomHorizontalFlip(),
                          T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5,
                                         interpolation="bilinear"),
                          T.RandomErasing(p=0.7, value="random")])
    ember.manual_seed(42)
    a = [pipeline(IMG_HWC).numpy().copy() for _ in range(5)]
    ember.manual_seed(42)
    b = [pipeline(IMG_HWC).numpy().copy() for _ in range(5)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(a[0], other) for other in a[1:])


def test_non_tensor_input_is_a_type_error():
    with pytest.raises(TypeError, match="ToTensor"):
        T.RandomHorizontalFlip(p=1.0)(IMG_HWC)
