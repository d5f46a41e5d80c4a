"""Reading the user's own pictures: the default model and picture predictions.

:func:`predict_files` is what ``digitlab predict`` runs: it expands folders,
prepares every picture with the model's pipeline, asks the model, and keeps one
clear line for every file that could not be read, so one bad file never stops
the others. :func:`default_model` is the model used when none is given.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab.errors import DigitlabError
from digitlab.model import KNN
from digitlab.preprocess import PICTURE_SUFFIXES, pipeline_shape, prepare

__all__ = [
    "default_model",
    "predict_files",
    "PicturePrediction",
    "PicturePredictions",
    "collect_pictures",
    "shade",
]

#: The shades ``--show`` draws a model input with, from paper to full ink.
SHADES = " ░▒▓█"

DEFAULT_K = 5


@functools.lru_cache(maxsize=1)
def _default_training():
    from digitlab.data import load_digits

    data = load_digits()
    return data.X, data.y


def default_model(recipe: str | None = None) -> KNN:
    """The model ``digitlab predict`` uses when no ``--model`` is given.

    A k-nearest-neighbors model (k=5) fitted on scikit-learn's 1,797 built-in
    digits, with the ``uci8x8`` picture preparation. The training rows are
    computed once per process; every call returns a new, independent model.

    With ``recipe`` (a name from :data:`digitlab.recipes.RECIPES`, e.g.
    ``"svc-shift"``), that recipe fitted on the same digits instead
    (``digitlab predict --recipe``).

    Examples
    --------
    >>> model = default_model()
    >>> model.pipeline, model.k
    ('uci8x8', 5)
    """
    X, y = _default_training()
    if recipe is not None:
        from digitlab.recipes import RecipeModel

        return RecipeModel(recipe, pipeline="uci8x8").fit(X, y)
    return KNN(DEFAULT_K, pipeline="uci8x8").fit(X, y)


def shade(row, shape: tuple[int, int], top: float) -> list[str]:
    """A model input as lines of shaded characters (two per cell, paper blank)."""
    grid = np.asarray(row, dtype=np.float64).reshape(shape)
    levels = np.clip(np.round(grid / top * (len(SHADES) - 1)), 0, len(SHADES) - 1)
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

    def grid(self) -> list[str]:
        """The model input in shaded characters (what ``--show`` prints)."""
        return shade(self.features, self.shape, self.top)

    def to_dict(self) -> dict:
        """One element of ``digitlab predict --json``."""
        return {
            "file": self.file,
            "digit": self.digit,
            "confidence": self.confidence,
            "votes": self.votes,
        }


def _number(v: float):
    return int(v) if float(v).is_integer() else round(float(v), 3)


@dataclass
class PicturePredictions:
    """Predictions for several pictures, and the files that could not be read."""

    results: list[PicturePrediction]
    failures: list[tuple[str, str]]

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
        rows = "".join(
            f"<tr><td>{html.escape(r.file)}</td><td>{html.escape(str(r.digit))}</td>"
            f"<td>{r.confidence:.2f}</td><td>{html.escape(r.votes_text())}</td></tr>"
            for r in self.results
        )
        failed = "".join(
            f"<tr><td>{html.escape(f)}</td><td colspan=3>{html.escape(m)}</td></tr>"
            for f, m in self.failures
        )
        return (
            "<table><tr><th>file</th><th>digit</th><th>confidence</th>"
            f"<th>votes</th></tr>{rows}{failed}</table>"
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
            found = sorted(
                f
                for f in path.iterdir()
                if f.is_file() and f.suffix.lower() in PICTURE_SUFFIXES
            )
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


def predict_files(paths, model: KNN | None = None, *, k: int | None = None):
    """Predict the digit in each picture file; folders are read in full.

    Parameters
    ----------
    paths : iterable of str or Path
        Picture files and folders of pictures.
    model : KNN, optional
        A fitted model with a ``pipeline``; default :func:`default_model`.
    k : int, optional
        How many neighbors vote (default: the model's own ``k``).

    Returns
    -------
    PicturePredictions
        ``results`` in the order given (folders sorted by name) and
        ``failures``: one ``(file, message)`` per file that could not be read.
    """
    model = default_model() if model is None else model
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
        model = KNN(
            k, weights=model.weights, metric=model.metric, pipeline=model.pipeline
        ).fit(model._fit_X, model.classes_[model._y])
    files, failures = collect_pictures(paths)
    shape = pipeline_shape(model.pipeline)
    top = 16.0 if model.pipeline == "uci8x8" else 255.0
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
                    digit=digit.item() if hasattr(digit, "item") else digit,
                    confidence=float(proba[i].max()),
                    votes=votes,
                    features=X[i],
                    shape=shape,
                    top=top,
                )
            )
    return PicturePredictions(results=results, failures=failures)


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
