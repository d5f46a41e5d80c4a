"""What the two browser tests share: drawing with the mouse and screenshots.

``tests/test_web_browser.py`` (the page of ``digitlab serve``) and
``tests/test_notebook_browser.py`` (the notebook pad) draw on a canvas the same
way; this module is imported by both (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import os
from pathlib import Path


def shot(page, name: str) -> None:
    """A full-page screenshot into ``$DIGITLAB_SCREENSHOTS``, when it is set."""
    folder = os.environ.get("DIGITLAB_SCREENSHOTS")
    if folder:
        page.wait_for_timeout(400)  # the vote bars' transition ends
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def mouse_strokes(page, canvas, strokes, steps: int) -> None:
    """Draw ``strokes`` (lists of points in 0..1 of the canvas) with the mouse,
    ``steps`` pointer moves between two points."""
    box = canvas.bounding_box()

    def at(p):
        return box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"]

    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(point), steps=steps)
        page.mouse.up()
