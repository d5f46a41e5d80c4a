"""matplotlib figures of digitlab results.

Conventions every plot function here follows:

* matplotlib is imported inside the function (through :func:`_matplotlib`), so
  ``import digitlab`` never pays for it, and a missing matplotlib gives an error
  that names what to install;
* ``ax=None`` draws on a new figure with its own Agg canvas (no pyplot, no global
  backend switch, so it works headless and in threads); a given ``ax`` is drawn on;
  either way the axes are returned;
* :func:`save_figure` writes a figure to a file, never over an existing one
  without ``force``.
"""

from __future__ import annotations

import io

import numpy as np

from digitlab.errors import DigitlabError

__all__ = ["plot_compare", "plot_confusion", "save_figure"]


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # pragma: no cover - matplotlib is a core dependency
        raise DigitlabError(
            "Plotting needs matplotlib; install it with `pip install matplotlib`."
        ) from None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg


def _new_axes(ax, figsize=(5.0, 4.5)):
    """``ax`` itself, or the axes of a new figure drawn by the Agg backend."""
    if ax is not None:
        return ax
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def save_figure(figure, path, *, force: bool = False, dpi: int = 120):
    """Write ``figure`` (or the figure of an axes) as a PNG file.

    Parameters
    ----------
    figure : matplotlib Figure or Axes
    path : str or Path
    force : bool
        Overwrite an existing file; without it an existing file is kept.

    Returns
    -------
    Path
    """
    from digitlab.files import check_target, write_bytes

    check_target(path, force=force)
    figure = getattr(figure, "figure", figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return write_bytes(path, buffer.getvalue(), force=force)


def plot_confusion(result, ax=None, *, normalize: str | None = None, cmap="Blues"):
    """Draw a confusion matrix as a heat map with the count in each cell.

    Parameters
    ----------
    result : MistakesResult
        What :func:`digitlab.mistakes` returned.
    ax : matplotlib Axes, optional
        Draw here; by default on a new figure.
    normalize : {None, "true", "pred"}
        Show counts, or rates per true label (rows) or per predicted label.
    cmap : str
        The matplotlib color map.

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax)
    values = (
        result.confusion if normalize is None else result.confusion_rates(normalize)
    )
    names = [str(v) for v in result.labels]
    ax.imshow(values, cmap=cmap, vmin=0)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    title = (
        "Confusion matrix" if normalize is None else f"Rates (normalize={normalize})"
    )
    ax.set_title(f"{title}: {result.n_wrong} wrong of {result.n_test}")
    top = float(np.max(values)) if values.size else 0.0
    for (i, j), v in np.ndenumerate(values):
        if v == 0:
            continue
        text = f"{v:d}" if normalize is None else f"{v:.2f}"
        color = "white" if v > top / 2 else "black"
        ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    return ax


def plot_compare(result, ax=None):
    """Dot plot of a :class:`~digitlab.compare.CompareResult`.

    One row per recipe: the mean accuracy as a dot, its 95 % interval as a bar,
    the baseline's mean as a dashed line; the best recipe is drawn in red.

    Parameters
    ----------
    result : CompareResult
        What :func:`digitlab.compare` returned.
    ax : matplotlib Axes, optional
        Draw here; by default on a new figure.

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax, (7.0, 0.45 * len(result.recipes) + 1.5))
    best = result.best()
    names = list(result.recipes)
    for row, name in enumerate(names):
        s = result.summary(name)
        colour = "tab:red" if name == best else "tab:blue"
        ax.plot([s.ci_low * 100, s.ci_high * 100], [row, row], color=colour, lw=2)
        ax.plot([s.mean * 100], [row], "o", color=colour, ms=7)
    base = result.summary(result.baseline).mean * 100
    ax.axvline(base, color="grey", ls="--", lw=1, label=f"{result.baseline} mean")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlabel(f"test accuracy, % (mean and 95 % interval, {result.repeats} splits)")
    ax.set_title("Recipes on identical splits")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax
