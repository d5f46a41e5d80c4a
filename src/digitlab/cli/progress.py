"""The one progress bar: rich, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys


class ProgressBar:
    """``with ProgressBar("Sweeping", enabled=not as_json) as bar:``.

    ``bar`` is ``None`` when no bar is shown (stderr is not a terminal, or
    ``enabled`` is false, or ``total`` is 0), so ``progress=bar and bar.update``
    hands the core no callback at all. :meth:`update` takes ``(done, total)``
    (what :func:`digitlab.sweep` reports), :meth:`tick` one finished step
    (``(recipe, split)`` from :func:`digitlab.compare`).
    """

    def __init__(self, description: str, *, enabled: bool = True, total=None):
        self.description, self.total = description, total
        self.enabled = enabled and sys.stderr.isatty() and total != 0
        self._bar = self._task = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def update(self, done: int, total: int) -> None:
        """``done`` of ``total`` steps are finished."""
        self._bar.update(self._task, completed=done, total=total)

    def tick(self, recipe, split) -> None:
        """One more step finished: ``recipe`` on split ``split``."""
        self._bar.update(self._task, advance=1, description=f"{recipe} split {split}")

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        return False


def default_model_with_progress():
    """:func:`digitlab.default_model`; the first time, say what is built and show
    a progress bar (on a terminal) while its training rows are drawn."""
    import click

    from digitlab.predict import default_model, default_model_ready

    if default_model_ready():
        return default_model()
    if sys.stderr.isatty():
        click.echo(
            "Building the default model once: the 1,797 built-in digits, turned, "
            "narrower and wider copies of them and 7s without their bar, all "
            "straightened; kept in the cache for the next runs.",
            err=True,
        )
    with ProgressBar("Drawing and straightening") as bar:
        return default_model(progress=bar and bar.update)
