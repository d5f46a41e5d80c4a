"""``digitlab serve``: the drawing page in the browser."""

from __future__ import annotations

import click

from digitlab.cli.errors import friendly
from digitlab.cli.group import main
from digitlab.cli.options import examples_option, model_file_option, recipe_option
from digitlab.cli.progress import default_model_with_progress


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
@model_file_option(
    "A model file from `digitlab train --save` (default: k=5 on the built-in digits)."
)
@examples_option(
    "Your examples: the model learns what DIR holds at the start and every "
    'drawing "that was a ..." saves there (DIR/<label>/<time>.png) at once.',
    default="digitlab-examples",
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
      digitlab serve --examples my-digits   (learns your handwriting)
    """
    from digitlab.web import require_web

    require_web()
    from digitlab.web.server import run_server

    run_server(
        host=host,
        port=port,
        model=(
            default_model_with_progress()
            if model_path is None and recipe is None
            else None
        ),
        model_path=model_path,
        examples_dir=examples_dir,
        recipe=recipe,
        workers=workers,
    )
