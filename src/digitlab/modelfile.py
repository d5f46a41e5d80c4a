"""Model files: saving and loading digitlab models without pickle.

A model file is an ``.npz`` archive holding the training arrays and one JSON
document of metadata (format version, parameters, classes, the picture
preparation, a checksum). It is read with ``allow_pickle=False``: opening a
model file never runs code.

This module sits above the estimators: it imports :mod:`digitlab.model` and
:mod:`digitlab.recipes` (to rebuild a :class:`~digitlab.model.KNN` or a
:class:`~digitlab.recipes.RecipeModel`), and neither of them imports it, so
the estimators have no ``save`` method: ``save_model(model, path)`` writes one.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from digitlab._version import __version__
from digitlab.errors import DigitlabError, os_errors
from digitlab.files import check_target, regular_file, write_bytes
from digitlab.model import KNN
from digitlab.preprocess import PIPELINES
from digitlab.recipes import RecipeModel

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

FORMAT_VERSION = 2
# Version 1: a KNN (parameters + training arrays). Version 2 adds recipe models
# (digitlab.recipes.RecipeModel: recipe name, parameters + the raw training arrays,
# refitted on load). A KNN is still written as version 1, which older readers know.
_ESTIMATOR_VERSIONS = {"KNN": 1, "RecipeModel": 2}


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


def _params(model, estimator: str) -> dict:
    params = model.get_params()
    if estimator == "KNN":
        # One name in the file, whichever was used: the file stays readable by
        # every digitlab that reads format 1 (they know ``k`` only).
        params["k"] = int(model._k())
        params.pop("n_neighbors", None)
    return params


def save_model(model, path, *, force: bool = False, metadata=None) -> Path:
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
    arrays = {
        "X": np.ascontiguousarray(model._fit_X),
        "y": _plain_labels(model.classes_[model._y]),
    }
    meta = {
        "format": "digitlab-model",
        "format_version": _ESTIMATOR_VERSIONS[estimator],
        "digitlab_version": __version__,
        "estimator": estimator,
        "params": _params(model, estimator),
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
    if not path.exists():
        raise DigitlabError(f"Model file {str(path)!r} does not exist.")
    regular_file(path, "model file")
    meta, arrays = _read(path)
    return _rebuild(path, _validated(path, meta, arrays), arrays)


def _not_a_model(path: Path) -> DigitlabError:
    return DigitlabError(
        f"{str(path)!r} is not a digitlab model file; make one with "
        "`digitlab train --save PATH`."
    )


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a model file; the file is closed in every case."""
    try:
        with os_errors(path), open(path, "rb") as fh:
            with np.load(fh, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            meta = json.loads(str(arrays.pop("meta")))
    except DigitlabError:
        raise
    except Exception:  # numpy, zipfile, zlib and json each raise their own kind
        raise _not_a_model(path) from None
    if not isinstance(meta, dict) or meta.get("format") != "digitlab-model":
        raise _not_a_model(path)
    return meta, arrays


def _validated(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> dict:
    """``meta`` once everything in the file is what :func:`save_model` writes.

    Run once on every load, after the version and checksum: a file can pass
    the checksum and still not be what digitlab writes (written by hand, or by
    a buggy tool); each such difference is one sentence naming the file.
    """
    name = str(path)
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DigitlabError(
            f"{name!r} has the model format version {version!r}, not a whole number "
            "from 1; save the model again."
        )
    if version > FORMAT_VERSION:
        raise DigitlabError(
            f"{name!r} was written by a newer digitlab (model format "
            f"{version}; this digitlab reads up to {FORMAT_VERSION}); upgrade "
            "digitlab to read it."
        )
    stored = meta.pop("checksum", None)
    if stored != _checksum(meta, arrays):
        raise DigitlabError(
            f"{name!r} is damaged: its checksum does not match its contents; "
            "save the model again."
        )

    def wrong(what: str) -> DigitlabError:
        return DigitlabError(
            f"{name!r} is not a model digitlab wrote: {what}; save the model again "
            "with `digitlab train --save PATH`."
        )

    estimator = meta.get("estimator")
    if estimator not in _ESTIMATOR_VERSIONS:
        raise wrong(
            f"its estimator {str(estimator)[:40]!r} is not one of "
            f"{', '.join(_ESTIMATOR_VERSIONS)}"
        )
    if _ESTIMATOR_VERSIONS[estimator] > version:
        raise wrong(
            f"a {estimator} needs model format {_ESTIMATOR_VERSIONS[estimator]}"
        )
    params = meta.get("params")
    if not isinstance(params, dict):
        raise wrong("its parameters are not a JSON object")
    known = (KNN if estimator == "KNN" else RecipeModel)().get_params()
    unknown = sorted(str(k) for k in params if k not in known)
    if unknown:
        raise wrong(
            f"{estimator} has no parameter {unknown[0][:40]!r} (it has "
            f"{', '.join(known)})"
        )
    if estimator == "RecipeModel":
        from digitlab.recipes import RECIPES

        recipe = params.get("recipe", known["recipe"])
        if not isinstance(recipe, str) or recipe not in RECIPES:
            raise wrong(
                f"its recipe {str(recipe)[:40]!r} does not exist (the recipes are "
                f"{', '.join(RECIPES)})"
            )
        if params.get("params") is not None and not isinstance(params["params"], dict):
            raise wrong("its recipe parameters are not a JSON object")
    expected = {"X", "y"}
    if set(arrays) != expected:
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        raise wrong(
            f"it has no array {missing[0]!r}"
            if missing
            else f"it holds an unknown array {extra[0][:40]!r}"
        )
    X, y = arrays["X"], arrays["y"]
    if X.dtype.kind not in "fiu" or X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise wrong(
            f"its training rows X are {X.dtype} of shape {X.shape}, not numbers of "
            "shape (rows, features)"
        )
    if y.dtype.kind not in "iuU" or y.shape != (X.shape[0],):
        raise wrong(
            f"its labels y are {y.dtype} of shape {y.shape}, not one whole number or "
            f"text per row of X ({X.shape[0]} rows)"
        )
    if not np.all(np.isfinite(X)):
        raise wrong("its training rows X hold values that are not finite numbers")
    pipeline = meta.get("pipeline")
    if params.get("pipeline", pipeline) != pipeline:
        raise wrong(
            f"its pipeline {pipeline!r} differs from its parameters' "
            f"{params.get('pipeline')!r}"
        )
    if pipeline is not None:
        if pipeline not in PIPELINES:
            raise wrong(
                f"its picture preparation {str(pipeline)[:40]!r} is not one of "
                f"{', '.join(PIPELINES)}"
            )
        height, width = PIPELINES[pipeline].shape
        if X.shape[1] != height * width:
            raise wrong(
                f"its rows have {X.shape[1]} features, but the {pipeline} "
                f"preparation makes {height * width}"
            )
    classes = meta.get("classes")
    stored = [c.item() for c in np.unique(y)]
    if not isinstance(classes, list) or classes != stored:
        raise wrong(
            f"its classes {str(classes)[:60]} are not the labels in y "
            f"({str(stored)[:60]})"
        )
    if not isinstance(meta.get("metadata", {}), dict):
        raise wrong("its metadata is not a JSON object")
    return meta


def _rebuild(path: Path, meta: dict, arrays: dict[str, np.ndarray]):
    """The model a validated file describes, fitted on its stored arrays."""
    cls = RecipeModel if meta["estimator"] == "RecipeModel" else KNN
    try:
        model = cls(**meta["params"])
        model.metadata_ = meta.get("metadata", {})
        return model.fit(arrays["X"], arrays["y"])
    except (TypeError, ValueError) as exc:  # DigitlabError and sklearn's own
        reason = (str(exc).strip().rstrip(".") or type(exc).__name__)[:200]
        raise DigitlabError(
            f"{str(path)!r} holds a model digitlab cannot rebuild ({reason}); save "
            "the model again with `digitlab train --save PATH`."
        ) from None
