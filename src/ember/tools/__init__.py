"""ember.tools: model summaries, TensorBoard logging, training-curve plots and progress bars.

Optional dependencies (tensorboardX, matplotlib, tqdm) are imported only when the tool that needs them is used:
``pip install 'ember[tools]'``.
"""
from .summary import ModelSummary, summary

__all__ = ["summary", "ModelSummary", "SummaryWriter", "plot_history", "track"]


def __getattr__(name):
    if name == "SummaryWriter":
        from .tensorboard import SummaryWriter

        return SummaryWriter
    if name == "plot_history":
        from .plots import plot_history

        return plot_history
    if name == "track":
        from .progress import track

        return track
    raise AttributeError(f"module 'ember.tools' has no attribute '{name}'")
