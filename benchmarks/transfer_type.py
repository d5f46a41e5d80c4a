"""Printed digits: the default model before and now, on this machine's typefaces.

Another kind of picture the model was never shaped on: every TrueType font
found under /usr/share/fonts (or the folders given) draws the ten digits, one
picture each, dark on white, as a user would photograph a printed page. Both
models read them through ``model.predict_pictures`` (their own preparations).
The set depends on the fonts installed, so it is printed with the results; it
prints accuracies only, so it may run on a busy machine.

    python benchmarks/transfer_type.py
    python benchmarks/transfer_type.py /path/to/fonts
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transfer_mnist import models_before_and_now  # noqa: E402


def printed_digits(folders):
    """One 200×200 picture of each digit in each font: (pictures, labels, fonts)."""
    fonts = sorted({p for folder in folders for p in Path(folder).rglob("*.ttf")})
    pictures, labels = [], []
    for path in fonts:
        font = ImageFont.truetype(str(path), 120)
        for digit in range(10):
            picture = Image.new("L", (200, 200), 255)
            ImageDraw.Draw(picture).text(
                (100, 100), str(digit), font=font, fill=0, anchor="mm"
            )
            pictures.append(picture)
            labels.append(digit)
    return pictures, np.array(labels), fonts


def main() -> None:
    folders = sys.argv[1:] or ["/usr/share/fonts"]
    pictures, labels, fonts = printed_digits(folders)
    if not fonts:
        sys.exit(f"No TrueType fonts (*.ttf) under {', '.join(folders)}.")
    print(f"{len(fonts)} fonts under {', '.join(folders)}: {len(pictures)} pictures")
    print(f"  {'':<28}" + "".join(f"{d:>4}" for d in range(10)) + "  total")
    for name, model in models_before_and_now():
        predicted = model.predict_pictures(pictures)
        hit = predicted == labels
        per_digit = "".join(f"{int(hit[labels == d].sum()):4d}" for d in range(10))
        print(f"  {name:<28}{per_digit}  {hit.sum():5d}")
    worst = Counter(
        (int(t), int(p)) for t, p in zip(labels, predicted, strict=True) if t != p
    )
    misread = ", ".join(f"{t} as {p} ({n})" for (t, p), n in worst.most_common(4))
    print(f"now, most often misread: {misread}")


if __name__ == "__main__":
    main()
