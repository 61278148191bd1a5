"""Image transforms as plain functions on ember tensors of shape (..., C, H, W) (``to_tensor`` also takes
NumPy HWC / HW arrays and PIL images). Randomness lives in the transform classes, never here."""
import math
import numbers

import numpy as np

__all__ = ["to_tensor", "normalize", "pad", "crop", "center_crop", "hflip", "vflip", "affine", "erase"]

_NP_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def _check_image(img, op):
    from .._tensor import Tensor

    if not isinstance(img, Tensor):
        raise TypeError(f"{op}: img should be an ember Tensor of shape (..., C, H, W) (use ToTensor() first), "
                        f"got {type(img).__name__}")
    if img.ndim < 2:
        raise ValueError(f"{op}: expected a tensor image of shape (..., H, W), got shape {tuple(img.shape)}")


def to_tensor(pic):
    """HWC or HW image (NumPy array or PIL image) -> CHW tensor; uint8 is scaled to floats in [0, 1]."""
    from .. import from_numpy, get_default_dtype

    if type(pic).__module__.startswith("PIL."):
        mode = pic.mode
        pic = np.array(pic)
        if mode == "1":
            pic = pic.astype(np.uint8) * 255
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    chw = np.ascontiguousarray(pic.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        dt = get_default_dtype().np
        return from_numpy(chw.astype(dt) / dt.type(255))
    if chw.dtype == np.uint16:
        chw = chw.astype(np.int32)
    return from_numpy(chw)


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean[c]) / std[c] for each channel c of a float (..., C, H, W) tensor."""
    from .. import as_tensor

    _check_image(tensor, "normalize")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    mean = as_tensor(np.asarray(mean, dtype=tensor.dtype.np))
    std = as_tensor(np.asarray(std, dtype=tensor.dtype.np))
    if (std.numpy() == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.reshape(-1, 1, 1)
    if std.ndim == 1:
        std = std.reshape(-1, 1, 1)
    if inplace:
        return tensor.sub_(mean).div_(std)
    return (tensor - mean) / std


def _padding_ltrb(padding):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the last two dims: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    from .. import from_numpy

    _check_image(img, "pad")
    if padding_mode not in _NP_PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _padding_ltrb(padding)
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"pad: negative padding {padding} is not supported")
    widths = [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)]
    arr = img.detach().numpy()
    if padding_mode == "constant":
        out = np.pad(arr, widths, mode="constant", constant_values=np.asarray(fill).astype(arr.dtype))
    else:
        out = np.pad(arr, widths, mode=_NP_PAD_MODES[padding_mode])
    return from_numpy(out)


def crop(img, top, left, height, width):
    """The window [top, top + height) x [left, left + width) of the last two dims (a view)."""
    _check_image(img, "crop")
    return img[..., top:top + height, left:left + width]


def center_crop(img, output_size):
    h, w = img.shape[-2:]
    th, tw = (output_size, output_size) if isinstance(output_size, numbers.Integral) else tuple(output_size)
    if th > h or tw > w:
        img = pad(img, ((tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0,
                        (tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0))
        h, w = img.shape[-2:]
    return crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)


def hflip(img):
    _check_image(img, "hflip")
    return img.flip(-1)


def vflip(img):
    _check_image(img, "vflip")
    return img.flip(-2)


def _forward_matrix(angle, translate, scale, shear):
    """2x2 matrix A and translation t of the forward map, in pixel coordinates centred on the image centre
    with y pointing down: positive ``angle`` turns the picture counter-clockwise, as PIL's rotate does."""
    a = math.radians(angle)
    shx, shy = (math.radians(s) for s in shear)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    sh = np.array([[1.0, -math.tan(shx)], [-math.tan(shy), 1.0]])
    return rot @ sh * scale, np.asarray(translate, dtype=np.float64)


def affine(img, angle, translate, scale, shear, interpolation="nearest", fill=0, center=None):
    """Rotate (degrees, counter-clockwise), shear (degrees along x, y), scale and translate (pixels) the last
    two dims about ``center`` (default: the image centre); pixels from outside the image get ``fill``."""
    from .. import from_numpy

    _check_image(img, "affine")
    interpolation = getattr(interpolation, "value", interpolation)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"affine: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    if isinstance(shear, numbers.Number):
        shear = (shear, 0.0)
    arr = img.detach().numpy()
    h, w = arr.shape[-2:]
    cx, cy = ((w - 1) * 0.5, (h - 1) * 0.5) if center is None else (float(center[0]), float(center[1]))
    mat, t = _forward_matrix(angle, translate, scale, shear)
    inv = np.linalg.inv(mat)
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    dx, dy = xs - cx - t[0], ys - cy - t[1]
    src_x = inv[0, 0] * dx + inv[0, 1] * dy + cx
    src_y = inv[1, 0] * dx + inv[1, 1] * dy + cy
    fill = np.asarray(fill, dtype=np.float64)
    if fill.ndim:  # one value per channel
        if arr.ndim < 3:
            raise ValueError(f"affine: a per-channel fill needs a (..., C, H, W) image, got {tuple(arr.shape)}")
        fill = fill.reshape(-1, 1, 1)
    flat = arr.reshape((-1, h, w)).astype(np.float64)
    fill_flat = np.ascontiguousarray(np.broadcast_to(fill, arr.shape)).reshape(flat.shape)[:, :1, :1]

    def sample(iy, ix):
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        return np.where(inside, flat[:, np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)], fill_flat)

    if interpolation == "nearest":
        out = sample(np.floor(src_y + 0.5).astype(np.int64), np.floor(src_x + 0.5).astype(np.int64))
    else:  # neighbours outside the image count as the fill colour
        x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
        fx, fy = src_x - x0, src_y - y0
        out = (sample(y0, x0) * ((1 - fx) * (1 - fy)) + sample(y0, x0 + 1) * (fx * (1 - fy))
               + sample(y0 + 1, x0) * ((1 - fx) * fy) + sample(y0 + 1, x0 + 1) * (fx * fy))
    return from_numpy(_cast_like(out.reshape(arr.shape), arr))


def _cast_like(values, like):
    if like.dtype.kind in "iub":
        info = np.iinfo(like.dtype) if like.dtype.kind != "b" else None
        values = np.rint(values)
        if info is not None:
            values = np.clip(values, info.min, info.max)
    return values.astype(like.dtype)


def erase(img, i, j, h, w, v, inplace=False):
    """Set the window [i, i + h) x [j, j + w) of the last two dims to ``v`` (a tensor broadcastable to it)."""
    _check_image(img, "erase")
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img
