"""The ``digitlab`` command line: thin click commands over the core.

One module per command or group (``train``, ``sweep``, ``mistakes``,
``predict``, ``serve``, ``compare``, ``runs``); the options they share are
declared once in :mod:`~digitlab.cli.options`, the progress bar in
:mod:`~digitlab.cli.progress`, error and notice handling in
:mod:`~digitlab.cli.errors`, and recording a run (which the core does,
:func:`digitlab.runs.record`) is hooked in by :mod:`~digitlab.cli.record`.
Each command parses its options, calls the core, prints the result's lines and
records the run. Importing this package loads no scikit-learn, scipy,
matplotlib, FastAPI, Dask or faiss: commands import the core when they run.
"""

from __future__ import annotations

# Importing a command module registers its command on `main`.
from digitlab.cli import compare, mistakes, predict, runs, serve, sweep, train
from digitlab.cli.group import main

__all__ = ["main", "compare", "mistakes", "predict", "runs", "serve", "sweep", "train"]
