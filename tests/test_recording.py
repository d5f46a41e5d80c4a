"""Recording is the core's job: a run recorded from Python is the run the CLI
records, it reruns from the CLI, and the history reads back as result objects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import digitlab
import digitlab.runs
from digitlab.cli import main
from digitlab.compare import compare
from digitlab.data import load_data, load_digits
from digitlab.errors import DigitlabError
from digitlab.mistakes import mistakes_on_split
from digitlab.predict import predict_files
from digitlab.runs import RunStore, compare_results
from digitlab.sweep import sweep
from digitlab.train import train

DRAWN = Path(__file__).resolve().parent / "fixtures" / "drawn"


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output
    )
    return result


def only_run(db: Path):
    with RunStore(db) as store:
        runs = store.runs()
    assert len(runs) == 1
    return runs[0]


def assert_same_run(from_cli, from_python):
    """Everything but the time, the duration and the versions is equal."""
    for name in (
        "command",
        "argv",
        "reproduce",
        "config",
        "data_name",
        "data_fingerprint",
        "seeds",
        "score",
        "score_std",
        "summary",
        "result_type",
        "files",
    ):
        assert getattr(from_python, name) == getattr(from_cli, name), name
    assert compare_results(from_cli, from_python) == []


CASES = {
    "train": (
        ["train", "--k", "1", "--seed", "3", "--stratify"],
        lambda data: train(data, k=1, seed=3, stratify=True),
    ),
    "train-recipe": (
        ["train", "--recipe", "knn-distance", "--test-size", "300"],
        lambda data: train(data, recipe="knn-distance", test_size=300),
    ),
    "sweep": (
        ["sweep", "--k", "1..3", "--test-sizes", "0.2,0.3", "--repeats", "2"],
        lambda data: sweep(data, test_sizes=[0.2, 0.3], ks=[1, 2, 3], repeats=2),
    ),
    "sweep-cv": (
        ["sweep", "--cv", "5", "--k", "1,3", "--repeats", "2", "--seed", "4"],
        lambda data: sweep(data, cv=5, ks=[1, 3], repeats=2, seed=4),
    ),
    "sweep-loo": (
        ["sweep", "--loo", "--k", "1..3", "--weights", "distance"],
        lambda data: sweep(data, loo=True, ks=[1, 2, 3], weights="distance"),
    ),
    "mistakes": (
        ["mistakes", "--k", "3", "--repeats", "2"],
        lambda data: mistakes_on_split(data, k=3, repeats=2),
    ),
    "compare": (
        ["compare", "--recipes", "knn-pca", "--repeats", "2"],
        lambda data: compare(data, ["knn-pca"], repeats=2),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_run_recorded_from_python_is_the_run_the_cli_records(case, tmp_path):
    argv, compute = CASES[case]
    cli(*argv, "--runs-db", tmp_path / "cli.sqlite")
    from_cli = only_run(tmp_path / "cli.sqlite")

    stored = digitlab.runs.record(
        compute(load_digits()), runs_db=tmp_path / "python.sqlite"
    )
    from_python = only_run(tmp_path / "python.sqlite")
    assert stored.id == from_python.id == 1
    assert_same_run(from_cli, from_python)
    assert from_python.argv[0] == case.split("-")[0]


def test_a_predict_run_from_python_is_the_clis(tmp_path):
    pictures = [str(DRAWN / "7_s0_paper.png"), str(DRAWN / "3_s1_chalk.png")]
    cli("predict", *pictures, "--k", "3", "--runs-db", tmp_path / "cli.sqlite")
    digitlab.runs.record(
        predict_files(pictures, k=3), runs_db=tmp_path / "python.sqlite"
    )
    from_cli = only_run(tmp_path / "cli.sqlite")
    assert_same_run(from_cli, only_run(tmp_path / "python.sqlite"))
    assert from_cli.argv == ["predict", "--k", "3", *pictures]
    assert from_cli.config["k"] == 3


def test_a_run_recorded_from_python_reruns_identically_from_the_cli(tmp_path):
    db = tmp_path / "runs.sqlite"
    run = digitlab.runs.record(train(load_digits(), k=1), runs_db=db)
    assert run.score == pytest.approx(356 / 360)
    assert run.command_line == (
        "digitlab train --data digits --test-size 0.2 --seed 0 --no-stratify "
        "--k 1 --weights uniform --metric euclidean"
    )
    result = cli("runs", "rerun", run.id, "--runs-db", db)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith(
        f"Identical: the result matches run #{run.id} exactly"
    )


def test_data_read_with_options_reruns_with_the_same_options(tmp_path, monkeypatch):
    """A CSV read with labels= is recorded with --data (absolute) and --labels."""
    digits = load_digits()
    table = np.column_stack([digits.X, digits.y]).astype(int)
    header = ",".join([*(f"p{i}" for i in range(64)), "digit"])
    (tmp_path / "mine.csv").write_text(
        header + "\n" + "\n".join(",".join(map(str, row)) for row in table) + "\n"
    )
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "runs.sqlite"
    data = load_data("mine.csv", labels="digit")
    run = digitlab.runs.record(train(data, k=3), runs_db=db)
    assert run.argv[:5] == [
        "train",
        "--data",
        str(tmp_path / "mine.csv"),
        "--labels",
        "digit",
    ]
    assert run.data_fingerprint == digits.fingerprint()
    cli("train", "--data", "mine.csv", "--labels", "digit", "--k", "3")
    cli_db = Path(digitlab.runs.default_db_path())
    assert_same_run(only_run(cli_db), run)
    rerun = cli("runs", "rerun", run.id, "--runs-db", db)
    assert "Identical" in rerun.stdout and rerun.exit_code == 0


def test_list_and_best_print_as_the_cli_does_and_show_as_tables(tmp_path):
    db = tmp_path / "runs.sqlite"
    digits = load_digits()
    digitlab.runs.record(train(digits), runs_db=db)
    digitlab.runs.record(train(digits, k=1), runs_db=db)
    swept = sweep(digits, ks=[1, 3], repeats=2)
    digitlab.runs.record(swept, runs_db=db)

    listed = digitlab.runs.list(runs_db=db)
    assert digitlab.runs.list is digitlab.runs.list_runs
    assert [r.id for r in listed] == [3, 2, 1]
    assert repr(listed) + "\n" == cli("runs", "--runs-db", db).stdout
    cell = swept.best()
    sweep_score = digitlab.runs.format_score(cell.mean, cell.summary.std)
    assert [r["accuracy"] for r in listed.rows()] == [sweep_score, "0.9889", "0.975"]
    html = listed._repr_html_()
    assert html.startswith("<table style='border-collapse:collapse'>")
    assert html.count("<tr>") == 4 and "ts=0.2 k=1 seed 0" in html

    best = digitlab.runs.best(runs_db=db)
    assert [(r.command, r.id) for r in best] == [("sweep", 3), ("train", 2)]
    assert repr(best) + "\n" == cli("runs", "best", "--runs-db", db).stdout
    assert "digitlab train --data digits" in best._repr_html_()
    assert repr(digitlab.runs.list(command="mistakes", runs_db=db)) == (
        f"No matching runs in {db}."
    )


def test_record_refuses_what_it_cannot_record(tmp_path):
    with pytest.raises(DigitlabError, match="A dict cannot be recorded"):
        digitlab.runs.record({"accuracy": 1.0}, runs_db=tmp_path / "r.sqlite")
    assert not (tmp_path / "r.sqlite").exists()


def test_python_functions_record_nothing_unless_asked(tmp_path):
    train(load_digits())
    assert not Path(digitlab.runs.default_db_path()).exists()


def test_digitlab_runs_is_there_after_a_plain_import(tmp_path):
    code = (
        "import sys, digitlab\n"
        "assert 'digitlab.runs' not in sys.modules\n"
        "print(repr(digitlab.runs.best()))\n"
    )
    env = {**os.environ, "DIGITLAB_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("No scored runs in")


def test_where_neighbors_were_ranked_is_part_of_the_command_line(tmp_path):
    """--backend is recorded where the CLI declares it (after --data), and the
    rerun ranks the same way; a Python run outside use() names no backend."""
    db = tmp_path / "runs.sqlite"
    cli("train", "--backend", "numpy", "--k", "3", "--runs-db", db)
    run = only_run(db)
    assert run.argv == [
        "train",
        "--data",
        "digits",
        "--backend",
        "numpy",
        "--test-size",
        "0.2",
        "--seed",
        "0",
        "--no-stratify",
        "--k",
        "3",
        "--weights",
        "uniform",
        "--metric",
        "euclidean",
    ]
    assert "Identical" in cli("runs", "rerun", "1", "--runs-db", db).stdout
    python_run = digitlab.runs.run_from_result(train(load_digits(), k=3))
    assert python_run.argv == [a for a in run.argv if a not in ("--backend", "numpy")]
