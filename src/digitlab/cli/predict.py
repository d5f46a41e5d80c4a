"""``digitlab predict``: read the digit in your own pictures."""

from __future__ import annotations

import sys

import click

from digitlab.cli.errors import EXIT_USER_ERROR, friendly
from digitlab.cli.group import main
from digitlab.cli.options import (
    check_outputs,
    echo,
    examples_option,
    force_option,
    json_option,
    k_option,
    model_file_option,
    output_option,
    recipe_option,
)
from digitlab.cli.progress import default_model_with_progress
from digitlab.cli.record import record, record_options
from digitlab.errors import DigitlabError


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@model_file_option(
    "A saved model (digitlab train --save); default: k=5 on the built-in digits."
)
@k_option(None, "How many nearest training digits vote (default: the model's k).")
@click.option(
    "--show", is_flag=True, help="Print the 8×8 input the model sees, shaded."
)
@output_option(
    "--show-input",
    "show_input",
    "Save the model inputs as a picture (one tile per file).",
    metavar="PNG",
)
@examples_option(
    "Your own labelled examples (DIR/<label>/<picture>, what `digitlab "
    'serve` saves with "that was a ..."): the model learns them first.'
)
@recipe_option
@force_option("Allow --show-input to overwrite a file.")
@json_option
@record_options
@friendly
def predict(
    paths, model_path, k, show, show_input, examples_dir, recipe, force, as_json
):
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
      digitlab predict my_eight.png --examples digitlab-examples
    """
    from digitlab.predict import default_model, predict_files

    check_outputs(force, show_input)
    if recipe is not None and model_path is not None:
        raise DigitlabError(
            "--model and --recipe both choose the model; give only one of them."
        )
    if model_path is None and recipe is None:
        model = default_model_with_progress()
    else:
        model = model_path or default_model(recipe)
    result = predict_files(paths, model, k=k, examples=examples_dir)
    shown = _write_inputs(result, show_input, force)
    record(result, files=[shown])
    done = [f"Model input saved to {show_input}"] if shown else []
    learned = []
    if result.examples is not None:
        n = len(result.examples)
        learned = [
            f"Learned {n} example{'s' if n != 1 else ''} of yours from "
            f"{examples_dir} first."
        ]
    echo([*learned, *result.lines(show=show), *done], result.to_list(), as_json)
    for _, message in result.failures:
        click.echo(f"Error: {message}", err=True)
    if result.failures:
        sys.exit(EXIT_USER_ERROR)


def _write_inputs(result, path, force: bool):
    """``--show-input``: the model inputs as one PNG (when any picture was read)."""
    if path is None or not result.results:
        return None
    from digitlab.files import write_bytes
    from digitlab.predict import input_picture

    return write_bytes(path, _png_bytes(input_picture(result)), force=force)


def _png_bytes(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
