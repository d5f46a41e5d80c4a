"""matplotlib figures: drawn on the given axes or a new one, saved safely."""

from __future__ import annotations

import sys

import pytest

from digitlab import DigitlabError, mistakes_on_split
from digitlab.plots import plot_confusion, save_figure


@pytest.fixture(scope="module")
def lesson():
    return mistakes_on_split()


def _cell_texts(ax):
    return sorted((t.get_position(), t.get_text()) for t in ax.texts)


def test_plot_confusion_draws_every_nonzero_count(lesson):
    ax = plot_confusion(lesson)
    cm = lesson.confusion
    expected = sorted(
        ((j, i), str(cm[i, j])) for i in range(10) for j in range(10) if cm[i, j]
    )
    assert _cell_texts(ax) == expected
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert ax.get_title() == "Confusion matrix: 9 wrong of 360"
    assert ax.images[0].get_array().tolist() == cm.tolist()


def test_plot_confusion_on_given_axes_with_rates(lesson):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert plot_confusion(lesson, ax, normalize="true") is ax
    assert ((3, 8), f"{2 / 39:.2f}") in _cell_texts(ax)
    assert ax.images[0].get_array()[8, 3] == pytest.approx(2 / 39)


def test_import_digitlab_does_not_import_matplotlib():
    import subprocess

    code = "import digitlab, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_save_figure_writes_png_and_keeps_existing_files(lesson, tmp_path):
    target = tmp_path / "cm.png"
    ax = plot_confusion(lesson)
    assert save_figure(ax, target) == target
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(DigitlabError, match="already exists"):
        save_figure(plot_confusion(mistakes_on_split(k=1)), target)
    assert target.read_bytes() == data
    # The same result gives the same bytes.
    save_figure(plot_confusion(lesson), target, force=True)
    assert target.read_bytes() == data
