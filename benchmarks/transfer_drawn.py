"""A held-out drawn set: the default model before and now, on new drawings.

The 100 drawn pictures of tests/fixtures/drawn were seen while the default model
was changed; these 150 were not. They are drawn here, in one run, with the
fixtures' own pen (``tests/fixtures/make_fixtures.py``, seed 2026): the
fixtures' 20 stroke shapes again, with new random pens, slants, squeezes and
sizes, and 10 new shapes (a 0 begun at the top, a 1 with a foot, a 2 with a
loop, a 3 with a wide lower bowl, a closed 4, a 6 drawn from its loop, a 7 with
a hook, a small-topped 8, a 9 with a straight stem), each on the 5 backgrounds
(paper, chalk, transparent canvas, blue ink, smudged scan). It prints
accuracies only, so it may run on a busy machine.

    python benchmarks/transfer_drawn.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from make_fixtures import BACKGROUNDS, SHAPES, arc, draw  # noqa: E402
from transfer_mnist import models_before_and_now  # noqa: E402

NEW_SHAPES = {
    0: [arc(0.5, 0.5, 0.25, 0.45, -100, 250)],
    1: [[(0.45, 0.08), (0.55, 0.92)], [(0.3, 0.93), (0.75, 0.93)]],
    2: [
        [(0.2, 0.25)]
        + arc(0.5, 0.3, 0.3, 0.22, 180, 380)
        + [(0.3, 0.8)]
        + arc(0.3, 0.85, 0.08, 0.08, 270, 630)
        + [(0.85, 0.92)]
    ],
    3: [arc(0.45, 0.27, 0.3, 0.22, 190, 430) + arc(0.45, 0.72, 0.35, 0.24, 280, 510)],
    4: [[(0.7, 0.95), (0.7, 0.05), (0.2, 0.6), (0.2, 0.62), (0.9, 0.62)]],
    5: [
        [(0.8, 0.07), (0.35, 0.07), (0.3, 0.42)] + arc(0.48, 0.66, 0.32, 0.28, 220, 500)
    ],
    6: [arc(0.5, 0.68, 0.3, 0.27, 0, 360) + [(0.2, 0.65), (0.35, 0.25), (0.65, 0.05)]],
    7: [[(0.1, 0.12), (0.2, 0.05), (0.88, 0.05), (0.5, 0.55), (0.45, 0.95)]],
    8: [arc(0.5, 0.26, 0.22, 0.2, 90, 450) + arc(0.5, 0.71, 0.28, 0.24, 270, 630)],
    9: [arc(0.5, 0.3, 0.3, 0.25, 0, 360) + [(0.8, 0.3), (0.8, 0.95)]],
}


def drawn_set(seed: int = 2026):
    """The pictures (RGBA PIL images), labels, and whether each is a new shape."""
    rng = np.random.default_rng(seed)
    pictures, labels, new = [], [], []
    for digit in range(10):
        for s, strokes in enumerate([*SHAPES[digit], NEW_SHAPES[digit]]):
            for background, paper, ink, _ in BACKGROUNDS:
                side = int(rng.choice([64, 120, 200, 300]))
                size = (side, int(side * rng.uniform(0.8, 1.25)))
                picture = draw(
                    strokes,
                    size=size,
                    pen=max(2, int(side * rng.uniform(0.03, 0.12))),
                    slant=rng.uniform(-0.2, 0.35),
                    squeeze=rng.uniform(0.75, 1.2),
                    paper=paper,
                    ink=ink,
                    rng=rng,
                )
                if background == "scan":
                    picture = picture.convert("RGB").filter(ImageFilter.GaussianBlur(1))
                pictures.append(picture.convert("RGBA"))
                labels.append(digit)
                new.append(s == len(SHAPES[digit]))
    return pictures, np.array(labels), np.array(new)


def main() -> None:
    pictures, labels, new = drawn_set()
    print(f"{len(labels)} drawn pictures, 15 per digit ({new.sum()} of new shapes)")
    print(f"  {'':<30}" + "".join(f"{d:>4}" for d in range(10)) + "  total  new shapes")
    for name, model in models_before_and_now():
        hit = model.predict_pictures(pictures) == labels
        per_digit = "".join(f"{int(hit[labels == d].sum()):4d}" for d in range(10))
        shapes = f"{hit[new].sum():3d} of {new.sum()}"
        print(f"  {name:<30}{per_digit}  {hit.sum():5d}  {shapes}")


if __name__ == "__main__":
    main()
