"""Named recipes that do better than plain k-nearest neighbors.

A recipe is a named, described way to build a scikit-learn classifier from a few
JSON-able parameters: ``make_estimator("knn-shift")`` gives an unfitted estimator,
``RecipeModel("knn-shift")`` wraps it as one digitlab model that ``save_model`` can
write without pickle (the recipe's name, its parameters and the raw training
arrays; loading rebuilds the estimator and refits it, deterministically).

Everything that learns from data sits *inside* the fitted estimator: training-set
augmentation (:class:`Augmented`), deskewing (:class:`Deskew`), PCA and scaling are
steps of the estimator, so fitting on a split's training part is the only way they
ever see data, and the test part is only ever predicted.

Every neighbor-based recipe searches with :class:`digitlab.KNN`, digitlab's exact
ranking.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from digitlab.errors import DigitlabError
from digitlab.model import KNN, flatten_images

__all__ = [
    "Recipe",
    "RECIPES",
    "DEFAULT_RECIPES",
    "Augmented",
    "Deskew",
    "RecipeModel",
    "augment_images",
    "deskew_images",
    "get_recipe",
    "make_estimator",
    "recipe_names",
]


def _side(n_features: int) -> int:
    side = int(round(np.sqrt(n_features)))
    if side * side != n_features:
        raise DigitlabError(
            f"This recipe works on square pictures, but rows have {n_features} "
            "features (not a square number); use a plain recipe such as 'knn'."
        )
    return side


def _shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move every picture by whole pixels (dy, dx), filling the border with 0."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h + min(0, dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w + min(0, dx))
    out[:, dst_y, dst_x] = images[:, src_y, src_x]
    return out


def _affine(images: np.ndarray, *, angle: float = 0.0, dy: float = 0.0, dx=0.0):
    """Rotate each picture about its centre by ``angle`` degrees and move it."""
    from scipy import ndimage

    side = images.shape[1]
    a = np.deg2rad(angle)
    # affine_transform maps output coordinates to input coordinates
    matrix = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = np.full(2, (side - 1) / 2)
    offset = centre - matrix @ (centre + np.array([dy, dx]))
    return np.stack(
        [
            ndimage.affine_transform(img, matrix, offset=offset, order=1)
            for img in images
        ]
    )


_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))


def augment_images(X, *, shifts: int = 1, half_shifts: bool = False, angles=()):
    """The training rows plus shifted and rotated copies of each picture.

    Parameters
    ----------
    X : ndarray of shape (n_samples, side*side)
        Flat square pictures (the 8×8 digits: 64 features).
    shifts : int
        Add copies moved by 1..``shifts`` whole pixels up, down, left and right.
    half_shifts : bool
        Also add copies moved by half a pixel up, down, left and right (linear
        interpolation).
    angles : sequence of float
        Add copies rotated by each angle (degrees, about the picture's centre,
        linear interpolation).

    Returns
    -------
    ndarray of shape (n_samples * n_variants(...), side*side)
        The original rows first, then one block per variant, in a fixed order.

    Examples
    --------
    >>> augment_images(np.arange(4.0).reshape(1, 4)).reshape(-1, 2, 2)[1]
    array([[2., 3.],
           [0., 0.]])
    """
    X = np.asarray(X, dtype=np.float64)
    side = _side(X.shape[1])
    images = X.reshape(-1, side, side)
    blocks = [images]
    blocks += [
        _shift(images, s * dy, s * dx)
        for s in range(1, shifts + 1)
        for dy, dx in _MOVES
    ]
    if half_shifts:
        blocks += [_affine(images, dy=dy / 2, dx=dx / 2) for dy, dx in _MOVES]
    blocks += [_affine(images, angle=float(angle)) for angle in angles]
    # Round off interpolation dust (1e-16) so equal pictures give equal rows.
    return np.round(np.concatenate(blocks).reshape(-1, side * side), 9)


def n_variants(*, shifts: int = 1, half_shifts: bool = False, angles=()) -> int:
    """How many rows :func:`augment_images` makes of one training row."""
    return 1 + 4 * shifts + (4 if half_shifts else 0) + len(tuple(angles))


def deskew_images(X) -> np.ndarray:
    """Straighten slanted digits: shear each picture so its main axis is upright.

    The classic moment-based deskew: the shear ``cov(x, y) / var(y)`` of the
    picture's ink is undone about its centre of mass. Each picture is handled on
    its own, so nothing is learned from other pictures.
    """
    from scipy import ndimage

    X = np.asarray(X, dtype=np.float64)
    side = _side(X.shape[1])
    images = X.reshape(-1, side, side)
    out = np.empty_like(images)
    yy, xx = np.mgrid[:side, :side].astype(np.float64)
    for i, img in enumerate(images):
        total = img.sum()
        if total <= 0:
            out[i] = img
            continue
        cy, cx = (yy * img).sum() / total, (xx * img).sum() / total
        var_y = ((yy - cy) ** 2 * img).sum() / total
        cov = ((yy - cy) * (xx - cx) * img).sum() / total
        alpha = cov / var_y if var_y > 0 else 0.0
        # output (y, x) samples input (y, x + alpha (y - cy)): moves the slant out
        matrix = np.array([[1.0, 0.0], [alpha, 1.0]])
        centre = np.array([side / 2 - 0.5, side / 2 - 0.5])
        offset = np.array([cy, cx]) - matrix @ centre
        out[i] = ndimage.affine_transform(img, matrix, offset=offset, order=1)
    return out.reshape(len(X), -1)


class Deskew(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer that deskews flat square pictures.

    It learns nothing (``fit`` only records the feature count), so it can sit in
    front of any classifier in a :class:`~sklearn.pipeline.Pipeline`.
    """

    def fit(self, X, y=None):
        X = np.asarray(flatten_images(X), dtype=np.float64)
        _side(X.shape[1])
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        return deskew_images(flatten_images(X))


class Augmented(ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on the training rows plus shifted and rotated copies.

    The copies are made in :meth:`fit` from the rows given to ``fit`` — the
    training part — and never in :meth:`predict`, so the test part is never
    augmented and never seen while fitting.

    Parameters
    ----------
    estimator : classifier, default=None
        What is fitted on the augmented rows (cloned first); ``None`` is
        ``digitlab.KNN(k=1)``.
    shifts : int, default=1
        Copies moved by 1..``shifts`` whole pixels up, down, left and right.
    half_shifts : bool, default=False
        Also copies moved by half a pixel in the four directions.
    angles : tuple of float, default=(-10.0, 10.0)
        Rotated copies, degrees.

    Attributes
    ----------
    estimator_ : classifier
        The fitted copy of ``estimator``.
    n_augmented_ : int
        How many rows it was fitted on.
    """

    def __init__(
        self, estimator=None, *, shifts=1, half_shifts=False, angles=(-10.0, 10.0)
    ):
        self.estimator = estimator
        self.shifts = shifts
        self.half_shifts = half_shifts
        self.angles = angles

    def fit(self, X, y):
        """Augment the training rows ``X`` (with labels ``y``) and fit on them."""
        X = np.asarray(flatten_images(X), dtype=np.float64)
        y = np.asarray(y)
        rows = augment_images(
            X, shifts=self.shifts, half_shifts=self.half_shifts, angles=self.angles
        )
        inner = self.estimator if self.estimator is not None else KNN(1)
        self.estimator_ = clone(inner).fit(rows, np.tile(y, len(rows) // len(X)))
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = X.shape[1]
        self.n_augmented_ = len(rows)
        return self

    def predict(self, X):
        """Predict with the fitted estimator; ``X`` is not augmented."""
        check_is_fitted(self)
        return self.estimator_.predict(flatten_images(X))


# --------------------------------------------------------------------------- recipes


def _scaled(estimator):
    """Pixels 0..16 → 0..1 in front of ``estimator`` (learns nothing from data)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(_divide_by_16), estimator)


def _divide_by_16(X):
    return np.asarray(X, dtype=np.float64) / 16.0


def _knn(p):
    return KNN(p["k"], weights=p["weights"], metric=p["metric"])


def _knn_shift(p):
    return Augmented(
        KNN(p["k"], weights=p["weights"], metric=p["metric"]),
        shifts=p["shifts"],
        half_shifts=p["half_shifts"],
        angles=tuple(p["angles"]),
    )


def _knn_pca(p):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        PCA(p["n_components"], svd_solver="full"), KNN(p["k"], metric=p["metric"])
    )


def _knn_deskew(p):
    from sklearn.pipeline import make_pipeline

    return make_pipeline(Deskew(), KNN(p["k"], metric=p["metric"]))


def _svc(p):
    from sklearn.svm import SVC

    return SVC(C=p["C"], gamma=p["gamma"])


def _svc_shift(p):
    return Augmented(
        _svc(p), shifts=p["shifts"], half_shifts=p["half_shifts"], angles=p["angles"]
    )


def _logreg(p):
    from sklearn.linear_model import LogisticRegression

    return _scaled(LogisticRegression(C=p["C"], max_iter=p["max_iter"]))


def _mlp(p):
    from sklearn.neural_network import MLPClassifier

    return _scaled(
        MLPClassifier(
            hidden_layer_sizes=tuple(p["hidden"]),
            alpha=p["alpha"],
            learning_rate_init=p["learning_rate_init"],
            max_iter=p["max_iter"],
            random_state=p["random_state"],
        )
    )


@dataclass(frozen=True)
class Recipe:
    """A named way to build a classifier, with its default parameters.

    Attributes
    ----------
    name : str
        What users type: ``--recipe knn-shift``.
    description : str
        One line for ``digitlab compare --list``.
    defaults : dict
        JSON-able parameters; :meth:`build` takes overrides of these.
    neighbors : bool
        The recipe classifies with :class:`digitlab.KNN` (the kNN family).
    default : bool
        Part of the default ``digitlab compare`` run.
    """

    name: str
    description: str
    builder: Callable[[dict], BaseEstimator] = field(repr=False)
    defaults: dict = field(default_factory=dict)
    neighbors: bool = False
    default: bool = True

    def params(self, overrides: dict | None = None) -> dict:
        """The defaults updated with ``overrides``; unknown names are an error."""
        params = json.loads(json.dumps(self.defaults))
        for key, value in (overrides or {}).items():
            if key not in params:
                known = ", ".join(sorted(params)) or "none"
                raise DigitlabError(
                    f"Recipe {self.name!r} has no parameter {key!r}; its parameters "
                    f"are: {known}."
                )
            params[key] = value
        try:  # parameters travel in model files as JSON
            return json.loads(json.dumps(params))
        except TypeError:
            raise DigitlabError(
                f"Parameters of recipe {self.name!r} must be numbers, strings or "
                f"lists of them, got {overrides!r}."
            ) from None

    def build(self, overrides: dict | None = None) -> BaseEstimator:
        """A new, unfitted estimator for this recipe."""
        return self.builder(self.params(overrides))


_KNN1 = {"k": 1, "metric": "euclidean"}
_SVC = {"C": 1.0, "gamma": 0.002}  # chosen on seeds 100..109

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "knn",
            "k-nearest neighbors, k=1, one vote each: the lesson's model at its best k",
            _knn,
            {"k": 1, "weights": "uniform", "metric": "euclidean"},
            neighbors=True,
        ),
        Recipe(
            "knn-distance",
            "k-nearest neighbors, k=3, votes weighted by 1/distance",
            _knn,
            {"k": 3, "weights": "distance", "metric": "euclidean"},
            neighbors=True,
        ),
        Recipe(
            "knn-shift",
            "3-NN (distance-weighted) on the training digits plus copies moved by "
            "1 and ½ pixel and rotated ±10°",
            _knn_shift,
            {
                "k": 3,
                "weights": "distance",
                "metric": "euclidean",
                "shifts": 1,
                "half_shifts": True,
                "angles": [-10.0, 10.0],
            },
            neighbors=True,
        ),
        Recipe(
            "knn-pca",
            "1-NN on the first 30 principal components of the training digits",
            _knn_pca,
            {"n_components": 30, **_KNN1},
            neighbors=True,
        ),
        Recipe(
            "knn-deskew",
            "1-NN on deskewed digits (each picture sheared upright by its moments)",
            _knn_deskew,
            dict(_KNN1),
            neighbors=True,
        ),
        Recipe(
            "svc",
            "support vector machine, RBF kernel (C=1, gamma=0.002)",
            _svc,
            dict(_SVC),
        ),
        Recipe(
            "svc-shift",
            "RBF SVC (C=10, gamma=0.001) on the training digits plus copies moved by "
            "1 pixel",
            _svc_shift,
            {
                "C": 10.0,
                "gamma": 0.001,
                "shifts": 1,
                "half_shifts": False,
                "angles": [],
            },
        ),
        Recipe(
            "logreg",
            "logistic regression on pixels scaled to 0..1",
            _logreg,
            {"C": 1.0, "max_iter": 2000},
        ),
        Recipe(
            "mlp",
            "scikit-learn's multi-layer perceptron, one hidden layer of 100, seed 0",
            _mlp,
            {
                "hidden": [100],
                "alpha": 0.0001,
                "learning_rate_init": 0.01,
                "max_iter": 1000,
                "random_state": 0,
            },
            default=False,
        ),
    ]
}

DEFAULT_RECIPES = tuple(name for name, r in RECIPES.items() if r.default)


def recipe_names() -> list[str]:
    """All recipe names, in the order ``--list`` shows them."""
    return list(RECIPES)


@contextmanager
def recipe_fit_errors(name, X):
    """Turn a recipe that cannot be fitted on this data into one sentence.

    scikit-learn refuses some recipes on small data with its own ValueError
    (a PCA of 30 components on 4 features, more folds than rows...): the data
    is the user's, so that is a user mistake, named with the recipe.
    """
    try:
        yield
    except DigitlabError:
        raise
    except ValueError as exc:
        reason = (str(exc).strip().rstrip(".") or type(exc).__name__)[:200]
        shape = np.shape(X)
        raise DigitlabError(
            f"The recipe {getattr(name, 'name', name)!r} cannot be fitted on this "
            f"data ({shape[0]} rows of {shape[1] if len(shape) > 1 else '?'} "
            f"features): {reason}; choose another recipe for this data."
        ) from None


def get_recipe(name) -> Recipe:
    """The recipe called ``name`` (a :class:`Recipe` is returned as it is)."""
    if isinstance(name, Recipe):
        return name
    if name not in RECIPES:
        raise DigitlabError(
            f"Unknown recipe {name!r}; choose one of {', '.join(RECIPES)} "
            "(`digitlab compare --list` describes them)."
        )
    return RECIPES[name]


def make_estimator(name, params: dict | None = None) -> BaseEstimator:
    """A new, unfitted scikit-learn estimator for recipe ``name``.

    Examples
    --------
    >>> make_estimator("knn")
    KNN(k=1)
    """
    return get_recipe(name).build(params)


class RecipeModel(ClassifierMixin, BaseEstimator):
    """A recipe as one digitlab model: fit, predict, and save without pickle.

    It keeps the raw training rows it was fitted on, so :func:`digitlab.save_model`
    can store the recipe's name, its parameters and those arrays, and
    :func:`digitlab.load_model` can rebuild the estimator and refit it — the same
    model, because every recipe fits deterministically.

    Parameters
    ----------
    recipe : str, default="knn"
        A name from :data:`RECIPES`.
    params : dict or None, default=None
        Overrides of the recipe's default parameters.
    pipeline : str or None, default=None
        The picture preparation that made the training rows (``"uci8x8"``).

    Examples
    --------
    >>> import digitlab
    >>> split = digitlab.load_digits().split(test_size=0.2, seed=0)
    >>> model = RecipeModel("svc").fit(split.X_train, split.y_train)
    >>> round(float(model.score(split.X_test, split.y_test)), 4)
    0.9917
    """

    def __init__(self, recipe="knn", *, params=None, pipeline=None):
        self.recipe = recipe
        self.params = params
        self.pipeline = pipeline

    @property
    def description(self) -> str:
        return get_recipe(self.recipe).description

    def fit(self, X, y):
        """Build the recipe's estimator and fit it on ``X``, ``y``."""
        X = np.asarray(flatten_images(X), dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y):
            raise DigitlabError(
                f"X has shape {X.shape} but y has {len(y)} labels; give one flat "
                "row per label."
            )
        from threadpoolctl import threadpool_limits

        # One BLAS thread: the models are small and extra threads only wait on a
        # busy machine (logistic regression fitted 40× slower with two).
        with threadpool_limits(limits=1), recipe_fit_errors(self.recipe, X):
            self.estimator_ = make_estimator(self.recipe, self.params).fit(X, y)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        self._fit_X = X
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """The predicted label of each row of ``X``."""
        check_is_fitted(self)
        return self.estimator_.predict(flatten_images(X))

    def predict_proba(self, X):
        """Class shares (columns in the order of ``classes_``).

        The recipe's own probabilities where its estimator has them (the kNN
        recipes: vote shares); otherwise the predicted class gets all the weight.
        """
        check_is_fitted(self)
        X = flatten_images(X)
        if hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict_proba(X)
        predicted = self.estimator_.predict(X)
        return (predicted[:, None] == self.classes_[None, :]).astype(np.float64)
