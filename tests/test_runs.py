"""The run history on real SQLite files: recording, commands and reliability."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn
from click.testing import CliRunner
from sklearn.neighbors import KNeighborsClassifier

import digitlab
from digitlab import runs as runs_module
from digitlab.cli import main
from digitlab.errors import DigitlabError
from digitlab.runs import RunStore, format_score, new_run

SRC = Path(digitlab.__file__).resolve().parents[1]


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def subprocess_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SRC), env.get("PYTHONPATH", "")) if p
    )
    return env


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_run(i: int = 0, **changes) -> runs_module.Run:
    values = dict(
        argv=["train", "--seed", str(i)],
        config={"i": i},
        results={"accuracy": i / 100},
        data_name="digits",
        data_fingerprint="f" * 16,
        score=i / 100,
        seeds=[i],
    )
    values.update(changes)
    return new_run("train", **values)


LESSON_ARGV = [
    "train",
    "--data",
    "digits",
    "--test-size",
    "0.2",
    "--seed",
    "0",
    "--no-stratify",
    "--k",
    "5",
    "--weights",
    "uniform",
    "--metric",
    "euclidean",
]


# -- what a train run records ------------------------------------------------------


def test_train_records_everything(tmp_path, digits):
    db = tmp_path / "runs.sqlite"
    model = tmp_path / "model.npz"
    result = cli("train", "--save", model, "--runs-db", db)
    assert result.exit_code == 0, result.output
    assert "Accuracy: 0.975 (351 of 360 test digits right)" in result.output

    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.id == 1 and run.command == "train"
    assert run.argv == LESSON_ARGV
    assert run.reproduce == LESSON_ARGV
    assert run.config == {
        "data": "digits",
        "k": 5,
        "metric": "euclidean",
        "seed": 0,
        "stratify": False,
        "test_size": 0.2,
        "weights": "uniform",
    }
    assert run.data_name == "digits"
    assert run.data_fingerprint == digits.fingerprint()
    assert run.versions["scikit-learn"] == sklearn.__version__
    assert run.versions["numpy"] == np.__version__
    assert run.versions["digitlab"] == digitlab.__version__
    assert run.seeds == [0]
    assert run.score == 0.975 and run.score_std is None
    assert run.summary == "ts=0.2 k=5 seed 0"
    assert run.results["n_correct"] == 351 and run.results["n_test"] == 360
    # The stored predictions are the lesson's, as scikit-learn makes them.
    split = digits.split(test_size=0.2, seed=0)
    sk = KNeighborsClassifier().fit(split.X_train, split.y_train)
    sk_pred = sk.predict(split.X_test)
    assert run.results["predictions"] == sk_pred.tolist()
    nines = split.y_test == 9
    assert run.results["per_class_accuracy"]["9"] == np.mean(sk_pred[nines] == 9)
    assert run.files == [str(model.resolve())]
    assert run.duration_s > 0
    assert run.created_at.endswith("+00:00")


def test_default_location_is_digitlab_home(tmp_path, monkeypatch):
    home = tmp_path / "new" / "home"
    monkeypatch.setenv("DIGITLAB_HOME", str(home))
    assert cli("train", "--k", "1").exit_code == 0
    with RunStore(home / "runs.sqlite") as store:
        assert [r.score for r in store.runs()] == [356 / 360]
    assert runs_module.default_db_path() == home / "runs.sqlite"


def test_no_record_keeps_nothing(tmp_path):
    db = tmp_path / "runs.sqlite"
    assert cli("train", "--no-record", "--runs-db", db).exit_code == 0
    assert not db.exists()


def test_a_failing_command_records_nothing(tmp_path):
    db = tmp_path / "runs.sqlite"
    assert cli("train", "--runs-db", db).exit_code == 0
    result = cli("train", "--test-size", "5000", "--runs-db", db)
    assert result.exit_code == 2
    with RunStore(db) as store:
        assert len(store) == 1


def test_runs_missing_folder_for_runs_db(tmp_path):
    result = cli("train", "--runs-db", tmp_path / "nope" / "runs.sqlite")
    assert result.exit_code == 2
    assert "Accuracy: 0.975" in result.output
    assert "the folder" in result.output and "does not exist" in result.output


# -- reliability ---------------------------------------------------------------------

WRITER = r"""
import sys, time
from pathlib import Path
from digitlab.runs import RunStore, format_score, new_run
path, worker, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
for i in range(50):
    run = new_run(
        "train", argv=["train", "--seed", str(i)], config={"worker": worker, "i": i},
        results={"worker": worker, "i": i}, data_name="digits",
        data_fingerprint="f" * 16, score=i / 100, seeds=[i],
    )
    with RunStore(path) as store:  # a fresh open each time, like 50 commands
        store.add(run)
"""


@pytest.mark.slow
def test_four_processes_record_fifty_runs_each_at_once(tmp_path):
    db = tmp_path / "runs.sqlite"  # does not exist: the four race to create it
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(w), str(go)],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert all(err == "" for _, err in outputs), outputs
    with RunStore(db) as store:
        runs = store.runs()
    assert len(runs) == 200
    assert sorted(r.id for r in runs) == list(range(1, 201))
    pairs = sorted((r.results["worker"], r.results["i"]) for r in runs)
    assert pairs == [(w, i) for w in range(4) for i in range(50)]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


CRASHER = r"""
import os, signal, sys
from digitlab.runs import RunStore, format_score, new_run
store = RunStore(sys.argv[1])
run = new_run("train", argv=["train"], config={}, results={"half": True},
              data_name="digits", data_fingerprint="f" * 16, score=0.5)
with store._transaction() as conn:
    store._insert(conn, run)
    print("inserted", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies before COMMIT
"""


@pytest.mark.slow
def test_a_process_killed_midway_leaves_no_half_row(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.add(fake_run(1))
    proc = subprocess.run(
        [sys.executable, "-c", CRASHER, str(db)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout == "inserted\n"
    with RunStore(db) as store:
        runs = store.runs()
        assert [r.results for r in runs] == [{"accuracy": 0.01}]
        store.add(fake_run(2))  # the history is still writable
        assert [r.id for r in store.runs()] == [2, 1]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_an_error_inside_the_transaction_leaves_no_row(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        with pytest.raises(RuntimeError), store._transaction() as conn:
            store._insert(conn, fake_run(1))
            raise RuntimeError("crash between insert and commit")
        assert len(store) == 0


@pytest.mark.parametrize(
    "content",
    [b"my notes about digits\n", b"SQLite format 3\x00" + b"\xff" * 5000],
    ids=["text-file", "damaged-sqlite"],
)
def test_corrupted_file_is_refused_and_left_untouched(tmp_path, content):
    db = tmp_path / "runs.sqlite"
    db.write_bytes(content)
    before = db.stat()

    result = cli("train", "--runs-db", db)
    assert result.exit_code == 2
    # The command's own result is still printed, then one clear error.
    assert "Accuracy: 0.975 (351 of 360 test digits right)" in result.output
    error = result.output.splitlines()[-1]
    assert error.startswith("Error: The run was not recorded: ")
    assert str(db) in error
    assert f"mv {db} {db}.broken" in error

    listing = cli("runs", "--runs-db", db)
    assert listing.exit_code == 2 and f"mv {db} {db}.broken" in listing.output

    assert db.read_bytes() == content
    assert db.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.sqlite"]


def test_a_foreign_sqlite_database_is_refused_and_left_untouched(tmp_path):
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    before = digest(db)
    with pytest.raises(DigitlabError, match="not a digitlab run history"):
        RunStore(db)
    assert digest(db) == before


def _set_version(db: Path, version: int, written_by: str = "digitlab 9.0.0"):
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE digitlab_schema SET version = ?, written_by = ?",
            (version, written_by),
        )
    conn.close()


def test_a_history_from_a_newer_digitlab_is_refused(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.add(fake_run(1))
    _set_version(db, runs_module.SCHEMA_VERSION + 1)
    before = digest(db)

    result = cli("train", "--runs-db", db)
    assert result.exit_code == 2
    assert "Accuracy: 0.975" in result.output
    assert (
        f"The run history {db} was written by a newer digitlab (digitlab 9.0.0, "
        f"history schema {runs_module.SCHEMA_VERSION + 1}); this digitlab "
        f"{digitlab.__version__} reads schema {runs_module.SCHEMA_VERSION} at most"
    ) in result.output
    assert cli("runs", "best", "--runs-db", db).exit_code == 2
    assert digest(db) == before


def test_forward_migration_keeps_runs_and_then_older_code_refuses(
    tmp_path, monkeypatch
):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.add(fake_run(7))
    step = ("ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT ''",)
    migrations = {**runs_module.MIGRATIONS, 2: step}
    monkeypatch.setattr(runs_module, "MIGRATIONS", migrations)
    monkeypatch.setattr(runs_module, "SCHEMA_VERSION", 2)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM digitlab_schema").fetchone() == (1,)
    conn.close()

    with RunStore(db) as store:  # migrates 1 -> 2 in one transaction
        assert [r.score for r in store.runs()] == [0.07]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM digitlab_schema").fetchone() == (2,)
        assert conn.execute("SELECT note FROM runs").fetchall() == [("",)]
    conn.close()

    monkeypatch.undo()  # back to this digitlab, which knows schema 1 only
    with pytest.raises(DigitlabError, match="written by a newer digitlab"):
        RunStore(db)


def _read_only_train(db: Path):
    command = [sys.executable, "-m", "digitlab", "train", "--runs-db", str(db)]
    if os.geteuid() == 0:
        # root ignores file permissions: drop that power for this one process.
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("running as root without capsh to drop CAP_DAC_OVERRIDE")
        drop = "--drop=cap_dac_override,cap_dac_read_search"
        command = [capsh, drop, "--", "-c", shlex.join(command)]
    return subprocess.run(
        command, env=subprocess_env(), capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_read_only_folder_clear_error_and_result_still_printed(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        proc = _read_only_train(folder / "runs.sqlite")
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "Accuracy: 0.975 (351 of 360 test digits right)"
    )
    assert proc.stderr.startswith("Error: The run was not recorded: Cannot write ")
    assert str(folder / "runs.sqlite") in proc.stderr
    assert "--no-record" in proc.stderr and "Traceback" not in proc.stderr
    assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_read_only_existing_history_clear_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    db = folder / "runs.sqlite"
    with RunStore(db) as store:
        store.add(fake_run(1))
    before = digest(db)
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        proc = _read_only_train(db)
    finally:
        folder.chmod(0o755)
        db.chmod(0o644)
    assert proc.returncode == 2, proc.stderr
    assert "Accuracy: 0.975" in proc.stdout
    assert proc.stderr.startswith("Error: The run was not recorded: ")
    assert str(db) in proc.stderr and "Traceback" not in proc.stderr
    assert digest(db) == before


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_unwritable_system_folder_clear_error():
    result = cli("train", "--runs-db", "/proc/digitlab-runs.sqlite")
    assert result.exit_code == 2
    assert "Accuracy: 0.975" in result.output
    assert (
        "Error: The run was not recorded: Cannot write the run history "
        "/proc/digitlab-runs.sqlite (unable to open database file)"
    ) in result.output


def test_a_folder_as_runs_db_is_refused(tmp_path):
    with pytest.raises(DigitlabError, match="is a folder"):
        RunStore(tmp_path)


# -- the runs commands ----------------------------------------------------------------


@pytest.fixture
def history(tmp_path):
    """Three real train runs: k=5 (0.975), k=1 (0.9889), k=3 (0.9833)."""
    db = tmp_path / "runs.sqlite"
    for k in (5, 1, 3):
        assert cli("train", "--k", k, "--runs-db", db).exit_code == 0
    return db


def test_runs_lists_newest_first(history):
    result = cli("runs", "--runs-db", history)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "when", "command", "data", "config", "accuracy"]
    assert [ln.split()[0] for ln in lines[1:]] == ["3", "2", "1"]
    assert lines[1].endswith("train    digits  ts=0.2 k=3 seed 0  0.9833")
    assert cli("runs", "list", "--runs-db", history).output == result.output

    limited = json.loads(
        cli("runs", "--limit", "2", "--json", "--runs-db", history).output
    )
    assert [r["id"] for r in limited] == [3, 2]
    assert limited[1]["score"] == 356 / 360
    assert cli("runs", "--command", "sweep", "--runs-db", history).output == (
        f"No matching runs in {history}.\n"
    )
    assert "No matching" in cli("runs", "--data", "mnist", "--runs-db", history).output
    bad = cli("runs", "--limit", "0", "--runs-db", history)
    assert bad.exit_code == 2 and "--limit must be 1 or more" in bad.output


def test_runs_on_a_missing_history_creates_nothing(tmp_path):
    db = tmp_path / "runs.sqlite"
    result = cli("runs", "--runs-db", db)
    assert result.output == f"No runs recorded in {db} yet.\n"
    assert cli("runs", "best", "--runs-db", db).exit_code == 0
    assert not db.exists()


def test_runs_show_redraws_the_result(history, digits):
    result = cli("runs", "show", "2", "--runs-db", history)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Run #2: digitlab " + shlex.join(
        [a if a != "5" else "1" for a in LESSON_ARGV]
    )
    assert f"Data: digits (fingerprint {digits.fingerprint()})" in lines
    assert "Score: 0.9889" in lines
    assert "  n_correct: 356" in lines and "    9: 0.9512" in lines
    as_json = json.loads(
        cli("runs", "show", "2", "--json", "--runs-db", history).output
    )
    assert as_json["results"]["n_correct"] == 356
    missing = cli("runs", "show", "99", "--runs-db", history)
    assert missing.exit_code == 2
    assert f"There is no run #99 in {history}" in missing.output


def test_runs_best_reproduce_line_really_reproduces(history):
    result = cli("runs", "best", "--runs-db", history)
    assert result.exit_code == 0
    first, reproduce = result.output.splitlines()
    assert first == "Best train on digits: 0.9889 — run #2, ts=0.2 k=1 seed 0"
    assert reproduce.startswith("Reproduce: digitlab train ")
    args = shlex.split(reproduce.removeprefix("Reproduce: digitlab "))
    again = cli(*args, "--json", "--no-record")
    assert again.exit_code == 0
    out = json.loads(again.output)
    with RunStore(history) as store:
        stored = store.get(2)
    assert out["accuracy"] == stored.score == 356 / 360
    assert out["per_class_accuracy"] == stored.results["per_class_accuracy"]

    as_json = json.loads(cli("runs", "best", "--json", "--runs-db", history).output)
    assert [(r["id"], r["command"]) for r in as_json] == [(2, "train")]


def test_runs_best_groups_by_data_and_command(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.add(fake_run(50))
        store.add(fake_run(90))
        store.add(fake_run(90))  # a tie: the earlier run keeps the title
        store.add(fake_run(99, data_name="mnist"))
        store.add(new_run("predict", argv=["predict"], config={}, results={}))
        best = store.best()
    assert [(r.data_name, r.command, r.id, r.score) for r in best] == [
        ("digits", "train", 2, 0.9),
        ("mnist", "train", 4, 0.99),
    ]


def test_runs_rerun_says_identical(history):
    result = cli("runs", "rerun", "2", "--runs-db", history)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Re-running run #2: digitlab train --data digits")
    assert "Accuracy: 0.9889 (356 of 360 test digits right)" in lines
    assert lines[-1].startswith("Identical: the result matches run #2 exactly")
    with RunStore(history) as store:
        assert len(store) == 3  # a rerun is a check, not a new run


def test_runs_rerun_says_different_when_the_stored_result_differs(history):
    with sqlite3.connect(history) as conn:
        row = conn.execute("SELECT results FROM runs WHERE id = 1").fetchone()
        results = json.loads(row[0])
        results["n_correct"] = 350
        results["predictions"][0] = 7
        conn.execute("UPDATE runs SET results = ? WHERE id = 1", (json.dumps(results),))
    conn.close()
    result = cli("runs", "rerun", "1", "--runs-db", history)
    assert result.exit_code == 1
    assert "Different from run #1:" in result.output
    assert "  n_correct: 350 → 351" in result.output
    assert "  predictions[0]: 7 → 2" in result.output


def test_runs_export_csv_and_json(history, tmp_path):
    out_csv = tmp_path / "runs.csv"
    result = cli("runs", "export", "--csv", out_csv, "--runs-db", history)
    assert result.exit_code == 0 and result.output == f"Exported 3 runs to {out_csv}\n"
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert [float(r["score"]) for r in rows] == [0.975, 356 / 360, 354 / 360]
    assert json.loads(rows[1]["config"])["k"] == 1
    assert rows[1]["reproduce_line"].startswith("digitlab train --data digits")

    out_json = tmp_path / "runs.json"
    assert (
        cli("runs", "export", "--json", out_json, "--runs-db", history).exit_code == 0
    )
    data = json.loads(out_json.read_text())
    assert [r["results"]["n_correct"] for r in data] == [351, 356, 354]

    before = out_csv.read_bytes()
    again = cli("runs", "export", "--csv", out_csv, "--runs-db", history)
    assert again.exit_code == 2 and "add --force" in again.output
    assert out_csv.read_bytes() == before
    only = cli(
        "runs",
        "export",
        "--csv",
        out_csv,
        "--force",
        "--data",
        "mnist",
        "--runs-db",
        history,
    )
    assert only.exit_code == 0 and out_csv.read_text().count("\n") == 1
    both = cli("runs", "export", "--runs-db", history)
    assert (
        both.exit_code == 2
        and "exactly one of --csv PATH or --json PATH" in both.output
    )


def test_runs_delete_asks_unless_yes(history):
    kept = cli("runs", "delete", "1", "--runs-db", history, input="n\n")
    assert kept.exit_code == 0 and "Nothing deleted." in kept.output
    assert "Delete run #1: train on digits, 0.975, ts=0.2 k=5 seed 0? [y/N]" in (
        kept.output
    )
    asked = cli("runs", "delete", "1", "--runs-db", history, input="y\n")
    assert asked.exit_code == 0 and "Deleted run #1." in asked.output
    assert cli("runs", "delete", "3", "--yes", "--runs-db", history).exit_code == 0
    with RunStore(history) as store:
        assert [r.id for r in store.runs()] == [2]
    gone = cli("runs", "delete", "3", "--yes", "--runs-db", history)
    assert gone.exit_code == 2 and "There is no run #3" in gone.output


def test_run_prints_readably(history):
    with RunStore(history) as store:
        run = store.get(1)
    assert repr(run) == "<Run train #1 on digits: 0.975 (ts=0.2 k=5 seed 0)>"
    assert "<code>digitlab train --data digits" in run._repr_html_()
    with RunStore(history, create=False) as store:
        assert repr(store) == f"RunStore({str(history)!r})"


# -- predict runs --------------------------------------------------------------------

DRAWN = Path(__file__).resolve().parent / "fixtures" / "drawn"


def test_predict_is_recorded_and_reruns_from_another_folder(
    tmp_path, monkeypatch, digits
):
    db = tmp_path / "runs.sqlite"
    monkeypatch.chdir(DRAWN)
    result = cli("predict", "7_s1_paper.png", "4_s0_scan.jpg", "--runs-db", db)
    assert result.exit_code == 0, result.output
    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.command == "predict"
    # No --k given: the option is left out and the model's own k=5 is used.
    assert run.argv == [
        "predict",
        str(DRAWN / "7_s1_paper.png"),
        str(DRAWN / "4_s0_scan.jpg"),
    ]
    assert run.data_name == "digits"
    # The default model's data: the built-in digits and their slanted copies.
    default = digitlab.default_model()
    training = digitlab.Dataset(X=default._fit_X, y=default.classes_[default._y])
    assert run.data_fingerprint == training.fingerprint() != digits.fingerprint()
    assert run.config["k"] == 5 and run.config["model"] == "default"
    assert run.score is None and run.summary == "2 pictures, k=5"
    assert [(p["file"], p["digit"]) for p in run.results["predictions"]] == [
        (str(DRAWN / "7_s1_paper.png"), 7),
        (str(DRAWN / "4_s0_scan.jpg"), 4),
    ]
    expected = digitlab.predict_files([DRAWN / "7_s1_paper.png"]).results[0]
    assert run.results["predictions"][0]["votes"] == expected.votes

    monkeypatch.chdir(tmp_path)
    again = cli("runs", "rerun", "1", "--runs-db", db)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1].startswith("Identical:")


def test_predict_rerun_notices_a_changed_picture(tmp_path):
    db = tmp_path / "runs.sqlite"
    picture = tmp_path / "mine.png"
    shutil.copy(DRAWN / "7_s1_paper.png", picture)
    assert cli("predict", picture, "--runs-db", db).exit_code == 0
    shutil.copy(DRAWN / "3_s1_chalk.png", picture)  # the user redrew it
    again = cli("runs", "rerun", "1", "--runs-db", db)
    assert again.exit_code == 1
    assert "config.pictures_sha256:" in again.output
    assert "predictions[0].digit: 7 → 3" in again.output


def test_predict_with_an_unreadable_file_is_still_recorded(tmp_path):
    db = tmp_path / "runs.sqlite"
    missing = tmp_path / "nope.png"
    result = cli("predict", DRAWN / "1_s0_paper.png", missing, "--runs-db", db)
    assert result.exit_code == 2
    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.results["unreadable"] == [str(missing)]
    assert run.summary == "1 picture, k=5, 1 unreadable"


# -- mistakes runs ------------------------------------------------------------------


def test_mistakes_is_recorded_with_its_whole_result(tmp_path):
    db = tmp_path / "runs.sqlite"
    report = tmp_path / "mistakes.html"
    result = cli("mistakes", "--repeats", "3", "--report", report, "--runs-db", db)
    assert result.exit_code == 0, result.output
    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.command == "mistakes"
    assert run.argv[-2:] == ["--repeats", "3"] and "--report" not in run.argv
    assert run.seeds == [0, 1, 2]
    # Three lesson-style splits (seeds 0, 1, 2), each checked by scikit-learn.
    accuracies = []
    for seed in (0, 1, 2):
        split = digitlab.load_digits().split(test_size=0.2, seed=seed)
        sk = KNeighborsClassifier().fit(split.X_train, split.y_train)
        accuracies.append(sk.score(split.X_test, split.y_test))
    assert run.results["accuracies"] == accuracies
    assert run.score == pytest.approx(np.mean(accuracies), abs=1e-12)
    assert run.score_std == pytest.approx(np.std(accuracies, ddof=1), abs=1e-12)
    assert run.results["n_test"] == 1080
    assert np.trace(np.array(run.results["confusion"])) == 1080 - run.results["n_wrong"]
    assert run.files == [str(report.resolve())]
    assert run.summary == "ts=0.2 k=5 seed 0 ×3"

    # runs show redraws the stored result with MistakesResult.lines().
    shown = cli("runs", "show", "1", "--runs-db", db)
    assert "  Confusion matrix (rows: true, columns: predicted)" in shown.output
    assert f"  Accuracy {format_score(run.score)} ({run.results['n_wrong']} wrong" in (
        shown.output
    )
    rerun = cli("runs", "rerun", "1", "--runs-db", db)
    assert rerun.exit_code == 0 and "Identical:" in rerun.output
    # --plot redraws its confusion matrix from the stored counts.
    png = tmp_path / "p.png"
    redrawn = cli("runs", "show", "1", "--plot", png, "--runs-db", db)
    assert redrawn.exit_code == 0, redrawn.output
    from digitlab.plots import plot_confusion, render_png
    from digitlab.runs import rebuild_result

    assert png.read_bytes() == render_png(plot_confusion, rebuild_result(run))


# -- compare runs: the stored table and plot are redrawn ---------------------------


def test_compare_run_is_redrawn_table_for_table_and_its_plot(tmp_path):
    db = tmp_path / "runs.sqlite"
    args = ["compare", "--recipes", "knn,knn-distance", "--repeats", "3"]
    result = cli(*args, "--runs-db", db)
    assert result.exit_code == 0, result.output
    printed = result.output.splitlines()

    png = tmp_path / "again.png"
    shown = cli("runs", "show", "1", "--plot", png, "--runs-db", db)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    start = lines.index("Result:") + 1
    redrawn = [line.removeprefix("  ") for line in lines[start : start + len(printed)]]
    assert redrawn == printed
    assert lines[-1] == f"Plot written to {png}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = cli("runs", "show", "1", "--plot", png, "--runs-db", db)
    assert again.exit_code == 2 and "add --force" in again.output

    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.command == "compare" and run.seeds == [0, 1, 2]
    best = cli("runs", "best", "--command", "compare", "--runs-db", db)
    assert best.output.startswith(
        f"Best compare on digits: {format_score(run.score, run.score_std)}"
    )


# -- the lesson's experiment, as a learner runs it ---------------------------------


def test_a_few_trains_and_a_sweep_then_best_reproduces_exactly(tmp_path):
    db = tmp_path / "runs.sqlite"
    for k in ("5", "3"):
        assert cli("train", "--k", k, "--runs-db", db).exit_code == 0
    sweep_args = ["sweep", "--k", "1,3,5", "--test-sizes", "0.2,0.3", "--repeats", "4"]
    swept = cli(*sweep_args, "--runs-db", db)
    assert swept.exit_code == 0, swept.output
    with RunStore(db) as store:
        sweep_run = store.runs(command="sweep")[0]
    cells = sweep_run.results

    best = cli("runs", "best", "--runs-db", db)
    lines = best.output.splitlines()
    assert lines[0] == (
        f"Best sweep on digits: {format_score(sweep_run.score, sweep_run.score_std)}"
        f" — run #3, {sweep_run.summary}"
    )
    assert lines[2] == "Best train on digits: 0.9833 — run #2, ts=0.2 k=3 seed 0"
    reproduce = shlex.split(lines[1].removeprefix("Reproduce: digitlab "))
    assert reproduce[0] == "sweep"  # the best cell alone, on the same seeds
    again = cli(*reproduce, "--json", "--no-record")
    assert again.exit_code == 0, again.output
    with RunStore(db) as store:
        assert len(store) == 3  # --no-record kept it out
    out = json.loads(again.output)
    # The reproduced best cell has exactly the stored mean and spread.
    assert out["best"]["mean"] == sweep_run.score
    assert out["best"]["std"] == sweep_run.score_std
    assert (out["best"]["k"], out["best"]["test_size"]) == (
        cells["best"]["k"],
        cells["best"]["test_size"],
    )
    rerun_store = tmp_path / "again.sqlite"
    assert cli(*reproduce, "--runs-db", rerun_store).exit_code == 0
    with RunStore(rerun_store) as store:
        (reproduced,) = store.runs()
    assert reproduced.score == sweep_run.score
    assert reproduced.score_std == sweep_run.score_std

    # runs show redraws the sweep's table exactly as the command printed it.
    shown = cli("runs", "show", "3", "--plot", tmp_path / "sweep.png", "--runs-db", db)
    assert shown.exit_code == 0, shown.output
    printed = swept.output.splitlines()
    shown_lines = shown.output.splitlines()
    start = shown_lines.index("Result:") + 1
    redrawn = [
        ln.removeprefix("  ") for ln in shown_lines[start : start + len(printed)]
    ]
    assert redrawn == printed
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"

    rerun = cli("runs", "rerun", "3", "--runs-db", db)
    assert rerun.exit_code == 0 and "Identical:" in rerun.output


def test_a_data_file_given_relative_is_rerun_from_another_folder(
    tmp_path, monkeypatch, digits
):
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mine.npz", X=digits.X[:600], y=digits.y[:600])
    db = tmp_path / "runs.sqlite"
    monkeypatch.chdir(folder)
    result = cli("train", "--data", "mine.npz", "--k", "1", "--runs-db", db)
    assert result.exit_code == 0, result.output
    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.argv[1:3] == ["--data", str(folder / "mine.npz")]
    expected = digitlab.Dataset(X=digits.X[:600], y=digits.y[:600]).fingerprint()
    assert run.data_fingerprint == expected

    monkeypatch.chdir(tmp_path)
    again = cli("runs", "rerun", "1", "--runs-db", db)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1].startswith("Identical:")
