"""``digitlab runs``: the run history (list, show, best, rerun, export, delete)."""

from __future__ import annotations

import sys

import click

from digitlab.cli.errors import friendly
from digitlab.cli.group import main
from digitlab.cli.options import (
    check_outputs,
    echo,
    force_option,
    json_option,
    output_option,
    plot_option,
    runs_db_option,
)
from digitlab.cli.record import capture_runs
from digitlab.errors import DigitlabError


def _filter_options(command):
    command = click.option(
        "--data",
        default=None,
        metavar="DATA",
        help="Only runs on this data set (its name, e.g. digits).",
    )(command)
    return click.option(
        "--command",
        "command_name",
        default=None,
        metavar="NAME",
        help="Only runs of this command (train, sweep, ...).",
    )(command)


_limit_option = click.option(
    "--limit", type=int, default=None, metavar="N", help="At most N runs."
)


def _open_runs(runs_db):
    from digitlab.runs import RunStore

    return RunStore(runs_db, create=False)


def _list_runs(command_name, data, limit, as_json, runs_db) -> None:
    from digitlab.runs import list_runs

    found = list_runs(command=command_name, data=data, limit=limit, runs_db=runs_db)
    echo(found.lines(), [r.to_dict() for r in found], as_json)


@main.group(invoke_without_command=True)
@_filter_options
@_limit_option
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
@_filter_options
@_limit_option
@json_option
@runs_db_option
@friendly
def runs_list(command_name, data, limit, as_json, runs_db):
    """List recorded runs, newest first."""
    _list_runs(command_name, data, limit, as_json, runs_db)


@runs.command("show")
@click.argument("run_id", type=int, metavar="ID")
@plot_option(
    "Redraw the run's plot (sweep, compare, mistakes) from the stored results as a PNG."
)
@force_option("Let --plot overwrite a file.")
@json_option
@runs_db_option
@friendly
def runs_show(run_id, plot_path, force, as_json, runs_db):
    """Show one run in full and redraw its result from what was stored.

    \b
    Sweeps and comparisons are redrawn table for table from the stored results,
    without recomputing; --plot PATH redraws their plot too.
    """
    from digitlab.runs import show_lines

    check_outputs(force, plot_path)
    with _open_runs(runs_db) as store:
        run = store.get(run_id)
    written = None if plot_path is None else _redraw_plot(run, plot_path, force)
    done = [f"Plot written to {written}"] if written else []
    out = {**run.to_dict(), **({"written": [str(written)]} if written else {})}
    echo([*show_lines(run), *done], out, as_json)


def _redraw_plot(run, path, force: bool):
    """A sweep's, comparison's or mistakes' plot drawn again from the stored run."""
    from digitlab.runs import rebuild_result

    obj = rebuild_result(run)
    if obj is None or not hasattr(obj, "plot"):
        raise DigitlabError(
            f"Run #{run.id} ({run.command}) has no plot to redraw; plots are "
            "kept for sweep, compare and mistakes runs."
        )
    from digitlab.plots import save_png

    return save_png(path, obj.plot, force=force)


@runs.command("best")
@_filter_options
@json_option
@runs_db_option
@friendly
def runs_best(command_name, data, as_json, runs_db):
    """The best score per data set and command, with the line that reproduces it."""
    from digitlab.runs import best

    found = best(command=command_name, data=data, runs_db=runs_db)
    echo(found.lines(), [r.to_dict() for r in found], as_json)


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
    new = _run_again(old)
    changed = [
        f"{name} {old.versions.get(name)} → {version}"
        for name, version in sorted(new.versions.items())
        if old.versions.get(name) != version
    ]
    if changed:
        click.echo("Note: versions differ: " + ", ".join(changed))
    differences = compare_results(old, new)
    echo(_verdict(old, differences))
    if differences:
        sys.exit(1)


def _run_again(old):
    """Run ``old``'s command line in this process; the run it would record."""
    with capture_runs() as captured:
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
    if not captured:
        raise DigitlabError(
            f"Re-running run #{old.id} produced no result to compare; its command "
            f"{old.command!r} does not record runs in this digitlab."
        )
    return captured[-1]


def _verdict(old, differences: list[str]) -> list[str]:
    if not differences:
        return [
            f"Identical: the result matches run #{old.id} exactly (same data "
            f"fingerprint {old.data_fingerprint}, every result number equal)."
        ]
    lines = [f"Different from run #{old.id}:"]
    lines += [f"  {line}" for line in differences[:20]]
    if len(differences) > 20:
        lines.append(f"  ... and {len(differences) - 20} more")
    return lines


@runs.command("export")
@output_option("--csv", "csv_path", "Write the runs to this CSV file.")
@output_option("--json", "json_path", "Write the runs to this JSON file.")
@force_option("Allow overwriting an existing file.")
@_filter_options
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
        if store.is_damaged(run_id):  # nothing to show, but it can go
            question = f"Delete the damaged run #{run_id}?"
        else:
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
