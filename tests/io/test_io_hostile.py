"""Damaged, malicious and foreign files: ember.load must raise a clear error naming the file, never crash,
hang or allocate what a header claims."""
import io
import json
import struct
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember.io.safetensors import MAX_HEADER_BYTES


def build(header, data=b"", length=None):
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    n = len(raw) if length is None else length
    return struct.pack("<Q", n) + raw + data


def load_bytes(blob, name="bad.safetensors", tmp_path=None):
    path = tmp_path / name
    path.write_bytes(blob)
    return ember.load(path)


GOOD = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}


@pytest.mark.parametrize("blob, match", [
    (b"", "too short"),
    (b"\x01\x02\x03", "too short"),
    (struct.pack("<Q", 2 ** 63), "over the"),
    (struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}", "over the"),
    (struct.pack("<Q", 1000) + b"{}", "truncated"),
    (build(b"\xff\xfe{not json"), "does not parse"),
    (build(b"{\"a\": 1"), "does not parse"),
    (build(b"[" * 100000 + b"]" * 100000), "does not parse|not an object"),
    (build([1, 2, 3]), "not an object"),
    (build({"w": 5}), "not an object"),
    (build({"w": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8), "dtype 'F33'"),
    (build({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8), "invalid shape"),
    (build({"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, b"\0" * 8), "invalid shape"),
    (build({"w": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, b"\0" * 8), "invalid shape"),
    (build({"w": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, b"\0" * 8), "invalid shape"),
    (build({"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "data_offsets"),
    (build({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4), "outside"),
    (build({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8), "outside"),
    (build({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, b"\0" * 8), "outside"),
    (build({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 2 ** 70]}}, b"\0" * 8), "outside"),
    (build({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "needs 12 bytes"),
    (build({"w": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 8]}}, b"\0" * 8), "needs"),
    (build({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12), "overlapping"),
    (build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8), "gap"),
    (build(GOOD, b"\0" * 12), "cover 8 bytes"),
    (build({**GOOD, "__metadata__": {"a": 1}}, b"\0" * 8), "__metadata__"),
    (build({**GOOD, "__metadata__": [1]}, b"\0" * 8), "__metadata__"),
    (build({**GOOD, "__metadata__": {"ember.tree": "{not json"}}, b"\0" * 8), "corrupt ember structure"),
    (build({**GOOD, "__metadata__": {"ember.tree": '{"$": "T", "k": "missing"}'}}, b"\0" * 8), "missing tensor"),
    (build({**GOOD, "__metadata__": {"ember.tree": '{"$": "?"}'}}, b"\0" * 8), "unknown node tag"),
    (build({**GOOD, "__metadata__": {"ember.tree": '{"$": "d", "v": [[[1], 2]]}'}}, b"\0" * 8), "unhashable"),
    (build({**GOOD, "__metadata__": {"ember.tree": '{"$": "d", "v": 3}'}}, b"\0" * 8), "dict node"),
    (build({**GOOD, "__metadata__": {"ember.tree": '{"$": "S", "k": "w"}'}}, b"\0" * 8), "0-dimensional"),
    (build({**GOOD, "__metadata__": {"ember.tree": "[" * 5000 + "]" * 5000}}, b"\0" * 8), "recursion"),
    (build({**GOOD, "__metadata__": {"ember.tree": "[" * 300 + "]" * 300}}, b"\0" * 8), "nesting too deep"),
    (build({**GOOD, "__metadata__": {"ember.tree": "1", "ember.format_version": "99"}}, b"\0" * 8), "newer ember"),
], ids=lambda x: x if isinstance(x, str) else None)
def test_hostile_file_raises_value_error_naming_it(blob, match, tmp_path):
    with pytest.raises(ValueError, match=match) as info:
        load_bytes(blob, tmp_path=tmp_path)
    assert "bad.safetensors" in str(info.value)


def test_valid_hand_built_file_loads(tmp_path):
    out = load_bytes(build(GOOD, np.array([1.5, -2], np.float32).tobytes()), tmp_path=tmp_path)
    np.testing.assert_array_equal(out["w"].numpy(), [1.5, -2])


def test_torch_pickle_checkpoint_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, str(path))
    assert zipfile.is_zipfile(path)
    with pytest.raises(ValueError, match=r"model\.pt.*torch\.save.*never unpickles"):
        ember.load(path)
    buf = io.BytesIO()
    torch.save(torch.ones(1), buf, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="never unpickles"):
        ember.load(io.BytesIO(buf.getvalue()))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "nope.safetensors")
    with pytest.raises(IsADirectoryError, match="directory"):
        ember.load(tmp_path)


def test_text_mode_file_object_is_a_type_error(tmp_path):
    ember.save(ember.ones(1), tmp_path / "x")
    with open(tmp_path / "x", encoding="latin-1") as f, pytest.raises(TypeError, match="binary mode"):
        ember.load(f)


def mutate(blob: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(blob)
    kind = rng.integers(4)
    header_end = 8 + struct.unpack("<Q", blob[:8])[0]
    if kind == 0:  # flip bytes, mostly in the header where the structure is
        for _ in range(rng.integers(1, 6)):
            pos = rng.integers(header_end) if rng.random() < 0.8 else rng.integers(len(b))
            b[pos] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # truncate
        del b[rng.integers(len(b)):]
    elif kind == 2:  # insert random bytes
        pos = rng.integers(len(b) + 1)
        b[pos:pos] = rng.integers(0, 256, rng.integers(1, 9), dtype=np.uint8).tobytes()
    else:  # overwrite a random byte with a character that matters to JSON
        pos = rng.integers(8, header_end)
        b[pos] = ord(rng.choice(list('{}[]":,0-9e')))
    return bytes(b)


def test_fuzzed_files_load_or_raise_cleanly():
    obj = {"model": {"w": ember.randn(3, 4), "b": ember.zeros(4, dtype=ember.float64)},
           "opt": {"state": {0: {"step": ember.tensor(2.0), "m": ember.ones(3, dtype=ember.int64)}},
                   "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99), "params": [0]}]},
           "epoch": 3, "mask": ember.ones(5, dtype=ember.bool)}
    buf = io.BytesIO()
    ember.save(obj, buf)
    blob = buf.getvalue()
    rng = np.random.default_rng(1234)
    outcomes = {"loaded": 0, "rejected": 0}
    for i in range(400):
        bad = mutate(blob, rng)
        try:
            ember.load(io.BytesIO(bad))
            outcomes["loaded"] += 1
        except (ValueError, RuntimeError) as e:
            assert "BytesIO" in str(e), f"mutation {i}: error does not name the file: {e}"
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 200, outcomes  # most mutations of the header must be caught
