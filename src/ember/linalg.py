"""ember.linalg: torch.linalg's norms, products, inverses and decompositions (thin wrappers over ember.ops)."""
from .ops.linalg import linalg_norm as norm, matmul, matrix_norm, svdvals
from .ops.linalg_composite import (diagonal, linalg_cross as cross, lstsq, matrix_power, matrix_rank, multi_dot,
                                   pinv, vecdot)
from .ops.linalg_decomp import (LinAlgError, det, eigh, eigvalsh, inv, linalg_cholesky as cholesky,
                                linalg_slogdet as slogdet, linalg_svd as svd, qr, solve)
from .ops.reduction import vector_norm
from .ops.stats_extra import matrix_exp

__all__ = ["norm", "vector_norm", "matrix_norm", "svdvals", "matmul", "LinAlgError", "inv", "det", "slogdet",
           "solve", "cholesky", "qr", "eigh", "eigvalsh", "svd", "pinv", "lstsq", "matrix_rank", "matrix_power",
           "cross", "vecdot", "multi_dot", "diagonal", "matrix_exp"]
