"""How the CLI reports problems: user mistakes as one ``Error:`` line with exit
code 2, digitlab's notices as ``Note:`` lines, never a traceback."""

from __future__ import annotations

import functools
import warnings

import click

from digitlab.errors import DigitlabError, DigitlabNotice

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
            finally:
                warnings.showwarning = previous

    return wrapper
