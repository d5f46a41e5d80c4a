"""Datasets and splits: the lesson's split, test sizes, fingerprints."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_load_digits
from sklearn.model_selection import train_test_split

from digitlab import DigitlabError, load_data


def test_digits_are_scikit_learns(digits):
    sk = sk_load_digits()
    assert np.array_equal(digits.X, sk.data)
    assert np.array_equal(digits.images, sk.images)
    assert np.array_equal(digits.y, sk.target)
    assert digits.summary() == (
        "scikit-learn digits, 1797 pictures of 8×8 = 64 features, 10 classes"
    )


@pytest.mark.parametrize(("test_size", "n_test"), [(0.2, 360), (0.5, 899), (300, 300)])
def test_split_equals_train_test_split(digits, test_size, n_test):
    split = digits.split(test_size=test_size, seed=5)
    X_tr, X_te, y_tr, y_te = train_test_split(
        digits.X, digits.y, test_size=test_size, random_state=5
    )
    assert split.n_test == n_test
    assert np.array_equal(split.X_train, X_tr) and np.array_equal(split.X_test, X_te)
    assert np.array_equal(split.y_train, y_tr) and np.array_equal(split.y_test, y_te)


def test_stratified_split_keeps_class_shares(digits):
    split = digits.split(test_size=0.2, seed=0, stratify=True)
    counts = np.bincount(split.y_test)
    assert counts.min() >= 35 and counts.max() <= 37


@pytest.mark.parametrize(
    ("test_size", "message"),
    [
        (0, "test_size=0 test rows is impossible"),
        (0.0, "test_size=0 is outside \\(0, 1\\)"),
        (1.0, "test_size=1 is outside \\(0, 1\\)"),
        (-0.5, "outside \\(0, 1\\)"),
        (1.5, "outside \\(0, 1\\)"),
        (1797, "use a count between 1 and 1796"),
        ("a", "must be a number"),
    ],
)
def test_bad_test_sizes(digits, test_size, message):
    with pytest.raises(DigitlabError, match=message):
        digits.split(test_size=test_size)


def test_fingerprint_tracks_content(digits):
    assert digits.fingerprint() == load_data("digits").fingerprint()
    other = type(digits)(X=digits.X[:-1], y=digits.y[:-1])
    assert other.fingerprint() != digits.fingerprint()


def test_unknown_data_is_a_clear_error():
    with pytest.raises(DigitlabError, match="Unknown data 'nope'"):
        load_data("nope")


def test_duplicate_rows_agree_with_numpy_unique_over_whole_rows():
    """The hashed duplicate check finds exactly the rows np.unique finds."""
    from digitlab.data import _duplicate_rows

    def by_unique(X):
        rows = np.ascontiguousarray(X).view(
            np.dtype((np.void, X.dtype.itemsize * X.shape[1]))
        )
        _, first, inverse = np.unique(
            rows.ravel(), return_index=True, return_inverse=True
        )
        repeats = np.flatnonzero(first[inverse.ravel()] != np.arange(len(X)))
        if not len(repeats):
            return 0, len(X), -1
        r = int(repeats[0])
        return len(repeats), r, int(first[inverse.ravel()[r]])

    rng = np.random.default_rng(7)
    found = 0
    for trial in range(400):
        n, m = int(rng.integers(1, 50)), int(rng.integers(1, 12))
        dtype = (np.uint8, np.int32, np.float32, np.float64)[trial % 4]
        X = rng.integers(0, 3, (n, m)).astype(dtype)
        if dtype is np.float64 and trial % 8 == 3:
            X = (X - 1.0) * 0.5
            X[X == 0] = -0.0  # -0.0 and 0.0 differ byte for byte
        assert _duplicate_rows(X) == by_unique(X)
        found += _duplicate_rows(X)[0] > 0
    assert found > 100  # the trials did exercise duplicates
