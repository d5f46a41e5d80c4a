"""What a model decides about one picture, with its evidence.

The one ``explain`` behind the web page, the notebook's drawing pad and
``digitlab predict --show``: the picture is prepared by the model's own
pipeline, ranked once, and the same vote rule as ``predict`` counts the
neighbors' votes.
"""

from __future__ import annotations

import numpy as np

from digitlab.examples import NO_INK, prepare_drawing, voting_knn
from digitlab.neighbors import vote

__all__ = ["NO_INK", "describe_model", "explain"]


def _input_shape(n_features: int) -> tuple[int, int]:
    side = int(round(np.sqrt(n_features)))
    return (side, side) if side * side == n_features else (1, n_features)


def _is_builtin_digits(model) -> bool:
    from digitlab.data import load_digits

    fit_X = getattr(model, "_fit_X", None)
    # The user's examples (KNN.add_examples) come after the fitted rows.
    knn = voting_knn(model)
    n_fitted = getattr(knn, "_n_fitted", None) if knn is not None else None
    if fit_X is None or fit_X.shape[1] != 64:
        return False
    n_fitted = len(fit_X) if n_fitted is None else n_fitted
    if n_fitted != 1797:
        return False
    digits = load_digits()
    return bool(
        np.array_equal(fit_X[:n_fitted], digits.X)
        and np.array_equal(model.classes_[model._y[:n_fitted]], digits.y)
    )


def _n_examples(model) -> int:
    """How many of the user's examples the model holds (KNN.add_examples)."""
    knn = voting_knn(model)
    return int(getattr(knn, "n_examples_", 0)) if knn is not None else 0


def _lesson_accuracy(model) -> tuple[float, str, int]:
    """A model fitted on all built-in digits has no test split of its own: score
    the same settings on the lesson's 80/20 split instead, and say so."""
    from digitlab.train import train

    recipe = getattr(model, "recipe", None)
    if recipe is not None:
        result = train(recipe=recipe)
    else:
        result = train(k=model.n_neighbors_, weights=model.weights, metric=model.metric)
    note = (
        f"The same settings fitted on the lesson's 80/20 split (seed 0) get "
        f"{result.n_correct} of {result.split.n_test} test digits right; the "
        "model served here is fitted on all 1,797 digits."
    )
    return result.accuracy, note, result.split.n_test


def training_counts(model) -> dict:
    """``n_train``, ``n_examples`` and ``n_example_rows`` of a fitted model: its
    training rows, the user's examples it holds and the rows they added (each
    example with its copies). Counted from the model itself, so they stay
    right whichever of two teaches finishes first."""
    meta = getattr(model, "metadata_", None) or {}
    knn = voting_knn(model)
    fit_X = getattr(model, "_fit_X", None)
    n_train = int(fit_X.shape[0]) if fit_X is not None else int(meta.get("n_train", 0))
    return {
        "n_train": n_train,
        "n_examples": _n_examples(model),
        "n_example_rows": (
            n_train - int(getattr(knn, "_n_fitted", n_train)) if knn is not None else 0
        ),
    }


def describe_model(model) -> dict:
    """The facts ``GET /api/model`` shows about a fitted model."""
    meta = dict(getattr(model, "metadata_", None) or {})
    config = meta.get("config") or {}
    knn = voting_knn(model)
    fit_X = getattr(model, "_fit_X", None)
    n_features = int(getattr(model, "n_features_in_", 64))
    recipe = getattr(model, "recipe", None) or config.get("recipe")
    if recipe is not None:
        from digitlab.recipes import get_recipe

        description = get_recipe(recipe).description
    else:
        metric = model.metric
        if metric == "tangent":
            metric = "tangent distance (euclidean neighbors re-ranked)"
        description = (
            f"k-nearest neighbors, k={model.n_neighbors_}, {model.weights} votes, "
            f"{metric}"
        )
    accuracy = meta.get("accuracy")
    note = None
    if accuracy is not None:
        note = meta.get("accuracy_note") or (
            "Accuracy on the test split kept aside when this model was trained."
        )
    elif _is_builtin_digits(model):
        accuracy, note, meta["n_test"] = _lesson_accuracy(model)
    return {
        "data": str(meta.get("data") or config.get("data") or "digits"),
        "recipe": recipe,
        "description": description,
        "estimator": type(model).__name__,
        "k": None if knn is None else int(knn.n_neighbors_),
        "weights": None if knn is None else knn.weights,
        "metric": None if knn is None else knn.metric,
        "pipeline": str(getattr(model, "pipeline", None) or "uci8x8"),
        "classes": [str(c) for c in model.classes_],
        **training_counts(model),
        "learns_examples": knn is not None,
        "accuracy": None if accuracy is None else float(accuracy),
        "accuracy_note": note,
        "n_test": meta.get("n_test"),
        "input_shape": list(_input_shape(n_features)),
        "input_max": float(fit_X.max()) if fit_X is not None else 16.0,
    }


def explain(model, picture, *, info: dict | None = None) -> dict:
    """Prepare one picture and say what the model decides, with its evidence.

    Parameters
    ----------
    model : fitted digitlab model
    picture : PIL image, path or array
        Anything :func:`digitlab.prepare` accepts.
    info : dict, optional
        :func:`describe_model`'s answer, to skip recomputing it.

    Returns
    -------
    dict
        ``digit``, ``confidence``, ``votes`` (share per label), ``input`` (the
        model input as rows), ``input_max``, ``neighbors`` (nearest first) and
        ``pipeline``; the shape of :class:`digitlab.web.schemas.Prediction`.
    """
    info = info or describe_model(model)
    pipeline = info["pipeline"]
    row = prepare_drawing(picture, pipeline)
    X = row[None, :]
    classes = [str(c) for c in model.classes_]
    neighbors = []
    knn = voting_knn(model)
    if knn is not None:
        # One ranking gives the neighbors and, counted by the shared vote rule,
        # exactly what knn.predict and knn.predict_proba would answer.
        dist, ind = knn.kneighbors(X)
        shares, winner = vote(knn._y[ind], dist, len(knn.classes_), knn.weights)
        shares, digit = shares[0], str(knn.classes_[int(winner[0])])
        classes = [str(c) for c in knn.classes_]
        labels = knn.classes_[knn._y[ind[0]]]
        yours = knn.is_example(ind[0])
        ranked = zip(dist[0], ind[0], labels, yours, strict=True)
        for rank, (d, i, label, own) in enumerate(ranked, start=1):
            neighbors.append(
                {
                    "rank": rank,
                    "index": int(i),
                    "label": str(label),
                    "distance": float(d),
                    "pixels": knn._fit_X[i].tolist(),
                    "yours": bool(own),
                }
            )
        explained_by = "neighbors"
    else:
        digit = str(model.predict(X)[0])
        source = getattr(model, "estimator_", model)
        if hasattr(source, "predict_proba"):
            probabilities = np.asarray(source.predict_proba(X)[0], dtype=np.float64)
            by_label = dict(zip(map(str, source.classes_), probabilities, strict=True))
            shares = np.array([by_label.get(c, 0.0) for c in classes])
            explained_by = "probabilities"
        else:
            shares = np.array([1.0 if c == digit else 0.0 for c in classes])
            explained_by = "decision"
    votes = {c: float(v) for c, v in zip(classes, shares, strict=True)}
    rows, cols = info["input_shape"]
    return {
        "digit": digit,
        "confidence": votes[digit],
        "votes": votes,
        "input": row.reshape(rows, cols).tolist(),
        "input_max": info["input_max"],
        "neighbors": neighbors,
        "explained_by": explained_by,
        "pipeline": pipeline,
    }
