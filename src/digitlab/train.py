"""The lesson's five steps as one call: load, split, fit, predict, score.

:func:`train` is what ``digitlab train`` runs; the CLI only prints its result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitlab.data import Dataset, Split, load_digits
from digitlab.errors import DigitlabError
from digitlab.model import KNN

__all__ = ["train", "TrainResult", "format_score"]


def format_score(value: float) -> str:
    """An accuracy for people: up to 4 decimals, no trailing zeros (0.975)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


@dataclass
class TrainResult:
    """A fitted model with the split it was tested on and its test scores."""

    model: KNN  # or a digitlab.recipes.RecipeModel
    data: Dataset
    split: Split
    y_pred: np.ndarray
    #: The user's examples that joined the training part (``examples=``).
    examples: Dataset | None = None

    @property
    def n_correct(self) -> int:
        return int(np.sum(self.y_pred == self.split.y_test))

    @property
    def accuracy(self) -> float:
        return self.n_correct / self.split.n_test

    def per_class_accuracy(self) -> dict[str, float]:
        """Share of each true label's test digits predicted right."""
        out = {}
        y_test = self.split.y_test
        for label in np.unique(y_test):
            mask = y_test == label
            out[str(label)] = float(np.mean(self.y_pred[mask] == label))
        return out

    def config(self) -> dict:
        """The settings that reproduce this result."""
        config = self._config()
        if self.examples is not None:
            config["examples"] = self.examples.source
        return config

    def _config(self) -> dict:
        m = self.model
        if not isinstance(m, KNN):  # a recipe model
            return {
                "data": self.data.source,
                "test_size": self.split.test_size,
                "seed": self.split.seed,
                "stratify": self.split.stratify,
                "recipe": m.recipe,
                "params": m.params,
            }
        return {
            "data": self.data.source,
            "test_size": self.split.test_size,
            "seed": self.split.seed,
            "stratify": self.split.stratify,
            "k": m.n_neighbors_,
            "weights": m.weights,
            "metric": m.metric,
        }

    def save(self, path, *, force: bool = False):
        """Write the fitted model to ``path`` (``.npz`` + JSON, no pickle) with
        what it was trained on and its test accuracy; returns the path written.
        An existing file is only replaced with ``force``."""
        metadata = {
            "data": self.data.source,
            "accuracy": self.accuracy,
            "config": self.config(),
        }
        from digitlab.modelfile import save_model

        return save_model(self.model, path, force=force, metadata=metadata)

    def to_dict(self) -> dict:
        """Everything ``digitlab train --json`` prints."""
        from digitlab._version import __version__

        out = {
            "config": self.config(),
            "n_train": self.split.n_train,
            "n_test": self.split.n_test,
            "accuracy": self.accuracy,
            "n_correct": self.n_correct,
            "per_class_accuracy": self.per_class_accuracy(),
            "version": __version__,
        }
        if self.examples is not None:  # (absent otherwise: older runs match)
            out["n_examples"] = len(self.examples)
        return out

    def lines(self) -> list[str]:
        """The four lines ``digitlab train`` prints."""
        s, m = self.split, self.model
        return [
            f"Data: {self.data.summary()}",
            f"Split: test_size={s.test_size} ({s.n_test} test / {s.n_train} train), "
            f"seed {s.seed}" + (", stratified" if s.stratify else ""),
            (
                f"Model: k-nearest neighbors, k={m.n_neighbors_}, {m.weights} votes, "
                f"{m.metric}"
                if isinstance(m, KNN)
                else f"Model: recipe {m.recipe}: {m.description}"
            ),
            *self._examples_lines(),
            f"Accuracy: {format_score(self.accuracy)} ({self.n_correct} of "
            f"{s.n_test} test digits right)",
        ]

    def _examples_lines(self) -> list[str]:
        if self.examples is None:
            return []
        n = len(self.examples)
        return [
            f"Examples: {n} of yours from {self.examples.source} joined the train "
            "part (never the test part)"
        ]

    def __repr__(self) -> str:
        return "\n".join(self.lines())


def train(
    data: Dataset | None = None,
    *,
    test_size: float | int = 0.2,
    seed: int | None = 0,
    stratify: bool = False,
    k: int = 5,
    weights: str = "uniform",
    metric: str = "euclidean",
    recipe: str | None = None,
    examples=None,
) -> TrainResult:
    """Split ``data``, fit a :class:`~digitlab.model.KNN`, and score it.

    With no arguments this is the lesson: scikit-learn's digits, a 80/20 split with
    seed 0, five neighbors, accuracy 0.975.

    ``recipe`` (a name from :data:`digitlab.recipes.RECIPES`, e.g. ``"svc-shift"``)
    fits that recipe instead of the k-nearest-neighbors model; ``k``, ``weights``
    and ``metric`` are then not used.

    ``examples`` (a folder of the user's labelled pictures, ``<label>/<file>``,
    read by :func:`digitlab.examples.load_examples` with the data's pipeline)
    join the train part only, never the test part, so the accuracy is still
    measured on digits the model has not seen. A k-nearest-neighbors model
    learns them as :func:`digitlab.examples.teach` does (each with a few
    slightly slanted copies); other recipes are fitted on the train part and
    the examples together. A saved model keeps them as plain training rows.

    Examples
    --------
    >>> result = train()
    >>> result.accuracy, result.n_correct
    (0.975, 351)
    """
    data = load_digits() if data is None else data
    split = data.split(test_size=test_size, seed=seed, stratify=stratify)
    if recipe is not None:
        from digitlab.recipes import RecipeModel, get_recipe

        get_recipe(recipe)  # an unknown name is a clear error before any work
        model = RecipeModel(recipe, pipeline=data.pipeline)
    else:
        model = KNN(k, weights=weights, metric=metric, pipeline=data.pipeline)
    learned = None
    if examples is not None:
        learned = _load_examples(examples, data)
    model.fit(split.X_train, split.y_train)
    if learned is not None and len(learned):
        from digitlab.examples import _add_rows, learner

        try:
            learner(model)
        except DigitlabError:  # not a nearest-neighbors model: fitted again
            model.fit(
                np.vstack([split.X_train, learned.X]),
                np.concatenate([split.y_train, learned.y]),
            )
        else:
            _add_rows(model, learned.X, learned.y)
    return TrainResult(
        model=model,
        data=data,
        split=split,
        y_pred=model.predict(split.X_test),
        examples=learned,
    )


def _load_examples(examples, data: Dataset) -> Dataset:
    from digitlab.examples import load_examples

    if isinstance(examples, Dataset):
        return examples
    if data.pipeline is None:
        raise DigitlabError(
            f"The data {data.source!r} does not say how its pictures were prepared "
            "(no pipeline), so pictures of your examples cannot be prepared like "
            "them; give --pipeline or leave out --examples."
        )
    return load_examples(examples, pipeline=data.pipeline, classes=data.classes)
