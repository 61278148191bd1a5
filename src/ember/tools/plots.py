"""Training curves as PNG with matplotlib (rendered by Agg through a bare Figure; imported on use)."""
import math
import os

__all__ = ["plot_history"]


def _series(history):
    """A ``{name: [values per epoch]}`` dict from a dict, a Keras History, or anything with ``.history``."""
    if hasattr(history, "history") and isinstance(history.history, dict):
        history = history.history
    if not isinstance(history, dict) or not history:
        raise ValueError(f"plot_history: expected a non-empty dict of metric lists (or a History), got {history!r}")
    out = {}
    for k, v in history.items():
        values = [float(x) for x in (v if isinstance(v, (list, tuple)) else list(v))]
        if values:
            out[str(k)] = values
    return out


def plot_history(history, path=None, metrics=None, title=None, dpi=100, figsize=None):
    """One panel per metric (``loss``, ``accuracy`` ...), each with its ``val_`` curve when present, against the
    epoch. Writes a PNG to ``path`` (if given) and returns the matplotlib Figure."""
    try:
        from matplotlib.figure import Figure  # a bare Figure renders with Agg and leaves pyplot's backend alone
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install matplotlib (or 'ember[tools]')") from None
    series = _series(history)
    names = metrics or [k for k in series if not k.startswith("val_") and k != "learning_rate"]
    names += [k[4:] for k in series if k.startswith("val_") and k[4:] not in series and k[4:] not in names]
    unknown = [n for n in names if n not in series and f"val_{n}" not in series]
    if unknown:
        raise ValueError(f"plot_history: no values for {unknown}; available: {sorted(series)}")
    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    fig = Figure(figsize=figsize or (4.5 * cols, 3.4 * rows), dpi=dpi)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in series:
                epochs = range(1, len(series[key]) + 1)
                ax.plot(epochs, series[key], style, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(path, format="png")
    return fig
