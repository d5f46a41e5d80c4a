"""``digitlab sweep``: every test size × k on many seeded splits."""

from __future__ import annotations

import click

from digitlab.cli.errors import friendly
from digitlab.cli.group import main
from digitlab.cli.options import (
    K_FLAGS,
    check_outputs,
    data_option,
    echo,
    force_option,
    json_option,
    output_option,
    plot_option,
    stratify_option,
    weights_metric_options,
)
from digitlab.cli.progress import ProgressBar
from digitlab.cli.record import record, record_options


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
    *K_FLAGS,
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
@stratify_option("Keep each digit's share equal in train and test (splits and folds).")
@output_option(
    "--csv",
    "csv_path",
    "Write the tidy table (one line per test size, k and seed) as CSV.",
)
@plot_option("Write a PNG: heatmap of mean accuracy and accuracy vs k with its spread.")
@force_option("Let --csv and --plot overwrite files.")
@json_option
@record_options
@friendly
def sweep(data, test_sizes, ks, csv_path, plot_path, force, as_json, **settings):
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
    from digitlab.sweep import parse_ks, parse_test_sizes
    from digitlab.sweep import sweep as run_sweep

    check_outputs(force, csv_path, plot_path)
    dataset = load_data(data)
    sizes = None if test_sizes is None else parse_test_sizes(test_sizes)
    with ProgressBar("Sweeping", enabled=not as_json) as bar:
        result = run_sweep(
            dataset,
            test_sizes=sizes,
            ks=parse_ks(ks),
            progress=bar and bar.update,
            **settings,
        )
    written = _write_files(result, csv_path, plot_path, force)
    record(result, data=dataset, files=written)
    out = {**result.to_dict(), "written": [str(p) for p in written]}
    echo([*result.lines(), *(f"Wrote {p}" for p in written)], out, as_json)


def _write_files(result, csv_path, plot_path, force: bool) -> list:
    """Write the ``--csv`` table and the ``--plot`` picture that were asked for."""
    from digitlab.files import write_bytes

    written = []
    if csv_path is not None:
        csv_bytes = result.to_csv().encode("utf-8")
        written.append(write_bytes(csv_path, csv_bytes, force=force))
    if plot_path is not None:
        from digitlab.plots import sweep_png

        written.append(write_bytes(plot_path, sweep_png(result), force=force))
    return written
