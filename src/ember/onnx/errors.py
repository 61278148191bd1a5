"""Errors of ``ember.onnx.export`` (named after ``torch.onnx.errors``)."""

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """The model cannot be exported as asked (data-dependent control flow, a size that a dynamic axis would
    change baked into the graph, invalid arguments found while exporting)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An ember op (or one of its parameter settings) has no ONNX lowering.

    ``op_name`` is the ember Op class's name, ``site`` the user's source line that applied it (``file:line``),
    ``opset_version`` the opset asked for."""

    def __init__(self, op_name, site, opset_version, reason=""):
        self.op_name, self.site, self.opset_version = op_name, site, opset_version
        why = f": {reason}" if reason else ""
        super().__init__(f"Exporting the ember op '{op_name}' (called at {site}) to ONNX opset version "
                         f"{opset_version} is not supported{why}. docs/deployment.md lists the supported ops.")
