"""How the CLI reports problems: user mistakes as one ``Error:`` line with exit
code 2, digitlab's notices as ``Note:`` lines, never a traceback.

:func:`friendly` is the one place a command's failures become that line: a
:class:`~digitlab.errors.DigitlabError`, an operating-system error the core did
not already name (one sentence with the path, by
:func:`digitlab.errors.os_error_sentence`), an ``EOFError`` from the core
(which click would otherwise take for the end of the terminal's input and
answer "Aborted!") and running out of memory.
"""

from __future__ import annotations

import functools
import warnings

import click

from digitlab.errors import DigitlabError, DigitlabNotice, os_error_sentence

EXIT_USER_ERROR = 2


class UserError(click.ClickException):
    """A user mistake: printed as one ``Error:`` line, exit code 2."""

    exit_code = EXIT_USER_ERROR


def _show_notice(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, DigitlabNotice):
        click.echo(f"Note: {message}", err=True)
    else:
        click.echo(f"Warning: {message}", err=True)


def friendly(command):
    """Turn digitlab's user errors into clean one-line errors with exit code 2,
    and its notices into ``Note:`` lines on stderr."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("always", DigitlabNotice)
            previous = warnings.showwarning
            warnings.showwarning = _show_notice
            try:
                return command(*args, **kwargs)
            except DigitlabError as exc:
                raise UserError(str(exc)) from None
            except OSError as exc:  # one the core did not name: still the user's
                raise UserError(os_error_sentence(exc)) from None
            except EOFError as exc:
                # From the core (numpy on an empty file, a pipe closed early), not
                # the terminal: click would print "Aborted!" and hide it.
                raise UserError(
                    "A file ended before digitlab could read all of it "
                    f"({str(exc).rstrip('.') or 'EOFError'}); check the files you "
                    "gave."
                ) from None
            except MemoryError:
                raise UserError(
                    "digitlab ran out of memory doing this; use less data or "
                    "smaller options."
                ) from None
            finally:
                warnings.showwarning = previous

    return wrapper
