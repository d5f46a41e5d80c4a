"""The k-nearest-neighbors classifier.

:class:`KNN` is a scikit-learn estimator (it passes ``check_estimator``) whose
neighbor search is digitlab's exact ranking (:mod:`digitlab.neighbors`), so the
numbers it gives are the ones every other digitlab command gives. Saving and
loading it (pickle-free model files) is :mod:`digitlab.modelfile`'s job.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from digitlab.errors import DigitlabError, notice, plural
from digitlab.neighbors import (
    FitRows,
    check_metric,
    check_weights,
    kneighbors,
    vote,
)

__all__ = ["KNN"]


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
        # Rows from here on are the user's examples (add_examples).
        self._n_fitted = X.shape[0]
        self.n_examples_ = 0
        return self

    def add_examples(self, X, y, *, variations=()):
        """Learn labelled examples by adding them as training rows, in place.

        The next prediction ranks them with the rest: k-nearest neighbors learns
        by remembering. They are kept after the rows given to ``fit`` (so an
        equal distance still goes to the earlier, fitted row) and counted in
        ``n_examples_``; :meth:`is_example` says which neighbors they are.
        A saved model stores them as ordinary training rows.

        Parameters
        ----------
        X : array-like of shape (n_examples, n_features)
            Rows prepared like the training rows (:meth:`prepare_pictures`).
        y : array-like of shape (n_examples,)
            Their labels; each must be one of ``classes_``.
        variations : sequence of (slant, width) pairs, default=()
            8×8 rows only: also add a copy of each example drawn with each
            variation (:func:`digitlab.augment.augment_digits`; prepared by
            the model's pipeline, :func:`digitlab.preprocess.from_counts`), so one
            example has neighbors of its own. ``n_examples_`` counts examples,
            not copies.

        Returns
        -------
        self : KNN

        Examples
        --------
        >>> import digitlab
        >>> data = digitlab.load_digits()
        >>> model = digitlab.KNN(k=1).fit(data.X[:100], data.y[:100])
        >>> _ = model.add_examples(data.X[100:101], data.y[100:101])
        >>> model.n_examples_, model.predict(data.X[100:101]).tolist()
        (1, [4])
        """
        check_is_fitted(self)
        X = flatten_images(
            np.asarray(X, dtype=np.float64),
            known_shape=getattr(self, "_picture_shape", None),
        )
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise DigitlabError(
                f"The examples are rows of {X.shape[-1]} numbers but the model's "
                f"training rows have {self.n_features_in_} features; prepare them "
                "like the training digits (model.prepare_pictures)."
            )
        X = self._validate_X(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise DigitlabError(
                f"{len(X)} example rows but {y.size} labels; give exactly one label "
                "per row."
            )
        known = np.isin(y, self.classes_)
        if not known.all():
            wrong = y[~known][0]
            raise DigitlabError(
                f"The label {wrong.item() if hasattr(wrong, 'item') else wrong!r} is "
                "not one of the model's labels; choose one of "
                f"{', '.join(str(c) for c in self.classes_)}."
            )
        n_new = len(X)
        if len(variations):
            from digitlab.augment import augment_digits
            from digitlab.preprocess import from_counts

            X, y = augment_digits(X, y, variations)
            # The copies are prepared as the examples were (straightened, for
            # an upright8x8 model).
            prepared = from_counts(X[n_new:], self.pipeline or "uci8x8")
            if prepared is not None:
                X[n_new:] = prepared
        rows = self._fit_rows.extended(X)
        # Requests may be ranking meanwhile (the web page): the labels grow
        # first, then the rows, so any row a ranking can return has its label.
        self._y = np.concatenate([self._y, np.searchsorted(self.classes_, y)])
        self.n_examples_ = self.n_examples_ + n_new
        self._fit_X = rows.X
        self._fit_rows = rows
        return self

    def is_example(self, indices) -> np.ndarray:
        """Whether each training row number is one of the added examples."""
        return np.asarray(indices) >= getattr(self, "_n_fitted", np.inf)

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
