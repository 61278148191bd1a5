"""``ember.save`` / ``ember.load``: torch.save-style objects stored as safetensors, never pickled.

Every tensor (and NumPy array) goes into the safetensors data section under a readable name (a state_dict's
own keys, or a dotted path such as ``state.0.exp_avg``), so the file loads in any safetensors reader. The
rest of the object (dicts with int or str keys, OrderedDict, lists, tuples, numbers, strings, None ...) is a
JSON tree in the metadata entry ``ember.tree`` that refers to tensors by name. Loading only parses JSON and
copies bytes: no code from the file is ever executed.

JSON tree nodes: ``null``/``true``/``false``/ints/finite floats/strings stand for themselves, a JSON list is
a Python list, and every other value is an object ``{"$": tag, ...}``:
``T`` tensor, ``A`` ndarray, ``S`` NumPy scalar (``k`` = tensor name, ``g`` = requires_grad; like torch,
a tensor that requires grad loads as a leaf that requires grad), ``t`` tuple,
``d`` dict and ``o`` OrderedDict (``v`` = list of [key, value] pairs), ``f`` non-finite float, ``c`` complex,
``b`` bytes (hex), ``s`` set, ``F`` frozenset, ``D`` ember dtype, ``z`` ember.Size.

Differences from torch.save: namedtuples come back as plain tuples (rebuilding a class would run code), and
a tensor referenced twice stays one tensor but two views of one buffer come back as two separate tensors.
"""
import collections
import math
import numbers
import os

import numpy as np

from .safetensors import NUMPY_DTYPES, describe, read_file, save_arrays

__all__ = ["save", "load", "TREE_KEY"]

TREE_KEY = "ember.tree"
FORMAT_VERSION = "1"
_MAX_DEPTH = 200
STORABLE = frozenset(np.dtype(d) for d in NUMPY_DTYPES.values())


class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.by_id = {}  # id(tensor or array) -> name, so shared objects are stored once and stay shared
        self.keep = []  # keeps encoded objects alive so ids are not reused during the walk

    def name_for(self, obj, path):
        name = self.by_id.get(id(obj))
        if name is not None:
            return name, False
        base = ".".join(path) if path else "tensor"
        name, n = base, 1
        while name in self.arrays:
            n += 1
            name = f"{base}#{n}"
        self.by_id[id(obj)] = name
        self.keep.append(obj)
        return name, True

    def encode(self, obj, path, depth=0):
        from .._dtype import dtype as ember_dtype
        from .._tensor import Size, Tensor

        if depth > _MAX_DEPTH:
            raise ValueError(f"ember.save: object nested deeper than {_MAX_DEPTH} levels at {'.'.join(path)}")
        if obj is None or obj is True or obj is False or isinstance(obj, str):
            return obj if obj.__class__ in (str, bool, type(None)) else str(obj)
        if isinstance(obj, Tensor):
            name, new = self.name_for(obj, path)
            if new:
                self.arrays[name] = obj._data
            node = {"$": "T", "k": name}
            if obj.requires_grad:
                node["g"] = 1
            return node
        if isinstance(obj, np.ndarray):
            name, new = self.name_for(obj, path)
            if new:
                self._check_array(obj, path)
                self.arrays[name] = obj
            return {"$": "A", "k": name}
        if isinstance(obj, np.generic):
            a = np.asarray(obj)
            self._check_array(a, path)
            name, _ = self.name_for(a, path)
            self.arrays[name] = a
            return {"$": "S", "k": name}
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, float):
            v = float(obj)
            return v if math.isfinite(v) else {"$": "f", "v": repr(v)}
        if isinstance(obj, complex):
            return {"$": "c", "v": [self.encode(obj.real, path, depth + 1), self.encode(obj.imag, path, depth + 1)]}
        if isinstance(obj, (bytes, bytearray)):
            return {"$": "b", "v": bytes(obj).hex()}
        if isinstance(obj, ember_dtype):
            return {"$": "D", "v": obj.name}
        if isinstance(obj, Size):
            return {"$": "z", "v": [int(s) for s in obj]}
        if isinstance(obj, dict):
            tag = "o" if isinstance(obj, collections.OrderedDict) else "d"
            pairs = []
            for k, v in obj.items():
                key = self.encode(k, path + ["key"], depth + 1)
                if isinstance(key, dict) and key.get("$") in ("T", "A", "S"):
                    raise TypeError(f"ember.save: tensors cannot be dict keys (at {'.'.join(path) or 'top level'})")
                pairs.append([key, self.encode(v, path + [str(k)], depth + 1)])
            return {"$": tag, "v": pairs}
        if isinstance(obj, list):
            return [self.encode(v, path + [str(i)], depth + 1) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):  # namedtuples are stored as plain tuples (rebuilding them would run code)
            return {"$": "t", "v": [self.encode(v, path + [str(i)], depth + 1) for i, v in enumerate(obj)]}
        if isinstance(obj, (set, frozenset)):
            tag = "F" if isinstance(obj, frozenset) else "s"
            return {"$": tag, "v": [self.encode(v, path + ["item"], depth + 1) for v in obj]}
        where = ".".join(path) or "top level"
        raise TypeError(f"ember.save: cannot serialize an object of type {type(obj).__module__}."
                        f"{type(obj).__qualname__} (at {where}). ember stores tensors, NumPy arrays, numbers, "
                        "strings, bytes, None and dicts/lists/tuples/sets of them, and never pickles; convert "
                        "other objects (e.g. call .state_dict()) first")

    @staticmethod
    def _check_array(a, path):
        if a.dtype.newbyteorder("=") not in STORABLE:
            raise TypeError(f"ember.save: cannot store a NumPy array of dtype {a.dtype} (at "
                            f"{'.'.join(path) or 'top level'}); storable dtypes: "
                            f"{', '.join(sorted(str(d) for d in STORABLE))}")


class _Decoder:
    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name
        self.tensors = {}

    def bad(self, why):
        raise ValueError(f"{self.name}: corrupt ember structure in the safetensors metadata ({why})")

    def array(self, node):
        key = node.get("k")
        if not isinstance(key, str) or key not in self.arrays:
            self.bad(f"reference to missing tensor {str(key)[:80]!r}")
        return self.arrays[key]

    def decode(self, node, depth=0):
        from .._dtype import as_dtype
        from .._tensor import Size, _make

        if depth > _MAX_DEPTH + 2:
            self.bad("nesting too deep")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            self.bad(f"unexpected node of type {type(node).__name__}")
        tag, v = node.get("$"), node.get("v")
        if tag == "T":
            key = node.get("k")
            t = self.tensors.get(key)
            if t is None:
                t = _make(self.array(node), bool(node.get("g")))
                self.tensors[key] = t
            return t
        if tag == "A":
            return self.array(node)
        if tag == "S":
            a = self.array(node)
            if a.ndim != 0:
                self.bad("a NumPy scalar must be 0-dimensional")
            return a[()]
        if tag in ("d", "o"):
            if not isinstance(v, list):
                self.bad("dict node without a list of pairs")
            out = collections.OrderedDict() if tag == "o" else {}
            for pair in v:
                if not (isinstance(pair, list) and len(pair) == 2):
                    self.bad("dict entry is not a [key, value] pair")
                key = self.decode(pair[0], depth + 1)
                value = self.decode(pair[1], depth + 1)
                try:
                    out[key] = value
                except TypeError:
                    self.bad(f"unhashable dict key of type {type(key).__name__}")
            return out
        if tag in ("t", "s", "F"):
            if not isinstance(v, list):
                self.bad(f"'{tag}' node without a list")
            items = [self.decode(x, depth + 1) for x in v]
            try:
                return tuple(items) if tag == "t" else (set(items) if tag == "s" else frozenset(items))
            except TypeError:
                self.bad("unhashable set element")
        if tag == "f":
            if v not in ("nan", "inf", "-inf"):
                self.bad(f"bad float {str(v)[:20]!r}")
            return float(v)
        if tag == "c":
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float, dict)) for x in v)):
                self.bad("bad complex")
            re, im = (self.decode(x, depth + 1) for x in v)
            if not all(isinstance(x, (int, float)) for x in (re, im)):
                self.bad("bad complex")
            return complex(re, im)
        if tag == "b":
            if not isinstance(v, str):
                self.bad("bad bytes")
            try:
                return bytes.fromhex(v)
            except ValueError:
                self.bad("bad bytes")
        if tag == "D":
            try:
                return as_dtype(v) if isinstance(v, str) else self.bad("bad dtype")
            except TypeError:
                self.bad(f"unknown dtype {str(v)[:20]!r}")
        if tag == "z":
            if not (isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
                self.bad("bad Size")
            return Size(v)
        self.bad(f"unknown node tag {str(tag)[:20]!r}")


def _check_map_location(map_location):
    from .._tensor import device

    def is_cpu(d):
        if isinstance(d, str):
            return d == "cpu" or d.startswith("cpu:")
        if isinstance(d, device):
            return d.type == "cpu"
        return getattr(d, "type", None) == "cpu"  # a torch.device passed by mistake

    if map_location is None or is_cpu(map_location):
        return
    if isinstance(map_location, dict) and all(is_cpu(v) for v in map_location.values()):
        return
    raise RuntimeError(f"ember.load: map_location={map_location!r} is not supported; ember runs on the CPU only, "
                       "so use map_location=None or 'cpu'")


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` (tensors, state_dicts, nested containers of them) to a path or a binary file object.

    The file is a standard safetensors file; a path is written atomically (temporary file, fsync, rename).
    The pickle-related arguments are accepted for compatibility with ``torch.save`` and ignored.
    """
    import json

    if not isinstance(f, (str, bytes, os.PathLike)) and not hasattr(f, "write"):
        raise TypeError(f"ember.save: f must be a path or a binary file object, got {type(f).__name__}")
    enc = _Encoder()
    tree = enc.encode(obj, [])
    metadata = {"format": "pt", TREE_KEY: json.dumps(tree, separators=(",", ":"), allow_nan=False),
                "ember.format_version": FORMAT_VERSION}
    save_arrays(enc.arrays, f, metadata)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what ``ember.save`` wrote (or any safetensors file: a dict of name -> Tensor).

    Never executes code from the file, so ``weights_only`` changes nothing; ``map_location`` may be None or
    'cpu'. A damaged or foreign file raises ``ValueError`` naming it.
    """
    import json

    from .._tensor import _make

    _check_map_location(map_location)
    name = describe(f)
    arrays, metadata = read_file(f)
    text = metadata.get(TREE_KEY)
    if text is None:  # a plain safetensors file, e.g. from safetensors.torch.save_file
        return {key: _make(a) for key, a in arrays.items()}
    version = metadata.get("ember.format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(f"{name} was written by a newer ember (format version {version[:20]!r}); "
                         f"this ember reads version {FORMAT_VERSION}")
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{name}: corrupt ember structure in the safetensors metadata ({e})") from None
    try:
        return _Decoder(arrays, name).decode(tree)
    except RecursionError:
        raise ValueError(f"{name}: corrupt ember structure in the safetensors metadata (nesting too deep)") from None
