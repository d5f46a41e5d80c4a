"""The exceptions and notices digitlab raises for user mistakes.

Every user mistake becomes one :class:`DigitlabError` with one sentence that says
what was wrong and how to fix it. The CLI prints that sentence and exits with code
2; the web app answers it with a 4xx. Anything else is a bug in digitlab.
"""

from __future__ import annotations

__all__ = ["DigitlabError", "DigitlabNotice"]


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
