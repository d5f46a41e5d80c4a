"""The user's own labelled examples: checked labels, saved pictures.

A drawing saved with its true label goes to ``<folder>/<label>/<timestamp>.png``,
never overwriting a file and never leaving ``folder``.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from digitlab.errors import DigitlabError

__all__ = ["check_label", "save_example"]

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
