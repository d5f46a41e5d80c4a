"""The ``digitlab`` command line: thin click commands over the core.

Each command parses its options, calls one core function and prints its result.
User mistakes (:class:`~digitlab.errors.DigitlabError`) become one line on stderr
and exit code 2; notices (:class:`~digitlab.errors.DigitlabNotice`) become a
``Note:`` line.
"""

from __future__ import annotations

import functools
import json
import sys
import warnings

import click

from digitlab.errors import DigitlabError, DigitlabNotice
from digitlab.neighbors import METRICS, WEIGHTS

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
    """``--data``: which data set to use."""
    return click.option(
        "--data",
        default="digits",
        show_default=True,
        metavar="DATA",
        help="The data: 'digits' is scikit-learn's built-in 8×8 digits.",
    )(command)


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


def model_options(command):
    """``--k``, ``--weights``, ``--metric``: the k-nearest-neighbors model."""
    for decorator in reversed(
        [
            click.option(
                "--k",
                "k",
                type=int,
                default=5,
                show_default=True,
                help="How many nearest training digits vote (n_neighbors).",
            ),
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


def json_option(command):
    """``--json``: one JSON document on stdout instead of text."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object for scripts."
    )(command)


def echo_json(obj) -> None:
    """Print ``obj`` as JSON (stable key order, so equal results give equal bytes)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=True))


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
@click.option("--force", is_flag=True, help="Allow --save to overwrite a file.")
@json_option
@friendly
def train(data, test_size, seed, stratify, k, weights, metric, save, force, as_json):
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
    """
    from digitlab.data import load_data
    from digitlab.train import train as run_train

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
    )
    saved = None
    if save is not None:
        saved = result.model.save(
            save,
            force=force,
            metadata={
                "data": dataset.source,
                "accuracy": result.accuracy,
                "config": result.config(),
            },
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
@click.option("--force", is_flag=True, help="Allow --show-input to overwrite a file.")
@json_option
@friendly
def predict(paths, model_path, k, show, show_input, force, as_json):
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
    """
    from digitlab.model import load_model
    from digitlab.predict import input_picture, predict_files

    if show_input is not None:
        _check_save_path(show_input, force)
    model = load_model(model_path) if model_path else None
    result = predict_files(paths, model, k=k)
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


def _check_save_path(path, force: bool) -> None:
    """Refuse a bad --save path before any work is done."""
    from pathlib import Path

    p = Path(path)
    folder = p.parent
    if not folder.is_dir():
        raise DigitlabError(
            f"Cannot save to {path!r}: the folder {str(folder)!r} does not exist; "
            "create it first or choose another path."
        )
    if p.exists() and not force:
        raise DigitlabError(
            f"{path!r} already exists; choose another name or add --force to "
            "overwrite it."
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
