"""The options commands share, each declared once, and how results are printed."""

from __future__ import annotations

import functools
import json

import click

from digitlab.cli.errors import UserError
from digitlab.errors import DigitlabError
from digitlab.neighbors import BACKENDS, METRICS, WEIGHTS


class TestSize(click.ParamType):
    """A share in (0, 1) like 0.2, or a whole count of test rows like 300."""

    name = "SHARE|COUNT"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return value
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            self.fail(
                f"{value!r} is not a number; use a share like 0.2 or a count like 300.",
                param,
                ctx,
            )


def _apply(command, decorators):
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def data_option(command):
    """``--data`` and how to read it (``--labels``, ``--pipeline``, ``--skip-bad``),
    and where neighbors are ranked (``--backend``, ``--dask``).

    The command receives one ``data`` argument: a string (the ``--data`` value)
    that also carries the three reading options, which
    :func:`digitlab.data.load_data` reads; the command runs inside
    :func:`digitlab.neighbors.use` so every ranking it does uses ``--backend``
    and ``--dask`` (and a recorded run's command line names them). So every
    command that calls ``load_data(data)`` gets all of this without extra
    parameters.
    """

    @functools.wraps(command)
    def wrapper(*args, data, labels, pipeline, skip_bad, backend, dask, **kwargs):
        from digitlab.data import DataSpec
        from digitlab.neighbors import use
        from digitlab.recording import compute_options

        spec = DataSpec(data, labels=labels, pipeline=pipeline, skip_bad=skip_bad)
        try:
            with use(backend=backend, dask=dask), compute_options(backend, dask):
                return command(*args, data=spec, **kwargs)
        except DigitlabError as exc:
            raise UserError(str(exc)) from None

    return _apply(
        wrapper,
        [
            click.option(
                "--data",
                default="digits",
                show_default=True,
                metavar="DATA",
                help="The data: 'digits' (scikit-learn's built-in 8×8 digits), a "
                "folder with one subfolder of pictures per label, an IDX file "
                "(gzip or raw, e.g. MNIST's t10k-images-idx3-ubyte.gz), a .csv "
                "or an .npz with X and y.",
            ),
            click.option(
                "--labels",
                default=None,
                metavar="PATH|COLUMN",
                help="IDX: the labels file (default: found beside the images). "
                "CSV: the label column, by name or 0-based index (default: a "
                "column named label/target/class/digit/y, else the first).",
            ),
            click.option(
                "--pipeline",
                default=None,
                metavar="NAME",
                help="Folders of pictures: how a picture becomes a row: 'pixels' "
                "(gray values as they are, the default), 'mnist28' or 'uci8x8' "
                "(the predict preparations).",
            ),
            click.option(
                "--skip-bad",
                is_flag=True,
                help="Folders of pictures: skip unreadable pictures (named in a "
                "note) instead of stopping.",
            ),
            click.option(
                "--backend",
                type=click.Choice(BACKENDS),
                default=None,
                help="Neighbor search: numpy (the default), or faiss (the 'fast' "
                "extra; exact, identical results).",
            ),
            click.option(
                "--dask",
                default=None,
                metavar="ADDRESS|local:N",
                help="Rank neighbors as Dask tasks: a scheduler address "
                "(tcp://host:8786) or local:N worker processes (the 'dask' extra).",
            ),
        ],
    )


def test_size_option(command):
    """``--test-size SHARE|COUNT``."""
    return click.option(
        "--test-size",
        type=TestSize(),
        default=0.2,
        show_default=True,
        help="Share of the digits kept for testing (0.2 = 20 %), or a "
        "count of test digits (300).",
    )(command)


def stratify_option(help: str):
    """``--stratify/--no-stratify`` (off, as in the lesson)."""
    return click.option(
        "--stratify/--no-stratify", default=False, show_default=True, help=help
    )


def split_options(command):
    """``--test-size``, ``--seed``, ``--stratify``: how to split train from test."""
    return _apply(
        command,
        [
            test_size_option,
            click.option(
                "--seed",
                type=int,
                default=0,
                show_default=True,
                help="random_state of the split: the same seed, the same split.",
            ),
            stratify_option("Keep each digit's share equal in train and test."),
        ],
    )


def weights_metric_options(command):
    """``--weights``, ``--metric``: how neighbors vote and how distance is measured."""
    return _apply(
        command,
        [
            click.option(
                "--weights",
                type=click.Choice(WEIGHTS),
                default="uniform",
                show_default=True,
                help="uniform: one vote each; distance: closer digits count more.",
            ),
            click.option(
                "--metric",
                type=click.Choice(METRICS),
                default="euclidean",
                show_default=True,
                help="How distance between two digits is measured.",
            ),
        ],
    )


#: The flags that set k: ``--n-neighbors`` is scikit-learn's name, which learners
#: copy from the lesson (``KNeighborsClassifier(n_neighbors=3)``).
K_FLAGS = ("--k", "--n-neighbors")


def k_option(default=5, help="How many nearest training digits vote (n_neighbors)."):
    """``--k N`` (or ``--n-neighbors N``): how many neighbors vote."""
    shown = default is not None
    return click.option(
        *K_FLAGS, "k", type=int, default=default, show_default=shown, help=help
    )


def model_options(command):
    """``--k``, ``--weights``, ``--metric``: the k-nearest-neighbors model."""
    return k_option()(weights_metric_options(command))


def recipe_option(command):
    """``--recipe``: fit a named recipe (``digitlab compare --list``) instead of kNN."""
    return click.option(
        "--recipe",
        default=None,
        metavar="NAME",
        help="Fit this recipe instead of plain k-nearest neighbors, e.g. svc-shift "
        "(`digitlab compare --list` shows them all).",
    )(command)


def check_recipe_alone(recipe) -> None:
    """--recipe replaces the kNN model, so --k/--weights/--metric make no sense."""
    if recipe is None:
        return
    ctx = click.get_current_context()
    defaults = {"k": 5, "weights": "uniform", "metric": "euclidean"}
    # Only settings that differ from kNN's defaults: `digitlab runs rerun` replays
    # every option explicitly.
    given = [
        f"--{name}"
        for name, default in defaults.items()
        if ctx.params.get(name, default) != default
    ]
    if given:
        raise DigitlabError(
            f"--recipe {recipe} brings its own model settings, so {', '.join(given)} "
            "cannot be used with it; drop them or drop --recipe."
        )


def model_file_option(help: str):
    """``--model PATH``: a model file written by ``digitlab train --save``."""
    return click.option(
        "--model",
        "model_path",
        type=click.Path(dir_okay=False),
        default=None,
        metavar="PATH",
        help=help,
    )


def examples_option(help: str, dest: str = "examples_dir", default=None):
    """``--examples DIR``: the user's labelled pictures, DIR/<label>/<picture>."""
    return click.option(
        "--examples",
        dest,
        type=click.Path(file_okay=False),
        default=default,
        show_default=default is not None,
        metavar="DIR",
        help=help,
    )


def output_option(flag: str, dest: str, help: str, metavar: str = "PATH"):
    """An option naming a file the command writes (``--save``, ``--plot``, ...)."""
    return click.option(
        flag,
        dest,
        type=click.Path(dir_okay=False),
        default=None,
        metavar=metavar,
        help=help,
    )


def plot_option(help: str, metavar: str = "PATH"):
    """``--plot PATH``: also write a PNG (the command receives ``plot_path``)."""
    return output_option("--plot", "plot_path", help, metavar)


def force_option(help: str):
    """``--force``: let the command's output options overwrite existing files."""
    return click.option("--force", is_flag=True, help=help)


def check_outputs(force: bool, *paths) -> None:
    """Refuse output paths that cannot be written before any work is done."""
    from digitlab.files import check_target

    for path in paths:
        if path is not None:
            check_target(path, force=force)


def json_option(command):
    """``--json``: one JSON document on stdout instead of text."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object for scripts."
    )(command)


def echo_json(obj) -> None:
    """Print ``obj`` as JSON (stable key order, so equal results give equal bytes)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=True))


def echo(lines, json_obj=None, as_json: bool = False) -> None:
    """Print ``json_obj`` as JSON with ``--json``, else ``lines`` one per line."""
    if as_json:
        echo_json(json_obj)
        return
    for line in lines:
        click.echo(line)


def runs_db_option(command):
    """``--runs-db PATH``: which run-history file to use."""
    return click.option(
        "--runs-db",
        type=click.Path(dir_okay=False),
        default=None,
        metavar="PATH",
        help="The run-history file (default: $DIGITLAB_HOME/runs.sqlite, else "
        "~/.digitlab/runs.sqlite).",
    )(command)
