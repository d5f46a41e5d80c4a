"""Reading the user's own pictures: the default model and picture predictions.

:func:`predict_files` is what ``digitlab predict`` runs: it expands folders,
prepares every picture with the model's pipeline, asks the model, and keeps one
clear line for every file that could not be read, so one bad file never stops
the others. :func:`default_model` is the model used when none is given.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab.errors import DigitlabError, os_error_sentence
from digitlab.files import write_bytes
from digitlab.model import KNN
from digitlab.preprocess import PICTURE_SUFFIXES, pipeline_shape, prepare

__all__ = [
    "cache_dir",
    "default_model",
    "default_model_ready",
    "predict_files",
    "PicturePrediction",
    "PicturePredictions",
    "collect_pictures",
    "shade",
]

#: The shades ``--show`` draws a model input with, from paper to full ink.
SHADES = " ░▒▓█"

DEFAULT_K = 5


#: How the default model ranks its neighbors: the euclidean neighbors re-ranked
#: by tangent distance (:mod:`digitlab._tangent`), which forgives small shifts,
#: turns, size changes and pen widths.
DEFAULT_METRIC = "tangent"

#: How the default model prepares pictures and its training digits: straightened
#: (:func:`digitlab.preprocess.straighten`), so writers' slants do not count.
DEFAULT_PIPELINE = "upright8x8"

#: The digits whose side strokes the default model also learns without: every
#: writer of the built-in digits crosses the 7, most people do not.
UNCROSSED = (7,)

#: The digits the default model also learns standing on a foot: print puts
#: one under the 1, no writer of the built-in digits does.
FOOTED = (1,)

#: The digits the default model also learns with a loop in their lower left
#: corner: many writers loop the 2, no writer of the built-in digits does.
LOOPED = (2,)

#: The digits the default model also learns as two stacked bowls: many
#: writers round the top of the 3, the writers of the built-in digits do not.
TWO_BOWLS = (3,)

#: The copies each restyled digit (unbarred, footed, looped, two-bowled) also
#: gets: the turns of :data:`digitlab.augment.DEFAULT_VARIATIONS`. Chosen on
#: the even-numbered 5,000 MNIST test digits (none 88.8 %, the turns 89.2 %,
#: all four copies 89.1 %); the odd-numbered 5,000, held out: 89.3 -> 89.8 %.
RESTYLED_VARIATIONS = ((0.0, 1.0, -10.0), (0.0, 1.0, 10.0))

_default_rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def _default_training(progress=None):
    """The default model's training rows, their labels and the built-in digit
    each was made from.

    The 1,797 built-in digits, a copy of each for every one of
    :data:`digitlab.augment.DEFAULT_VARIATIONS`, the 7s drawn without their
    bar (:func:`digitlab.augment.without_side_strokes`), the 1s drawn on a
    foot (:func:`digitlab.augment.with_foot`), the 2s drawn with a loop
    (:func:`digitlab.augment.with_loop`), the 3s as two bowls
    (:func:`digitlab.augment.as_two_bowls`), the restyled digits also turned
    (:data:`RESTYLED_VARIATIONS`), all straightened.
    Kept for the process once made; read from the cache when it holds them,
    else computed (``progress(done, total)`` is called meanwhile).
    """
    global _default_rows
    if _default_rows is not None:
        return _default_rows
    key = _default_cache_key()
    cached = _read_cache(key)
    if cached is None:
        cached = _build_default_training(progress)
        _write_cache(key, *cached)
    _default_rows = cached
    return cached


def _build_default_training(progress=None):
    from digitlab.augment import (
        DEFAULT_VARIATIONS,
        as_two_bowls,
        augment_digits,
        with_foot,
        with_loop,
        without_side_strokes,
    )
    from digitlab.data import load_digits
    from digitlab.preprocess import straighten

    data = load_digits()
    n = len(data)
    n_copies = len(DEFAULT_VARIATIONS)
    # Steps, for the progress bar: drawing the copies, then straightening.
    total = n + n * (n_copies + 1)

    def drawn(done, _):
        if progress is not None:
            progress(done, total)

    X, y = augment_digits(data.X, data.y, DEFAULT_VARIATIONS, progress=drawn)
    sources = np.tile(np.arange(n), n_copies + 1)
    restyled = [
        (i, redraw(data.X[i]))
        for digits, redraw in (
            (UNCROSSED, without_side_strokes),
            (FOOTED, with_foot),
            (LOOPED, with_loop),
            (TWO_BOWLS, as_two_bowls),
        )
        for i in np.flatnonzero(np.isin(data.y, digits))
    ]
    restyled = [(i, row) for i, row in restyled if row is not None]
    if restyled:
        chosen = np.array([i for i, _ in restyled])
        more_X, more_y = augment_digits(
            np.array([row for _, row in restyled]), data.y[chosen], RESTYLED_VARIATIONS
        )
        X = np.vstack([X, more_X])
        y = np.concatenate([y, more_y])
        sources = np.concatenate(
            [sources, np.tile(chosen, len(RESTYLED_VARIATIONS) + 1)]
        )
    upright = np.empty_like(X)
    for start in range(0, len(X), 200):
        upright[start : start + 200] = straighten(X[start : start + 200])
        drawn(n + min(start + 200, len(X)) * (total - n) // len(X), total)
    return upright, y, sources


def default_model_ready() -> bool:
    """Whether :func:`default_model` is quick now (its rows are made or cached).

    ``digitlab predict`` asks before building, to show what it builds and a
    progress bar the first time.
    """
    if _default_rows is not None:
        return True
    path = _cache_path(_default_cache_key())
    return path is not None and path.is_file()


def cache_dir() -> Path | None:
    """Where the default model's training rows are kept between runs, or None.

    ``$DIGITLAB_CACHE_DIR`` if set (``none`` turns caching off), else
    ``$XDG_CACHE_HOME/digitlab``, else ``~/.cache/digitlab``. The cache only
    saves time: when it is missing, damaged or not writable, the rows are
    computed again.
    """
    chosen = os.environ.get("DIGITLAB_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "none", "off") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digitlab"


def _cache_key(data, variations) -> str:
    # The rows depend on the data, the variations and the drawing code.
    import digitlab.augment
    import digitlab.preprocess

    h = hashlib.sha256()
    h.update(data.fingerprint().encode())
    h.update(
        repr(
            (variations, UNCROSSED, FOOTED, LOOPED, TWO_BOWLS, RESTYLED_VARIATIONS)
        ).encode()
    )
    # Any change to the preparation code makes a new key.
    for module in (digitlab.preprocess, digitlab.augment):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:20]


@functools.lru_cache(maxsize=1)
def _default_cache_key() -> str:
    """The default model's cache key (the same data and code all process long)."""
    from digitlab.augment import DEFAULT_VARIATIONS
    from digitlab.data import load_digits

    return _cache_key(load_digits(), DEFAULT_VARIATIONS)


def _cache_path(key: str) -> Path | None:
    """Where the rows of cache key ``key`` are kept, or None with no cache."""
    folder = cache_dir()
    return None if folder is None else folder / f"default-model-{key}.npz"


def _read_cache(key: str):
    path = _cache_path(key)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            X, y, sources = archive["X"], archive["y"], archive["sources"]
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if X.ndim != 2 or X.shape[1] != 64 or not len(X) == len(y) == len(sources):
        return None
    return X.astype(np.float64), y, sources


def _write_cache(key: str, X, y, sources) -> None:
    path = _cache_path(key)
    if path is None:
        return
    buffer = io.BytesIO()
    np.savez(buffer, X=X.astype(np.uint8), y=y, sources=sources)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, buffer.getvalue(), force=True)
    except (OSError, DigitlabError):
        pass  # a read-only home: the rows are simply computed next time


def default_model(recipe: str | None = None, *, progress=None) -> KNN:
    """The model ``digitlab predict`` uses when no ``--model`` is given.

    A k-nearest-neighbors model (k=5) of straightened digits (pipeline
    ``upright8x8``, :data:`DEFAULT_PIPELINE`: pictures and training digits
    both have their slant removed): scikit-learn's 1,797 built-in digits, 4
    copies of each turned 10 degrees either way and drawn narrower and wider
    (:data:`digitlab.augment.DEFAULT_VARIATIONS`), and the 7s drawn without
    their bar (:data:`UNCROSSED`), the 1s on a foot (:data:`FOOTED`), the 2s
    with a loop (:data:`LOOPED`) and the 3s as two bowls (:data:`TWO_BOWLS`),
    those restyled digits also turned 10 degrees either way
    (:data:`RESTYLED_VARIATIONS`), 11,004 training rows. Their 30 nearest by
    euclidean distance are re-ranked by tangent distance (``metric="tangent"``,
    :data:`DEFAULT_METRIC`), which forgives small shifts, rotations, size
    changes and pen widths. On the 10,000 real MNIST test digits it reads
    89.5 % (``benchmarks/transfer_mnist.py``).

    The rows take 10-30 seconds to compute the first time (``progress(done,
    total)`` is called meanwhile, if given); they are kept in memory for the
    process and in :func:`cache_dir` (if writable) for later runs (see
    :func:`default_model_ready`). Every call returns a new, independent model; its
    ``metadata_`` says what it was fitted on and how the same recipe scores on
    the lesson's split (358 of 360 test digits, against 351 without copies).

    With ``recipe`` (a name from :data:`digitlab.recipes.RECIPES`, e.g.
    ``"svc-shift"``), that recipe fitted on the 1,797 built-in digits instead
    (``digitlab predict --recipe``), without the copies (``uci8x8``).

    Examples
    --------
    >>> model = default_model()
    >>> model.pipeline, model.k, model.n_features_in_
    ('upright8x8', 5, 64)
    """
    if recipe is not None:
        from digitlab.data import load_digits
        from digitlab.recipes import RecipeModel

        # Recipes bring their own variations; they are fitted on the 1,797.
        data = load_digits()
        return RecipeModel(recipe, pipeline="uci8x8").fit(data.X, data.y)
    X, y, _ = _default_training(progress)
    model = KNN(DEFAULT_K, metric=DEFAULT_METRIC, pipeline=DEFAULT_PIPELINE).fit(X, y)
    accuracy, n_correct, n_test = _default_lesson_score()
    model.metadata_ = {
        "data": "digits",
        "training": _TRAINING,
        "accuracy": accuracy,
        "n_test": n_test,
        "accuracy_note": (
            f"The same recipe on the lesson's 80/20 split (seed 0; copies of the "
            f"training part only) gets {n_correct} of {n_test} test digits "
            "right; the model served here is fitted on all 1,797 digits and "
            "their copies."
        ),
    }
    return model


_TRAINING = (
    "digits + turned, narrower and wider copies, 7s unbarred, 1s footed, 2s "
    "looped, 3s two-bowled (and turned), straightened, tangent distance"
)


@functools.lru_cache(maxsize=1)
def _default_lesson_score() -> tuple[float, int, int]:
    """The default recipe scored honestly: copies of the lesson's train part only."""
    from digitlab.data import load_digits
    from digitlab.preprocess import straighten

    X, y, sources = _default_training()
    split = load_digits().split(test_size=0.2, seed=0)
    rows = np.flatnonzero(np.isin(sources, split.train_index))
    model = KNN(DEFAULT_K, metric=DEFAULT_METRIC).fit(X[rows], y[rows])
    predicted = model.predict(straighten(split.X_test))
    n_correct = int(np.sum(predicted == split.y_test))
    return n_correct / split.n_test, n_correct, split.n_test


def shade(row, shape: tuple[int, int], top: float) -> list[str]:
    """A model input as lines of shaded characters (two per cell, paper blank)."""
    grid = np.asarray(row, dtype=np.float64).reshape(shape)
    # Half-up rounding, so for counts 0..16: blank 0-1, ░ 2-5, ▒ 6-9, ▓ 10-13,
    # █ 14-16.
    levels = np.floor(grid / top * (len(SHADES) - 1) + 0.5)
    levels = np.clip(levels, 0, len(SHADES) - 1)
    return ["".join(SHADES[int(v)] * 2 for v in line) for line in levels]


@dataclass
class PicturePrediction:
    """The model's answer for one picture, with the input it actually saw."""

    file: str
    digit: object
    confidence: float
    votes: dict[str, float]
    features: np.ndarray = field(repr=False)
    shape: tuple[int, int] = field(repr=False)
    top: float = field(default=16.0, repr=False)

    def votes_text(self) -> str:
        """``7 ×5`` or ``4 ×3, 9 ×2``: who voted, most votes first."""
        ranked = sorted(
            ((v, label) for label, v in self.votes.items() if v > 0),
            key=lambda t: (-t[0], t[1]),
        )
        return ", ".join(f"{label} ×{_number(v)}" for v, label in ranked)

    nearest: np.ndarray | None = field(default=None, repr=False)
    nearest_label: object = field(default=None, repr=False)

    def grid(self) -> list[str]:
        """The model input in shaded characters (what ``--show`` prints).

        Next to it: the nearest training digit, the strongest voter.
        """
        seen = shade(self.features, self.shape, self.top)
        if self.nearest is None:
            return seen
        near = shade(self.nearest, self.shape, self.top)
        width = len(seen[0])
        head = (
            f"{'model input':<{width}}   nearest training digit: {self.nearest_label}"
        )
        return [head] + [f"{a}   {b}" for a, b in zip(seen, near, strict=True)]

    def to_dict(self) -> dict:
        """One element of ``digitlab predict --json``."""
        return {
            "file": self.file,
            "digit": self.digit,
            "confidence": self.confidence,
            "votes": self.votes,
        }


def _plain(label):
    return label.item() if hasattr(label, "item") else label


def _number(v: float):
    return int(v) if float(v).is_integer() else round(float(v), 3)


@dataclass
class PicturePredictions:
    """Predictions for several pictures, and the files that could not be read.

    ``model``, ``model_path``, ``k`` and ``paths`` say how they were made (what
    :func:`digitlab.runs.record` keeps): the model that voted, the file it was
    read from (None for a model built in memory), the ``k`` asked for (None: the
    model's own) and the files and folders given.
    """

    results: list[PicturePrediction]
    failures: list[tuple[str, str]]
    model: object = field(default=None, repr=False, compare=False)
    model_path: str | None = None
    k: int | None = None
    paths: list = field(default_factory=list)
    #: The user's examples the model learned first (``examples=``), if any.
    examples: object = field(default=None, repr=False, compare=False)

    def lines(self, show: bool = False) -> list[str]:
        """One line per picture: file, digit, votes; with ``show`` the grids too."""
        width = max((len(r.file) for r in self.results), default=0)
        out = []
        for r in self.results:
            if show:
                out.extend(r.grid())
            out.append(f"{r.file:<{width}}  {r.digit}  (votes: {r.votes_text()})")
        return out

    def to_list(self) -> list[dict]:
        return [r.to_dict() for r in self.results]

    def __repr__(self) -> str:
        lines = self.lines()
        lines += [f"failed: {message}" for _, message in self.failures]
        return "\n".join(lines) or "no pictures"

    def _repr_html_(self) -> str:
        """A table with the input the model saw and its nearest training digit.

        Inline styles and inline PNG pictures only, so notebook sanitizers keep it.
        """
        from digitlab.report import png_data_uri

        cell = 'style="padding: 2px 8px; text-align: left; vertical-align: middle"'

        def picture(values, r, alt):
            if values is None:
                return ""
            image = np.asarray(values, dtype=np.float64).reshape(r.shape)
            scale = max(1, round(48 / max(r.shape)))
            return (
                f'<img src="{png_data_uri(image, r.top, scale=scale)}" '
                f'alt="{html.escape(alt)}" width="{r.shape[1] * scale}" '
                f'height="{r.shape[0] * scale}" style="border: 1px solid #ccc">'
            )

        rows = "".join(
            f"<tr><td {cell}>{html.escape(r.file)}</td>"
            f"<td {cell}>{picture(r.features, r, 'model input')}</td>"
            f'<td {cell}><b style="font-size: 1.3em">{html.escape(str(r.digit))}</b>'
            f"</td><td {cell}>{r.confidence:.2f}</td>"
            f"<td {cell}>{html.escape(r.votes_text())}</td>"
            f"<td {cell}>{picture(r.nearest, r, 'nearest training digit')} "
            f"{html.escape('' if r.nearest_label is None else str(r.nearest_label))}"
            "</td></tr>"
            for r in self.results
        )
        failed = "".join(
            f"<tr><td {cell}>{html.escape(f)}</td><td {cell} colspan=5>"
            f"{html.escape(m)}</td></tr>"
            for f, m in self.failures
        )
        head = "".join(
            f"<th {cell}>{name}</th>"
            for name in ("file", "model input", "digit", "confidence", "votes")
        )
        return (
            '<table style="border-collapse: collapse">'
            f"<tr>{head}<th {cell}>nearest training digit</th></tr>"
            f"{rows}{failed}</table>"
        )


def collect_pictures(paths) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders into their picture files (sorted); report missing paths.

    Returns
    -------
    files : list of Path
    failures : list of (path, message)
    """
    files, failures = [], []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            try:
                found = sorted(
                    f
                    for f in path.iterdir()
                    if f.is_file() and f.suffix.lower() in PICTURE_SUFFIXES
                )
            except OSError as exc:  # a folder that cannot be listed
                failures.append((str(p), os_error_sentence(exc, path)))
                continue
            if not found:
                failures.append(
                    (
                        str(p),
                        f"{p}: the folder holds no pictures "
                        f"({', '.join(PICTURE_SUFFIXES)}).",
                    )
                )
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            failures.append((str(p), f"{p}: no such file or folder; check the path."))
    return files, failures


def predict_files(paths, model=None, *, k: int | None = None, examples=None):
    """Predict the digit in each picture file; folders are read in full.

    Parameters
    ----------
    paths : iterable of str or Path
        Picture files and folders of pictures.
    model : KNN, RecipeModel, str or Path, optional
        A fitted model with a ``pipeline``, or the path of a saved model
        (``digitlab train --save``); default :func:`default_model`.
    k : int, optional
        How many neighbors vote (default: the model's own ``k``).
    examples : str or Path, optional
        A folder of the user's examples (``<label>/<picture>``): the model
        learns them first (:func:`digitlab.examples.learn_examples`; a model
        passed in is taught in place), so they vote like training digits.

    Returns
    -------
    PicturePredictions
        ``results`` in the order given (folders sorted by name) and
        ``failures``: one ``(file, message)`` per file that could not be read.
    """
    paths, model_path, requested_k = list(paths), None, k
    if isinstance(model, (str, Path)):
        from digitlab.modelfile import load_model

        model_path, model = str(model), load_model(model)
    model = default_model() if model is None else model
    given_model = model
    learned = None
    if examples is not None:
        from digitlab.examples import learn_examples

        learned = learn_examples(model, examples)
    if model.pipeline is None:
        model.prepare_pictures([])  # raises the explanation
    neighbors = isinstance(model, KNN)  # else a recipe model: no neighbor votes
    if k is not None and not neighbors:
        raise DigitlabError(
            f"k applies to k-nearest-neighbors models, but this model is the recipe "
            f"{getattr(model, 'recipe', type(model).__name__)!r}; drop --k."
        )
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise DigitlabError(f"k must be a whole number of at least 1, got {k!r}.")
        n_train = model._fit_X.shape[0]
        if k > n_train:
            raise DigitlabError(
                f"k={k} is larger than the model's {n_train} training digits; "
                f"choose k between 1 and {n_train}."
            )
        refitted = KNN(
            k, weights=model.weights, metric=model.metric, pipeline=model.pipeline
        ).fit(model._fit_X, model.classes_[model._y])
        if model.n_examples_:  # the examples stay the user's
            from digitlab.examples import mark_examples

            mark_examples(refitted, model.n_examples_, model._n_fitted)
        model = refitted
    files, failures = collect_pictures(paths)
    shape = pipeline_shape(model.pipeline)
    top = 255.0 if model.pipeline == "mnist28" else 16.0
    rows, names = [], []
    for f in files:
        try:
            rows.append(prepare(f, model.pipeline))
            names.append(str(f))
        except DigitlabError as exc:
            failures.append((str(f), str(exc)))
    results = []
    if rows:
        X = np.vstack(rows)
        proba = model.predict_proba(X)
        predicted = model.classes_[np.argmax(proba, axis=1)]
        if neighbors:
            _, ind = model.kneighbors(X)
            labels = model._y[ind]
        for i, name in enumerate(names):
            if neighbors and model.weights == "uniform":
                counts = np.bincount(labels[i], minlength=len(model.classes_))
                votes = {
                    str(c): int(n) for c, n in zip(model.classes_, counts, strict=True)
                }
            else:
                votes = {
                    str(c): float(p)
                    for c, p in zip(model.classes_, proba[i], strict=True)
                }
            digit = predicted[i]
            results.append(
                PicturePrediction(
                    file=name,
                    digit=_plain(digit),
                    confidence=float(proba[i].max()),
                    votes=votes,
                    features=X[i],
                    shape=shape,
                    top=top,
                    nearest=model._fit_X[ind[i, 0]] if neighbors else None,
                    nearest_label=(
                        _plain(model.classes_[labels[i, 0]]) if neighbors else None
                    ),
                )
            )
    return PicturePredictions(
        results=results,
        failures=failures,
        model=given_model,
        model_path=model_path,
        k=requested_k,
        paths=[str(p) for p in paths],
        examples=learned,
    )


def input_picture(predictions: PicturePredictions, cell: int = 16):
    """The model inputs side by side as one PIL image (ink dark on white)."""
    from PIL import Image

    tiles = []
    for r in predictions.results:
        grid = np.asarray(r.features, dtype=np.float64).reshape(r.shape)
        gray = 255 - np.round(np.clip(grid / r.top, 0, 1) * 255).astype(np.uint8)
        tiles.append(np.kron(gray, np.ones((cell, cell), dtype=np.uint8)))
    if not tiles:
        raise DigitlabError(
            "No picture could be prepared, so there is no input to show."
        )
    gap = np.full((tiles[0].shape[0], cell // 2), 255, dtype=np.uint8)
    row = [tiles[0]]
    for t in tiles[1:]:
        row += [gap, t]
    return Image.fromarray(np.hstack(row), mode="L")
