"""The ``digitlab`` command line: thin click commands over the core.

Each command parses its options, calls one core function and prints its result.
User mistakes (:class:`~digitlab.errors.DigitlabError`) become one line on stderr
and exit code 2; notices (:class:`~digitlab.errors.DigitlabNotice`) become a
``Note:`` line.
"""

from __future__ import annotations

import contextvars
import functools
import json
import sys
import time
import warnings
from dataclasses import dataclass

import click

from digitlab.errors import DigitlabError, DigitlabNotice
from digitlab.neighbors import BACKENDS, METRICS, WEIGHTS

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
    """Turn digitlab's user errors into clean one-line errors with exit code 2."""

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


def data_option(command):
    """``--data`` and how to read it (``--labels``, ``--pipeline``, ``--skip-bad``),
    and where neighbors are ranked (``--backend``, ``--dask``).

    The command receives one ``data`` argument: a string (the ``--data`` value)
    that also carries the three reading options, which
    :func:`digitlab.data.load_data` reads; the command runs inside
    :func:`digitlab.neighbors.use` so every ranking it does uses ``--backend``
    and ``--dask``. So every command that calls ``load_data(data)`` gets all
    of this without extra parameters.
    """

    @functools.wraps(command)
    def wrapper(*args, data, labels, pipeline, skip_bad, backend, dask, **kwargs):
        from digitlab.data import DataSpec
        from digitlab.neighbors import use

        spec = DataSpec(data, labels=labels, pipeline=pipeline, skip_bad=skip_bad)
        try:
            with use(backend=backend, dask=dask):
                return command(*args, data=spec, **kwargs)
        except DigitlabError as exc:
            raise UserError(str(exc)) from None

    for decorator in reversed(
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
        ]
    ):
        wrapper = decorator(wrapper)
    return wrapper


def split_options(command):
    """``--test-size``, ``--seed``, ``--stratify``: how to split train from test."""
    for decorator in reversed(
        [
            click.option(
                "--test-size",
                type=TestSize(),
                default=0.2,
                show_default=True,
                help="Share of the digits kept for testing (0.2 = 20 %), or a "
                "count of test digits (300).",
            ),
            click.option(
                "--seed",
                type=int,
                default=0,
                show_default=True,
                help="random_state of the split: the same seed, the same split.",
            ),
            click.option(
                "--stratify/--no-stratify",
                default=False,
                show_default=True,
                help="Keep each digit's share equal in train and test.",
            ),
        ]
    ):
        command = decorator(command)
    return command


def weights_metric_options(command):
    """``--weights``, ``--metric``: how neighbors vote and how distance is measured."""
    for decorator in reversed(
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
        ]
    ):
        command = decorator(command)
    return command


def model_options(command):
    """``--k``, ``--weights``, ``--metric``: the k-nearest-neighbors model."""
    command = weights_metric_options(command)
    return click.option(
        "--k",
        "k",
        type=int,
        default=5,
        show_default=True,
        help="How many nearest training digits vote (n_neighbors).",
    )(command)


def recipe_option(command):
    """``--recipe``: fit a named recipe (``digitlab compare --list``) instead of kNN."""
    return click.option(
        "--recipe",
        default=None,
        metavar="NAME",
        help="Fit this recipe instead of plain k-nearest neighbors, e.g. svc-shift "
        "(`digitlab compare --list` shows them all).",
    )(command)


def _check_recipe_alone(recipe) -> None:
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


def json_option(command):
    """``--json``: one JSON document on stdout instead of text."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object for scripts."
    )(command)


def echo_json(obj) -> None:
    """Print ``obj`` as JSON (stable key order, so equal results give equal bytes)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=True))


# -- run history: recording ----------------------------------------------------

#: Parameters that only say where output goes; a rerun leaves them out.
OUTPUT_PARAMS = frozenset(
    {"as_json", "runs_db", "no_record", "force", "save", "out", "output", "plot", "yes"}
)
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


def record_options(command):
    """``--runs-db PATH`` and ``--no-record``; stores the run after the command.

    Put it on any command whose result belongs in the run history, next to the
    other option decorators, and call :func:`record_run` once the result is
    computed::

        @main.command()
        @data_option
        @json_option
        @record_options
        @friendly
        def sweep(data, ..., as_json):
            result = run_sweep(...)
            record_run(data=dataset, config=result.config(), results=result.to_dict(),
                       score=best.mean, score_std=best.std, seeds=seeds,
                       summary="best ts=0.2 k=1 (20×)", reproduce=[...],
                       result_type="digitlab.sweep:SweepResult")
            ...print the result...

    The command function does not receive ``runs_db`` / ``no_record``. The run is
    written only after the command returns, so its own output is printed first: a
    crash records nothing, and a history that cannot be written gives a clear
    ``Error:`` (exit code 2) after the result was printed.
    """

    @functools.wraps(command)
    def wrapper(*args, runs_db=None, no_record=False, **kwargs):
        ctx = click.get_current_context()
        recording = _Recording(time.perf_counter(), runs_db, no_record)
        ctx.meta[_RECORDING_KEY] = recording
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


def _store(recording: _Recording, report=None) -> None:
    """Write the run handed to :func:`record_run` (if any) to the history."""
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


def command_argv(
    ctx: click.Context | None = None, *, exclude=(), path_params=()
) -> list[str]:
    """The running command as arguments after ``digitlab``, every option explicit.

    Built from the parsed values (defaults included), so it reproduces the run even
    if a default changes later. Output-only options (:data:`OUTPUT_PARAMS` and
    ``exclude``) are left out; the values of ``path_params`` (input files), and a
    ``--data`` / ``--labels`` that names a file or folder, are made absolute, so a
    rerun from another folder reads the same files.
    """
    ctx = ctx or click.get_current_context()
    names, c = [], ctx
    while c.parent is not None:
        names.append(c.info_name)
        c = c.parent
    argv = list(reversed(names))
    skip = OUTPUT_PARAMS | set(exclude)
    positional = []
    for param in ctx.command.params:
        if param.name in skip:
            continue
        value = ctx.params.get(param.name)
        input_file = param.name in path_params and value is not None
        if input_file or _names_input_file(param.name, value):
            value = _absolute_paths(value)
        if isinstance(param, click.Argument):
            values = value if param.nargs != 1 else [value]
            positional.extend(_arg_text(v) for v in values if v is not None)
            continue
        if not isinstance(param, click.Option):
            continue
        opt = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        if param.is_flag and param.is_bool_flag:
            if param.secondary_opts:
                argv.append(opt if value else param.secondary_opts[0])
            elif value:
                argv.append(opt)
        elif value is None:
            continue
        elif param.multiple:
            for item in value:
                argv.append(opt)
                argv.extend(_arg_text(v) for v in _as_nargs(item, param.nargs))
        else:
            argv.append(opt)
            argv.extend(_arg_text(v) for v in _as_nargs(value, param.nargs))
    return argv + positional


def _names_input_file(name: str, value) -> bool:
    """``--data`` / ``--labels`` given as a file or folder path (not 'digits')."""
    if not isinstance(value, str) or value == "digits":
        return False
    from pathlib import Path

    if name == "data":
        return Path(value).exists()
    return name == "labels" and Path(value).is_file()


def _absolute_paths(value):
    from pathlib import Path

    if isinstance(value, (list, tuple)):
        return type(value)(_absolute_paths(v) for v in value)
    return str(Path(value).resolve())


def _as_nargs(value, nargs: int):
    return list(value) if nargs != 1 else [value]


def _arg_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_arg_text(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def record_run(
    *,
    config: dict,
    results: dict,
    data=None,
    score: float | None = None,
    score_std: float | None = None,
    summary: str = "",
    seeds=(),
    files=(),
    reproduce=None,
    result_type: str | None = None,
    argv=None,
    exclude=(),
    path_params=(),
    data_name: str | None = None,
    data_fingerprint: str | None = None,
) -> None:
    """Hand the running command's result to the run history.

    Call it from a command decorated with :func:`record_options`, once the result
    is computed; it is written when the command returns (not at all with
    ``--no-record``).

    Parameters
    ----------
    config : dict
        The full configuration (JSON-ready).
    results : dict
        Everything computed, JSON-ready; for sweeps and comparisons the whole
        table, so ``digitlab runs show`` can redraw it.
    data : Dataset, optional
        Gives the data name and fingerprint (or pass ``data_name`` and
        ``data_fingerprint``).
    score, score_std : float, optional
        The headline accuracy (higher is better) and its spread: what ``digitlab
        runs`` shows and ``digitlab runs best`` ranks.
    summary : str
        A short configuration text for ``digitlab runs``, like ``ts=0.2 k=5 seed 0``.
    seeds : sequence of int
        Every seed used.
    files : sequence of path
        Files the command saved.
    reproduce : list of str, optional
        Arguments after ``digitlab`` that reproduce ``score`` (a sweep's best cell);
        defaults to the whole command line.
    result_type : str, optional
        ``"module:Class"`` whose ``from_dict(results)`` rebuilds the result object
        (with ``lines()``) for ``digitlab runs show``.
    argv : list of str, optional
        The command line after ``digitlab``; by default :func:`command_argv` builds
        it from the parsed options, leaving out ``exclude`` and output options
        and making the values of ``path_params`` (input files) absolute.
    """
    from digitlab.runs import new_run

    ctx = click.get_current_context()
    recording = ctx.meta.get(_RECORDING_KEY)
    if recording is None:
        raise RuntimeError("record_run() needs a command decorated @record_options")
    names, c = [], ctx
    while c.parent is not None:
        names.append(c.info_name)
        c = c.parent
    recording.pending = new_run(
        " ".join(reversed(names)),
        argv=(
            command_argv(ctx, exclude=exclude, path_params=path_params)
            if argv is None
            else argv
        ),
        reproduce=reproduce,
        config=config,
        results=results,
        data=data,
        data_name=data_name,
        data_fingerprint=data_fingerprint,
        seeds=seeds,
        score=score,
        score_std=score_std,
        summary=summary,
        result_type=result_type,
        duration_s=time.perf_counter() - recording.started,
        files=[str(_absolute(f)) for f in files],
    )


def _absolute(path):
    from pathlib import Path

    return Path(path).resolve()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digitlab")
def main():
    """digitlab: train, sweep, inspect and use handwritten-digit recognizers.

    Start with the lesson: `digitlab train` loads scikit-learn's 1,797 digits,
    keeps 20 % for testing, fits a 5-nearest-neighbors classifier and prints its
    accuracy (0.975). Every command explains its options with --help.
    """


@main.command()
@data_option
@split_options
@model_options
@click.option(
    "--save",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the fitted model to this file (.npz, no pickle).",
)
@recipe_option
@click.option("--force", is_flag=True, help="Allow --save to overwrite a file.")
@json_option
@record_options
@friendly
def train(
    data, test_size, seed, stratify, k, weights, metric, recipe, save, force, as_json
):
    """Train and test a k-nearest-neighbors classifier: the lesson in one command.

    \b
    The five steps:
      1. load the digits (--data),
      2. split them into train and test parts (--test-size, --seed),
      3. fit k-nearest neighbors on the train part (--k, --weights, --metric),
      4. predict the test part,
      5. print the accuracy.

    \b
    Examples:
      digitlab train
      digitlab train --k 1 --test-size 0.3 --seed 7
      digitlab train --save model.npz --json
      digitlab train --recipe svc-shift --save best.npz
    """
    from digitlab.data import load_data
    from digitlab.train import train as run_train

    _check_recipe_alone(recipe)
    if save is not None:
        _check_save_path(save, force)
    dataset = load_data(data)
    result = run_train(
        dataset,
        test_size=test_size,
        seed=seed,
        stratify=stratify,
        k=k,
        weights=weights,
        metric=metric,
        recipe=recipe,
    )
    saved = None
    if save is not None:
        from digitlab.modelfile import save_model

        saved = save_model(
            result.model,
            save,
            force=force,
            metadata={
                "data": dataset.source,
                "accuracy": result.accuracy,
                "config": result.config(),
            },
        )
    results = result.to_dict()
    config = results.pop("config")
    results.pop("version")
    results["predictions"] = result.y_pred.tolist()
    record_run(
        data=dataset,
        config=config,
        results=results,
        score=result.accuracy,
        summary=train_summary(config),
        seeds=[seed],
        files=[saved] if saved else [],
        exclude=("k", "weights", "metric") if recipe else (),
    )
    if as_json:
        out = result.to_dict()
        out["saved"] = str(saved) if saved else None
        echo_json(out)
        return
    for line in result.lines():
        click.echo(line)
    if saved:
        click.echo(f"Model saved to {saved}")


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="A saved model (digitlab train --save); default: k=5 on the built-in digits.",
)
@click.option(
    "--k",
    "k",
    type=int,
    default=None,
    help="How many nearest training digits vote (default: the model's k).",
)
@click.option(
    "--show", is_flag=True, help="Print the 8×8 input the model sees, shaded."
)
@click.option(
    "--show-input",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PNG",
    help="Save the model inputs as a picture (one tile per file).",
)
@recipe_option
@click.option("--force", is_flag=True, help="Allow --show-input to overwrite a file.")
@json_option
@record_options
@friendly
def predict(paths, model_path, k, show, show_input, recipe, force, as_json):
    """Read the digit in your own pictures (PNG, JPEG, BMP, GIF, WebP).

    \b
    Each picture is prepared exactly the way the model's training digits were
    (for the built-in digits: ink found, specks removed, the digit's box scaled
    into a 32×32 bitmap, strokes redrawn to the training thickness, 4×4 blocks
    counted), then the k nearest training digits vote. Folders are read in full.
    A file that cannot be read gets one line; the others are still predicted;
    the exit code is then 2.

    \b
    Examples:
      digitlab predict my_seven.png scan.jpg drawings/
      digitlab predict my_seven.png --show
      digitlab predict drawings/ --model model.npz --json
      digitlab predict my_seven.png --recipe svc-shift
    """
    from digitlab.modelfile import load_model
    from digitlab.predict import default_model, input_picture, predict_files

    if show_input is not None:
        _check_save_path(show_input, force)
    if recipe is not None and model_path is not None:
        raise DigitlabError(
            "--model and --recipe both choose the model; give only one of them."
        )
    model = load_model(model_path) if model_path else default_model(recipe)
    result = predict_files(paths, model, k=k)
    _record_predict(result, model, model_path, k, show_input)
    if as_json:
        echo_json(result.to_list())
    else:
        for line in result.lines(show=show):
            click.echo(line)
    if show_input is not None and result.results:
        _write_png(input_picture(result), show_input, force)
        if not as_json:
            click.echo(f"Model input saved to {show_input}")
    for _, message in result.failures:
        click.echo(f"Error: {message}", err=True)
    if result.failures:
        sys.exit(EXIT_USER_ERROR)


def _record_predict(result, model, model_path, k, show_input) -> None:
    """Hand a ``digitlab predict`` run to the run history.

    The data is the model's training digits (name and fingerprint); the pictures
    are kept by absolute path and a SHA-256 of their bytes, and the results are
    every prediction with its votes, so ``runs rerun`` checks them all.
    """
    import hashlib
    from pathlib import Path

    from digitlab.data import Dataset

    training = Dataset(X=model._fit_X, y=model.classes_[model._y])
    meta = getattr(model, "metadata_", {}) or {}
    pictures = hashlib.sha256()
    for r in result.results:
        pictures.update(Path(r.file).read_bytes())
    used_k = getattr(model, "k", None) if k is None else k
    recipe = getattr(model, "recipe", None)
    config = {
        "model": str(Path(model_path).resolve()) if model_path else "default",
        "k": used_k,
        "weights": getattr(model, "weights", None),
        "metric": getattr(model, "metric", None),
        "pipeline": model.pipeline,
        "pictures": [str(Path(r.file).resolve()) for r in result.results],
        "pictures_sha256": pictures.hexdigest()[:16],
    }
    if recipe is not None:
        config["recipe"] = recipe
    n = len(result.results)
    record_run(
        data=training,
        data_name=str(meta.get("data", model_path or "digits")),
        config=config,
        results={
            "predictions": [
                {**p, "file": str(Path(p["file"]).resolve())} for p in result.to_list()
            ],
            "unreadable": [str(Path(f).resolve()) for f, _ in result.failures],
        },
        summary=f"{n} picture{'s' if n != 1 else ''}, "
        + (f"recipe {recipe}" if recipe else f"k={used_k}")
        + (f", {len(result.failures)} unreadable" if result.failures else ""),
        files=[show_input] if show_input and result.results else [],
        exclude=("show", "show_input"),
        path_params=("paths", "model_path"),
    )


def _write_png(image, path, force: bool) -> None:
    """Write a PIL image via a temporary file; never replace a file without force."""
    import os
    import tempfile
    from pathlib import Path

    folder = Path(path).parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".digitlab-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, format="PNG")
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise DigitlabError(
                    f"{path!r} already exists; choose another name or add --force "
                    "to overwrite it."
                ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def train_summary(config: dict) -> str:
    """``ts=0.2 k=5 seed 0`` (+ what differs from the defaults) for ``runs``."""
    model = f"recipe {config['recipe']}" if "recipe" in config else f"k={config['k']}"
    parts = [f"ts={config['test_size']}", model, f"seed {config['seed']}"]
    if config.get("weights", "uniform") != "uniform":
        parts.append(config["weights"])
    if config.get("metric", "euclidean") != "euclidean":
        parts.append(config["metric"])
    if config.get("stratify"):
        parts.append("stratified")
    return " ".join(parts)


@main.command()
@data_option
@split_options
@model_options
@click.option(
    "--normalize",
    type=click.Choice(["true", "pred"]),
    default=None,
    help="Show rates instead of counts: true = each row sums to 1, pred = each "
    "column sums to 1.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write a self-contained HTML report (confusion heat map, gallery).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the confusion matrix as a PNG picture.",
)
@click.option("--force", is_flag=True, help="Allow --report/--plot to overwrite.")
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Add up N splits (seeds SEED, SEED+1, ...): which digits are hard on average.",
)
@json_option
@record_options
@friendly
def mistakes(
    data,
    test_size,
    seed,
    stratify,
    k,
    weights,
    metric,
    normalize,
    report,
    plot,
    force,
    repeats,
    as_json,
):
    """Show which test digits the model gets wrong, and the neighbors that voted.

    \b
    Trains exactly as `digitlab train` does (same options), then prints
      - the confusion matrix (rows: true label, columns: predicted),
      - precision, recall, f1 and support per digit,
      - the most confused pairs,
      - every wrong digit with its vote shares and nearest training digits.

    \b
    Examples:
      digitlab mistakes
      digitlab mistakes --k 1 --normalize true
      digitlab mistakes --report mistakes.html --plot confusion.png
      digitlab mistakes --repeats 20 --json
    """
    from digitlab.data import load_data
    from digitlab.files import check_target
    from digitlab.mistakes import mistakes_on_split

    for path in (report, plot):
        if path is not None:
            check_target(path, force=force)
    if report is not None and plot is not None and report == plot:
        raise DigitlabError("--report and --plot name the same file; give two names.")
    dataset = load_data(data)
    result = mistakes_on_split(
        dataset,
        test_size=test_size,
        seed=seed,
        stratify=stratify,
        k=k,
        weights=weights,
        metric=metric,
        repeats=repeats,
    )
    written = {}
    if report is not None:
        written["report"] = str(
            result.to_html(report, force=force, normalize=normalize)
        )
    if plot is not None:
        from digitlab.plots import plot_confusion, save_figure

        ax = plot_confusion(result, normalize=normalize)
        written["plot"] = str(save_figure(ax, plot, force=force))
    results = result.to_dict()
    config = results.pop("config")
    results.pop("version")
    record_run(
        data=dataset,
        config=config,
        results=results,
        score=result.accuracy,
        score_std=results.get("accuracy_summary", {}).get("std"),
        summary=train_summary(config) + (f" ×{repeats}" if repeats > 1 else ""),
        seeds=result.seeds,
        files=list(written.values()),
        result_type="digitlab.mistakes:MistakesResult",
        exclude=("report", "normalize"),
    )
    if as_json:
        out = result.to_dict(normalize=normalize)
        out["written"] = written
        echo_json(out)
        return
    for line in result.description.split(" · "):
        click.echo(line)
    for line in result.lines(normalize=normalize):
        click.echo(line)
    if "report" in written:
        click.echo(f"Report written to {written['report']}")
    if "plot" in written:
        click.echo(f"Plot written to {written['plot']}")


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on; 0.0.0.0 opens it to your whole network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="The port to listen on (0: any free port).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="A model file from `digitlab train --save` (default: k=5 on the "
    "built-in digits).",
)
@click.option(
    "--examples",
    "examples_dir",
    type=click.Path(file_okay=False),
    default="digitlab-examples",
    show_default=True,
    metavar="DIR",
    help='Where "that was a ..." saves drawings, as DIR/<label>/<time>.png.',
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Processes preparing pictures side by side (1: a thread of the "
    "server); about one per CPU core for many users at once.",
)
@recipe_option
@friendly
def serve(host, port, model_path, examples_dir, recipe, workers):
    """Draw a digit in your browser and watch the model decide.

    \b
    Starts a local web server with a drawing page: draw with the mouse, a
    finger or a pen, and see the vote shares, the 8×8 input the model sees and
    the nearest training digits. The JSON API is documented at /docs.

    \b
    Examples:
      digitlab serve
      digitlab serve --port 8080 --model model.npz
      digitlab serve --recipe knn-distance
      digitlab serve --host 0.0.0.0     (reachable from other machines)
      digitlab serve --workers 2        (a class drawing at once)
    """
    from digitlab.web import require_web

    require_web()
    from digitlab.web.server import run_server

    run_server(
        host=host,
        port=port,
        model_path=model_path,
        examples_dir=examples_dir,
        recipe=recipe,
        workers=workers,
    )


@main.command()
@data_option
@split_options
@click.option(
    "--recipes",
    default=None,
    metavar="A,B,C",
    help="Comma-separated recipe names (default: all but the slowest; see --list).",
)
@click.option(
    "--repeats",
    type=int,
    default=20,
    show_default=True,
    help="How many random splits; split i uses seed --seed + i.",
)
@click.option(
    "--baseline",
    default="knn",
    show_default=True,
    metavar="NAME",
    help="The recipe every other one is compared with, split by split.",
)
@click.option("--list", "list_only", is_flag=True, help="List the recipes and exit.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PNG",
    help="Also draw a dot plot of the accuracies with their 95 % intervals.",
)
@click.option("--force", is_flag=True, help="Allow --plot to overwrite a file.")
@json_option
@record_options
@friendly
def compare(
    data,
    test_size,
    seed,
    stratify,
    recipes,
    repeats,
    baseline,
    list_only,
    plot,
    force,
    as_json,
):
    """Compare recipes that do better than plain kNN, on identical splits.

    \b
    Every recipe is fitted and tested on the same --repeats random splits
    (seeds --seed, --seed+1, ...). The table shows each recipe's mean accuracy,
    its spread and 95 % interval, the paired difference against --baseline with
    a paired t-test across the splits, and the time to fit and predict one split.

    \b
    Examples:
      digitlab compare
      digitlab compare --list
      digitlab compare --recipes knn,knn-shift,svc --repeats 5 --plot cmp.png
    """
    from digitlab.compare import compare as run_compare
    from digitlab.data import load_data
    from digitlab.recipes import DEFAULT_RECIPES, RECIPES

    if list_only:
        if as_json:
            echo_json(
                {
                    name: {"description": r.description, "default": r.default}
                    for name, r in RECIPES.items()
                }
            )
            return
        width = max(len(name) for name in RECIPES)
        for name, r in RECIPES.items():
            mark = "" if r.default else "  (not run by default: slow)"
            click.echo(f"{name:<{width}}  {r.description}{mark}")
        return
    if plot is not None:
        _check_save_path(plot, force)
    names = DEFAULT_RECIPES if recipes is None else _split_names(recipes)
    dataset = load_data(data)
    with _progress(len(names) + (baseline not in names), repeats, as_json) as tick:
        result = run_compare(
            dataset,
            names,
            repeats=repeats,
            test_size=test_size,
            seed=seed,
            stratify=stratify,
            baseline=baseline,
            progress=tick,
        )
    written = None
    if plot is not None:
        from digitlab.plots import save_figure

        written = str(save_figure(result.plot(), plot, force=force))
    results = result.to_dict()
    best = result.summary(result.best())
    record_run(
        data=dataset,
        config={
            "data": dataset.source,
            "recipes": list(result.recipes),
            "repeats": repeats,
            "test_size": result.test_size,
            "seed": seed,
            "stratify": stratify,
            "baseline": baseline,
        },
        results=results,
        score=best.mean,
        score_std=best.std,
        summary=f"best {result.best()} of {len(result.recipes)} recipes "
        f"({result.repeats}×)",
        seeds=result.seeds,
        files=[written] if written else [],
        result_type="digitlab.compare:CompareResult",
        exclude=("list_only",),
    )
    if as_json:
        out = dict(results)
        out["plot"] = written
        echo_json(out)
        return
    for line in result.lines():
        click.echo(line)
    if written:
        click.echo(f"Plot saved to {written}")


def _split_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise DigitlabError(
            "--recipes is empty; name recipes separated by commas, e.g. knn,svc."
        )
    return names


class _progress:
    """A rich progress bar on stderr, only when stderr is a terminal and not --json.

    Used as a context manager; yields the ``progress(recipe, split)`` callback that
    :func:`digitlab.compare` calls after every fit (``None`` when no bar is shown).
    """

    def __init__(self, n_recipes: int, repeats: int, quiet: bool):
        self.total = n_recipes * max(repeats, 0)
        self.show = not quiet and sys.stderr.isatty() and self.total > 0
        self.bar = None

    def __enter__(self):
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("comparing", total=self.total)

        def tick(recipe, split):
            self.bar.update(task, advance=1, description=f"{recipe} split {split}")

        return tick

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


@main.command()
@data_option
@click.option(
    "--test-sizes",
    default=None,
    metavar="LIST",
    help="Test shares (or counts) to try, e.g. 0.1,0.2,0.3.  [default: "
    "0.1,0.2,0.3,0.4,0.5]",
)
@click.option(
    "--k",
    "ks",
    default="1..15",
    show_default=True,
    metavar="RANGE|LIST",
    help="k values to try: a range like 1..15 or a list like 1,3,5.",
)
@click.option(
    "--repeats",
    type=int,
    default=20,
    show_default=True,
    help="Random splits per test size (seeds --seed, --seed+1, ...); with --cv, "
    "shuffled repetitions of the cross-validation.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="The first seed.")
@click.option(
    "--cv",
    type=int,
    default=None,
    metavar="FOLDS",
    help="k-fold cross-validation with FOLDS folds instead of random splits.",
)
@click.option(
    "--loo",
    is_flag=True,
    help="Leave-one-out: each digit predicted from all the others, every k at once.",
)
@weights_metric_options
@click.option(
    "--stratify/--no-stratify",
    default=False,
    show_default=True,
    help="Keep each digit's share equal in train and test (splits and folds).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the tidy table (one line per test size, k and seed) as CSV.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write a PNG: heatmap of mean accuracy and accuracy vs k with its spread.",
)
@click.option("--force", is_flag=True, help="Let --csv and --plot overwrite files.")
@json_option
@record_options
@friendly
def sweep(
    data,
    test_sizes,
    ks,
    repeats,
    seed,
    cv,
    loo,
    weights,
    metric,
    stratify,
    csv_path,
    plot_path,
    force,
    as_json,
):
    """Find the best test_size and k honestly: every cell on many splits.

    Scores k-nearest neighbors for every test size × k on --repeats seeded random
    splits (or --cv folds, or --loo), from one exact neighbor ranking, and prints
    the mean ± std per cell, the best cell with its 95 % interval, and what the
    lesson's single split would have picked.

    \b
    Examples:
      digitlab sweep
      digitlab sweep --k 1,3,5 --test-sizes 0.2,0.3 --repeats 50
      digitlab sweep --cv 10 --plot sweep.png
      digitlab sweep --loo --k 1..30 --json
    """
    from digitlab.data import load_data
    from digitlab.files import check_target, write_bytes
    from digitlab.sweep import parse_ks, parse_test_sizes
    from digitlab.sweep import sweep as run_sweep

    for path in (csv_path, plot_path):
        if path is not None:
            check_target(path, force=force)
    dataset = load_data(data)
    sizes = None if test_sizes is None else parse_test_sizes(test_sizes)
    with _progress_bar(enabled=not as_json, description="Sweeping") as progress:
        result = run_sweep(
            dataset,
            test_sizes=sizes,
            ks=parse_ks(ks),
            repeats=repeats,
            seed=seed,
            cv=cv,
            loo=loo,
            weights=weights,
            metric=metric,
            stratify=stratify,
            progress=progress,
        )
    written = []
    if csv_path is not None:
        csv_bytes = result.to_csv().encode("utf-8")
        written.append(write_bytes(csv_path, csv_bytes, force=force))
    if plot_path is not None:
        from digitlab.plots import sweep_png

        written.append(write_bytes(plot_path, sweep_png(result), force=force))
    best = result.best()
    record_run(
        data=dataset,
        config=result.config,
        results=result.to_dict(),
        score=best.mean,
        score_std=best.summary.std,
        summary=sweep_summary(result),
        seeds=result.config["seeds"],
        files=written,
        reproduce=sweep_reproduce(result, data),
        result_type="digitlab.sweep:SweepResult",
        exclude=("csv_path", "plot_path"),
    )
    if as_json:
        out = result.to_dict()
        out["written"] = [str(p) for p in written]
        echo_json(out)
        return
    for line in result.lines():
        click.echo(line)
    for p in written:
        click.echo(f"Wrote {p}")


def sweep_summary(result) -> str:
    """``best ts=0.2 k=1 (20×)`` for ``digitlab runs``."""
    best = result.best()
    cfg = result.config
    if result.scheme == "loo":
        return f"best k={best.k} (leave-one-out)"
    if result.scheme == "cv":
        return f"best k={best.k} ({cfg['cv']}-fold × {len(cfg['seeds'])})"
    return f"best ts={best.test_size} k={best.k} ({len(cfg['seeds'])}×)"


def sweep_reproduce(result, data: str) -> list[str]:
    """The ``digitlab sweep`` arguments that recompute the best cell's score alone."""
    best = result.best()
    cfg = result.config
    args = ["sweep", "--data", data, "--k", str(best.k)]
    if result.scheme == "loo":
        args.append("--loo")
    else:
        seeds = cfg["seeds"]
        args += ["--repeats", str(len(seeds)), "--seed", str(seeds[0])]
        if result.scheme == "cv":
            args += ["--cv", str(cfg["cv"])]
        else:
            args += ["--test-sizes", str(best.test_size)]
        if cfg["stratify"]:
            args.append("--stratify")
    return [*args, "--weights", cfg["weights"], "--metric", cfg["metric"]]


class _progress_bar:
    """A rich progress bar on stderr, only when stderr is a terminal.

    Used as ``with _progress_bar(...) as progress:``; ``progress(done, total)``
    advances it, and is ``None`` (no bar at all) when the bar is off.
    """

    def __init__(self, *, enabled: bool, description: str):
        self.enabled = enabled and sys.stderr.isatty()
        self.description = description
        self._bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task(self.description, total=None)

        def advance(done: int, total: int) -> None:
            self._bar.update(task, completed=done, total=total)

        return advance

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        return False


def _check_save_path(path, force: bool) -> None:
    """Refuse a bad output path before any work is done."""
    from digitlab.files import check_target

    check_target(path, force=force)


# -- run history: the `digitlab runs` commands -----------------------------------


def _runs_filter_options(command):
    for decorator in reversed(
        [
            click.option(
                "--command",
                "command_name",
                default=None,
                metavar="NAME",
                help="Only runs of this command (train, sweep, ...).",
            ),
            click.option(
                "--data",
                default=None,
                metavar="DATA",
                help="Only runs on this data set (its name, e.g. digits).",
            ),
        ]
    ):
        command = decorator(command)
    return command


def _open_runs(runs_db):
    from digitlab.runs import RunStore

    return RunStore(runs_db, create=False)


def _list_runs(command_name, data, limit, as_json, runs_db):
    from digitlab.runs import format_score, format_table

    with _open_runs(runs_db) as store:
        runs = store.runs(command=command_name, data=data, limit=limit)
        path = store.path
    if as_json:
        echo_json([r.to_dict() for r in runs])
        return
    if not runs:
        click.echo(
            f"No runs recorded in {path} yet."
            if not (command_name or data)
            else f"No matching runs in {path}."
        )
        return
    rows = [
        {
            "id": r.id,
            "when": r.when,
            "command": r.command,
            "data": r.data_name,
            "config": r.summary,
            "accuracy": format_score(r.score, r.score_std),
        }
        for r in runs
    ]
    for line in format_table(rows):
        click.echo(line)


@main.group(invoke_without_command=True)
@_runs_filter_options
@click.option("--limit", type=int, default=None, metavar="N", help="At most N runs.")
@json_option
@runs_db_option
@click.pass_context
@friendly
def runs(ctx, command_name, data, limit, as_json, runs_db):
    """The run history: every train, sweep, mistakes, predict and compare run.

    \b
    With no subcommand, lists the runs, newest first (same as `runs list`).
    Runs are kept in $DIGITLAB_HOME/runs.sqlite (default ~/.digitlab/runs.sqlite);
    every recording command takes --runs-db PATH and --no-record.

    \b
    Examples:
      digitlab runs --limit 5
      digitlab runs best
      digitlab runs show 12
      digitlab runs rerun 12
    """
    if ctx.invoked_subcommand is None:
        _list_runs(command_name, data, limit, as_json, runs_db)


@runs.command("list")
@_runs_filter_options
@click.option("--limit", type=int, default=None, metavar="N", help="At most N runs.")
@json_option
@runs_db_option
@friendly
def runs_list(command_name, data, limit, as_json, runs_db):
    """List recorded runs, newest first."""
    _list_runs(command_name, data, limit, as_json, runs_db)


@runs.command("show")
@click.argument("run_id", type=int, metavar="ID")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Redraw the run's plot (sweep, compare) from the stored results as a PNG.",
)
@click.option("--force", is_flag=True, help="Let --plot overwrite a file.")
@json_option
@runs_db_option
@friendly
def runs_show(run_id, plot_path, force, as_json, runs_db):
    """Show one run in full and redraw its result from what was stored.

    \b
    Sweeps and comparisons are redrawn table for table from the stored results,
    without recomputing; --plot PATH redraws their plot too.
    """
    from digitlab.runs import format_score, rebuild_result, result_lines

    if plot_path is not None:
        from digitlab.files import check_target

        check_target(plot_path, force=force)
    with _open_runs(runs_db) as store:
        run = store.get(run_id)
    if plot_path is not None:
        obj = rebuild_result(run)
        if obj is None or not hasattr(obj, "plot"):
            raise DigitlabError(
                f"Run #{run.id} ({run.command}) has no plot to redraw; plots are "
                "kept for sweep and compare runs."
            )
        from digitlab.plots import save_figure

        drawn = obj.plot()
        if not hasattr(drawn, "figure"):  # several panels: an array of axes
            import numpy as np

            drawn = np.ravel(drawn)[0]
        written = save_figure(drawn, plot_path, force=force)
    if as_json:
        out = run.to_dict()
        if plot_path is not None:
            out["written"] = [str(written)]
        echo_json(out)
        return
    versions = ", ".join(f"{k} {v}" for k, v in sorted(run.versions.items()))
    config = ", ".join(f"{k}={v}" for k, v in sorted(run.config.items()))
    lines = [
        f"Run #{run.id}: {run.command_line}",
        f"When: {run.when} (took {run.duration_s:.2f} s)",
        f"Data: {run.data_name} (fingerprint {run.data_fingerprint})",
        f"Config: {config}",
        f"Seeds: {', '.join(str(s) for s in run.seeds) or '-'}",
        f"Versions: {versions}",
        f"Score: {format_score(run.score, run.score_std)}",
    ]
    if run.reproduce != run.argv:
        lines.append(f"Reproduce the score: {run.reproduce_line}")
    if run.files:
        lines.append(f"Files: {', '.join(run.files)}")
    lines.append("Result:")
    lines.extend("  " + line for line in result_lines(run))
    if plot_path is not None:
        lines.append(f"Plot written to {written}")
    for line in lines:
        click.echo(line)


@runs.command("best")
@_runs_filter_options
@json_option
@runs_db_option
@friendly
def runs_best(command_name, data, as_json, runs_db):
    """The best score per data set and command, with the line that reproduces it."""
    from digitlab.runs import format_score

    with _open_runs(runs_db) as store:
        best = store.best(command=command_name, data=data)
        path = store.path
    if as_json:
        echo_json([r.to_dict() for r in best])
        return
    if not best:
        click.echo(f"No scored runs in {path} yet; run `digitlab train` first.")
        return
    names = [r.data_name for r in best]
    for run in best:
        on = run.data_name
        if names.count(on) > len({r.command for r in best if r.data_name == on}):
            on += f" (data {run.data_fingerprint})"
        click.echo(
            f"Best {run.command} on {on}: {format_score(run.score, run.score_std)} "
            f"— run #{run.id}" + (f", {run.summary}" if run.summary else "")
        )
        click.echo(f"Reproduce: {run.reproduce_line}")


@runs.command("rerun")
@click.argument("run_id", type=int, metavar="ID")
@runs_db_option
@friendly
def runs_rerun(run_id, runs_db):
    """Run a recorded run again and say whether the result is identical.

    The command line is the recorded one with every option explicit; the new run
    is compared with the stored one (data fingerprint, configuration, every
    result number) and is not added to the history. Exit code 1 when different.
    """
    from digitlab.runs import compare_results

    with _open_runs(runs_db) as store:
        old = store.get(run_id)
    click.echo(f"Re-running run #{old.id}: {old.command_line}")
    captured: list = []
    token = _RERUN_CAPTURE.set(captured)
    try:
        main.main(args=list(old.argv), prog_name="digitlab", standalone_mode=False)
    except click.ClickException as exc:
        raise DigitlabError(
            f"Re-running run #{old.id} failed: {exc.format_message()}"
        ) from None
    except SystemExit as exc:
        # predict exits with 2 when some files were unreadable, after its result
        if not captured:
            raise DigitlabError(
                f"Re-running run #{old.id} failed (exit code {exc.code})."
            ) from None
    finally:
        _RERUN_CAPTURE.reset(token)
    if not captured:
        raise DigitlabError(
            f"Re-running run #{old.id} produced no result to compare; its command "
            f"{old.command!r} does not record runs in this digitlab."
        )
    new = captured[-1]
    changed = [
        f"{name} {old.versions.get(name)} → {version}"
        for name, version in sorted(new.versions.items())
        if old.versions.get(name) != version
    ]
    if changed:
        click.echo("Note: versions differ: " + ", ".join(changed))
    differences = compare_results(old, new)
    if not differences:
        click.echo(
            f"Identical: the result matches run #{old.id} exactly (same data "
            f"fingerprint {old.data_fingerprint}, every result number equal)."
        )
        return
    click.echo(f"Different from run #{old.id}:")
    for line in differences[:20]:
        click.echo(f"  {line}")
    if len(differences) > 20:
        click.echo(f"  ... and {len(differences) - 20} more")
    sys.exit(1)


@runs.command("export")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the runs to this CSV file.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="Write the runs to this JSON file.",
)
@click.option("--force", is_flag=True, help="Allow overwriting an existing file.")
@_runs_filter_options
@runs_db_option
@friendly
def runs_export(csv_path, json_path, force, command_name, data, runs_db):
    """Write the run history (oldest first) to a CSV or JSON file."""
    if (csv_path is None) == (json_path is None):
        raise DigitlabError(
            "Give exactly one of --csv PATH or --json PATH to say where to export."
        )
    path, fmt = (csv_path, "csv") if csv_path is not None else (json_path, "json")
    with _open_runs(runs_db) as store:
        written = store.export(
            path, format=fmt, force=force, command=command_name, data=data
        )
        count = len(store.runs(command=command_name, data=data))
    click.echo(f"Exported {count} runs to {written}")


@runs.command("delete")
@click.argument("run_id", type=int, metavar="ID")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@runs_db_option
@friendly
def runs_delete(run_id, yes, runs_db):
    """Delete one run from the history (asks first unless --yes)."""
    from digitlab.runs import format_score

    with _open_runs(runs_db) as store:
        run = store.get(run_id)
        question = (
            f"Delete run #{run.id}: {run.command} on {run.data_name}, "
            f"{format_score(run.score, run.score_std)}"
            + (f", {run.summary}" if run.summary else "")
            + "?"
        )
        if not yes and not click.confirm(question):
            click.echo("Nothing deleted.")
            return
        store.delete(run_id)
    click.echo(f"Deleted run #{run_id}.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
