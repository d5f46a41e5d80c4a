"""matplotlib figures: drawn on the given axes or a new one, saved safely."""

from __future__ import annotations

import io
import sys

import numpy as np
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


# -- pictures that show up: pyplot figures, given axes, off-screen files ----------


@pytest.fixture(scope="module")
def small_sweep():
    import digitlab

    return digitlab.sweep(test_sizes=[0.2, 0.3], ks=[1, 3, 5], repeats=2)


@pytest.fixture(scope="module")
def small_compare():
    import digitlab

    return digitlab.compare(recipes=["knn", "knn-distance"], repeats=2)


@pytest.fixture
def plt():
    import matplotlib.pyplot as pyplot

    pyplot.close("all")
    yield pyplot
    pyplot.close("all")


def _pixels(png: bytes):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def _plots(lesson, small_sweep, small_compare):
    from digitlab.plots import plot_compare, plot_sweep_curves, plot_sweep_heatmap

    return {
        "plot_confusion": lambda **kw: plot_confusion(lesson, **kw),
        "mistakes.plot": lambda **kw: lesson.plot(**kw),
        "plot_compare": lambda **kw: plot_compare(small_compare, **kw),
        "compare.plot": lambda **kw: small_compare.plot(**kw),
        "plot_sweep_heatmap": lambda **kw: plot_sweep_heatmap(small_sweep, **kw),
        "plot_sweep_curves": lambda **kw: plot_sweep_curves(small_sweep, **kw),
        "sweep.plot": lambda **kw: small_sweep.plot(**kw),
    }


NAMES = [
    "plot_confusion",
    "mistakes.plot",
    "plot_compare",
    "compare.plot",
    "plot_sweep_heatmap",
    "plot_sweep_curves",
    "sweep.plot",
]


@pytest.mark.parametrize("name", NAMES)
def test_plot_draws_on_a_new_pyplot_figure_that_savefig_writes(
    name, plt, lesson, small_sweep, small_compare
):
    drawn = _plots(lesson, small_sweep, small_compare)[name]()
    assert plt.get_fignums() == [1]
    axes = np.ravel(drawn)
    assert all(ax.figure is plt.gcf() for ax in axes)
    assert len(axes) == (2 if name == "sweep.plot" else 1)
    buffer = io.BytesIO()
    plt.savefig(buffer, format="png")  # what `result.plot(); plt.savefig(...)` does
    pixels = _pixels(buffer.getvalue())
    assert pixels.std() > 20  # not a white picture
    assert (pixels < 128).mean() > 0.01


@pytest.mark.parametrize("name", NAMES)
def test_plot_draws_on_the_given_axes(name, plt, lesson, small_sweep, small_compare):
    fig, ax = plt.subplots()
    assert _plots(lesson, small_sweep, small_compare)[name](ax=ax) is ax
    assert plt.get_fignums() == [fig.number]
    assert ax.has_data()


def test_files_are_drawn_off_screen_and_match_the_pyplot_picture(plt, lesson):
    from digitlab.plots import render_png

    png = render_png(plot_confusion, lesson)
    assert plt.get_fignums() == []  # nothing left open, no display needed
    assert png == render_png(plot_confusion, lesson)
    lesson.plot()
    buffer = io.BytesIO()
    plt.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    assert np.array_equal(_pixels(png), _pixels(buffer.getvalue()))


def test_cli_plot_file_is_the_off_screen_picture(tmp_path, plt, lesson):
    from click.testing import CliRunner

    from digitlab.cli import main
    from digitlab.plots import render_png

    target = tmp_path / "cm.png"
    out = CliRunner().invoke(main, ["mistakes", "--no-record", "--plot", str(target)])
    assert out.exit_code == 0, out.output
    assert plt.get_fignums() == []  # the CLI leaves no pyplot figure open
    assert target.read_bytes() == render_png(plot_confusion, lesson)


# -- notebook views: inline styles only, pictures inside the HTML -----------------


def _check_sanitizer_safe(html: str) -> None:
    lowered = html.lower()
    assert "<style" not in lowered and "<script" not in lowered
    assert " class=" not in lowered  # nothing relies on a style sheet
    assert 'style="' in html


def _inline_pngs(html: str) -> list:
    import base64
    import re

    found = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    return [_pixels(base64.b64decode(data)) for data in found]


def test_sweep_shows_its_table_and_heat_map(plt, small_sweep):
    html = small_sweep._repr_html_()
    _check_sanitizer_safe(html)
    (heat,) = _inline_pngs(html)
    assert heat.std() > 20 and heat.shape[1] > 300
    assert html.count("<tr>") == 1 + 3
    best = small_sweep.best()
    assert f"{best.mean:.4f}"[1:] in html or f"{best.mean:.4f}" in html
    assert plt.get_fignums() == []  # the view leaves no figure to show twice


def test_compare_shows_its_table_and_dot_plot(plt, small_compare):
    html = small_compare._repr_html_()
    _check_sanitizer_safe(html)
    (dots,) = _inline_pngs(html)
    assert dots.std() > 20
    assert plt.get_fignums() == []


def test_mistakes_view_is_a_compact_inline_styled_gallery(plt, lesson):
    html = lesson._repr_html_()
    _check_sanitizer_safe(html)
    assert "<ol" not in html and "<li" not in html  # no numbered lists
    pictures = _inline_pngs(html)
    assert len(pictures) == 9 * 6
    # The digits are enlarged in the PNG itself (sanitizers drop image-rendering).
    assert pictures[0].shape == (56, 56) and pictures[1].shape == (24, 24)
    # Neighbors with the digit's true label are green, the others red.
    first = lesson.examples_of(8, 3)[0]
    same = sum(n.label == first.true for n in first.neighbors)
    card = html.split('alt="true 8, predicted 3"')[1].split('alt="true ')[0]
    assert card.count("color: #1e7b34") == same
    assert card.count("color: #c0392b") >= 5 - same
    assert plt.get_fignums() == []


def test_predictions_show_the_input_the_model_saw():
    from pathlib import Path

    from digitlab.predict import predict_files

    drawn = Path(__file__).parent / "fixtures" / "drawn"
    files = sorted(drawn.glob("*.png"))[:3]
    result = predict_files(files + [drawn / "missing.png"])
    html = result._repr_html_()
    _check_sanitizer_safe(html)
    pictures = _inline_pngs(html)
    assert len(pictures) == 2 * len(files)  # the input and the nearest digit
    first = result.results[0]
    # The 8×8 input, enlarged 6× in the PNG: ink 16 is black, 0 is white.
    expected = np.round(255 * (1 - first.features.reshape(8, 8) / 16.0))
    assert np.array_equal(pictures[0][::6, ::6], expected)
    assert "missing.png" in html
