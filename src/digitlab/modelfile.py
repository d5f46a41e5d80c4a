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
from digitlab.errors import DigitlabError
from digitlab.files import check_target, write_bytes
from digitlab.model import KNN
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
        model = RecipeModel(**meta["params"])
    else:
        model = KNN(**meta["params"])
    model.metadata_ = meta.get("metadata", {})
    return model.fit(arrays["X"], arrays["y"])
