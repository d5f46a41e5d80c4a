"""Data sets: the built-in digits and the splits every command trains on.

A :class:`Dataset` holds flat feature rows ``X`` (what a classifier takes), labels
``y``, the pictures ``images`` the rows came from, and where it came from. Its
:meth:`Dataset.split` is the lesson's ``train_test_split`` call, so
``load_digits().split(test_size=0.2, seed=0)`` is exactly the lesson's split.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from digitlab.errors import DigitlabError

__all__ = ["Dataset", "Split", "load_digits", "load_data", "check_test_size"]


@dataclass(frozen=True)
class Split:
    """One train/test split of a :class:`Dataset`.

    ``train_index`` and ``test_index`` are row numbers into the data set, so every
    result can be traced back to the picture it came from.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    test_size: float | int
    seed: int | None
    stratify: bool = False

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    def __repr__(self) -> str:
        return (
            f"Split(test_size={self.test_size!r}, seed={self.seed!r}, "
            f"n_train={self.n_train}, n_test={self.n_test})"
        )


@dataclass(frozen=True)
class Dataset:
    """Labelled digits: flat feature rows, labels and the pictures behind them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        One flat row of numbers per digit, what a classifier is fitted on.
    y : ndarray of shape (n_samples,)
        The label of each row.
    images : ndarray of shape (n_samples, height, width) or None
        The pictures, ``X`` reshaped, for showing digits to people.
    source : str
        A short name: ``"digits"`` for scikit-learn's built-in digits, else a path.
    description : str
        One line for people: what the data is.
    pipeline : str or None
        The name of the preparation that turns a picture into a row of ``X``
        (``"uci8x8"`` for the built-in digits), so user pictures can be prepared
        the same way.
    """

    X: np.ndarray
    y: np.ndarray
    images: np.ndarray | None = None
    source: str = "custom"
    description: str = ""
    pipeline: str | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (
            f"Dataset(source={self.source!r}, n_samples={len(self)}, "
            f"n_features={self.n_features}, n_classes={self.n_classes})"
        )

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def classes(self) -> np.ndarray:
        return np.unique(self.y)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int] | None:
        return None if self.images is None else tuple(self.images.shape[1:])

    def fingerprint(self) -> str:
        """A short hash of features and labels: equal data, equal fingerprint."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        h.update(np.asarray(self.y).astype(str).astype("U").tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> str:
        """One line for people, e.g. ``scikit-learn digits, 1797 pictures ...``."""
        shape = self.image_shape
        pictures = f"{shape[0]}×{shape[1]} = " if shape else ""
        return (
            f"{self.description or self.source}, {len(self)} pictures of "
            f"{pictures}{self.n_features} features, {self.n_classes} classes"
        )

    def split(
        self,
        test_size: float | int = 0.2,
        seed: int | None = 0,
        *,
        stratify: bool = False,
    ) -> Split:
        """Split into train and test parts, exactly as ``train_test_split`` does.

        ``load_digits().split(test_size=0.2, seed=0)`` gives the same rows as the
        lesson's ``train_test_split(digits.data, digits.target, test_size=0.2,
        random_state=0)``.

        Parameters
        ----------
        test_size : float in (0, 1) or int
            The share of rows for testing, or their count.
        seed : int or None
            The ``random_state``; the same seed always gives the same split.
        stratify : bool
            Keep the class proportions equal in both parts.
        """
        test_size = check_test_size(test_size, len(self))
        train_index, test_index = self.split_indices(test_size, seed, stratify=stratify)
        return Split(
            X_train=self.X[train_index],
            X_test=self.X[test_index],
            y_train=self.y[train_index],
            y_test=self.y[test_index],
            train_index=train_index,
            test_index=test_index,
            test_size=test_size,
            seed=seed,
            stratify=stratify,
        )

    def split_indices(
        self,
        test_size: float | int = 0.2,
        seed: int | None = 0,
        *,
        stratify: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The row numbers :meth:`split` puts in train and test, without copying X.

        Returns ``(train_index, test_index)``, the rows ``train_test_split`` puts
        in each part, in its order. It calls the same (Stratified)ShuffleSplit that
        ``train_test_split`` calls, without re-validating and copying the arrays each
        time, so the sweep can make hundreds of splits quickly.
        """
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        n = len(self)
        test_size = check_test_size(test_size, n)
        # train_test_split's sizes: a share rounds the test part up.
        n_test = test_size if isinstance(test_size, int) else math.ceil(test_size * n)
        splitter = StratifiedShuffleSplit if stratify else ShuffleSplit
        cv = splitter(
            n_splits=1, test_size=n_test, train_size=n - n_test, random_state=seed
        )
        try:
            train_index, test_index = next(
                cv.split(np.zeros((n, 1)), self.y if stratify else None)
            )
        except ValueError as exc:  # e.g. stratify with a class of one member
            raise DigitlabError(f"Cannot split the data: {exc}") from None
        return train_index, test_index


def check_test_size(test_size, n_samples: int) -> float | int:
    """Validate a test size the way ``train_test_split`` reads it.

    A float must lie strictly between 0 and 1; an integer is a count of test rows
    and must leave at least one row for training.
    """
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise DigitlabError(
            f"test_size must be a number, got {test_size!r}; use a share like 0.2 "
            "or a count like 300."
        )
    if isinstance(test_size, numbers.Integral):
        count = int(test_size)
        if not 1 <= count <= n_samples - 1:
            raise DigitlabError(
                f"test_size={count} test rows is impossible with {n_samples} rows; "
                f"use a count between 1 and {n_samples - 1}, or a share like 0.2."
            )
        return count
    test_size = float(test_size)
    if not 0.0 < test_size < 1.0:
        raise DigitlabError(
            f"test_size={test_size:g} is outside (0, 1); use a share like 0.2 "
            "(20 % of the rows for testing) or a count of test rows like 300."
        )
    n_test = int(np.ceil(test_size * n_samples))
    if n_test < 1 or n_samples - n_test < 1:
        raise DigitlabError(
            f"test_size={test_size:g} leaves an empty train or test part with "
            f"{n_samples} rows; choose a share closer to 0.5."
        )
    return test_size


def load_digits() -> Dataset:
    """scikit-learn's built-in 8×8 handwritten digits (1,797 pictures).

    ``X`` is ``digits.data`` (flat rows of 64 numbers, 0..16), ``images`` is
    ``digits.images`` (the same numbers as 8×8 pictures) and ``y`` is
    ``digits.target``.

    Examples
    --------
    >>> data = load_digits()
    >>> data.X.shape, data.images.shape
    ((1797, 64), (1797, 8, 8))
    """
    from sklearn import datasets

    digits = datasets.load_digits()
    return Dataset(
        X=np.asarray(digits.data, dtype=np.float64),
        y=np.asarray(digits.target),
        images=np.asarray(digits.images, dtype=np.float64),
        source="digits",
        description="scikit-learn digits",
        pipeline="uci8x8",
    )


def load_data(spec: str = "digits") -> Dataset:
    """Load the data set a ``--data`` option names.

    ``"digits"`` (the default) is scikit-learn's built-in digits.
    """
    if spec in ("digits", "", None):
        return load_digits()
    raise DigitlabError(
        f"Unknown data {spec!r}; use 'digits' for scikit-learn's built-in digits."
    )
