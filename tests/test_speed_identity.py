"""The fast preparation paths give bit for bit the rows the plain code gave.

``fixtures/prepared_reference.npz`` holds rows computed by the code before it
was sped up (commit f766c9d): ``prepare`` of every picture in
``fixtures/drawn`` (both pipelines) and of the web benchmark's canvas
drawings, and slanted / narrowed copies of every 45th built-in digit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import digitlab
from digitlab.augment import SLANTS, augment_digits, vary_digit
from digitlab.preprocess import _contrast, _image_to_array, _open_image, load_ink

HERE = Path(__file__).resolve().parent
DRAWN = HERE / "fixtures" / "drawn"


@pytest.fixture(scope="module")
def reference():
    with np.load(HERE / "fixtures" / "prepared_reference.npz") as archive:
        return {key: archive[key] for key in archive.files}


def test_the_reference_covers_every_drawn_picture(reference):
    assert sorted(p.name for p in DRAWN.iterdir()) == reference["names"].tolist()
    assert len(reference["names"]) == 100


@pytest.mark.parametrize(
    "pipeline, key", [("uci8x8", "X_files"), ("mnist28", "M_files")]
)
def test_prepare_of_drawn_pictures_is_unchanged(reference, pipeline, key):
    rows = np.array([digitlab.prepare(DRAWN / n, pipeline) for n in reference["names"]])
    np.testing.assert_array_equal(rows, reference[key])


def test_prepare_of_canvas_drawings_is_unchanged(reference):
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    try:
        from load_web import STROKES, canvas_png
    finally:
        sys.path.pop(0)
    rows = np.array([digitlab.prepare(canvas_png(d)) for d in STROKES])
    np.testing.assert_array_equal(rows, reference["X_canvas"])


@pytest.mark.parametrize("name", ["0_s0_canvas.png", "3_s1_chalk.png", "5_s0_blue.jpg"])
def test_the_8_bit_ink_map_equals_the_float_one(name):
    """The table lookup of 8-bit levels gives exactly the per-pixel floats."""
    image = _open_image(DRAWN / name)
    rgb, alpha = _image_to_array(image)
    if alpha is not None and alpha.min() < 0.5 and alpha.max() > 0.5:
        expected = alpha
    else:
        expected = _contrast(rgb)
    ink = load_ink(DRAWN / name)
    assert ink.dtype == np.float64
    np.testing.assert_array_equal(ink, expected)


def test_slanted_copies_are_unchanged(reference):
    data = digitlab.load_digits()
    idx = reference["aug_index"]
    X, y = augment_digits(data.X[idx], data.y[idx], SLANTS, keep_original=False)
    np.testing.assert_array_equal(X, reference["X_aug"])
    assert y.tolist() == data.y[idx].tolist() * len(SLANTS)
    odd = [(0.2, 0.7), (-0.1, 1.6), (0.0, 1.0)]
    X2, _ = augment_digits(data.X[idx[:10]], data.y[idx[:10]], odd, keep_original=False)
    np.testing.assert_array_equal(X2, reference["X_aug2"])
    # vary_digit alone gives the same rows as the batch.
    np.testing.assert_array_equal(
        vary_digit(data.X[idx[3]], *odd[1]), reference["X_aug2"][10 + 3]
    )


def test_percentile_and_median_from_counts_equal_numpys():
    """The counted forms give numpy's own numbers, to the last bit."""
    from digitlab.preprocess import _LEVELS, _median_level, _percentile_of_counts

    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(1, 5000))
        # Few distinct levels, many repeats: how pictures look.
        levels = rng.choice(rng.integers(0, 256, size=6), size=n).astype(np.uint8)
        assert _median_level(levels) == np.median(_LEVELS[levels])
        table = np.abs(_LEVELS - rng.random())
        counts = np.bincount(levels, minlength=256)
        for q in (0.0, 12.5, 50.0, 99.9, 100.0):
            expected = np.percentile(table[levels], q)
            assert _percentile_of_counts(table, counts, q) == expected, (trial, q)


def test_otsu_of_weighted_levels_equals_numpys_histogram():
    from digitlab.preprocess import _otsu

    def reference(values, counts):
        hist, edges = np.histogram(values, bins=256, range=(0.0, 1.0), weights=counts)
        centers = (edges[:-1] + edges[1:]) / 2
        w0 = np.cumsum(hist)
        w1 = w0[-1] - w0
        m0 = np.cumsum(hist * centers)
        mean0 = np.divide(m0, w0, out=np.zeros_like(m0), where=w0 > 0)
        mean1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0), where=w1 > 0)
        return float(edges[int(np.argmax(w0 * w1 * (mean0 - mean1) ** 2)) + 1])

    rng = np.random.default_rng(3)
    edges = np.linspace(0.0, 1.0, 257)
    for _ in range(200):
        # Level tables hit bin edges exactly (k/255 against i/256) and near them.
        values = np.clip(
            np.abs(np.arange(256) / 255 - rng.random()) / rng.random(), 0, 1
        )
        values[rng.integers(0, 256, 8)] = rng.choice(edges, 8)
        counts = rng.integers(0, 500, 256).astype(np.float64)
        assert _otsu(values, counts) == reference(values, counts)


def test_small_gray_pictures_prepare_like_their_arrays():
    """Under 1,000 pixels the 8-bit path takes the maximum, like the float path."""
    from PIL import Image

    gray = np.full((28, 24), 250, dtype=np.uint8)
    gray[4:24, 10:14] = 30  # a bar: a 1
    gray[4:8, 7:10] = 90
    picture = Image.fromarray(gray, mode="L")
    row = digitlab.prepare(picture)
    np.testing.assert_array_equal(row, digitlab.prepare(gray))
    assert row.reshape(8, 8)[:, 3:5].sum() > 40
