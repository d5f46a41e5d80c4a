"""Writing user files safely: never overwrite without ``force``, never half-write.

Every command that writes a file the user named (a report, a plot, a model) goes
through :func:`check_target` before doing any work, so a bad path fails fast, and
:func:`write_bytes` at the end, which writes a temporary file in the same folder
and moves it into place, so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from digitlab.errors import DigitlabError, os_error_sentence, os_errors

__all__ = ["check_target", "regular_file", "write_bytes"]


def regular_file(path, what: str = "file") -> Path:
    """``path`` when it is a file that can be read; else one sentence why not.

    A FIFO, socket or device is refused before it is opened: reading one
    would wait forever or never end.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should be, for the message (``"picture"``, ``"model file"``).

    Raises
    ------
    DigitlabError
        The path does not exist, is a folder, or is not a regular file.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DigitlabError(f"{str(path)!r}: no such {what}; check the path.") from None
    except OSError as exc:
        raise DigitlabError(os_error_sentence(exc, path)) from None
    if stat.S_ISDIR(mode):
        raise DigitlabError(f"{str(path)!r} is a folder, not a {what}.")
    if not stat.S_ISREG(mode):
        raise DigitlabError(
            f"{str(path)!r} is not a regular file (a pipe, socket or device); give "
            f"a {what} saved on disk."
        )
    return path


def check_target(path, *, force: bool = False) -> Path:
    """Refuse a path that cannot or must not be written, before any work is done.

    Parameters
    ----------
    path : str or Path
        The file the user asked for.
    force : bool
        Allow replacing an existing file.

    Returns
    -------
    Path

    Raises
    ------
    DigitlabError
        The folder does not exist, the path is a folder, or the file exists and
        ``force`` is false.
    """
    path = Path(path)
    folder = path.parent
    with os_errors(path, "write"):
        if folder.exists() and not folder.is_dir():
            raise DigitlabError(
                f"Cannot write {str(path)!r}: {str(folder)!r} is a file, not a "
                "folder; choose another path."
            )
    if not folder.is_dir():
        raise DigitlabError(
            f"Cannot write {str(path)!r}: the folder {str(folder)!r} does not "
            "exist; create it first or choose another path."
        )
    if path.is_dir():
        raise DigitlabError(
            f"Cannot write {str(path)!r}: it is a folder; give a file name instead."
        )
    if path.exists() and not force:
        raise DigitlabError(
            f"{str(path)!r} already exists; choose another name or add --force to "
            "overwrite it."
        )
    return path


def write_bytes(path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Without ``force`` an existing file is never touched, even one that appeared
    while the data was being written.
    """
    path = check_target(path, force=force)
    with os_errors(path, "write"):
        _write_via_temporary(path, data, force)
    return path


def _write_via_temporary(path: Path, data: bytes, force: bool) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".digitlab-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the file appeared meanwhile
            except FileExistsError:
                raise DigitlabError(
                    f"{str(path)!r} already exists; choose another name or add "
                    "--force to overwrite it."
                ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
