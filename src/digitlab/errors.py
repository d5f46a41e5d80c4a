"""The exceptions and notices digitlab raises for user mistakes.

Every user mistake becomes one :class:`DigitlabError` with one sentence that says
what was wrong and how to fix it. The CLI prints that sentence and exits with code
2; the web app answers it with a 4xx. Anything else is a bug in digitlab.

Something digitlab fixed for the user (pictures flattened, unreadable files
skipped) is a :class:`DigitlabNotice` warning issued by :func:`notice`: one plain
sentence pointing at the user's own line, shown once per line by Python's default
warning filter; the CLI prints it as one ``Note:`` line.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["DigitlabError", "DigitlabNotice", "notice", "plural"]


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
