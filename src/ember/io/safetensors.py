"""Reading and writing safetensors files, with the header validated before any tensor bytes are touched.

A safetensors file is ``u64 little-endian header length N | N bytes of JSON | tensor bytes``. The JSON maps
tensor names to ``{"dtype", "shape", "data_offsets"}`` and may hold ``"__metadata__"`` (str -> str). Every
check a hostile file could fail (length, JSON, dtypes, shapes, offsets that overlap, leave gaps or run past
the end) is done here in Python, so a bad file gives a ``ValueError`` naming it instead of a crash, a hang or
a huge allocation; only then are the bytes handed to the ``safetensors`` package.
"""
import io
import json
import os
import struct

import numpy as np

__all__ = ["save_file", "load_file", "save_arrays", "read_safetensors", "parse_header", "MAX_HEADER_BYTES"]

MAX_HEADER_BYTES = 100 * 1024 * 1024  # a larger JSON header is refused (safetensors' own cap is 100 MB)

NUMPY_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8, "I16": np.int16,
                "I32": np.int32, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_}
ITEMSIZE = {"BF16": 2, **{k: np.dtype(v).itemsize for k, v in NUMPY_DTYPES.items()}}
KNOWN_UNSUPPORTED = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"}
_CODE_OF = {np.dtype(v): k for k, v in NUMPY_DTYPES.items()}


def describe(f) -> str:
    """The name used for ``f`` in error messages."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(os.fspath(f)))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


_TORCH_HINT = (" (it looks like a PyTorch zip/pickle checkpoint written by torch.save; ember never unpickles "
               "files: convert it once in PyTorch with safetensors.torch.save_file(torch.load(path), new_path))")


def _fail(name, why):
    raise ValueError(f"{name} is not a valid safetensors file: {why}")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def parse_header(buf, name="<bytes>"):
    """Validate the header of the safetensors bytes ``buf``.

    Returns ``(entries, metadata, data_start)``: ``entries`` maps each tensor name to
    ``(dtype_code, shape, begin, end)`` with offsets relative to ``data_start``, in the order of the data.
    """
    size = len(buf)
    if size < 8:
        _fail(name, f"it is {size} bytes long, too short for the 8-byte header length")
    head = bytes(buf[:4])
    if head == b"PK\x03\x04" or head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        name = name + _TORCH_HINT  # only used if the checks below fail, so a valid file is never refused
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > MAX_HEADER_BYTES:
        _fail(name, f"its header length field says {n} bytes, over the {MAX_HEADER_BYTES}-byte cap")
    if 8 + n > size:
        _fail(name, f"its header length field says {n} bytes but the file has only {size - 8} after it "
                    "(truncated file?)")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        _fail(name, f"its JSON header does not parse ({type(e).__name__}: {str(e)[:200]})")
    if not isinstance(header, dict):
        _fail(name, f"its JSON header is a {type(header).__name__}, not an object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, str) for v in metadata.values())):
        _fail(name, "'__metadata__' must map strings to strings")
    data_size = size - 8 - n
    entries = {}
    for key, info in header.items():
        if not isinstance(info, dict):
            _fail(name, f"the entry for tensor {key!r} is not an object")
        code, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if code not in ITEMSIZE:
            extra = " (a dtype ember does not support)" if code in KNOWN_UNSUPPORTED else ""
            _fail(name, f"tensor {key!r} has dtype {str(code)[:40]!r}{extra}; supported: {', '.join(ITEMSIZE)}")
        if not isinstance(shape, list) or len(shape) > 64 or not all(_is_int(s) and s >= 0 for s in shape):
            _fail(name, f"tensor {key!r} has an invalid shape {str(shape)[:80]}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= data_size):
            _fail(name, f"tensor {key!r} has data_offsets {str(offsets)[:80]} outside the {data_size}-byte "
                        "data section")
        numel = 1
        for s in shape:
            numel *= s
        if numel * ITEMSIZE[code] != offsets[1] - offsets[0]:
            _fail(name, f"tensor {key!r} of shape {shape} and dtype {code} needs {numel * ITEMSIZE[code]} bytes "
                        f"but its data_offsets span {offsets[1] - offsets[0]}")
        entries[key] = (code, tuple(shape), offsets[0], offsets[1])
    entries = dict(sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])))  # file order, as safetensors
    expected = 0
    for key, (_, _, begin, end) in entries.items():
        if begin != expected:
            _fail(name, f"tensor {key!r} starts at byte {begin}, expected {expected} (overlapping tensors or a gap)")
        expected = end
    if expected != data_size:
        _fail(name, f"the tensors cover {expected} bytes but the data section has {data_size}")
    return entries, metadata, 8 + n


def _bf16_to_float32(raw: np.ndarray) -> np.ndarray:
    return (raw.astype(np.uint32) << 16).view(np.float32)


def read_safetensors(buf, name="<bytes>"):
    """Validate and decode safetensors bytes: ``(arrays, metadata)``, arrays in the order of their data.

    bfloat16 tensors (ember has no bfloat16) are widened exactly to float32.
    """
    entries, metadata, start = parse_header(buf, name)
    if any(code == "BF16" for code, *_ in entries.values()):
        arrays = {}
        for key, (code, shape, begin, end) in entries.items():
            raw = np.frombuffer(buf, dtype=np.uint16 if code == "BF16" else NUMPY_DTYPES[code],
                                count=(end - begin) // ITEMSIZE[code], offset=start + begin).reshape(shape)
            arrays[key] = _bf16_to_float32(raw) if code == "BF16" else raw.copy()
        return arrays, metadata or {}
    import safetensors.numpy

    try:
        loaded = safetensors.numpy.load(bytes(buf))
    except Exception as e:  # the header was validated above, so this is not expected
        raise ValueError(f"{name} could not be read by safetensors: {e}") from None
    return {key: loaded[key] for key in entries}, metadata or {}


def _read_all(f, name):
    if isinstance(f, (str, bytes, os.PathLike)):
        try:
            with open(f, "rb") as fh:
                return fh.read()
        except IsADirectoryError:
            raise IsADirectoryError(f"{name} is a directory, not a safetensors file") from None
    if not hasattr(f, "read"):
        raise TypeError(f"expected a path or a binary file object, got {type(f).__name__}")
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: the file object must be opened in binary mode (read() returned "
                        f"{type(data).__name__})")
    return data


def read_file(f):
    """Read, validate and decode a safetensors path or binary file object: ``(arrays, metadata)``."""
    name = describe(f)
    return read_safetensors(_read_all(f, name), name)


def save_arrays(arrays: dict, f, metadata=None) -> None:
    """Write NumPy arrays as a safetensors file to a path (atomically) or a binary file object."""
    import safetensors.numpy

    from .atomic import atomic_write

    clean = {}
    for key, a in arrays.items():
        if not isinstance(key, str):
            raise TypeError(f"safetensors tensor names must be strings, got {type(key).__name__} {key!r}")
        a = np.asarray(a)
        if not a.flags.c_contiguous:  # safetensors writes the raw buffer, so the layout must be C order
            a = a.copy(order="C")
        if a.dtype not in _CODE_OF:
            raise TypeError(f"cannot store arrays of dtype {a.dtype} in safetensors")
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        clean[key] = a
    if not isinstance(f, (str, bytes, os.PathLike)) and not hasattr(f, "write"):
        raise TypeError(f"expected a path or a binary file object, got {type(f).__name__}")
    blob = safetensors.numpy.save(clean, metadata=metadata)
    if isinstance(f, (str, bytes, os.PathLike)):
        with atomic_write(f) as fh:
            fh.write(blob)
        return
    f.write(blob)
    if hasattr(f, "flush"):
        f.flush()


def save_file(tensors: dict, filename, metadata=None) -> None:
    """``safetensors.torch.save_file`` for ember: a flat dict of name -> Tensor, optional str metadata."""
    from .._tensor import Tensor

    arrays = {}
    for key, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"save_file: value for {key!r} is a {type(t).__name__}, expected an ember Tensor")
        arrays[key] = t._data
    save_arrays(arrays, filename, metadata)


def load_file(filename) -> dict:
    """``safetensors.torch.load_file`` for ember: name -> Tensor, in the same order as safetensors gives."""
    from .._tensor import _make

    arrays, _ = read_file(filename)
    return {key: _make(a) for key, a in arrays.items()}


def load(data: bytes) -> dict:
    """``safetensors.torch.load`` for ember: decode safetensors bytes into name -> Tensor."""
    return load_file(io.BytesIO(data))


def save(tensors: dict, metadata=None) -> bytes:
    """``safetensors.torch.save`` for ember: encode name -> Tensor as safetensors bytes."""
    buf = io.BytesIO()
    save_file(tensors, buf, metadata)
    return buf.getvalue()
