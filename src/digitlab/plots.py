"""matplotlib figures of digitlab results.

Conventions every plot function here follows (those of matplotlib and seaborn):

* matplotlib is imported inside the function (through :func:`_matplotlib`), so
  ``import digitlab`` never pays for it, and a missing matplotlib gives an error
  that names what to install;
* ``ax=None`` draws on a new figure made through pyplot (``plt.figure()``), so
  the picture shows inline in a notebook, appears with ``plt.show()`` and is what
  ``plt.savefig`` writes; a given ``ax`` is drawn on; a single-panel plot returns
  its Axes, the two-panel :func:`plot_sweep` a NumPy array of its two Axes (as
  pandas does for several panels; the figure is ``axes[0].figure``);
* :func:`render_png` draws the same pictures off screen, on figures pyplot never
  sees (no display, no open figures, safe in threads): what the CLI's ``--plot``
  files and the notebook views of results are made of;
* :func:`save_figure` writes a figure to a file, never over an existing one
  without ``force``.
"""

from __future__ import annotations

import contextlib
import contextvars
import io

import numpy as np

from digitlab.errors import DigitlabError

__all__ = [
    "plot_compare",
    "plot_confusion",
    "plot_sweep",
    "plot_sweep_curves",
    "plot_sweep_heatmap",
    "png_img_tag",
    "render_png",
    "save_figure",
    "save_png",
    "sweep_png",
]

# While set, new figures are plain Agg figures that pyplot does not manage.
_OFF_SCREEN = contextvars.ContextVar("digitlab_plots_off_screen", default=False)


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # pragma: no cover - matplotlib is a core dependency
        raise DigitlabError(
            "Plotting needs matplotlib; install it with `pip install matplotlib`."
        ) from None
    import matplotlib.figure

    return matplotlib.figure.Figure


def _new_figure(figsize):
    """A new figure: through pyplot, or off screen inside :func:`off_screen`."""
    Figure = _matplotlib()
    if _OFF_SCREEN.get():
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = Figure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(fig)
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout="constrained")


def _new_axes(ax, figsize=(5.0, 4.5)):
    """``ax`` itself, or the axes of a new figure (see :func:`_new_figure`)."""
    if ax is not None:
        return ax
    return _new_figure(figsize).add_subplot()


@contextlib.contextmanager
def off_screen():
    """Inside this block, plots with ``ax=None`` draw on figures pyplot never sees.

    For writing files and notebook views: nothing is shown, no pyplot figure is
    left open, no display or GUI backend is needed.
    """
    token = _OFF_SCREEN.set(True)
    try:
        yield
    finally:
        _OFF_SCREEN.reset(token)


def render_png(plot, *args, dpi: int = 120, **kwargs) -> bytes:
    """Call ``plot(*args, **kwargs)`` off screen and return the picture as PNG bytes.

    Parameters
    ----------
    plot : callable
        A plot function of this module (or a result's ``plot`` method); it must
        draw on a new figure (no ``ax``) and return its Axes or array of Axes.
    *args, **kwargs
        Passed to ``plot``.
    dpi : int
        Dots per inch of the PNG.

    Returns
    -------
    bytes
        The PNG file's bytes (the same result gives the same bytes).

    Examples
    --------
    >>> import digitlab
    >>> from digitlab.plots import plot_confusion, render_png
    >>> render_png(plot_confusion, digitlab.mistakes_on_split())[:4]
    b'\\x89PNG'
    """
    with off_screen():
        drawn = plot(*args, **kwargs)
    return _png(_figure_of(drawn), dpi)


def save_png(path, plot, *args, force: bool = False, dpi: int = 120, **kwargs):
    """Draw ``plot(*args, **kwargs)`` off screen and write it to ``path`` as a PNG.

    What the CLI's ``--plot`` options do: no pyplot figure is made or left open,
    and an existing file is kept unless ``force``.

    Parameters
    ----------
    path : str or Path
    plot : callable
        A plot function (or a result's ``plot`` method), as for :func:`render_png`.
    *args, **kwargs
        Passed to ``plot``.
    force : bool
        Overwrite an existing file.
    dpi : int

    Returns
    -------
    Path
        The path written.
    """
    from digitlab.files import check_target, write_bytes

    check_target(path, force=force)
    return write_bytes(path, render_png(plot, *args, dpi=dpi, **kwargs), force=force)


def png_img_tag(plot, *args, alt: str, dpi: int = 90, **kwargs) -> str:
    """An ``<img>`` holding :func:`render_png`'s picture as a base64 data URI.

    For the notebook views of results: the picture travels inside the HTML, so
    it shows wherever the HTML does (JupyterLab, Colab, VS Code, nbconvert).
    """
    import base64
    from html import escape

    data = base64.b64encode(render_png(plot, *args, dpi=dpi, **kwargs)).decode()
    return (
        f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}" '
        'style="max-width: 100%; height: auto">'
    )


def _figure_of(drawn):
    if isinstance(drawn, (list, tuple, np.ndarray)):
        drawn = np.ravel(drawn)[0]
    return getattr(drawn, "figure", drawn)


def _png(figure, dpi) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def save_figure(figure, path, *, force: bool = False, dpi: int = 120):
    """Write ``figure`` (or the figure of an axes) as a PNG file.

    Parameters
    ----------
    figure : matplotlib Figure, Axes or array of Axes
        What a plot function returned, or its figure.
    path : str or Path
    force : bool
        Overwrite an existing file; without it an existing file is kept.

    Returns
    -------
    Path
    """
    from digitlab.files import check_target, write_bytes

    check_target(path, force=force)
    return write_bytes(path, _png(_figure_of(figure), dpi), force=force)


def plot_confusion(result, ax=None, *, normalize: str | None = None, cmap="Blues"):
    """Draw a confusion matrix as a heat map with the count in each cell.

    Parameters
    ----------
    result : MistakesResult
        What :func:`digitlab.mistakes` returned.
    ax : matplotlib Axes, optional
        Draw here; by default on a new pyplot figure.
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
        Draw here; by default on a new pyplot figure.

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
        Draw here; by default on a new pyplot figure.

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

    Parameters
    ----------
    result : digitlab.sweep.SweepResult
    ax : matplotlib Axes, optional
        Draw here; by default on a new pyplot figure.

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
        ``None``: a new pyplot figure with both panels. One Axes: only the curves,
        on it. A pair: heatmap on the first, curves on the second.

    Returns
    -------
    ndarray of two Axes, or Axes
        With ``ax=None`` a NumPy array of the two new Axes (heatmap, curves; the
        figure is ``axes[0].figure``); otherwise what was given.
    """
    if ax is None:
        fig = _new_figure((10.5, 8.0))
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


def _titled_sweep(result):
    axes = plot_sweep(result)
    axes[0].figure.suptitle(result.grid_line(), fontsize=10)
    return axes


def sweep_png(result) -> bytes:
    """``digitlab sweep --plot``: both panels, titled with the grid, as PNG bytes."""
    return render_png(_titled_sweep, result, dpi=110)
