"""The exceptions and notices digitlab raises for user mistakes.

Every user mistake becomes one :class:`DigitlabError` with one sentence that says
what was wrong and how to fix it. The CLI prints that sentence and exits with code
2; the web app answers it with a 4xx. Anything else is a bug in digitlab.

Something digitlab fixed for the user (pictures flattened, unreadable files
skipped) is a :class:`DigitlabNotice` warning issued by :func:`notice`: one plain
sentence pointing at the user's own line, shown once per line by Python's default
warning filter; the CLI prints it as one ``Note:`` line.

Operating-system errors (a file that cannot be read, a folder that cannot be
written) are user errors too: :func:`os_error_sentence` turns an
:class:`OSError` into the sentence, and :func:`os_errors` is the context manager
every place that touches a user's file reads and writes through.
"""

from __future__ import annotations

import errno
import os
import sys
import warnings
from contextlib import contextmanager

__all__ = [
    "DigitlabError",
    "DigitlabNotice",
    "notice",
    "os_error_sentence",
    "os_errors",
    "plural",
]


class DigitlabError(ValueError):
    """A user mistake: bad data, a bad option or a bad file.

    It subclasses :class:`ValueError` so that code written for scikit-learn, which
    expects ``ValueError`` for bad input, keeps working.
    """


class DigitlabNotice(UserWarning):
    """Something digitlab fixed for the user and wants them to know about.

    For example: 8×8 images given where flat rows were expected are flattened,
    with this notice saying so.
    """


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 picture"``, ``"2 pictures"``: a count with its noun in the right number.

    Parameters
    ----------
    n : int
    singular : str
    plural_form : str, optional
        When adding an ``s`` is wrong (``"pixel rows"``...); default ``singular + "s"``.

    Returns
    -------
    str
    """
    return f"{n} {singular if n == 1 else plural_form or singular + 's'}"


def _library_dirs() -> tuple[str, ...]:
    # Frames in these folders are not the user's: digitlab itself, and
    # scikit-learn when its code calls ours (ClassifierMixin.score, clone, ...).
    dirs = [os.path.dirname(os.path.abspath(__file__))]
    sklearn = sys.modules.get("sklearn")
    if sklearn is not None and getattr(sklearn, "__file__", None):
        dirs.append(os.path.dirname(os.path.abspath(sklearn.__file__)))
    return tuple(d + os.sep for d in dirs)


# (filename, lineno, message) of the notices shown under the "default" action.
# Python's own registry forgets them whenever any code changes the warning
# filters (scikit-learn does, inside fit), which would repeat a notice in a loop.
_SHOWN: set[tuple[str, int, str]] = set()


def _action_for(message: str, module: str, lineno: int) -> str:
    """The action Python's warning filters give a DigitlabNotice here."""
    for action, text, category, mod, line in warnings.filters:
        if (
            issubclass(DigitlabNotice, category)
            and (text is None or text.match(message))
            and (mod is None or mod.match(module))
            and (line == 0 or line == lineno)
        ):
            return action
    return warnings.defaultaction


def notice(message: str) -> None:
    """Warn with a :class:`DigitlabNotice` that points at the user's line.

    The warning's file and line are those of the first caller outside digitlab
    and scikit-learn, however deep inside them it was noticed. Under Python's
    default filter it is shown once per line of the user's code (also when
    that line runs in a loop); any other filter (``"always"``, ``"error"``,
    ``"ignore"``, pytest's) applies as usual.

    Parameters
    ----------
    message : str
        One plain sentence.
    """
    library = _library_dirs()
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and os.path.abspath(
        frame.f_code.co_filename
    ).startswith(library):
        frame = frame.f_back
        level += 1
    module = frame.f_globals.get("__name__", "")
    where = (frame.f_code.co_filename, frame.f_lineno, message)
    if _action_for(message, module, frame.f_lineno) == "default":
        if where in _SHOWN:
            return
        _SHOWN.add(where)
    warnings.warn(message, DigitlabNotice, stacklevel=level)


# What to do about each kind of operating-system error, as the end of a sentence.
_ADVICE = {
    errno.ENOENT: "it does not exist (any more); check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.EISDIR: "it is a folder; give a file instead",
    errno.EACCES: "permission denied; check its permissions or choose another path",
    errno.EPERM: "the operation is not permitted; check its permissions or "
    "choose another path",
    errno.EROFS: "the file system is read-only; choose another place",
    errno.ENOSPC: "the disk is full; free some space or choose another place",
    errno.EDQUOT: "the disk quota is used up; free some space or choose another place",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
    errno.ELOOP: "it is a loop of symbolic links; check the path",
    errno.EIO: "the device reported an input/output error; check the disk or "
    "choose another path",
    errno.EINVAL: "the system cannot do that with this path; choose another path",
    errno.EMFILE: "too many files are open; close some programs and try again",
}


def os_error_sentence(exc: OSError, path=None, action: str = "read") -> str:
    """One sentence for an operating-system error: the path, why, what to do.

    Parameters
    ----------
    exc : OSError
        The error the system raised.
    path : str or Path, optional
        The user's path; default the one the error names.
    action : str
        What digitlab tried to do (``"read"``, ``"write"``, ``"create"``...).

    Examples
    --------
    >>> os_error_sentence(IsADirectoryError(21, "Is a directory", "/tmp"))
    "Cannot read '/tmp': it is a folder; give a file instead."
    """
    named = None if exc.filename is None else os.fspath(exc.filename)
    if path is None:
        path = named if named is not None else "a file"
    elif named is not None and str(named).startswith(
        str(os.fspath(path)).rstrip(os.sep) + os.sep
    ):
        path = named  # something inside the user's folder: name it exactly
    advice = _ADVICE.get(exc.errno)
    if exc.errno == errno.ENOENT and action != "read":
        advice = "its folder does not exist or cannot hold files; choose another place"
    if advice is None:
        reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
        advice = f"{reason[:1].lower()}{reason[1:]}; check the path and try again"
    return f"Cannot {action} {os.fspath(path)!r}: {advice}."


@contextmanager
def os_errors(path=None, action: str = "read"):
    """Turn an :class:`OSError` raised inside into one :class:`DigitlabError`.

    Examples
    --------
    >>> with os_errors("missing.csv"):  # doctest: +SKIP
    ...     open("missing.csv").read()
    Traceback (most recent call last):
    DigitlabError: Cannot read 'missing.csv': it does not exist (any more); ...
    """
    try:
        yield
    except OSError as exc:
        raise DigitlabError(os_error_sentence(exc, path, action)) from None
