"""Augmented training digits: slanted copies prepared by the picture pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from digitlab import DigitlabError
from digitlab.augment import (
    DEFAULT_VARIATIONS,
    SLANTS,
    as_two_bowls,
    augment_digits,
    vary_digit,
    with_foot,
    with_loop,
    without_side_strokes,
)
from digitlab.preprocess import slant, straighten


def column_center(rows: np.ndarray) -> float:
    """Center of mass, in columns, of some rows of an 8×8 digit."""
    mass = rows.sum(axis=0)
    return float((mass * np.arange(8)).sum() / mass.sum())


def test_unvaried_digit_comes_back_close(digits):
    again = np.array([vary_digit(x) for x in digits.X[:100]])
    assert np.abs(again - digits.X[:100]).mean() < 1.6
    assert abs(again.sum(axis=1).mean() - 312) < 10  # the ink of prepared pictures


def test_slant_leans_the_top_right(digits):
    one = digits.X[1]  # a 1: a near vertical stroke
    right = vary_digit(one, slant=0.5).reshape(8, 8)
    left = vary_digit(one, slant=-0.5).reshape(8, 8)
    assert column_center(right[:2]) - column_center(right[-2:]) > 1.5
    assert column_center(left[:2]) - column_center(left[-2:]) < -1.5


def test_augment_digits_layout(digits):
    X, y = augment_digits(digits.X[:20], digits.y[:20], [(0.3, 1.0), (0.0, 0.7)])
    assert X.shape == (60, 64) and y.shape == (60,)
    assert np.array_equal(X[:20], digits.X[:20])
    assert np.array_equal(y[20:40], digits.y[:20])
    assert np.array_equal(X[20:40], [vary_digit(x, 0.3, 1.0) for x in digits.X[:20]])
    assert X.min() >= 0 and X.max() <= 16
    assert len(DEFAULT_VARIATIONS) == 4 and len(SLANTS) == 8


def test_augment_digits_refuses_other_rows():
    with pytest.raises(DigitlabError, match="rows of 64 counts"):
        augment_digits(np.zeros((3, 784)), np.zeros(3))
    with pytest.raises(DigitlabError, match="width 9"):
        augment_digits(np.zeros((1, 64)), np.zeros(1), [(0.0, 9)])


def test_rotation_turns_the_digit(digits):
    one = digits.X[1]
    # Counterclockwise: the top of an upright stroke moves left.
    turned = vary_digit(one, rotation=20).reshape(8, 8)
    assert column_center(turned[:2]) - column_center(turned[-2:]) < -1.0
    assert slant(turned) < slant(one) - 0.2


def test_straighten_removes_the_slant(digits):
    leaning = np.array([vary_digit(x, slant=0.4) for x in digits.X[:50]])
    upright = straighten(leaning)
    assert np.mean([slant(r) for r in leaning]) > 0.2
    assert np.abs([slant(r) for r in upright]).max() < 0.1
    # One row or many: the same numbers.
    assert np.array_equal(straighten(leaning[3]), upright[3])
    assert upright.min() >= 0 and upright.max() <= 16


def test_a_blank_digit_stays_blank():
    assert np.array_equal(straighten(np.zeros(64)), np.zeros(64))
    assert np.array_equal(vary_digit(np.zeros(64), slant=0.3), np.zeros(64))
    assert without_side_strokes(np.zeros(64)) is None
    assert with_foot(np.zeros(64)) is None
    assert with_loop(np.zeros(64)) is None
    assert as_two_bowls(np.zeros(64)) is None


def test_straighten_refuses_other_rows():
    with pytest.raises(DigitlabError, match="8×8 digits"):
        straighten(np.zeros((2, 784)))


def test_a_crossed_7_loses_its_bar(digits):
    sevens = digits.X[digits.y == 7][:20]
    bare = [without_side_strokes(x) for x in sevens]
    assert sum(b is not None for b in bare) >= 10
    # The bar crosses the middle rows: without it the widest of them is
    # narrower (columns with at least a quarter block of ink).
    widest = [
        (
            (x.reshape(8, 8)[2:6] >= 4).sum(axis=1).max(),
            (b.reshape(8, 8)[2:6] >= 4).sum(axis=1).max(),
        )
        for x, b in zip(sevens, bare, strict=True)
        if b is not None
    ]
    assert np.mean([after < before for before, after in widest]) >= 0.8
    assert np.mean([before - after for before, after in widest]) >= 1.0


def test_a_1_gets_a_foot(digits):
    ones = digits.X[digits.y == 1][:40]
    footed = np.array([with_foot(x) for x in ones])
    assert footed.min() >= 0 and footed.max() <= 16

    # The bottom row of ink is wider than the stem: at least 5 of 8 columns
    # hold a quarter block of ink there, where the built-in 1s have 1 to 4.
    def bottom_width(row):
        image = row.reshape(8, 8)
        lowest = np.flatnonzero(image.sum(axis=1) > 0)[-1]
        return int((image[lowest] >= 4).sum())

    before = [bottom_width(x) for x in ones]
    after = [bottom_width(x) for x in footed]
    assert np.mean([b >= 5 for b in after]) >= 0.9
    assert np.mean(after) >= np.mean(before) + 2
    # The rest of the 1 is kept: its top half moves by at most a column.
    for x, f in zip(ones, footed, strict=True):
        top_x, top_f = x.reshape(8, 8)[:4], f.reshape(8, 8)[:4]
        assert abs(column_center(top_x) - column_center(top_f)) <= 1.0


def test_a_2_gets_a_loop_in_its_lower_left_corner(digits):
    twos = digits.X[digits.y == 2][:40]
    looped = np.array([with_loop(x) for x in twos])
    assert looped.min() >= 0 and looped.max() <= 16

    # The prepared row keeps the ink content of a picture, so the loop shows
    # as a larger share of the ink in the lower left quarter.
    def lower_left_share(rows):
        blocks = rows.reshape(-1, 8, 8)
        return blocks[:, 4:, :4].sum(axis=(1, 2)) / rows.sum(axis=1)

    before, after = lower_left_share(twos), lower_left_share(looped)
    assert np.mean(after > before) >= 0.75
    assert after.mean() >= before.mean() + 0.02


def test_a_3_drawn_as_two_bowls(digits):
    threes = digits.X[digits.y == 3][:40]
    bowls = np.array([as_two_bowls(x) for x in threes])
    assert bowls.min() >= 0 and bowls.max() <= 16

    # Its top half is a copy of its bottom half: the halves correlate almost
    # fully, where a built-in 3's flat top does not look like its bowl.
    def halves_alike(row):
        image = row.reshape(8, 8)
        return np.corrcoef(image[:4].ravel(), image[4:].ravel())[0, 1]

    before = np.array([halves_alike(x) for x in threes])
    after = np.array([halves_alike(x) for x in bowls])
    assert before.mean() < 0.6 and after.mean() > 0.9
    assert np.all(after > before)
