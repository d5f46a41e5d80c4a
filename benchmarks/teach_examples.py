"""What a few of the user's own examples do: 1 and 3 per digit, from one source.

The default model reads a source (one writer, one pen, one look) cold; then a
fresh copy is taught 1 example per digit, another 3 per digit, with
:func:`digitlab.examples.teach` (what the page's "that was a ..." and the
notebook pad call), and each reads the rest of that source. The three columns
are measured on the same held-out pictures, in the same run. It prints
accuracies only (no times), so it may run on a busy machine.

Sources (MNIST has no writer labels, so these are drawn here or in the tests):

* ``fixtures s0`` / ``fixtures s1``: tests/fixtures/drawn, one stroke shape per
  digit (``8_s0_*``: the 8 drawn as two stacked circles) in 5 renderings each
  (paper, chalk board, transparent canvas, blue ink JPEG, smudged scan), with
  random pen, slant and size. Each digit's 5 pictures are rotated through: 1
  (or 3) taught, 2 held out, 5 rotations; 100 held-out readings per source.
* ``marker writer``: a writer drawn here with habits of their own (a 1 with a
  flag and a foot, a crossed 7, an open-topped 4, an 8 of two circles, a 9
  with a straight stem, a 2 with a loop), a thick marker, leaning right,
  every picture jittered (seed 0): 8 per digit, the first 1 (or 3) taught,
  the last 5 held out: 50 readings.
* ``serif type``: the digits of DejaVu Serif Bold (shipped with Debian),
  rotated, scaled and moved a little (seed 0): 8 per digit, split the same way.

    python benchmarks/teach_examples.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitlab.examples import teach
from digitlab.predict import default_model

ROOT = Path(__file__).resolve().parents[1]
DRAWN = ROOT / "tests" / "fixtures" / "drawn"
RENDERS = ("paper", "chalk", "canvas", "blue", "scan")
SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")
PER_DIGIT, HELD_OUT = 8, 5

# The fixtures' pen: their ellipse arcs (tests/fixtures/make_fixtures.py).
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from make_fixtures import arc  # noqa: E402

# The marker writer's digits: strokes in a unit box, y down.
WRITER = {
    0: [arc(0.5, 0.5, 0.28, 0.45, -100, 265, 40)],
    1: [[(0.3, 0.22), (0.58, 0.04), (0.58, 0.95)], [(0.32, 0.95), (0.82, 0.95)]],
    2: [
        arc(0.5, 0.28, 0.3, 0.23, 190, 380)
        + [(0.62, 0.55), (0.22, 0.92)]
        + arc(0.3, 0.86, 0.08, 0.07, 270, 30, 8)
        + [(0.85, 0.92)]
    ],
    3: [arc(0.5, 0.27, 0.27, 0.22, 200, 440) + arc(0.5, 0.72, 0.32, 0.24, 280, 520)],
    4: [[(0.28, 0.05), (0.2, 0.6), (0.85, 0.6)], [(0.68, 0.3), (0.66, 0.97)]],
    5: [
        [(0.78, 0.06), (0.32, 0.06), (0.28, 0.45)] + arc(0.5, 0.68, 0.3, 0.27, 230, 500)
    ],
    6: [[(0.68, 0.05), (0.3, 0.45)] + arc(0.5, 0.72, 0.27, 0.24, 190, 550)],
    7: [[(0.15, 0.1), (0.85, 0.06), (0.42, 0.96)], [(0.3, 0.52), (0.76, 0.5)]],
    8: [arc(0.5, 0.26, 0.22, 0.21, 90, 450), arc(0.5, 0.72, 0.28, 0.24, -90, 270)],
    9: [arc(0.48, 0.28, 0.28, 0.24, 0, 360), [(0.76, 0.28), (0.76, 0.97)]],
}


def marker_writer(rng) -> list[tuple[Image.Image, int]]:
    """The writer above with a thick marker, leaning right, each drawing jittered."""
    out = []
    for digit, strokes in WRITER.items():
        for _ in range(PER_DIGIT):
            side = 220
            image = Image.new("L", (side, side), 255)
            pen = ImageDraw.Draw(image)
            slant = 0.22 + rng.normal(0, 0.04)
            scale = rng.uniform(0.85, 1.05)
            dx, dy = rng.normal(0, 0.03, 2)
            width = int(side * rng.uniform(0.09, 0.12))
            for stroke in strokes:
                pts = []
                for x, y in stroke:
                    x = 0.5 + (x - 0.5) * scale + slant * (0.5 - y) + dx
                    y = 0.5 + (y - 0.5) * scale + dy
                    jx, jy = rng.normal(0, 0.008, 2)
                    pts.append(
                        (
                            (0.15 + 0.7 * (x + jx)) * side,
                            (0.12 + 0.76 * (y + jy)) * side,
                        )
                    )
                pen.line(pts, fill=20, width=width, joint="curve")
                for px, py in (pts[0], pts[-1]):
                    r = width / 2
                    pen.ellipse((px - r, py - r, px + r, py + r), fill=20)
            out.append((image, digit))
    return out


def serif_type(rng) -> list[tuple[Image.Image, int]]:
    """The digits of one typeface, each a little rotated, scaled and moved."""
    out = []
    for digit in range(10):
        for _ in range(PER_DIGIT):
            font = ImageFont.truetype(str(SERIF), int(rng.uniform(110, 150)))
            image = Image.new("L", (240, 240), 255)
            ImageDraw.Draw(image).text(
                (120 + rng.normal(0, 8), 120 + rng.normal(0, 8)),
                str(digit),
                font=font,
                fill=0,
                anchor="mm",
            )
            out.append(
                (image.rotate(rng.uniform(-8, 8), fillcolor=255, resample=2), digit)
            )
    return out


def accuracy(model, pictures) -> tuple[int, int]:
    predicted = model.predict_pictures([p for p, _ in pictures])
    truth = np.array([d for _, d in pictures])
    return int(np.sum(predicted == truth)), len(truth)


def taught(base, examples):
    model = copy.deepcopy(base)  # the base model stays cold
    for picture, digit in examples:
        teach(model, picture, digit)
    return model


def drawn_split(pictures, n_taught: int):
    """(taught, held out) of a generated source: the first n of each digit, the
    last HELD_OUT of each digit."""
    by_digit = {}
    for picture, digit in pictures:
        by_digit.setdefault(digit, []).append((picture, digit))
    teach_set = [p for d in sorted(by_digit) for p in by_digit[d][:n_taught]]
    held = [p for d in sorted(by_digit) for p in by_digit[d][-HELD_OUT:]]
    return teach_set, held


def fixture_rounds(style: str):
    """The 5 rotations of a fixture style: (taught 1, taught 3, held out)."""
    for r in range(5):
        order = [RENDERS[(r + i) % 5] for i in range(5)]

        def files(renders):
            return [
                (next(DRAWN.glob(f"{d}_{style}_{name}.*")), d)
                for d in range(10)
                for name in renders
            ]

        yield files(order[:1]), files(order[:3]), files(order[3:])


def main() -> int:
    if not DRAWN.is_dir():
        print(f"The fixtures are not at {DRAWN}.", file=sys.stderr)
        return 1
    base = default_model()
    print(
        f"Model: {type(base).__name__} k={base.k}, {base.metric}, "
        f"{len(base._fit_X):,} training rows (digitlab.default_model())"
    )
    print("Each example is taught with digitlab.examples.teach (page and pad).")
    print()
    header = f"{'source':<16} {'held out':>8}  {'cold':>7}  {'1 / digit':>9}  "
    print(header + f"{'3 / digit':>9}")
    rows = []
    for style in ("s0", "s1"):
        totals = np.zeros((3, 2), dtype=int)
        for one, three, held in fixture_rounds(style):
            for i, model in enumerate((base, taught(base, one), taught(base, three))):
                totals[i] += accuracy(model, held)
        rows.append((f"fixtures {style}", totals))
    for name, make in (("marker writer", marker_writer), ("serif type", serif_type)):
        pictures = make(np.random.default_rng(0))
        one, held = drawn_split(pictures, 1)
        three, _ = drawn_split(pictures, 3)
        totals = np.array(
            [accuracy(m, held) for m in (base, taught(base, one), taught(base, three))]
        )
        rows.append((name, totals))
    for name, totals in rows:
        cells = [f"{100 * c / n:6.1f} %" for c, n in totals]
        print(
            f"{name:<16} {totals[0][1]:>8}  {cells[0]:>7}  {cells[1]:>9}  {cells[2]:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
