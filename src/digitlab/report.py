"""The self-contained HTML report of a :class:`~digitlab.mistakes.MistakesResult`.

One file, no network: pictures are PNG data URIs, the style sheet is inline and
there is no script. The confusion matrix is a table whose off-diagonal cells link
to ``#pair-I-J``; the CSS rule ``.gallery:has(.pair:target)`` then shows only that
pair's digits (a "show all" link clears the filter). Opening it from disk works.
"""

from __future__ import annotations

import base64
import io
from html import escape

import numpy as np

__all__ = [
    "png_data_uri",
    "render_fragment",
    "render_notebook",
    "render_report",
    "write_report",
]

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.summary { font-size: 1.1rem; } .config { color: #555; }
table { border-collapse: collapse; }
th, td { padding: .25rem .5rem; text-align: right; }
table.scores td, table.scores th { border-bottom: 1px solid #ddd; }
table.confusion td { width: 2.6rem; height: 2.2rem; text-align: center;
                     border: 1px solid #fff; }
table.confusion a { display: block; color: inherit; font-weight: 600; }
table.confusion .axis { color: #555; font-weight: normal; }
img.digit { border: 1px solid #ccc; background: #fff; }
.pair { margin: 1rem 0; padding: .5rem 1rem; border-left: 4px solid #c0392b; }
.pair:target { background: #fff5f3; }
.gallery:has(.pair:target) .pair:not(:target) { display: none; }
.mistake { display: flex; gap: 1rem; align-items: flex-start; margin: .75rem 0; }
.mistake p { margin: 0 0 .3rem; }
.tie { color: #8a4b00; font-weight: 600; }
ol.neighbors { display: flex; gap: .5rem; list-style: none; padding: 0; margin: 0; }
ol.neighbors li { text-align: center; font-size: .8rem; }
ol.neighbors .same { color: #1e7b34; } ol.neighbors .other { color: #c0392b; }
"""


def png_data_uri(image, vmax: float, *, scale: int = 1) -> str:
    """A grayscale picture as a ``data:image/png`` URI: dark ink on white.

    ``scale`` enlarges every pixel to a ``scale`` × ``scale`` block, so the picture
    stays sharp at that size without CSS (notebook sanitizers drop
    ``image-rendering``).
    """
    from PIL import Image

    scaled = np.clip(np.asarray(image, dtype=np.float64) / (vmax or 1.0), 0, 1)
    pixels = np.round(255 * (1 - scaled)).astype(np.uint8)
    if scale > 1:
        pixels = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _vmax(result) -> float:
    top = 0.0
    for m in result.examples:
        for img in [m.image, *(n.image for n in m.neighbors)]:
            if img is not None:
                top = max(top, float(np.max(img)))
    return top


def _img(image, vmax, alt, size=64) -> str:
    if image is None:
        return ""
    # Size and pixelated scaling inline, so the notebook view needs no style sheet.
    return (
        f'<img class="digit" src="{png_data_uri(image, vmax)}" alt="{escape(alt)}" '
        f'width="{size}" height="{size}" style="image-rendering: pixelated">'
    )


def _cell_color(value: float, diagonal: bool) -> str:
    # Light to strong: blue for right answers, red for mistakes.
    hue = 210 if diagonal else 5
    lightness = 97 - 45 * value
    return f"hsl({hue}, 70%, {lightness:.0f}%)"


def _confusion_table(result, normalize) -> str:
    names = [str(v) for v in result.labels]
    rates = result.confusion_rates("true")
    off = rates.copy()
    np.fill_diagonal(off, 0)
    off_top = off.max() or 1.0
    shown = result.confusion if normalize is None else result.confusion_rates(normalize)
    head = "".join(f'<th class="axis" scope="col">{escape(n)}</th>' for n in names)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            count = int(result.confusion[i, j])
            text = str(count) if normalize is None else f"{shown[i, j]:.3f}"
            shade = rates[i, j] if i == j else off[i, j] / off_top
            style = (
                f' style="background: {_cell_color(shade, i == j)}"' if count else ""
            )
            if i != j and count:
                title = f"true {names[i]}, predicted {names[j]}: {count}"
                text = f'<a href="#pair-{i}-{j}" title="{escape(title)}">{text}</a>'
            elif not count:
                text = ""
            cells.append(f"<td{style}>{text}</td>")
        rows.append(
            f'<tr><th class="axis" scope="row">{escape(name)}</th>{"".join(cells)}</tr>'
        )
    return (
        '<table class="confusion"><tr><th></th>'
        f"{head}</tr>{''.join(rows)}</table>"
        '<p class="config">Rows: true label; columns: predicted label. Click a red '
        "cell to see those digits.</p>"
    )


def _scores_table(result) -> str:
    wrong = result.confusion.sum(axis=1) - np.diag(result.confusion)
    rows = [
        "<tr><th>label</th><th>precision</th><th>recall</th><th>f1</th>"
        "<th>support</th><th>wrong</th></tr>"
    ]
    for n, (label, s) in enumerate(result.per_class.items()):
        rows.append(
            f"<tr><td>{escape(str(label))}</td><td>{s.precision:.3f}</td>"
            f"<td>{s.recall:.3f}</td><td>{s.f1:.3f}</td><td>{s.support}</td>"
            f"<td>{int(wrong[n])}</td></tr>"
        )
    return f'<table class="scores">{"".join(rows)}</table>'


def _mistake_html(m, vmax) -> str:
    where = f"test row {m.test_row}"
    if m.data_row is not None:
        where += f", data row {m.data_row}"
    if m.seed is not None:
        where = f"split seed {m.seed}, {where}"
    votes = ", ".join(
        f"{escape(str(lab))}: {share:.0%}" for lab, share in m.shares.items()
    )
    tie = f'<p class="tie">Tie: {escape(m.tie_note)}</p>' if m.tie else ""
    neighbors = "".join(
        f'<li class="{"same" if n.label == m.true else "other"}">'
        f"{_img(n.image, vmax, f'neighbor {n.label}', 40)}"
        f"<br>{escape(str(n.label))}<br>{n.distance:.1f}</li>"
        for n in m.neighbors
    )
    return (
        f'<div class="mistake" data-true="{escape(str(m.true))}" '
        f'data-predicted="{escape(str(m.predicted))}">'
        f"{_img(m.image, vmax, f'true {m.true}, predicted {m.predicted}')}"
        f"<div><p><b>true {escape(str(m.true))} → predicted "
        f"{escape(str(m.predicted))}</b> <span class=config>({escape(where)})</span>"
        f"</p><p>Votes: {votes}</p>{tie}"
        f'<ol class="neighbors" title="nearest training digits: label, distance">'
        f"{neighbors}</ol></div></div>"
    )


def _gallery(result, max_examples) -> str:
    if not result.examples:
        return "<p>Every test digit was predicted right.</p>"
    index = {str(v): i for i, v in enumerate(result.labels)}
    vmax = _vmax(result)
    shown = 0
    sections = []
    for pair in result.pairs:
        cases = result.examples_of(pair.true, pair.predicted)
        if max_examples is not None:
            cases = cases[: max(0, max_examples - shown)]
        shown += len(cases)
        if not cases:
            continue
        i, j = index[str(pair.true)], index[str(pair.predicted)]
        body = "".join(_mistake_html(m, vmax) for m in cases)
        sections.append(
            f'<section class="pair" id="pair-{i}-{j}">'
            f"<h3>true {escape(str(pair.true))} → predicted "
            f"{escape(str(pair.predicted))} ({pair.count})</h3>{body}</section>"
        )
    more = ""
    if max_examples is not None and len(result.examples) > shown:
        more = f"<p>... and {len(result.examples) - shown} more.</p>"
    return (
        '<p><a href="#gallery">Show all pairs</a>. Each wrong digit is followed by '
        "its nearest training digits (label and distance; green: its true label, "
        "red: another label).</p>"
        f'<div class="gallery">{"".join(sections)}</div>{more}'
    )


def render_fragment(result, *, normalize=None, max_examples=None) -> str:
    """The report's body (no ``<html>`` around it): also the notebook view."""
    about = result.description or ", ".join(
        f"{k}={v}" for k, v in sorted(result.config.items())
    )
    parts = [
        '<div class="digitlab-mistakes">',
        f'<p class="summary">{escape(result.summary_line())}</p>',
        f'<p class="config">{escape(about)}</p>' if about else "",
        f"<p>{escape(result.pair_line())}</p>",
        f"<p>{escape(result.hardest_line())}</p>" if result.hardest(1) else "",
        "<h2>Confusion matrix</h2>",
        _confusion_table(result, normalize),
        "<h2>Per digit</h2>",
        _scores_table(result),
        f'<h2 id="gallery">Misclassified digits ({result.n_wrong})</h2>',
        _gallery(result, max_examples),
        "</div>",
    ]
    return "".join(parts)


# -- the notebook view: every style inline ------------------------------------------
#
# Notebook front ends (JupyterLab, Colab, VS Code, nbconvert) drop <style> blocks
# and classes from untrusted output, and JupyterLab keeps only a list of CSS
# properties in style="..." (no image-rendering): so every rule is inline, the
# layout is flex boxes of <div>s (no lists to number) and the digit pictures are
# enlarged in the PNG itself.

_GREEN, _RED, _GREY = "#1e7b34", "#c0392b", "#555"
_FONT = "font-family: system-ui, sans-serif; font-size: 13px; line-height: 1.35"


def _inline_img(image, vmax, alt, scale) -> str:
    if image is None:
        return ""
    height, width = np.asarray(image).shape[:2]
    return (
        f'<img src="{png_data_uri(image, vmax, scale=scale)}" alt="{escape(alt)}" '
        f'width="{width * scale}" height="{height * scale}" '
        'style="border: 1px solid #ccc; background: #fff; display: block">'
    )


def _pixel_scale(result, side: int) -> int:
    """The whole-number enlargement that makes the pictures about ``side`` px."""
    for m in result.examples:
        if m.image is not None:
            return max(1, round(side / max(np.asarray(m.image).shape)))
    return 1


def _inline_confusion(result) -> str:
    names = [str(v) for v in result.labels]
    rates = result.confusion_rates("true")
    off = rates.copy()
    np.fill_diagonal(off, 0)
    off_top = off.max() or 1.0
    cell = "width: 2.1em; height: 1.7em; text-align: center; padding: 0 2px"
    head = "".join(
        f'<th style="{cell}; color: {_GREY}; font-weight: normal">{escape(n)}</th>'
        for n in names
    )
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            count = int(result.confusion[i, j])
            shade = rates[i, j] if i == j else off[i, j] / off_top
            colour = f"; background: {_cell_color(shade, i == j)}" if count else ""
            weight = "; font-weight: 600" if count and i != j else ""
            title = f"true {names[i]}, predicted {names[j]}: {count}"
            cells.append(
                f'<td style="{cell}; border: 1px solid #fff{colour}{weight}" '
                f'title="{escape(title)}">{count if count else ""}</td>'
            )
        rows.append(
            f'<tr><th style="{cell}; color: {_GREY}; font-weight: normal">'
            f"{escape(name)}</th>{''.join(cells)}</tr>"
        )
    return (
        '<div><table style="border-collapse: collapse; margin: 0">'
        f"<tr><th></th>{head}</tr>{''.join(rows)}</table>"
        f'<div style="color: {_GREY}; margin-top: 4px">Rows: true label; columns: '
        "predicted label; red: mistakes.</div></div>"
    )


def _inline_mistake(m, vmax, scale) -> str:
    votes = ", ".join(
        f"{escape(str(lab))}: {share:.0%}" for lab, share in m.shares.items()
    )
    where = f"test row {m.test_row}"
    if m.data_row is not None:
        where += f", data row {m.data_row}"
    if m.seed is not None:
        where = f"seed {m.seed}, {where}"
    tie = (
        f'<div style="color: #8a4b00; font-weight: 600">Tie: {escape(m.tie_note)}</div>'
        if m.tie
        else ""
    )
    small = max(1, scale // 2)
    alt = f"true {m.true}, predicted {m.predicted}"
    neighbors = "".join(
        '<div style="text-align: center; font-size: 11px; color: '
        f'{_GREEN if n.label == m.true else _RED}">'
        f"{_inline_img(n.image, vmax, f'neighbor {n.label}', small)}"
        f"<b>{escape(str(n.label))}</b> {n.distance:.1f}</div>"
        for n in m.neighbors
    )
    return (
        '<div style="display: flex; gap: 8px; align-items: flex-start; '
        f"border: 1px solid #ddd; border-left: 4px solid {_RED}; padding: 6px; "
        'width: 330px; box-sizing: border-box; background: #fff">'
        f"{_inline_img(m.image, vmax, alt, scale)}"
        '<div style="min-width: 0">'
        f"<div><b>true {escape(str(m.true))} → predicted "
        f'<span style="color: {_RED}">{escape(str(m.predicted))}</span></b></div>'
        f'<div style="color: {_GREY}; font-size: 11px">{escape(where)}</div>'
        f"<div>Votes: {escape(votes)}</div>{tie}"
        '<div style="display: flex; gap: 4px; margin-top: 4px" '
        f'title="nearest training digits, nearest first">{neighbors}</div>'
        "</div></div>"
    )


def render_notebook(result, *, max_examples: int | None = 20) -> str:
    """The notebook view of a mistakes result: every style inline, no style sheet.

    The summary, the confusion matrix and a compact gallery of the wrong digits
    (each with its votes and its nearest training digits: green when a neighbor
    has the digit's true label, red otherwise). Notebook sanitizers (JupyterLab,
    Colab, VS Code, nbconvert) keep all of it.

    Parameters
    ----------
    result : MistakesResult
    max_examples : int or None
        Show at most this many wrong digits (``None``: all).

    Returns
    -------
    str
        An HTML fragment.
    """
    about = result.description or ", ".join(
        f"{k}={v}" for k, v in sorted(result.config.items())
    )
    examples = [
        m
        for pair in result.pairs
        for m in result.examples_of(pair.true, pair.predicted)
    ]
    shown = examples if max_examples is None else examples[:max_examples]
    vmax = _vmax(result)
    scale = _pixel_scale(result, 56)
    if shown:
        cards = "".join(_inline_mistake(m, vmax, scale) for m in shown)
        gallery = (
            f'<div style="margin: 10px 0 4px"><b>Wrong digits ({result.n_wrong})</b>'
            f'<span style="color: {_GREY}">, most confused pairs first; under each, '
            f'its nearest training digits (label, distance; <span style="color: '
            f'{_GREEN}">green</span>: its true label, <span style="color: {_RED}">'
            "red</span>: another label)</span></div>"
            f'<div style="display: flex; flex-wrap: wrap; gap: 6px">{cards}</div>'
        )
        if len(examples) > len(shown):
            gallery += (
                f'<div style="color: {_GREY}; margin-top: 4px">... and '
                f"{len(examples) - len(shown)} more: result.to_html(path) writes "
                "them all.</div>"
            )
    else:
        gallery = "<div>Every test digit was predicted right.</div>"
    hardest = (
        f'<div style="margin-top: 4px">{escape(result.hardest_line())}</div>'
        if result.hardest(1)
        else ""
    )
    return (
        f'<div style="{_FONT}; max-width: 1040px">'
        f'<div style="font-size: 15px; font-weight: 600">'
        f"{escape(result.summary_line())}</div>"
        + (f'<div style="color: {_GREY}">{escape(about)}</div>' if about else "")
        + f'<div style="margin-top: 4px">{escape(result.pair_line())}</div>'
        f"{hardest}"
        f'<div style="margin-top: 8px">{_inline_confusion(result)}</div>'
        f"{gallery}</div>"
    )


def render_report(result, *, normalize=None) -> str:
    """The whole report as one HTML document (a string)."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>digitlab mistakes</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        "<h1>Which digits the model gets wrong, and why</h1>\n"
        f"{render_fragment(result, normalize=normalize)}\n</body>\n</html>\n"
    )


def write_report(result, path, *, force: bool = False, normalize=None):
    """Write the report to ``path``; an existing file is kept unless ``force``."""
    from digitlab.files import check_target, write_bytes

    check_target(path, force=force)
    html = render_report(result, normalize=normalize)
    return write_bytes(path, html.encode("utf-8"), force=force)
