"""All of ember's ops, by family. Each op is an ``Op`` subclass (forward and backward together) plus the
lowercase function users call; ``OP_REGISTRY`` lists every primitive for compile mode."""
from ..autograd import engine as _engine
from ..autograd.function import OP_REGISTRY  # noqa: F401
from .activation import *  # noqa: F401,F403
from .activation import (celu, elu, gelu, hardshrink, hardsigmoid, hardswish, hardtanh, leaky_relu,  # noqa: F401
                         log_softmax, logsigmoid, mish, relu, relu6, selu, silu, softmax, softmin, softplus,
                         softshrink, softsign, tanhshrink, threshold)
from .creation import *  # noqa: F401,F403
from .combine import *  # noqa: F401,F403
from .combine_products import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .gather import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .inplace import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .linalg_decomp import *  # noqa: F401,F403
from .rearrange import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .resample import *  # noqa: F401,F403
from .scatter_extra import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .statistics import *  # noqa: F401,F403
from .unary_extra import *  # noqa: F401,F403
from .misc_extra import *  # noqa: F401,F403
from .stats_extra import *  # noqa: F401,F403
from .elementwise import abs, pow, round  # noqa: F401,E402,A004
from .reduction import all_ as all, any_ as any, max_ as max, min_ as min, sum_ as sum  # noqa: F401,E402,A004
from .inplace import add_, sub_  # noqa: F401,E402  (the in-place ones, not elementwise's helpers)

_engine._sum_to = sum_to  # noqa: F405
_engine._ones_like = ones_like  # noqa: F405
