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

__all__ = [
    "plot_compare",
    "plot_confusion",
    "plot_sweep",
    "plot_sweep_curves",
    "plot_sweep_heatmap",
    "save_figure",
    "sweep_png",
]


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


# ------------------------------------------------------------------- sweep


def plot_sweep_heatmap(result, ax=None):
    """Mean accuracy of every (test_size, k) cell as a heatmap; the best is boxed.

    Parameters
    ----------
    result : digitlab.sweep.SweepResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax, figsize=(7.5, 3.6))
    sizes, ks = result.test_sizes, result.ks
    means = np.array([[result.cell(t, k).mean for k in ks] for t in sizes])
    image = ax.imshow(means, aspect="auto", cmap="viridis", origin="upper")
    ax.set_xticks(range(len(ks)), [str(k) for k in ks])
    ax.set_yticks(range(len(sizes)), [result.group_label(t, "axis") for t in sizes])
    ax.set_xlabel("k (n_neighbors)")
    ax.set_ylabel("test_size" if result.scheme == "split" else "")
    if len(ks) * len(sizes) <= 150:
        mid = (np.nanmax(means) + np.nanmin(means)) / 2
        for i in range(len(sizes)):
            for j in range(len(ks)):
                ax.text(
                    j,
                    i,
                    f"{means[i, j]:.3f}"[1:],
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if means[i, j] > mid else "white",
                )
    best = result.best()
    bi, bj = sizes.index(best.test_size), ks.index(best.k)
    ax.add_patch(
        _rectangle((bj - 0.5, bi - 0.5), edgecolor="red", linewidth=2.0, fill=False)
    )
    ax.set_title(
        f"Mean accuracy over {result.n_label()} (best boxed: {best.mean:.4f})",
        fontsize=10,
    )
    ax.figure.colorbar(image, ax=ax, label="mean accuracy")
    return ax


def _rectangle(xy, **kwargs):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, 1.0, 1.0, **kwargs)


def plot_sweep_curves(result, ax=None):
    """Mean accuracy vs k, one line per test size, with a ± 1 std band.

    The band is the split-to-split spread: where bands overlap, a single split
    can rank the settings either way.

    Returns
    -------
    matplotlib Axes
    """
    ax = _new_axes(ax, figsize=(6.4, 4.8))
    ks = np.array(result.ks)
    for t in result.test_sizes:
        means = np.array([result.cell(t, k).mean for k in ks])
        stds = np.array([result.cell(t, k).summary.std for k in ks])
        label = result.group_label(t, "legend")
        (line,) = ax.plot(ks, means, marker="o", markersize=3, label=label)
        ax.fill_between(
            ks, means - stds, means + stds, color=line.get_color(), alpha=0.15
        )
    best = result.best()
    ax.plot(
        [best.k],
        [best.mean],
        marker="*",
        markersize=14,
        color="red",
        linestyle="none",
        label=f"best: {best.label(result.scheme)}",
    )
    ax.set_xlabel("k (n_neighbors)")
    ax.set_ylabel("accuracy (mean ± 1 std)")
    ax.set_title(f"Accuracy vs k over {result.n_label()}", fontsize=10)
    if len(ks) <= 30:
        ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_sweep(result, ax=None):
    """Both sweep panels: the heatmap and the accuracy-vs-k curves.

    Parameters
    ----------
    result : digitlab.sweep.SweepResult
    ax : None, one Axes, or a pair of Axes
        ``None``: a new figure with both panels. One Axes: only the curves, on it.
        A pair: heatmap on the first, curves on the second.

    Returns
    -------
    The axes drawn on (a pair, or the one given).
    """
    if ax is None:
        Figure, FigureCanvasAgg = _matplotlib()
        fig = Figure(figsize=(10.5, 8.0), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots(2, 1, height_ratios=[1, 1.25])
    if isinstance(ax, (list, tuple, np.ndarray)):
        if len(ax) != 2:
            raise DigitlabError(
                f"plot takes one axes or a pair of axes, got {len(ax)}; pass "
                "ax=None for a new figure."
            )
        plot_sweep_heatmap(result, ax=ax[0])
        plot_sweep_curves(result, ax=ax[1])
        return ax
    return plot_sweep_curves(result, ax=ax)


def sweep_png(result) -> bytes:
    """``digitlab sweep --plot``: both panels as PNG bytes."""
    axes = plot_sweep(result)
    axes[0].figure.suptitle(result.grid_line(), fontsize=10)
    buffer = io.BytesIO()
    axes[0].figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()
