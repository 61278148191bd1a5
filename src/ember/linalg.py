"""ember.linalg: torch.linalg's norms and products (thin wrappers over ember.ops)."""
from .ops.linalg import linalg_norm as norm, matmul, matrix_norm, svdvals
from .ops.reduction import vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "svdvals", "matmul"]
