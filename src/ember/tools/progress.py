"""Progress bars for long loops (tqdm, imported on use): ``for x, y in track(loader): ...``."""

__all__ = ["track"]


def track(iterable, desc=None, total=None, leave=True, disable=False, unit="it", **kwargs):
    """Iterate over ``iterable`` (a DataLoader, a range ...) with a tqdm progress bar. ``total`` defaults to
    ``len(iterable)`` when it has one; extra keyword arguments go to tqdm (e.g. ``file=``, ``mininterval=``).
    ``disable=None`` hides the bar when the output is not a terminal. The bar object is returned, so
    ``bar.set_postfix(loss=...)`` works inside the loop."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("ember.tools.progress.track needs tqdm: pip install tqdm (or 'ember[tools]')") from None
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    return tqdm(iterable, desc=desc, total=total, leave=leave, disable=disable, unit=unit, **kwargs)
