"""The user's own labelled examples: checked labels, saved pictures, learning.

A drawing saved with its true label goes to ``<folder>/<label>/<timestamp>.png``,
never overwriting a file and never leaving ``folder``. Such a folder (one
subfolder per label) is read back by :func:`load_examples`, every picture
prepared exactly as the model's training digits; :func:`teach` and
:func:`learn_examples` add examples to a k-nearest-neighbors model, which
learns by adding rows (:meth:`digitlab.KNN.add_examples`): the next prediction
uses them.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from digitlab.errors import DigitlabError, notice, plural

__all__ = [
    "check_label",
    "learn_examples",
    "learner",
    "load_examples",
    "mark_examples",
    "save_example",
    "teach",
    "voting_knn",
    "NO_INK",
]

NO_INK = (
    "There is no ink in the picture: draw a digit first (or send a picture with "
    "a digit on it)."
)

# The picture modes Pillow writes as PNG as they are.
_PNG_MODES = ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA")
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
    if image.mode not in _PNG_MODES:  # e.g. a CMYK JPEG: PNG cannot hold it
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
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


def voting_knn(model):
    """The KNN whose neighbors decide, if they are the raw training digits.

    A plain :class:`KNN`, or a recipe model whose estimator is one (``knn``,
    ``knn-distance``). Recipes that transform or augment the digits first have
    no neighbors among the training digits to show.
    """
    from digitlab.model import KNN

    if isinstance(model, KNN):
        return model
    estimator = getattr(model, "estimator_", None)
    if isinstance(estimator, KNN):
        return estimator
    return None


def learner(model):
    """The k-nearest-neighbors model that learns ``model``'s examples.

    A :class:`~digitlab.model.KNN`, or a recipe model whose estimator is one
    (the ``knn`` and ``knn-distance`` recipes). Other models cannot learn a
    row without being fitted again, and are refused with a sentence.
    """
    knn = voting_knn(model)
    if knn is not None:
        return knn
    name = getattr(model, "recipe", None) or type(model).__name__
    raise DigitlabError(
        f"The model {name!r} does not decide by its nearest training digits, so it "
        "cannot learn from examples by adding them; use a k-nearest-neighbors "
        "model (the default model, or a knn recipe)."
    )


#: The copies each example of an 8×8 model is also learned as: slanted a
#: little both ways (straightened again for an ``upright8x8`` model, which
#: leaves 4 near copies of the example). With k=5, one example alone is 1 vote
#: of 5 and the training digits around it outvote it (a two-circle 8 taught as
#: 8 still read 9); with its 4 copies the same drawing reads as taught, and so
#: do the writer's other drawings of that digit. Copies this close stay near
#: the example, not among other digits.
EXAMPLE_VARIATIONS = tuple((slant, 1.0) for slant in (-0.1, -0.05, 0.05, 0.1))


def example_variations(model) -> tuple:
    """The variations each example of ``model`` is also learned as
    (:data:`EXAMPLE_VARIATIONS` for models of 8×8 digits, else none)."""
    from digitlab.preprocess import PIPELINES

    counts = model.pipeline in PIPELINES and PIPELINES[model.pipeline].shape == (8, 8)
    return EXAMPLE_VARIATIONS if counts else ()


def _add_rows(model, X: np.ndarray, y: np.ndarray) -> None:
    """Add examples to ``model`` (and to a recipe model's own copy of its
    training rows, so a saved recipe model keeps them)."""
    knn = learner(model)
    before = len(knn._fit_X)
    knn.add_examples(X, y, variations=example_variations(model))
    if knn is not model:
        added = knn._fit_X[before:]
        added_y = knn._y[before:]
        model._y = np.concatenate([model._y, added_y])
        model._fit_X = np.vstack([model._fit_X, added])


def mark_examples(model, n_examples: int, first_row: int) -> None:
    """Say that the rows of ``model`` from ``first_row`` on are the user's
    ``n_examples`` examples (with their copies), as they were before the model
    was saved and loaded (a model file keeps them as plain training rows)."""
    if n_examples == 0:
        return
    knn = learner(model)
    if not 0 <= first_row <= len(knn._fit_X):
        raise DigitlabError(
            f"Row {first_row} cannot start the examples of a model of "
            f"{len(knn._fit_X)} rows."
        )
    knn._n_fitted = first_row
    knn.n_examples_ = n_examples


def _class_of(label_text: str, classes) -> object:
    """The model's own class value whose text is ``label_text``."""
    for c in classes:
        if str(c) == label_text:
            return c
    raise DigitlabError(  # pragma: no cover - check_label accepted it
        f"The label {label_text!r} is not one of the model's labels."
    )


def load_examples(folder, *, pipeline="uci8x8", classes=None, missing_ok=False):
    """Read a folder of labelled examples: ``<folder>/<label>/<picture>``.

    Every picture is prepared with :func:`digitlab.prepare` and ``pipeline``,
    exactly as the training digits of a model with that pipeline. Unlike
    :func:`digitlab.load_folder` (training data), one label is enough, and
    pictures that cannot be read (damaged, not a picture, no ink) are skipped
    with a :class:`~digitlab.errors.DigitlabNotice` naming each, so one bad
    file in a folder that grows over time never stops a server or a command.

    Parameters
    ----------
    folder : str or Path
        The examples folder. Subfolders whose name starts with ``.`` and files
        that are not pictures (:data:`digitlab.preprocess.PICTURE_SUFFIXES`)
        are ignored.
    pipeline : str
        The model's picture preparation (``model.pipeline``).
    classes : sequence, optional
        The model's labels. Every subfolder name must be one of them (a
        subfolder such as ``seven/`` is refused with a sentence); the labels of
        the result are the model's own values (``7``, not ``"7"``).
    missing_ok : bool
        A missing folder, or one without pictures, gives 0 examples (what
        ``digitlab serve`` wants: it creates the folder on the first save).
        Without it both are refused with a sentence (the user named the folder
        to learn from).

    Returns
    -------
    digitlab.data.Dataset
        ``X`` (one prepared row per picture), ``y`` (the labels) and
        ``meta["paths"]``, the files in the order of the rows (labels sorted,
        files sorted by name in each label); ``meta["skipped"]`` lists the
        unreadable ones.
    """
    from digitlab.data import Dataset
    from digitlab.preprocess import PICTURE_SUFFIXES, pipeline_shape, prepare

    root = Path(folder).expanduser()
    shape = pipeline_shape(pipeline)
    n_features = int(np.prod(shape))
    if not root.exists():
        if not missing_ok:
            raise DigitlabError(
                f"The examples folder {str(root)!r} does not exist; give a folder "
                "with one subfolder of pictures per label (7/a.png, ...)."
            )
        subfolders = []
    elif not root.is_dir():
        raise DigitlabError(
            f"The examples folder {str(root)!r} is a file, not a folder; give a "
            "folder with one subfolder of pictures per label (7/a.png, ...)."
        )
    else:
        try:
            subfolders = sorted(
                p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        except OSError as exc:
            raise DigitlabError(
                f"Cannot read the examples folder {str(root)!r} ({exc.strerror}); "
                "check its permissions."
            ) from None
    labels_of = {str(c): c for c in classes} if classes is not None else None
    rows, labels, paths, skipped = [], [], [], []
    for sub in subfolders:
        if labels_of is not None and sub.name not in labels_of:
            raise DigitlabError(
                f"The examples folder {str(sub)!r} is not named after one of the "
                f"model's labels ({', '.join(labels_of)}); rename or remove it."
            )
        label = labels_of[sub.name] if labels_of is not None else sub.name
        try:
            files = sorted(
                p
                for p in sub.iterdir()
                if p.is_file()
                and not p.name.startswith(".")
                and p.suffix.lower() in PICTURE_SUFFIXES
            )
        except OSError as exc:
            raise DigitlabError(
                f"Cannot read the examples folder {str(sub)!r} ({exc.strerror}); "
                "check its permissions."
            ) from None
        for file in files:
            try:
                row = prepare(file, pipeline=pipeline)
            except Exception as exc:  # Pillow raises many kinds for a bad picture
                reason = str(exc).rstrip(".") or type(exc).__name__
                # prepare's sentences mostly name the file already.
                skipped.append(reason if str(file) in reason else f"{file} ({reason})")
                continue
            rows.append(np.asarray(row, dtype=np.float64).ravel())
            labels.append(label)
            paths.append(str(file))
    if skipped:
        notice(
            f"Skipped {plural(len(skipped), 'unreadable example picture')}: "
            + "; ".join(skipped[:5])
            + (" ..." if len(skipped) > 5 else ".")
        )
    if not rows and not missing_ok:
        raise DigitlabError(
            f"The examples folder {str(root)!r} holds no readable pictures; add "
            "pictures in one subfolder per label (7/a.png, ...)."
        )
    X = np.vstack(rows) if rows else np.empty((0, n_features))
    y = np.array(labels) if labels else np.empty(0, dtype=np.int64)
    return Dataset(
        X=X,
        y=y,
        images=X.reshape(len(X), *shape),
        source=str(root),
        description=f"the user's examples in {root.name or str(root)}",
        pipeline=pipeline,
        meta={"paths": paths, "skipped": skipped},
    )


def learn_examples(model, folder, *, missing_ok=False):
    """Add every example in ``folder`` to ``model``, in place.

    :func:`load_examples` with the model's pipeline and labels, then
    :meth:`digitlab.KNN.add_examples`. Returns the loaded examples
    (:class:`~digitlab.data.Dataset`).
    """
    knn = learner(model)
    if model.pipeline is None:
        raise DigitlabError(
            "This model does not know how its training digits were prepared "
            "(pipeline=None), so it cannot read examples."
        )
    examples = load_examples(
        folder, pipeline=model.pipeline, classes=knn.classes_, missing_ok=missing_ok
    )
    if len(examples):
        with _LEARNING:
            _add_rows(model, examples.X, examples.y)
    return examples


# One example at a time per process: two teaches at once would each extend the
# same rows and one would be lost.
_LEARNING = threading.Lock()


def prepare_drawing(picture, pipeline: str) -> np.ndarray:
    """``prepare(picture, pipeline=pipeline)`` as one float64 row; a blank
    picture is refused in the page's words (:data:`NO_INK`): the user sees a
    canvas, not a file."""
    from digitlab.preprocess import BlankPicture, prepare

    try:
        row = prepare(picture, pipeline=pipeline)
    except BlankPicture:
        raise DigitlabError(NO_INK) from None
    return np.asarray(row, dtype=np.float64).ravel()


def _as_image(picture):
    """A PIL image of ``picture`` (to save it as PNG)."""
    from PIL import Image

    if isinstance(picture, Image.Image):
        return picture
    if isinstance(picture, np.ndarray):
        a = picture
        if a.dtype != np.uint8:
            a = np.clip(np.round(a), 0, 255).astype(np.uint8)
        return Image.fromarray(a)
    if isinstance(picture, (bytes, bytearray)):
        image = Image.open(io.BytesIO(picture))
        image.load()
        return image
    with Image.open(picture) as image:
        image.load()
        return image


def teach_row(model, picture, label, *, folder=None):
    """:func:`teach`, also giving back the prepared row and its class index
    (what the web app's worker processes are sent to learn the same row)."""

    knn = learner(model)
    text = check_label(label, knn.classes_)
    value = _class_of(text, knn.classes_)
    if model.pipeline is None:
        raise DigitlabError(
            "This model does not know how its training digits were prepared "
            "(pipeline=None), so it cannot read pictures to learn from."
        )
    row = prepare_drawing(picture, model.pipeline).reshape(1, -1)
    saved = None
    if folder is not None:
        # Saved first: a picture that cannot be kept is not learned either.
        saved = save_example(folder, text, _as_image(picture), knn.classes_)
    with _LEARNING:
        _add_rows(model, row, np.array([value]))
        result = {
            "label": text,
            "n_examples": int(knn.n_examples_),
            "n_train": int(len(knn._fit_X)),
        }
    if saved is not None:
        result.update(saved)
    return result, row[0], int(np.searchsorted(knn.classes_, value))


def teach(model, picture, label, *, folder=None) -> dict:
    """Teach ``model`` one picture of ``label``: the next prediction uses it.

    The picture is prepared with the model's pipeline, exactly as its
    training digits, and added as a training row in place
    (:meth:`digitlab.KNN.add_examples`); with ``folder`` it is also saved as
    ``<folder>/<label>/<timestamp>.png`` (:func:`save_example`), so
    :func:`learn_examples` can learn it again later.

    Parameters
    ----------
    model : KNN, or a knn recipe model
        Fitted, with a ``pipeline``.
    picture : str, Path, bytes, PIL.Image.Image or ndarray
        Anything :func:`digitlab.prepare` accepts.
    label : str or int
        The digit it really shows; one of the model's labels.
    folder : str or Path, optional
        Where to save the picture.

    Returns
    -------
    dict
        ``label``, ``n_examples`` (how many examples the model holds now) and
        ``n_train`` (its training rows, examples included); with ``folder``
        also ``path`` (relative to the folder), ``folder`` and ``count`` (the
        pictures of that label saved there).

    Examples
    --------
    >>> import numpy as np, digitlab
    >>> data = digitlab.load_digits()
    >>> model = digitlab.KNN(k=1, pipeline="uci8x8").fit(data.X, data.y)
    >>> paper = np.full((120, 90), 255, dtype=np.uint8)
    >>> paper[10:110, 40:50] = 0  # a bar, read as a 1
    >>> teach(model, paper, 7)
    {'label': '7', 'n_examples': 1, 'n_train': 1802}
    >>> model.predict_pictures([paper]).tolist()
    [7]
    """
    return teach_row(model, picture, label, folder=folder)[0]
