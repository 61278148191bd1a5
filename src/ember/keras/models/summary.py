"""``model.summary()`` in Keras 3's layout: a box-drawn table (Layer (type) | Output Shape | Param # [| Connected
to]) followed by the Total / Trainable / Non-trainable (and Optimizer) parameter counts with their sizes.

Column widths follow Keras: fractions of ``line_length`` (88 for sequential-like models, 108 with the "Connected
to" column, at most the terminal width - 4), then shrunk evenly so the borders and cell padding fit.
"""
import math
import shutil
import textwrap

__all__ = ["print_summary", "summary_lines"]


def readable_size(n_bytes):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _count(weights):
    return sum(math.prod(w.shape) for w in weights)


def _nbytes(weights):
    return sum(math.prod(w.shape) * w.element_size() for w in weights)


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _output_shape_text(layer):
    try:
        shapes = layer.output_shape
    except AttributeError:
        return "?"
    if shapes is None:
        return "?"
    if isinstance(shapes, tuple) and all(d is None or isinstance(d, int) for d in shapes):
        return _format_shape(shapes)
    flat = shapes if isinstance(shapes, list) else list(shapes.values()) if isinstance(shapes, dict) else [shapes]
    return "[" + ", ".join(_format_shape(s) for s in flat) + "]"


def _shrink(widths, available):
    """Reduce ``widths`` to sum to ``available``, taking an equal share from each column (as rich does)."""
    excess = sum(widths) - available
    if excess <= 0:
        return list(widths)
    out, remaining, total_ratio = [], excess, len(widths)
    for w in widths:
        take = min(w, round(remaining / total_ratio))
        out.append(w - take)
        remaining -= take
        total_ratio -= 1
    return out


def _is_sequential_like(model):
    from .functional import Functional

    if not isinstance(model, Functional) or getattr(model, "_is_sequential_graph", False):
        return True
    if len(model.inputs) != 1:
        return False
    consumers = {}
    for node in model._nodes:
        if len(node.input_tensors) > 1:
            return False
        for t in node.input_tensors:
            consumers[id(t)] = consumers.get(id(t), 0) + 1
    return all(c == 1 for c in consumers.values())


def _connections(layer, model):
    nodes = set(id(n) for n in model._nodes)
    parts = []
    for node in layer._inbound_nodes:
        if id(node) not in nodes:
            continue
        for t in node.input_tensors:
            src, node_index, tensor_index = t._keras_history
            parts.append(f"{src.name}[{node_index}][{tensor_index}]")
    return ", ".join(parts) if parts else "-"


def _wrap(text, width):
    lines = []
    for piece in str(text).split("\n"):
        lines.extend(textwrap.wrap(piece, width, break_long_words=True, break_on_hyphens=False) or [""])
    return lines


def summary_lines(model, line_length=None, positions=None, expand_nested=False, show_trainable=False):
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["left", "left", "right", "left"]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    widths, current = [], 0
    for pos in positions:
        if pos - current < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(pos - current)
        current = pos
    cells = _shrink([w + 2 for w in widths], line_length - (len(widths) + 1))
    content = [c - 2 for c in cells]

    rows = []

    def add(layer, prefix=""):
        name = f"{prefix}{layer.name} ({type(layer).__name__})"
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [name, _output_shape_text(layer), params]
        if not sequential_like:
            row.append(_connections(layer, model))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)
        if expand_nested and hasattr(layer, "layers") and layer is not model:
            for sub in layer.layers:
                add(sub, prefix="   " * (prefix.count("└") + 1) + "└ ")

    for layer in model.layers:
        add(layer)

    def render(row):
        wrapped = [_wrap(text, w) for text, w in zip(row, content)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, w, a in zip(wrapped, content, align):
                text = lines[i] if i < len(lines) else ""
                parts.append(text.rjust(w) if a == "right" else text.center(w) if a == "center" else text.ljust(w))
            out.append(parts)
        return out

    def border(left, mid, right, fill):
        return left + mid.join(fill * c for c in cells) + right

    lines = [f'Model: "{model.name}"', border("┏", "┳", "┓", "━")]
    for parts in render(header):
        lines.append("┃" + "┃".join(f" {p} " for p in parts) + "┃")
    lines.append(border("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        if i:
            lines.append(border("├", "┼", "┤", "─"))
        for parts in render(row):
            lines.append("│" + "│".join(f" {p} " for p in parts) + "│")
    lines.append(border("└", "┴", "┘", "─"))

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    total = _count(trainable) + _count(non_trainable)
    total_bytes = _nbytes(trainable) + _nbytes(non_trainable)
    opt = getattr(model, "optimizer", None)
    opt_count = opt_bytes = 0
    if getattr(model, "compiled", False) and opt is not None and opt.built:
        # Keras counts its optimizer's iteration counter and learning rate as two more 4-byte variables
        opt_count = _count(opt.variables) + 2
        opt_bytes = _nbytes(opt.variables) + 8
    lines.append(f" Total params: {total + opt_count:,} ({readable_size(total_bytes + opt_bytes)})")
    lines.append(f" Trainable params: {_count(trainable):,} ({readable_size(_nbytes(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable):,} ({readable_size(_nbytes(non_trainable))})")
    if opt_count:
        lines.append(f" Optimizer params: {opt_count:,} ({readable_size(opt_bytes)})")
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    lines = summary_lines(model, line_length, positions, expand_nested, show_trainable)
    if print_fn is None:
        print("\n".join(lines))
    else:
        print_fn("\n".join(lines))
