"""``torch.backends`` for a CPU-only NumPy framework: what scripts query or set before training.

The flags are plain attributes, kept so that ``torch.backends.cudnn.benchmark = True`` and friends run unchanged;
they change nothing in ember (no cuDNN, no MPS, no TF32: NumPy's float32 matmul is always full precision).
``is_available()`` answers truthfully for this machine.
"""
import types

__all__ = ["cuda", "cudnn", "mps", "mkldnn", "openmp", "opt_einsum"]


def _namespace(name, doc, **attrs):
    ns = types.SimpleNamespace(**attrs)
    ns.__name__, ns.__doc__ = f"{__name__}.{name}", doc
    return ns


def _false():
    return False


cudnn = _namespace("cudnn", "No cuDNN: is_available() is False; benchmark/deterministic/enabled are kept as set.",
                   is_available=_false, version=lambda: None, enabled=True, benchmark=False, deterministic=False,
                   allow_tf32=True)
mps = _namespace("mps", "No Metal backend.", is_available=_false, is_built=_false)
cuda = _namespace("cuda", "No CUDA.", is_built=_false,
                  matmul=_namespace("cuda.matmul", "TF32 / reduced-precision flags (no effect).", allow_tf32=False,
                                    allow_fp16_reduced_precision_reduction=True,
                                    allow_bf16_reduced_precision_reduction=True))
mkldnn = _namespace("mkldnn", "ember does not use oneDNN.", is_available=_false, enabled=False)
openmp = _namespace("openmp", "ember's own loops do not use OpenMP.", is_available=_false)
opt_einsum = _namespace("opt_einsum", "einsum contraction order: NumPy's own.", is_available=_false, enabled=False,
                        strategy=None)
