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
from pathlib import Path

import numpy as np

from digitlab.errors import (
    DigitlabError,
    notice,
    os_error_sentence,
    os_errors,
    plural,
)
from digitlab.files import regular_file

__all__ = [
    "Dataset",
    "DataSpec",
    "Split",
    "check_test_size",
    "load_csv",
    "load_data",
    "load_digits",
    "load_folder",
    "load_idx",
    "load_npz",
    "read_idx",
]


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
        seed, _ = check_seeds(seed)
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


#: The most splits one command repeats (20 is usual; 10,000 takes hours already).
MAX_REPEATS = 10_000
#: Seeds are numpy's: whole numbers from 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


def check_seeds(seed, repeats: int = 1) -> tuple[int | None, int]:
    """``(seed, repeats)`` when the seeds ``seed .. seed + repeats - 1`` are usable.

    One check for every command that repeats seeded splits: ``repeats`` from 1 to
    :data:`MAX_REPEATS` and every seed from 0 to :data:`MAX_SEED`, so an absurd
    number is one sentence instead of hours of work or numpy's own error.
    """
    if (
        isinstance(repeats, bool)
        or not isinstance(repeats, numbers.Integral)
        or not 1 <= repeats <= MAX_REPEATS
    ):
        raise DigitlabError(
            f"repeats must be a whole number from 1 to {MAX_REPEATS:,}, got "
            f"{repeats!r}; 20 splits is usual."
        )
    if seed is None:
        return None, int(repeats)
    if (
        isinstance(seed, bool)
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed <= MAX_SEED - repeats + 1
    ):
        top = MAX_SEED - repeats + 1
        raise DigitlabError(
            f"seed must be a whole number from 0 to {top:,}"
            + (
                f" (with {repeats} splits using seeds up to seed + {repeats - 1})"
                if repeats > 1
                else ""
            )
            + f", got {seed!r}."
        )
    return int(seed), int(repeats)


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


# --------------------------------------------------------------------------------
# The user's own data: IDX, CSV, NPZ and folders of pictures.
# --------------------------------------------------------------------------------

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
LABEL_COLUMN_NAMES = ("label", "labels", "target", "class", "digit", "y")

#: The picture preparation that reads gray values as they are (no resizing, no
#: centering): every picture of a folder must then have the same size.
PIXELS_PIPELINE = "pixels"

_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _guess_pipeline(n_features: int) -> str | None:
    """The preparation that matches rows of this width, when there is an obvious one."""
    return {784: "mnist28", 64: "uci8x8"}.get(n_features)


def _square_images(X: np.ndarray) -> np.ndarray | None:
    side = int(round(np.sqrt(X.shape[1])))
    return X.reshape(len(X), side, side) if side * side == X.shape[1] else None


def _read_maybe_gzip(path: Path) -> bytes:
    import gzip
    import zlib

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DigitlabError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DigitlabError(
            f"{str(path)!r} is truncated: the gzip stream ends before its end marker; "
            "download or copy the file again."
        ) from None
    except (OSError, zlib.error) as exc:
        raise DigitlabError(
            f"{str(path)!r} is not a readable gzip file ({exc}); download or copy it "
            "again."
        ) from None


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip or raw) into an array of its stored shape.

    Raises :class:`DigitlabError` naming the file and the byte offset when the
    magic number is wrong or the file is shorter or longer than its header says.
    """
    path = Path(path)
    data = _read_maybe_gzip(path)
    name = str(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        magic = data[:4].hex() if data else "(empty file)"
        raise DigitlabError(
            f"{name!r} is not an IDX file: wrong magic number {magic} at byte 0 "
            "(expected 0000 then a type code like 08 and the number of dimensions, "
            "e.g. 00000803 for images); check that you gave the right file."
        )
    dtype = _IDX_TYPES[data[2]]
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DigitlabError(
            f"{name!r} is truncated: its header announces {ndim} dimensions but the "
            f"file ends at byte {len(data)}; download or copy it again."
        )
    dims = tuple(int(v) for v in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise DigitlabError(
            f"{name!r} is truncated: its header announces shape {dims} "
            f"({expected} bytes of data after byte {header}) but only {found} bytes "
            f"follow (the data stops at byte {len(data)}); download or copy it again."
        )
    if found > expected:
        raise DigitlabError(
            f"{name!r} has {found - expected} unexpected bytes after the {expected} "
            f"bytes its header announces (from byte {header + expected}); it is not "
            "a valid IDX file."
        )
    count = expected // dtype.itemsize
    return np.frombuffer(data, dtype, count=count, offset=header).reshape(dims)


def _labels_beside(images: Path) -> Path:
    """The IDX labels file next to an images file (MNIST's naming), or an error."""
    name = images.name
    tried = []
    for old, new in (("images-idx3", "labels-idx1"), ("images", "labels")):
        if old in name:
            stem = name.replace(old, new)
            for candidate in dict.fromkeys(
                [stem, stem.removesuffix(".gz"), stem.removesuffix(".gz") + ".gz"]
            ):
                tried.append(candidate)
                if (images.parent / candidate).is_file():
                    return images.parent / candidate
    looked = f" (looked for {', '.join(dict.fromkeys(tried))})" if tried else ""
    raise DigitlabError(
        f"No labels file found beside {str(images)!r}{looked}; give it with "
        "--labels PATH (labels=... in Python)."
    )


def load_idx(images, labels=None, *, pipeline: str | None = None) -> Dataset:
    """Load an IDX images file (gzip or raw) and its labels, e.g. the MNIST test set.

    Parameters
    ----------
    images : path
        The IDX images file, e.g. ``t10k-images-idx3-ubyte.gz``.
    labels : path, optional
        The IDX labels file. By default the file beside ``images`` whose name has
        ``labels-idx1`` for ``images-idx3`` (MNIST's naming).
    pipeline : str, optional
        The preparation user pictures need to look like these rows; 28×28
        pictures default to ``"mnist28"``.

    Examples
    --------
    >>> mnist = "../shared/data/mnist/t10k-images-idx3-ubyte.gz"
    >>> load_idx(mnist).X.shape  # doctest: +SKIP
    (10000, 784)
    """
    images = Path(images)
    labels = _labels_beside(images) if labels is None else Path(labels)
    pictures = read_idx(images)
    y = read_idx(labels)
    if pictures.ndim not in (2, 3):
        raise DigitlabError(
            f"{str(images)!r} holds an array of shape {pictures.shape}; an images "
            "file must hold pictures (count, rows, columns) or rows (count, features)."
        )
    if y.ndim != 1:
        raise DigitlabError(
            f"{str(labels)!r} holds an array of shape {y.shape}; a labels file must "
            "hold one label per picture (count,). Did you swap images and labels?"
        )
    if len(y) != len(pictures):
        raise DigitlabError(
            f"{str(images)!r} has {len(pictures)} images but {str(labels)!r} has "
            f"{len(y)} labels; give the labels file that belongs to these images "
            "with --labels."
        )
    X = pictures.reshape(len(pictures), -1).astype(np.float64)
    return _finish(
        X,
        y.astype(np.int64) if y.dtype.kind in "iu" else y,
        images=X.reshape(pictures.shape) if pictures.ndim == 3 else _square_images(X),
        source=str(images),
        description=f"IDX {images.name}",
        pipeline=pipeline or _guess_pipeline(X.shape[1]),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _labels_from_strings(values: np.ndarray) -> np.ndarray:
    """Integer labels when every label is a whole number, else the strings."""
    try:
        as_float = values.astype(np.float64)
    except ValueError:
        return values
    if np.all(np.isfinite(as_float)) and np.array_equal(as_float, np.round(as_float)):
        return as_float.astype(np.int64)
    return values


def load_csv(
    path, label_column: str | int | None = None, *, pipeline: str | None = None
) -> Dataset:
    """Load a CSV file: one row per digit, one column of labels, the rest features.

    Parameters
    ----------
    path : path
        The CSV file (comma, semicolon or tab separated). A first line with any
        non-numeric cell is taken as a header.
    label_column : str or int, optional
        The label column, by header name or by 0-based index (``-1`` for the last).
        By default a column named ``label``, ``target``, ``class``, ``digit`` or
        ``y``; without one, the first column (the layout of MNIST CSV exports).
    pipeline : str, optional
        The preparation user pictures need to look like these rows; 784 features
        default to ``"mnist28"``, 64 to ``"uci8x8"``.
    """
    import csv

    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DigitlabError(
            f"{name!r} is not a text CSV file (it is not UTF-8); export it as CSV."
        ) from None
    except OSError as exc:
        raise DigitlabError(f"Cannot read {name!r}: {exc.strerror}.") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    rows = [
        (line_no, row)
        for line_no, row in enumerate(
            csv.reader(text.splitlines(), delimiter=delimiter), 1
        )
        if row and any(cell.strip() for cell in row)
    ]
    if not rows:
        raise DigitlabError(f"{name!r} is empty; it needs one row per digit.")
    header = None
    if not all(_is_number(cell) for cell in rows[0][1]):
        header = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
    if not rows:
        raise DigitlabError(f"{name!r} has a header but no data rows.")
    width = len(header) if header else len(rows[0][1])
    for line_no, row in rows:
        if len(row) != width:
            raise DigitlabError(
                f"{name!r} line {line_no} has {len(row)} cells but the "
                f"{'header' if header else 'first row'} has {width}; every row needs "
                "the same number of columns."
            )
    label_index = _label_index(name, header, width, label_column)
    cells = np.array([row for _, row in rows], dtype=str)
    labels = np.char.strip(cells[:, label_index])
    features = np.delete(cells, label_index, axis=1)
    try:
        X = features.astype(np.float64)
    except ValueError:
        X = None
    if X is None or not np.all(np.isfinite(X)):
        for r, row in enumerate(features):
            for c, cell in enumerate(row):
                if not _is_number(cell) or not np.isfinite(float(cell)):
                    column = c + (c >= label_index)
                    col_name = f" ({header[column]!r})" if header else ""
                    raise DigitlabError(
                        f"{name!r} line {rows[r][0]}, column {column + 1}{col_name}: "
                        f"{str(cell)!r} is not a number; every feature cell must be a "
                        "finite number."
                    )
    if np.any(labels == ""):
        r = int(np.flatnonzero(labels == "")[0])
        raise DigitlabError(
            f"{name!r} line {rows[r][0]}: the label cell (column {label_index + 1}) is "
            "empty; every row needs a label."
        )
    not_finite = [
        r
        for r, label in enumerate(labels)
        if _is_number(label) and not math.isfinite(float(label))
    ]
    if not_finite:
        r = not_finite[0]
        raise DigitlabError(
            f"{name!r} line {rows[r][0]}, column {label_index + 1}: the label "
            f"{str(labels[r])!r} is not a label; every row needs a real label (a "
            "digit or a name)."
        )
    return _finish(
        X,
        _labels_from_strings(labels),
        images=_square_images(X),
        source=name,
        description=f"CSV {path.name}",
        pipeline=pipeline or _guess_pipeline(X.shape[1]),
    )


def _label_index(name, header, width, label_column) -> int:
    if width < 2:
        raise DigitlabError(
            f"{name!r} has only {width} column; it needs a label column and at least "
            "one feature column."
        )
    if label_column is None:
        if header:
            lowered = [h.lower() for h in header]
            for wanted in LABEL_COLUMN_NAMES:
                if wanted in lowered:
                    return lowered.index(wanted)
        return 0
    if isinstance(label_column, str) and header and label_column in header:
        return header.index(label_column)
    try:
        index = int(label_column)
    except (TypeError, ValueError):
        known = f"; its columns are {', '.join(header[:5])}..." if header else ""
        raise DigitlabError(
            f"{name!r} has no column named {label_column!r}{known}; give the label "
            "column by name or by 0-based index (--labels 0, --labels -1)."
        ) from None
    if not -width <= index < width:
        raise DigitlabError(
            f"Label column {index} is outside {name!r}'s {width} columns; use an index "
            f"from 0 to {width - 1} (or -1 for the last)."
        )
    return index % width


def load_npz(path, *, pipeline: str | None = None) -> Dataset:
    """Load an ``.npz`` archive holding ``X`` (rows or pictures) and ``y``.

    The archive is read with ``allow_pickle=False``. ``X`` may be flat rows
    (n, features) or pictures (n, height, width); an optional ``images`` array
    gives the pictures behind flat rows.
    """
    path = Path(path)
    name = str(path)
    files, arrays = _read_npz(path, name)
    missing = [key for key in ("X", "y") if key not in files]
    if missing:
        raise DigitlabError(
            f"{name!r} has no array named {' or '.join(missing)} (it has "
            f"{', '.join(files) or 'none'}); save it with np.savez(path, X=X, y=y)."
        )
    X, y, images = arrays["X"], arrays["y"], arrays.get("images")
    if X.dtype.kind not in "biuf":
        raise DigitlabError(
            f"{name!r}: X has dtype {X.dtype}, not numbers; save numeric features."
        )
    if X.ndim == 3:
        images = X
        X = X.reshape(len(X), -1)
    if X.ndim != 2 or y.ndim != 1:
        raise DigitlabError(
            f"{name!r}: X has shape {X.shape} and y {y.shape}; X must be rows "
            "(n, features) or pictures (n, height, width) and y one label per row."
        )
    if len(X) != len(y):
        raise DigitlabError(
            f"{name!r}: X has {len(X)} rows but y has {len(y)} labels; they must match."
        )
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DigitlabError(
            f"{name!r}: X row {r}, column {c} is {X[r, c]}; every feature must be a "
            "finite number."
        )
    if images is not None and (
        images.ndim < 2 or len(images) != len(X) or images[0].size != X.shape[1]
    ):
        images = None
    if images is None:
        images = _square_images(X)
    else:
        images = np.asarray(images, dtype=np.float64)
    return _finish(
        X,
        y.astype(np.int64) if y.dtype.kind in "iub" else y,
        images=images,
        source=name,
        description=f"NPZ {path.name}",
        pipeline=pipeline or _guess_pipeline(X.shape[1]),
    )


def _read_npz(path: Path, name: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """The names in an .npz archive and its X, y and images arrays.

    Whatever numpy, zipfile or zlib raise on a damaged archive becomes one
    sentence; the file is closed in every case.
    """
    wanted = ("X", "y", "images")
    try:
        with open(path, "rb") as fh:
            archive = np.load(fh, allow_pickle=False)
            if not hasattr(archive, "files"):  # a plain .npy array
                raise DigitlabError(
                    f"{name!r} is a single .npy array, not an .npz archive; save it "
                    "with np.savez(path, X=X, y=y)."
                )
            with archive:
                files = list(archive.files)
                try:
                    return files, {k: archive[k] for k in wanted if k in files}
                except ValueError as exc:
                    if "pickle" not in str(exc):
                        raise
                    raise DigitlabError(
                        f"{name!r} holds Python objects, which digitlab never "
                        f"unpickles ({exc}); save plain numeric arrays."
                    ) from None
    except DigitlabError:
        raise
    except EOFError:  # numpy's word for a 0-byte file
        raise DigitlabError(
            f"{name!r} is empty (0 bytes); save an archive with np.savez(path, X=X, "
            "y=y)."
        ) from None
    except OSError as exc:
        if exc.errno is not None:
            raise DigitlabError(os_error_sentence(exc, path)) from None
        raise DigitlabError(
            f"Cannot read {name!r} as an .npz archive ({_reason(exc)}); save it again "
            "with np.savez(path, X=X, y=y)."
        ) from None
    except Exception as exc:  # zipfile, zlib and numpy each raise their own kind
        raise DigitlabError(
            f"Cannot read {name!r} as an .npz archive ({_reason(exc)}); save it again "
            "with np.savez(path, X=X, y=y)."
        ) from None


def _reason(exc: BaseException) -> str:
    """An exception's message as a clause inside a sentence."""
    return (str(exc).strip().rstrip(".") or type(exc).__name__)[:200]


def _read_pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as picture:
        return np.asarray(picture.convert("L"), dtype=np.float64)


def load_folder(
    folder, *, pipeline: str = PIXELS_PIPELINE, skip_bad: bool = False
) -> Dataset:
    """Load a folder with one subfolder of pictures per label (``7/a.png`` ...).

    Parameters
    ----------
    folder : path
        ``folder/<label>/<picture>``; the subfolder's name is the label.
    pipeline : str
        How a picture becomes a row: ``"pixels"`` (the default) takes the gray
        values as they are (all pictures the same size); any other name
        (``"uci8x8"``, ``"mnist28"``) prepares each picture with
        :func:`digitlab.prepare`, exactly as ``digitlab predict`` does.
    skip_bad : bool
        Skip unreadable pictures with a notice instead of stopping.
    """
    folder = Path(folder)
    name = str(folder)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] != ".")
    if not subfolders:
        raise DigitlabError(
            f"{name!r} has no subfolders; put each label's pictures in a subfolder "
            f"named after the label ({name}/0/a.png, {name}/1/b.png, ...)."
        )
    prepare = _picture_preparer(pipeline)
    rows, labels, skipped, shape_of = [], [], [], {}
    for sub in subfolders:
        files = sorted(
            p
            for p in sub.iterdir()
            if p.is_file() and p.name[0] != "." and p.suffix.lower() in PICTURE_SUFFIXES
        )
        if not files:
            raise DigitlabError(
                f"The label folder {str(sub)!r} holds no pictures ("
                f"{', '.join(PICTURE_SUFFIXES)}); add pictures or remove the folder."
            )
        for file in files:
            try:
                row = prepare(file)
            except Exception as exc:  # Pillow raises many kinds for a bad picture
                reason = str(exc).rstrip(".") or type(exc).__name__
                if not skip_bad:
                    raise DigitlabError(
                        f"Cannot read the picture {str(file)!r} ({reason}); fix or "
                        "remove it, or add --skip-bad to go on without it."
                    ) from None
                skipped.append(str(file))
                continue
            if shape_of and row.shape != next(iter(shape_of)):
                first_shape, first_file = next(iter(shape_of.items()))
                raise DigitlabError(
                    f"The picture {str(file)!r} is {row.shape[1]}×{row.shape[0]} but "
                    f"{first_file!r} is {first_shape[1]}×{first_shape[0]}; with "
                    "--pipeline pixels all pictures must have the same size (or use "
                    "--pipeline mnist28 / uci8x8)."
                )
            shape_of.setdefault(row.shape, str(file))
            rows.append(row)
            labels.append(sub.name)
    if skipped:
        shown = ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        notice(f"Skipped {plural(len(skipped), 'unreadable picture')}: {shown}.")
    if not rows:
        raise DigitlabError(f"No readable pictures in {name!r}.")
    images = np.stack(rows).astype(np.float64)
    X = images.reshape(len(images), -1)
    return _finish(
        X,
        _labels_from_strings(np.array(labels, dtype=str)),
        images=images if images.ndim == 3 else None,
        source=name,
        description=f"pictures in {folder.name or name}",
        pipeline=pipeline,
    )


def _picture_preparer(pipeline: str):
    if pipeline == PIXELS_PIPELINE:
        return _read_pixels
    from digitlab.preprocess import PIPELINES, pipeline_shape, prepare

    if pipeline not in PIPELINES:
        names = ", ".join(repr(n) for n in (PIXELS_PIPELINE, *PIPELINES))
        raise DigitlabError(
            f"Unknown picture preparation {pipeline!r}; use one of {names}."
        )
    shape = pipeline_shape(pipeline)

    def prepare_one(path):
        return np.asarray(prepare(path, pipeline=pipeline), np.float64).reshape(shape)

    return prepare_one


def _duplicate_rows(X) -> tuple[int, int, int]:
    """How many rows repeat an earlier row, the first such row and the row it repeats.

    Rows are compared byte for byte (as ``np.unique`` over the rows would), but
    grouped first by a 64-bit hash of their bytes: sorting 10,000 integers is
    ~100× cheaper than sorting 10,000 rows of 784 values, and every group of equal
    hashes is checked exactly, so a hash collision never counts as a duplicate.
    """
    n = len(X)
    X = np.ascontiguousarray(X)
    if X.dtype.kind == "f" and X.size:
        # Pixel data read as floats: the same rows, 8× fewer bytes to hash, when
        # every value is a byte (and no -0.0, whose bytes differ from 0.0's).
        small = X.astype(np.uint8)
        if np.array_equal(small, X) and not np.signbit(X).any():
            X = small
    raw = X.view(np.uint8).reshape(n, -1)
    if raw.shape[1] % 8:
        raw = np.pad(raw, ((0, 0), (0, 8 - raw.shape[1] % 8)))
    words = raw.view(np.uint64)
    weights = np.arange(1, words.shape[1] + 1, dtype=np.uint64) * np.uint64(
        0x9E3779B97F4A7C15
    ) | np.uint64(1)
    hashes = (words * weights).sum(axis=1)  # wraps modulo 2**64, as intended
    order = np.argsort(hashes, kind="stable")  # equal hashes stay in row order
    sorted_hashes = hashes[order]
    starts = np.flatnonzero(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]])
    sizes = np.diff(np.r_[starts, n])
    count, first_repeat, its_original = 0, n, -1
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
        group = order[start : start + size]
        while len(group) > 1:
            same = (raw[group] == raw[group[0]]).all(axis=1)
            copies = group[same][1:]
            if len(copies):
                count += len(copies)
                if copies[0] < first_repeat:
                    first_repeat, its_original = int(copies[0]), int(group[0])
            group = group[~same]
    return count, first_repeat, its_original


def _finish(X, y, *, images, source, description, pipeline) -> Dataset:
    """Checks every loader shares: at least two classes; duplicate rows noticed."""
    y = np.asarray(y)
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        r = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DigitlabError(
            f"{source!r}: label {r} is {y[r].item()!r}, not a label; every row needs a "
            "real "
            "label (a digit or a name)."
        )
    if len(X) == 0:
        raise DigitlabError(f"{source!r} holds no rows; it needs labelled digits.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise DigitlabError(
            f"{source!r} has only one class (every label is {classes[0].item()!r}); a "
            "classifier needs pictures of at least two labels."
        )
    repeats, r, original = _duplicate_rows(X)
    if repeats:
        they = "it can" if repeats == 1 else "they can"
        notice(
            f"{source} has {plural(repeats, 'duplicate row')} (first: row {r} "
            f"repeats row {original}); {they} land on both sides of a split and make "
            "test scores optimistic."
        )
    return Dataset(
        X=X,
        y=y,
        images=images,
        source=source,
        description=description,
        pipeline=pipeline,
    )


def load_data(
    spec="digits",
    *,
    labels=None,
    pipeline: str | None = None,
    skip_bad: bool | None = None,
) -> Dataset:
    """Load the data set a ``--data`` option names.

    Parameters
    ----------
    spec : str or path
        ``"digits"`` (the default): scikit-learn's built-in digits. A folder: one
        subfolder of pictures per label. A ``.npz`` archive with ``X`` and ``y``.
        A ``.csv`` file. An IDX file (gzip or raw), e.g. MNIST's
        ``t10k-images-idx3-ubyte.gz``.
    labels : path, str or int, optional
        IDX: the labels file (default: found beside the images). CSV: the label
        column, by name or 0-based index.
    pipeline : str, optional
        Folders: how pictures become rows (``"pixels"``, ``"uci8x8"``,
        ``"mnist28"``). Other formats: the preparation recorded with the data.
    skip_bad : bool
        Folders: skip unreadable pictures with a notice.

    The CLI's ``--labels``, ``--pipeline`` and ``--skip-bad`` reach here through
    the ``spec`` string (see :class:`DataSpec`) when not given explicitly.
    """
    labels = getattr(spec, "labels", None) if labels is None else labels
    pipeline = getattr(spec, "pipeline", None) if pipeline is None else pipeline
    if skip_bad is None:
        skip_bad = bool(getattr(spec, "skip_bad", False))
    spec = "digits" if spec in ("", None) else spec
    if str(spec) == "digits":
        return load_digits()
    dataset = _read_path(spec, labels, pipeline, skip_bad)
    # How it was read, so a recorded run's command line reads it the same way
    # (digitlab.recording.data_argv).
    options = {"labels": labels, "pipeline": pipeline, "skip_bad": skip_bad}
    dataset.meta["load_options"] = {
        k: v for k, v in options.items() if v is not None and v is not False
    }
    return dataset


def _read_path(spec, labels, pipeline, skip_bad) -> Dataset:
    path = Path(spec)
    if not path.exists():
        raise DigitlabError(
            f"Unknown data {str(spec)!r}: no such file or folder; use 'digits' for "
            "scikit-learn's built-in digits, a folder of label subfolders, or an "
            ".npz, .csv or IDX file."
        )
    with os_errors(path):
        return _load_path(path, labels=labels, pipeline=pipeline, skip_bad=skip_bad)


def _load_path(path: Path, *, labels, pipeline, skip_bad) -> Dataset:
    if not path.is_dir():
        regular_file(path, "data file")
    if path.is_dir():
        _refuse(labels, "--labels", "a folder (its subfolder names are the labels)")
        return load_folder(
            path, pipeline=pipeline or PIXELS_PIPELINE, skip_bad=skip_bad
        )
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] == [".npz"]:
        _refuse(labels, "--labels", "an .npz archive (its y array holds the labels)")
        return load_npz(path, pipeline=pipeline)
    if suffixes[-1:] in ([".csv"], [".tsv"], [".txt"]):
        return load_csv(path, labels, pipeline=pipeline)
    return load_idx(path, labels, pipeline=pipeline)


def _refuse(value, option: str, what: str) -> None:
    if value is not None:
        raise DigitlabError(f"{option} does not apply to {what}; leave it out.")


class DataSpec(str):
    """A ``--data`` value that carries ``--labels``, ``--pipeline``, ``--skip-bad``.

    It is a plain string for every command that compares or prints it, and
    :func:`load_data` reads the extra options from it.
    """

    labels = None
    pipeline = None
    skip_bad = False

    def __new__(cls, value, *, labels=None, pipeline=None, skip_bad=False):
        self = super().__new__(cls, value)
        self.labels, self.pipeline, self.skip_bad = labels, pipeline, skip_bad
        return self
