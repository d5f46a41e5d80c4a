"""Augmented training digits: slanted copies prepared by the picture pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from digitlab import DigitlabError
from digitlab.augment import DEFAULT_VARIATIONS, augment_digits, vary_digit


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
    assert len(DEFAULT_VARIATIONS) == 8


def test_augment_digits_refuses_other_rows():
    with pytest.raises(DigitlabError, match="rows of 64 counts"):
        augment_digits(np.zeros((3, 784)), np.zeros(3))
    with pytest.raises(DigitlabError, match="width 9"):
        augment_digits(np.zeros((1, 64)), np.zeros(1), [(0.0, 9)])
