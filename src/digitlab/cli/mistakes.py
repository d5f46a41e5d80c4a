"""``digitlab mistakes``: which test digits the model gets wrong, and why."""

from __future__ import annotations

import click

from digitlab.cli.errors import friendly
from digitlab.cli.group import main
from digitlab.cli.options import (
    check_outputs,
    data_option,
    echo,
    force_option,
    json_option,
    model_options,
    output_option,
    plot_option,
    split_options,
)
from digitlab.cli.record import record, record_options
from digitlab.errors import DigitlabError


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
@output_option(
    "--report",
    "report",
    "Write a self-contained HTML report (confusion heat map, gallery).",
)
@plot_option("Write the confusion matrix as a PNG picture.")
@force_option("Allow --report/--plot to overwrite.")
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
def mistakes(data, normalize, report, plot_path, force, as_json, **settings):
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
    from digitlab.mistakes import mistakes_on_split

    check_outputs(force, report, plot_path)
    if report is not None and report == plot_path:
        raise DigitlabError("--report and --plot name the same file; give two names.")
    dataset = load_data(data)
    result = mistakes_on_split(dataset, **settings)
    written = _write_files(result, report, plot_path, normalize, force)
    record(result, data=dataset, files=written.values())
    out = {**result.to_dict(normalize=normalize), "written": written}
    lines = [*result.description.split(" · "), *result.lines(normalize=normalize)]
    if "report" in written:
        lines.append(f"Report written to {written['report']}")
    if "plot" in written:
        lines.append(f"Plot written to {written['plot']}")
    echo(lines, out, as_json)


def _write_files(result, report, plot_path, normalize, force: bool) -> dict:
    """Write the ``--report`` page and the ``--plot`` picture that were asked for."""
    written = {}
    if report is not None:
        path = result.to_html(report, force=force, normalize=normalize)
        written["report"] = str(path)
    if plot_path is not None:
        from digitlab.plots import plot_confusion, save_png

        path = save_png(
            plot_path, plot_confusion, result, normalize=normalize, force=force
        )
        written["plot"] = str(path)
    return written
