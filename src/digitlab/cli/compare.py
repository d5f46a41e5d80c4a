"""``digitlab compare``: recipes against plain kNN on identical splits."""

from __future__ import annotations

import click

from digitlab.cli.errors import friendly
from digitlab.cli.group import main
from digitlab.cli.options import (
    check_outputs,
    data_option,
    echo,
    echo_json,
    force_option,
    json_option,
    plot_option,
    split_options,
)
from digitlab.cli.progress import ProgressBar
from digitlab.cli.record import record, record_options
from digitlab.errors import DigitlabError


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
@plot_option("Also draw a dot plot of the accuracies with their 95 % intervals.", "PNG")
@force_option("Allow --plot to overwrite a file.")
@json_option
@record_options
@friendly
def compare(data, recipes, list_only, plot_path, force, as_json, **settings):
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
    from digitlab.recipes import DEFAULT_RECIPES

    if list_only:
        return _list_recipes(as_json)
    check_outputs(force, plot_path)
    names = DEFAULT_RECIPES if recipes is None else _split_names(recipes)
    dataset = load_data(data)
    fits = (len(names) + (settings["baseline"] not in names)) * settings["repeats"]
    with ProgressBar("comparing", enabled=not as_json, total=max(fits, 0)) as bar:
        result = run_compare(dataset, names, progress=bar and bar.tick, **settings)
    written = None
    if plot_path is not None:
        from digitlab.plots import save_png

        written = str(save_png(plot_path, result.plot, force=force))
    record(result, data=dataset, files=[written])
    saved = [f"Plot saved to {written}"] if written else []
    echo([*result.lines(), *saved], {**result.to_dict(), "plot": written}, as_json)


def _list_recipes(as_json: bool) -> None:
    """``--list``: every recipe with its one-line description."""
    from digitlab.recipes import RECIPES

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


def _split_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise DigitlabError(
            "--recipes is empty; name recipes separated by commas, e.g. knn,svc."
        )
    return names
