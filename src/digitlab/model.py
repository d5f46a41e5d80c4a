"""The k-nearest-neighbors classifier and its pickle-free model files.

:class:`KNN` is a scikit-learn estimator (it passes ``check_estimator``) whose
neighbor search is digitlab's exact ranking (:mod:`digitlab.neighbors`), so the
numbers it gives are the ones every other digitlab command gives.

Model files are ``.npz`` archives holding the training arrays and one JSON
document of metadata (format version, parameters, classes, the picture
preparation, a checksum). They are read with ``allow_pickle=False``: opening a
model file never runs code.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from digitlab.errors import DigitlabError, notice, plural
from digitlab.files import check_target, write_bytes
from digitlab.neighbors import (
    FitRows,
    check_metric,
    check_weights,
    kneighbors,
    vote,
)

__all__ = ["KNN", "save_model", "load_model", "FORMAT_VERSION"]

FORMAT_VERSION = 2
# Version 1: a KNN (parameters + training arrays). Version 2 adds recipe models
# (digitlab.recipes.RecipeModel: recipe name, parameters + the raw training arrays,
# refitted on load). A KNN is still written as version 1, which older readers know.
_ESTIMATOR_VERSIONS = {"KNN": 1, "RecipeModel": 2}


def flatten_images(X, *, what: str = "X", known_shape=None):
    """Turn a stack of pictures (n, h, w) into flat rows (n, h*w), with a notice.

    This is the lesson's classic mistake: ``digits.images`` (n, 8, 8) where
    ``digits.data`` (n, 64) was meant. Other shapes are left for validation.

    Parameters
    ----------
    X : array-like
    what : str
        The argument's name, for the notice.
    known_shape : tuple of int, optional
        The picture shape the caller was already told about (a model fitted on
        pictures): pictures of this shape are flattened without a second notice.
    """
    if isinstance(X, np.ndarray) and X.ndim == 3:
        n, h, w = X.shape
        if known_shape is None or tuple(known_shape) != (h, w):
            rows = "it to a row" if n == 1 else "them to rows"
            notice(
                f"{what} holds {plural(n, 'picture')} of {h}×{w} pixels (shape "
                f"{X.shape}), not rows of numbers; digitlab flattened {rows} of "
                f"{h * w} numbers, the layout of digits.data."
            )
        return X.reshape(n, h * w)
    if isinstance(X, np.ndarray) and X.ndim not in (2,):
        expected = "a 2D array of shape (n_samples, n_features), like digits.data"
        if X.ndim == 1:
            raise DigitlabError(
                f"Expected {expected}, got a 1D array of shape {X.shape}. Reshape "
                "your data: one sample with X.reshape(1, -1), many 8×8 digits with "
                "X.reshape(-1, 64)."
            )
        raise DigitlabError(f"Expected {expected}, got shape {X.shape}.")
    return X


def _n_rows(a) -> int | None:
    shape = getattr(a, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) else None
    return len(a) if hasattr(a, "__len__") else None


def _check_finite(X: np.ndarray, what: str = "X") -> None:
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(X[row, col]) else "inf"
        raise DigitlabError(
            f"{what} contains NaN or inf values (first: {kind} at row {row}, column "
            f"{col}); remove or fill them in before fitting or predicting."
        )


class KNN(ClassifierMixin, BaseEstimator):
    """k-nearest-neighbors classifier with an exact, documented neighbor ranking.

    Parameters
    ----------
    k : int, default=5
        How many nearest training digits vote.
    n_neighbors : int or None, default=None
        scikit-learn's name for ``k`` (the lesson's ``KNeighborsClassifier(
        n_neighbors=3)``): when given, it is the number of neighbors and ``k`` is
        not used. Both are stored as given, so ``get_params``, ``set_params`` and
        ``clone`` keep exactly what was written; giving both with different
        values (other than the default ``k=5``) is an error.
    weights : {"uniform", "distance"}, default="uniform"
        ``uniform``: one vote each; ``distance``: votes weighted by 1/distance.
    metric : {"euclidean", "manhattan", "cosine"}, default="euclidean"
    pipeline : str or None, default=None
        The name of the picture preparation that made the training rows
        (``"uci8x8"`` for the built-in digits); used to prepare user pictures.

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in ``fit``, sorted.
    n_features_in_ : int
    n_neighbors_ : int
        The number of neighbors that vote, as fitted: ``n_neighbors`` when given,
        else ``k``.

    Notes
    -----
    Ties follow one rule: among training rows at equal distance the earlier row
    wins; among classes with equal votes the smallest label wins.

    Examples
    --------
    >>> import digitlab
    >>> split = digitlab.load_digits().split(test_size=0.2, seed=0)
    >>> model = digitlab.KNN(k=5).fit(split.X_train, split.y_train)
    >>> float(model.score(split.X_test, split.y_test))
    0.975
    >>> digitlab.KNN(n_neighbors=3).fit(split.X_train, split.y_train).n_neighbors_
    3
    """

    def __init__(
        self,
        k=5,
        *,
        n_neighbors=None,
        weights="uniform",
        metric="euclidean",
        pipeline=None,
    ):
        self.k = k
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.metric = metric
        self.pipeline = pipeline

    def fit(self, X, y):
        """Remember the training digits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Flat rows; a stack of pictures (n, h, w) is flattened with a notice
            (pictures of the same size given to ``predict`` or ``score`` later are
            flattened without another one).
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : KNN
        """
        picture_shape = (
            X.shape[1:] if isinstance(X, np.ndarray) and X.ndim == 3 else None
        )
        X = flatten_images(X)
        k = self._check_params()
        n_x, n_y = _n_rows(X), _n_rows(y)
        if n_x is not None and n_y is not None and n_x != n_y:
            raise DigitlabError(
                f"X has {n_x} rows but y has {n_y} labels; give exactly one label "
                "per row."
            )
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_all_finite=False, y_numeric=False
        )
        _check_finite(X)
        check_classification_targets(y)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DigitlabError(
                f"y holds only 1 class ({self.classes_[0]!r}); a classifier needs "
                "examples of at least 2 classes."
            )
        if k > X.shape[0]:
            name = "k" if self.n_neighbors is None else "n_neighbors"
            raise DigitlabError(
                f"{name}={k} is larger than the {X.shape[0]} training rows; choose "
                f"{name} between 1 and {X.shape[0]}."
            )
        self.n_neighbors_ = k
        self._picture_shape = picture_shape
        self._fit_X = X
        # What every ranking derives from the training rows, kept for all queries.
        self._fit_rows = FitRows(X)
        return self

    def _search_rows(self):
        rows = getattr(self, "_fit_rows", None)
        return rows if rows is not None and rows.X is self._fit_X else self._fit_X

    def _check_params(self) -> int:
        """Check the parameters; return the number of neighbors that vote."""
        for name in ("k", "n_neighbors"):
            value = getattr(self, name)
            if name == "n_neighbors" and value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or value < 1
            ):
                raise DigitlabError(
                    f"{name} must be a whole number of at least 1, got {value!r}."
                )
        if self.n_neighbors is not None and self.k not in (5, self.n_neighbors):
            raise DigitlabError(
                f"Got k={self.k} and n_neighbors={self.n_neighbors}; they are two "
                "names for one number (n_neighbors is scikit-learn's), so give only "
                "one of them."
            )
        check_weights(self.weights)
        check_metric(self.metric)
        return int(self.k if self.n_neighbors is None else self.n_neighbors)

    def _k(self) -> int:
        # Read at query time, as scikit-learn's KNeighborsClassifier does, so
        # set_params(k=...) on a fitted model takes effect at once.
        return self.k if self.n_neighbors is None else self.n_neighbors

    def _validate_X(self, X):
        if (
            type(X) is np.ndarray
            and X.dtype == np.float64
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == getattr(self, "n_features_in_", None)
            and getattr(self, "_fit_X", None) is not None
            and not hasattr(self, "feature_names_in_")
        ):
            # A float64 matrix of the right width for a fitted model (every web
            # request): what validate_data would give back, without its ~0.3 ms
            # of checks (check_is_fitted alone asks scikit-learn for tags).
            _check_finite(X)
            return X
        check_is_fitted(self)
        X = flatten_images(X, known_shape=getattr(self, "_picture_shape", None))
        X = validate_data(
            self, X, dtype=np.float64, reset=False, ensure_all_finite=False
        )
        _check_finite(X)
        return X

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The nearest training rows of each row of ``X``, nearest first.

        With ``X=None`` the training rows themselves are queried, each without
        itself (as in scikit-learn).

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Only when ``return_distance`` is true.
        indices : ndarray of shape (n_queries, n_neighbors)
            Row numbers into the training data.
        """
        k = self._k() if n_neighbors is None else n_neighbors
        if X is None:
            check_is_fitted(self)
            dist, ind = kneighbors(
                self._fit_X, self._fit_X, k, metric=self.metric, exclude_self=True
            )
        else:
            X = self._validate_X(X)
            dist, ind = kneighbors(self._search_rows(), X, k, metric=self.metric)
        return (dist, ind) if return_distance else ind

    def _votes(self, X):
        X = self._validate_X(X)
        dist, ind = kneighbors(self._search_rows(), X, self._k(), metric=self.metric)
        return vote(self._y[ind], dist, len(self.classes_), self.weights)

    def predict_proba(self, X):
        """Vote shares per class (columns in the order of ``classes_``)."""
        return self._votes(X)[0]

    def predict(self, X):
        """The label with the most votes; equal votes go to the smallest label."""
        predicted = self._votes(X)[1]
        return self.classes_[predicted]

    def prepare_pictures(self, pictures) -> np.ndarray:
        """Prepare pictures the way this model's training digits were.

        Parameters
        ----------
        pictures : iterable of str, Path, bytes, PIL.Image.Image or ndarray
            Picture files or pictures (see :func:`digitlab.prepare`).

        Returns
        -------
        ndarray of shape (n_pictures, n_features)
            One row per picture, prepared with this model's ``pipeline``.
        """
        from digitlab.preprocess import prepare_many

        if self.pipeline is None:
            raise DigitlabError(
                "This model does not know how its training digits were prepared "
                "(pipeline=None), so it cannot read pictures; fit it with "
                "KNN(pipeline='uci8x8') on the built-in digits."
            )
        return prepare_many(pictures, self.pipeline)

    def predict_pictures(self, pictures) -> np.ndarray:
        """The digit in each picture (prepared with this model's ``pipeline``).

        Examples
        --------
        >>> import numpy as np, digitlab
        >>> data = digitlab.load_digits()
        >>> model = digitlab.KNN(pipeline="uci8x8").fit(data.X, data.y)
        >>> paper = np.full((120, 90), 255, dtype=np.uint8)
        >>> paper[10:110, 40:50] = 0  # a black bar
        >>> model.predict_pictures([paper]).tolist()
        [1]
        """
        return self.predict(self.prepare_pictures(pictures))

    def save(self, path, *, force: bool = False, metadata: dict | None = None):
        """Write this fitted model to ``path`` (see :func:`save_model`)."""
        return save_model(self, path, force=force, metadata=metadata)


def _checksum(meta: dict, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _plain_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype == object:
        labels = labels.astype(str)
    return labels


def save_model(model: KNN, path, *, force: bool = False, metadata=None) -> Path:
    """Write a fitted model to a pickle-free ``.npz`` model file.

    Parameters
    ----------
    model : KNN or digitlab.recipes.RecipeModel
        A fitted model. A recipe model is stored as its recipe name, its parameters
        and its raw training arrays; :func:`load_model` rebuilds and refits it.
    path : str or Path
        The file to write. Its folder must exist.
    force : bool
        Overwrite an existing file. Without it an existing file is never touched.
    metadata : dict, optional
        Extra JSON-able facts to keep (data name, accuracy on the test split...).
        A KNN's number of neighbors is written as ``k`` whichever name set it
        (``KNN(n_neighbors=3)`` loads as ``KNN(k=3)``).

    Returns
    -------
    Path
        The path written.
    """
    check_is_fitted(model)
    estimator = type(model).__name__
    if estimator not in _ESTIMATOR_VERSIONS:
        raise DigitlabError(
            f"Cannot save a {estimator}: digitlab model files hold a digitlab.KNN or "
            "a recipe model (digitlab.recipes.RecipeModel); wrap other estimators "
            "in a recipe."
        )
    path = check_target(path, force=force)
    from digitlab import __version__

    params = model.get_params()
    if estimator == "KNN":
        # One name in the file, whichever was used: the file stays readable by
        # every digitlab that reads format 1 (they know ``k`` only).
        params["k"] = int(model._k())
        params.pop("n_neighbors", None)
    arrays = {
        "X": np.ascontiguousarray(model._fit_X),
        "y": _plain_labels(model.classes_[model._y]),
    }
    meta = {
        "format": "digitlab-model",
        "format_version": _ESTIMATOR_VERSIONS[estimator],
        "digitlab_version": __version__,
        "estimator": estimator,
        "params": params,
        "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_],
        "pipeline": model.pipeline,
        "metadata": metadata or {},
    }
    meta["checksum"] = _checksum(meta, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
    return write_bytes(path, buffer.getvalue(), force=force)


def load_model(path) -> KNN:
    """Read a model file written by :func:`save_model`.

    A recipe model is rebuilt from its recipe name and parameters and refitted on
    its stored training arrays; every recipe fits deterministically, so it predicts
    exactly as the saved one did.

    The file is opened with ``allow_pickle=False``. A file from a newer format
    version, a damaged file (bad checksum) or a file that is not a digitlab model
    is refused with a :class:`~digitlab.errors.DigitlabError` saying so.
    """
    path = Path(path)
    if not path.is_file():
        raise DigitlabError(f"Model file {str(path)!r} does not exist.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(str(arrays.pop("meta")))
    except Exception:
        raise DigitlabError(
            f"{str(path)!r} is not a digitlab model file; make one with "
            "`digitlab train --save PATH`."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != "digitlab-model":
        raise DigitlabError(
            f"{str(path)!r} is not a digitlab model file; make one with "
            "`digitlab train --save PATH`."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DigitlabError(
            f"{str(path)!r} was written by a newer digitlab (model format "
            f"{version}; this digitlab reads up to {FORMAT_VERSION}); upgrade "
            "digitlab to read it."
        )
    stored = meta.pop("checksum", None)
    if stored != _checksum(meta, arrays):
        raise DigitlabError(
            f"{str(path)!r} is damaged: its checksum does not match its contents; "
            "save the model again."
        )
    if meta.get("estimator") == "RecipeModel":
        from digitlab.recipes import RecipeModel

        model = RecipeModel(**meta["params"])
    else:
        model = KNN(**meta["params"])
    model.metadata_ = meta.get("metadata", {})
    return model.fit(arrays["X"], arrays["y"])
