"""What the web API does, as plain functions over the core (no FastAPI here).

Pictures arrive as bytes (an upload) or as data URLs (a canvas); they are opened
with Pillow and handed to :func:`digitlab.prepare`, the same preparation
``digitlab predict`` uses. Every user mistake is a
:class:`~digitlab.errors.DigitlabError` with one sentence; the app turns it into
a 4xx.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from digitlab.errors import DigitlabError
from digitlab.model import KNN
from digitlab.neighbors import vote

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_PIXELS",
    "MalformedRequest",
    "PictureTooLarge",
    "UnsupportedContentType",
    "check_label",
    "decode_data_url",
    "describe_model",
    "explain",
    "open_picture",
    "save_example",
]

#: The largest request body the server reads (a phone photo fits; a film does not).
MAX_UPLOAD_BYTES = 8 * 2**20
#: The largest picture (width × height) decoded: a guard against decompression bombs.
MAX_PIXELS = 40_000_000
FORMATS = "PNG, JPEG, BMP, GIF or WebP"
NO_INK = (
    "There is no ink in the picture: draw a digit first (or send a picture with "
    "a digit on it)."
)
_DATA_URL = re.compile(
    r"^data:(?P<type>[^;,]*)(?P<params>(;[^;,]*)*),(?P<data>.*)$", re.S
)
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PictureTooLarge(DigitlabError):
    """A picture or request body over the size limit (HTTP 413)."""

    status_code = 413


class MalformedRequest(DigitlabError):
    """A body that is not valid JSON (HTTP 400)."""

    status_code = 400


class UnsupportedContentType(DigitlabError):
    """A content type the API does not read (HTTP 415)."""

    status_code = 415


def decode_data_url(url: str) -> bytes:
    """The bytes inside a ``data:image/...;base64,...`` URL.

    Raises
    ------
    DigitlabError
        When ``url`` is not a base64 data URL or holds nothing.
    """
    if not isinstance(url, str):
        raise DigitlabError(
            "The image must be a data URL string like data:image/png;base64,...; "
            f"got {type(url).__name__}."
        )
    match = _DATA_URL.match(url.strip())
    if match is None:
        raise DigitlabError(
            "The image is not a data URL; send it as data:image/png;base64,... "
            "(what a canvas's toDataURL() gives)."
        )
    if ";base64" not in match["params"]:
        raise DigitlabError(
            "The image data URL is not base64-encoded; send it as "
            "data:image/png;base64,... (what a canvas's toDataURL() gives)."
        )
    payload = match["data"]
    if not payload.isascii() or any(c in payload for c in " \t\n\r\f\v"):
        payload = re.sub(r"\s+", "", payload)  # rare: spaces or line breaks inside
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DigitlabError(
            "The image data URL holds invalid base64; send the picture again "
            "exactly as toDataURL() gives it."
        ) from None
    if not data:
        raise DigitlabError(
            "The picture is empty (0 bytes); draw a digit or choose a picture file."
        )
    return data


def open_picture(data: bytes, *, name: str = "The upload"):
    """Open picture bytes with Pillow, fully decoded and size-checked.

    Raises
    ------
    DigitlabError
        Empty bytes, bytes that are not a picture, a damaged picture.
    PictureTooLarge
        A picture of more than :data:`MAX_PIXELS` pixels.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise DigitlabError(
            f"{name} is empty (0 bytes); draw a digit or choose a picture file."
        )
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise DigitlabError(
            f"{name} is not a picture; send a {FORMATS} file."
        ) from None
    except Image.DecompressionBombError:
        raise PictureTooLarge(
            f"{name} is too large to decode safely; send a picture of at most "
            f"{MAX_PIXELS:,} pixels."
        ) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PictureTooLarge(
            f"{name} is {width}×{height} pixels, more than the limit of "
            f"{MAX_PIXELS:,}; send a smaller picture."
        )
    if width == 0 or height == 0:
        raise DigitlabError(f"{name} is {width}×{height} pixels; it shows nothing.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PictureTooLarge(
            f"{name} is too large to decode safely; send a picture of at most "
            f"{MAX_PIXELS:,} pixels."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise DigitlabError(
            f"{name} is a damaged or truncated picture; save it again and resend it."
        ) from None
    return image


def _input_shape(n_features: int) -> tuple[int, int]:
    side = int(round(np.sqrt(n_features)))
    return (side, side) if side * side == n_features else (1, n_features)


def _is_builtin_digits(model) -> bool:
    from digitlab.data import load_digits

    fit_X = getattr(model, "_fit_X", None)
    if fit_X is None or fit_X.shape != (1797, 64):
        return False
    digits = load_digits()
    return bool(
        np.array_equal(fit_X, digits.X)
        and np.array_equal(model.classes_[model._y], digits.y)
    )


def _voting_knn(model) -> KNN | None:
    """The KNN whose neighbors decide, if they are the raw training digits.

    A plain :class:`KNN`, or a recipe model whose estimator is one (``knn``,
    ``knn-distance``). Recipes that transform or augment the digits first have
    no neighbors among the training digits to show.
    """
    if isinstance(model, KNN):
        return model
    estimator = getattr(model, "estimator_", None)
    if isinstance(estimator, KNN):
        return estimator
    return None


def _lesson_accuracy(model) -> tuple[float, str, int]:
    """A model fitted on all built-in digits has no test split of its own: score
    the same settings on the lesson's 80/20 split instead, and say so."""
    from digitlab.train import train

    recipe = getattr(model, "recipe", None)
    if recipe is not None:
        result = train(recipe=recipe)
    else:
        result = train(k=model.k, weights=model.weights, metric=model.metric)
    note = (
        f"The same settings fitted on the lesson's 80/20 split (seed 0) get "
        f"{result.n_correct} of {result.split.n_test} test digits right; the "
        "model served here is fitted on all 1,797 digits."
    )
    return result.accuracy, note, result.split.n_test


def describe_model(model) -> dict:
    """The facts ``GET /api/model`` shows about a fitted model."""
    meta = dict(getattr(model, "metadata_", None) or {})
    config = meta.get("config") or {}
    knn = _voting_knn(model)
    fit_X = getattr(model, "_fit_X", None)
    n_features = int(getattr(model, "n_features_in_", 64))
    n_train = int(fit_X.shape[0]) if fit_X is not None else int(meta.get("n_train", 0))
    recipe = getattr(model, "recipe", None) or config.get("recipe")
    if recipe is not None:
        from digitlab.recipes import get_recipe

        description = get_recipe(recipe).description
    else:
        description = (
            f"k-nearest neighbors, k={model.k}, {model.weights} votes, {model.metric}"
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
        "k": None if knn is None else int(knn.k),
        "weights": None if knn is None else knn.weights,
        "metric": None if knn is None else knn.metric,
        "pipeline": str(getattr(model, "pipeline", None) or "uci8x8"),
        "classes": [str(c) for c in model.classes_],
        "n_train": n_train,
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
    from digitlab import prepare

    info = info or describe_model(model)
    pipeline = info["pipeline"]
    try:
        row = prepare(picture, pipeline=pipeline)
    except DigitlabError as exc:
        # The page's words for prepare's "blank picture": the user sees a canvas.
        if "no ink" in str(exc).lower():
            raise DigitlabError(NO_INK) from None
        raise
    row = np.asarray(row, dtype=np.float64).ravel()
    X = row[None, :]
    classes = [str(c) for c in model.classes_]
    neighbors = []
    knn = _voting_knn(model)
    if knn is not None:
        # One ranking gives the neighbors and, counted by the shared vote rule,
        # exactly what knn.predict and knn.predict_proba would answer.
        dist, ind = knn.kneighbors(X)
        shares, winner = vote(knn._y[ind], dist, len(knn.classes_), knn.weights)
        shares, digit = shares[0], str(knn.classes_[int(winner[0])])
        classes = [str(c) for c in knn.classes_]
        labels = knn.classes_[knn._y[ind[0]]]
        ranked = zip(dist[0], ind[0], labels, strict=True)
        for rank, (d, i, label) in enumerate(ranked, start=1):
            neighbors.append(
                {
                    "rank": rank,
                    "index": int(i),
                    "label": str(label),
                    "distance": float(d),
                    "pixels": knn._fit_X[i].tolist(),
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


def check_label(label, classes) -> str:
    """``label`` as the folder name it is saved under, if the model knows it."""
    known = [str(c) for c in classes]
    text = str(label).strip() if isinstance(label, (str, int)) else None
    if isinstance(label, bool) or text not in known or not _SAFE_LABEL.match(text):
        shown = repr(label) if not isinstance(label, str) else repr(label[:40])
        raise DigitlabError(
            f"The label {shown} is not one of the model's labels; choose one of "
            f"{', '.join(known)}."
        )
    return text


def save_example(folder, label: str, image, classes) -> dict:
    """Save a labelled picture as ``<folder>/<label>/<timestamp>.png``.

    The file is written to a temporary name and linked into place, so an existing
    file is never overwritten (a second save in the same microsecond gets a
    ``-2`` suffix). The label must be one of ``classes`` and a plain name, so no
    path can leave ``folder``.

    Returns
    -------
    dict
        ``label``, ``path`` (relative to ``folder``), ``folder`` and ``count``
        (how many pictures that label's folder holds now).
    """
    label = check_label(label, classes)
    root = Path(folder).resolve()
    target_dir = (root / label).resolve()
    if target_dir.parent != root:
        raise DigitlabError(
            f"The examples folder for label {label!r} leads outside {str(root)!r}; "
            "remove that link or choose another --examples folder."
        )
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DigitlabError(
            f"Cannot create the examples folder {str(target_dir)!r} "
            f"({exc.strerror}); choose another --examples folder."
        ) from None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".digitlab-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(buffer.getvalue())
        for attempt in range(1, 1000):
            name = f"{stamp}.png" if attempt == 1 else f"{stamp}-{attempt}.png"
            path = target_dir / name
            try:
                os.link(tmp, path)  # fails if the name is taken: never overwrites
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - a thousand saves in one microsecond
            raise DigitlabError("Too many examples saved at once; try again.")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    count = sum(1 for p in target_dir.iterdir() if p.suffix == ".png")
    return {
        "label": label,
        "path": f"{label}/{path.name}",
        "folder": str(root),
        "count": count,
    }
