"""Recording from the CLI: ``--runs-db`` / ``--no-record`` and the deferred store.

What a run keeps of a result is the core's job (:mod:`digitlab.recording`,
:func:`digitlab.runs.run_from_result`); this module only decides *when* and
*where*: a command decorated with :func:`record_options` calls :func:`record`
once its result is computed, and the run is written after the command returned,
so its own output is printed first. ``digitlab runs rerun`` collects the runs
instead of storing them (:func:`capture_runs`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from dataclasses import dataclass

import click

from digitlab.cli.errors import UserError
from digitlab.cli.options import runs_db_option
from digitlab.errors import DigitlabError

_RECORDING_KEY = "digitlab.recording"
# Set by `digitlab runs rerun`: runs are collected here instead of being stored.
_RERUN_CAPTURE: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "digitlab_rerun_capture", default=None
)


@dataclass
class _Recording:
    started: float
    runs_db: str | None
    no_record: bool
    pending: object = None


def record_options(command):
    """``--runs-db PATH`` and ``--no-record``; stores the run after the command.

    The command function does not receive ``runs_db`` / ``no_record``. A crash
    records nothing, and a history that cannot be written gives a clear
    ``Error:`` (exit code 2) after the result was printed.
    """

    @functools.wraps(command)
    def wrapper(*args, runs_db=None, no_record=False, **kwargs):
        recording = _Recording(time.perf_counter(), runs_db, no_record)
        click.get_current_context().meta[_RECORDING_KEY] = recording
        try:
            result = command(*args, **kwargs)
        except SystemExit:
            # A command may report partial failures with an exit code after its
            # result was complete (predict: one unreadable file among many).
            _store(recording, report=lambda message: click.echo(message, err=True))
            raise
        _store(recording)
        return result

    wrapper = click.option(
        "--no-record",
        is_flag=True,
        help="Do not keep this run in the run history.",
    )(wrapper)
    return runs_db_option(wrapper)


def record(result, *, data=None, files=()) -> None:
    """Hand the running command's result to the run history (written when the
    command returns; not at all with ``--no-record``)."""
    from digitlab.runs import run_from_result

    recording = click.get_current_context().meta.get(_RECORDING_KEY)
    if recording is None:
        raise RuntimeError("record() needs a command decorated @record_options")
    recording.pending = run_from_result(
        result,
        data=data,
        files=[f for f in files if f],
        duration_s=time.perf_counter() - recording.started,
    )


def _store(recording: _Recording, report=None) -> None:
    run = recording.pending
    if run is None:
        return
    capture = _RERUN_CAPTURE.get()
    if capture is not None:
        capture.append(run)
        return
    if recording.no_record:
        return
    from digitlab.runs import RunStore

    try:
        with RunStore(recording.runs_db) as store:
            store.add(run)
    except DigitlabError as exc:
        message = f"The run was not recorded: {exc}"
        if report is None:
            raise UserError(message) from None
        report(f"Error: {message}")


@contextlib.contextmanager
def capture_runs():
    """Inside this block recorded runs are appended to the yielded list, not
    stored (``digitlab runs rerun`` compares them with the stored one)."""
    captured: list = []
    token = _RERUN_CAPTURE.set(captured)
    try:
        yield captured
    finally:
        _RERUN_CAPTURE.reset(token)
