"""Every failure is one sentence (issue 18): operating-system errors, data edge
cases, absurd numbers and damaged run histories, through the real CLI.

The tests run as root, so ``chmod 000`` stops nothing; what really cannot be
read or written here: a FIFO where a file is expected, a path under a file
(ENOTDIR), ``/proc/1/environ`` and ``/proc/1/map_files`` (refused even to
root without CAP_SYS_ADMIN), files in ``/proc`` and ``/sys``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from digitlab.cli import main
from digitlab.runs import RunStore, new_run


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def error_line(result) -> str:
    """The one ``Error:`` line of a failed command (exit code 2, no traceback)."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    return errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unreadable_to_root(path: str) -> bool:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as fh:
                fh.read(1)
    except PermissionError:
        return True
    except OSError:
        return False
    return False


needs_proc_refusal = pytest.mark.skipif(
    not (
        unreadable_to_root("/proc/1/environ")
        and unreadable_to_root("/proc/1/map_files")
    ),
    reason="/proc/1 is readable here (not a container without CAP_SYS_ADMIN)",
)


def drawn(digit: str, path: Path, shift: int = 0) -> Path:
    picture = Image.new("L", (40, 40), 255)
    pen = ImageDraw.Draw(picture)
    if digit == "1":
        pen.line([(20 + shift, 5), (20 + shift, 35)], fill=0, width=4)
    else:
        pen.ellipse([8 + shift, 5, 30, 35], outline=0, width=4)
    picture.save(path)
    return path


# ---- the sentence itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "action", "expected"),
    [
        (errno.EACCES, "read", "permission denied; check its permissions"),
        (errno.ENOTDIR, "read", "a part of the path is a file, not a folder"),
        (errno.EISDIR, "read", "it is a folder; give a file instead"),
        (errno.EROFS, "write", "the file system is read-only; choose another place"),
        (errno.ENOSPC, "write", "the disk is full"),
        (errno.ENOENT, "write", "its folder does not exist or cannot hold files"),
        (errno.ENOENT, "read", "it does not exist (any more); check the path"),
        (errno.EBUSY, "read", "device or resource busy; check the path and try again"),
    ],
)
def test_os_error_sentence_names_the_path_and_what_to_do(code, action, expected):
    from digitlab.errors import os_error_sentence

    exc = OSError(code, os.strerror(code), "/data/x.png")
    sentence = os_error_sentence(exc, action=action)
    assert sentence.startswith(f"Cannot {action} '/data/x.png': {expected}")
    assert sentence.endswith(".") and "\n" not in sentence


def test_os_errors_names_the_file_inside_the_users_folder(tmp_path):
    from digitlab.errors import DigitlabError, os_errors

    with pytest.raises(DigitlabError) as caught, os_errors(tmp_path):
        raise PermissionError(errno.EACCES, "Permission denied", tmp_path / "7")
    assert str(caught.value).startswith(f"Cannot read '{tmp_path / '7'}': permission")


# ---- operating-system errors through the CLI ------------------------------------


def test_a_fifo_as_data_is_refused_instead_of_waiting_forever(tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    # A subprocess: before the fix, reading the FIFO waited forever.
    proc = subprocess.run(
        [sys.executable, "-m", "digitlab", "train", "--data", str(fifo), "--no-record"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"Error: {str(fifo)!r} is not a regular file (a pipe, socket or device); "
        "give a data file saved on disk."
    )


@needs_proc_refusal
def test_predict_goes_on_past_an_unreadable_picture(tmp_path):
    unreadable = tmp_path / "a.png"
    unreadable.symlink_to("/proc/1/environ")
    fifo = tmp_path / "c.png"
    os.mkfifo(fifo)
    readable = drawn("1", tmp_path / "b.png")
    result = cli("predict", unreadable, readable, fifo, "--no-record")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{readable}  1  (votes: ")
    assert lines[1:] == [
        f"Error: Cannot read {str(unreadable)!r}: permission denied; check its "
        "permissions or choose another path.",
        f"Error: {str(fifo)!r} is not a regular file (a pipe, socket or device); "
        "give a picture file saved on disk.",
    ]


@needs_proc_refusal
def test_a_folder_with_one_unreadable_subfolder_says_which(tmp_path):
    for label in ("0", "1"):
        (tmp_path / label).mkdir()
        for i in range(3):
            drawn(label, tmp_path / label / f"{i}.png", shift=i)
    (tmp_path / "2").symlink_to("/proc/1/map_files")
    line = error_line(cli("train", "--data", tmp_path, "--no-record"))
    assert line == (
        f"Error: Cannot read {str(tmp_path / '2')!r}: permission denied; check its "
        "permissions or choose another path."
    )


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("/proc/digitlab-model.npz", "its folder does not exist or cannot hold files"),
        ("/sys/digitlab-model.npz", "permission denied"),
        ("FILE/model.npz", "is a file, not a folder"),
    ],
)
def test_an_output_folder_that_cannot_be_written_is_one_sentence(
    tmp_path, target, words
):
    (tmp_path / "FILE").write_text("a file, not a folder")
    target = target.replace("FILE", str(tmp_path / "FILE"))
    for args in (
        ("train", "--save", target),
        ("mistakes", "--report", target.replace(".npz", ".html")),
    ):
        line = error_line(cli(*args, "--no-record"))
        assert line.startswith("Error: Cannot write ") and words in line, line
    assert (tmp_path / "FILE").read_text() == "a file, not a folder"


def test_a_zero_byte_npz_is_a_sentence_not_aborted(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    line = error_line(cli("train", "--data", empty, "--no-record"))
    assert line == (
        f"Error: {str(empty)!r} is empty (0 bytes); save an archive with "
        "np.savez(path, X=X, y=y)."
    )
    assert "Aborted" not in line and empty.read_bytes() == b""


def test_a_damaged_npz_member_is_a_sentence(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, X=np.arange(40.0).reshape(10, 4), y=np.arange(10) % 2)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:300])
    line = error_line(cli("train", "--data", cut, "--no-record"))
    assert line.startswith(f"Error: Cannot read {str(cut)!r} as an .npz archive")


@pytest.mark.parametrize("label", ["nan", "NaN", "inf", "-inf"])
def test_a_csv_label_that_is_not_a_number_is_refused_with_its_line(tmp_path, label):
    rows = ["label,a,b"] + [f"{i % 2},{i},{i * 2}" for i in range(10)]
    rows[4] = f"{label},3,3"
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(rows) + "\n")
    line = error_line(cli("train", "--data", path, "--no-record"))
    assert line == (
        f"Error: {str(path)!r} line 5, column 1: the label {label!r} is not a label; "
        "every row needs a real label (a digit or a name)."
    )


def test_an_empty_csv_label_is_refused_with_its_line(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("a,label\n1,0\n2,\n3,1\n")
    line = error_line(cli("train", "--data", path, "--no-record"))
    assert "line 3: the label cell (column 2) is empty" in line


def test_a_nan_label_in_an_npz_is_refused(tmp_path):
    path = tmp_path / "rows.npz"
    y = np.array([0, 1, 0, 1, np.nan, 1, 0, 1])
    np.savez(path, X=np.arange(32.0).reshape(8, 4), y=y)
    line = error_line(cli("train", "--data", path, "--no-record"))
    assert line == (
        f"Error: {str(path)!r}: label 4 is nan, not a label; every row needs a real "
        "label (a digit or a name)."
    )


@pytest.mark.parametrize(
    "ks", ["1..99999999999999999999", "-99999999999999999999..3", "1..20000000"]
)
def test_absurd_k_ranges_are_one_sentence(ks):
    line = error_line(cli("sweep", "--k", ks, "--no-record"))
    assert line == (
        f"Error: The k values {ks!r} go too far; k is at most 10,000,000 and a sweep "
        "tries at most 100,000 values (k cannot exceed the number of training rows "
        "anyway)."
    )


def test_workers_beyond_the_machine_are_refused_before_anything_starts():
    top = 4 * (os.cpu_count() or 1)
    line = error_line(cli("serve", "--workers", "100000"))
    assert line == (
        f"Error: --workers must be a whole number from 1 to {top} (4 per CPU core of "
        "this machine), got 100000; about one per core serves a class."
    )


@pytest.mark.parametrize("command", [["runs", "show"], ["runs", "delete", "--yes"]])
def test_a_huge_run_id_is_one_sentence(tmp_path, command):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.add(run(1))
    line = error_line(cli(*command, "99999999999999999999", "--runs-db", db))
    assert line == (
        "Error: 99999999999999999999 is not a run id; ids are whole numbers from 1 "
        "up, as `digitlab runs` lists them."
    )


def test_a_huge_limit_lists_every_run(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.add(run(1))
    result = cli("runs", "--limit", "99999999999999999999", "--runs-db", db)
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 2  # header and the run


# ---- the run history cannot get stuck --------------------------------------------


def run(i: int, pad: int = 10):
    return new_run(
        "train",
        argv=["train", "--k", str(i)],
        config={"k": i},
        results={"accuracy": 0.9 + i / 1000, "pad": "x" * pad},
        data_name="digits",
        data_fingerprint="f00d",
        score=0.9 + i / 1000,
        summary=f"k={i}",
    )


@pytest.fixture
def history(tmp_path):
    """A multi-page history of 40 runs (about 45 pages of 4 KiB)."""
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        for i in range(1, 41):
            store.add(run(i, pad=3000))
    assert db.stat().st_size > 40 * 4096 and not Path(f"{db}-wal").exists()
    return db


def listed_ids(result) -> list[int]:
    return [
        int(line.split()[0])
        for line in result.output.splitlines()
        if line.split() and line.split()[0].isdigit()
    ]


def test_a_row_with_invalid_json_is_named_and_can_be_deleted(history, tmp_path):
    with sqlite3.connect(history) as conn:
        conn.execute("UPDATE runs SET config = '{not json' WHERE id = 7")
    conn.close()
    note = (
        f"Note: 1 damaged run(s) in {history} left out: #7 (its config column is not "
        "valid JSON); `digitlab runs delete 7` removes one."
    )
    listed = cli("runs", "--runs-db", history)
    assert listed.exit_code == 0, listed.output
    assert listed_ids(listed) == [i for i in range(40, 0, -1) if i != 7]
    assert note in listed.output
    best = cli("runs", "best", "--runs-db", history)
    assert best.exit_code == 0 and "run #40" in best.output and note in best.output
    shown = cli("runs", "show", "8", "--runs-db", history)
    assert shown.exit_code == 0 and shown.output.startswith("Run #8: ")
    assert error_line(cli("runs", "show", "7", "--runs-db", history)) == (
        f"Error: Run #7 in {history} is damaged and cannot be shown; `digitlab runs "
        "delete 7` removes it."
    )
    out = tmp_path / "runs.json"
    exported = cli("runs", "export", "--json", out, "--runs-db", history)
    assert exported.exit_code == 0, exported.output
    assert "Exported 39 runs" in exported.output
    deleted = cli("runs", "delete", "7", "--yes", "--runs-db", history)
    assert deleted.exit_code == 0, deleted.output
    assert "Deleted run #7." in deleted.output
    again = cli("runs", "--runs-db", history)
    assert "damaged" not in again.output and len(listed_ids(again)) == 39


def zero_page(db: Path, page: int) -> None:
    raw = bytearray(db.read_bytes())
    raw[page * 4096 : (page + 1) * 4096] = bytes(4096)
    db.write_bytes(bytes(raw))


def test_a_file_with_a_damaged_page_still_lists_shows_and_exports(history, tmp_path):
    zero_page(history, 22)  # in the middle of the file: a leaf page of runs
    before = digest(history)
    listed = cli("runs", "--runs-db", history)
    assert listed.exit_code == 0, listed.output
    ids = listed_ids(listed)
    assert len(ids) == 39 and ids == sorted(ids, reverse=True)
    (lost,) = set(range(1, 41)) - set(ids)
    assert (
        f"#{lost} (it lies in a damaged part of the file); `digitlab runs delete "
        f"{lost}` removes one." in listed.output
    )
    assert cli("runs", "best", "--runs-db", history).exit_code == 0
    assert cli("runs", "show", ids[0], "--runs-db", history).exit_code == 0
    out = tmp_path / "saved.csv"
    exported = cli("runs", "export", "--csv", out, "--runs-db", history)
    assert exported.exit_code == 0 and "Exported 39 runs" in exported.output
    # Writing into it (recording a run, deleting one) is one sentence; the file
    # keeps every byte.
    for args in (
        ("train", "--runs-db", history),
        ("runs", "delete", str(ids[0]), "--yes", "--runs-db", history),
    ):
        line = error_line(cli(*args))
        assert "is not a readable digitlab run history" in line
        assert "damaged" in line and "left it untouched" in line
    assert digest(history) == before


def test_a_non_integer_schema_version_reads_but_is_never_written(history):
    with sqlite3.connect(history) as conn:
        conn.execute("UPDATE digitlab_schema SET version = 'two'")
    conn.close()
    before = digest(history)
    listed = cli("runs", "--runs-db", history)
    assert listed.exit_code == 0 and len(listed_ids(listed)) == 40, listed.output
    assert "its schema version 'two' is not a whole number" in listed.output
    for args in (
        ("train", "--runs-db", history),
        ("runs", "delete", "3", "--yes", "--runs-db", history),
    ):
        line = error_line(cli(*args))
        assert "its schema version 'two' is not a whole number" in line
    assert digest(history) == before


def test_reading_a_zero_byte_history_leaves_it_zero_bytes(tmp_path):
    db = tmp_path / "runs.sqlite"
    db.write_bytes(b"")
    for args in (("runs",), ("runs", "best"), ("runs", "list", "--json")):
        result = cli(*args, "--runs-db", db)
        assert result.exit_code == 0, result.output
    assert error_line(cli("runs", "show", "1", "--runs-db", db)).startswith(
        "Error: There is no run #1"
    )
    assert db.read_bytes() == b"" and sorted(os.listdir(tmp_path)) == ["runs.sqlite"]


# ---- model files that pass the checksum but are not what digitlab writes -------


def forged_model(path: Path, change) -> Path:
    """A model file as save_model writes it, changed by ``change(meta, arrays)``
    and given a correct checksum (the module's own), so only the one validation
    of its contents can refuse it."""
    import io
    import json

    import digitlab
    from digitlab.modelfile import _checksum, save_model

    original = path.with_name("original.npz")
    if not original.exists():
        data = digitlab.load_digits()
        save_model(digitlab.KNN(k=3, pipeline="uci8x8").fit(data.X, data.y), original)
    with np.load(original, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta.pop("checksum")
    change(meta, arrays)
    meta["checksum"] = _checksum(meta, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def _set(mapping, key, value):
    mapping[key] = value


MODEL_CHANGES = {
    "unknown parameter": (
        lambda m, a: _set(m["params"], "n_jobs", 4),
        "KNN has no parameter 'n_jobs' (it has k, metric, ",
    ),
    "missing array": (
        lambda m, a: a.pop("y"),
        "it has no array 'y'",
    ),
    "unknown array": (
        lambda m, a: _set(a, "extra", np.zeros(3)),
        "it holds an unknown array 'extra'",
    ),
    "wrong feature count": (
        lambda m, a: _set(a, "X", a["X"][:, :60].copy()),
        "its rows have 60 features, but the uci8x8 preparation makes 64",
    ),
    "wrong dtype": (
        lambda m, a: _set(a, "X", a["X"].astype("complex128")),
        "its training rows X are complex128 of shape (1797, 64), not numbers of "
        "shape (rows, features)",
    ),
    "wrong shape": (
        lambda m, a: _set(a, "X", a["X"].reshape(1797, 8, 8)),
        "its training rows X are float64 of shape (1797, 8, 8)",
    ),
    "labels of another length": (
        lambda m, a: _set(a, "y", a["y"][:100].copy()),
        "its labels y are int64 of shape (100,), not one whole number or text per "
        "row of X (1797 rows)",
    ),
    "bad classes": (
        lambda m, a: _set(m, "classes", [0, 1, 2]),
        "its classes [0, 1, 2] are not the labels in y ([0, 1, 2, 3, 4, 5, 6, 7, 8, "
        "9])",
    ),
    "unknown recipe": (
        lambda m, a: m.update(
            estimator="RecipeModel",
            format_version=2,
            params={"recipe": "no-such-recipe", "params": None, "pipeline": "uci8x8"},
        ),
        "its recipe 'no-such-recipe' does not exist",
    ),
    "unknown estimator": (
        lambda m, a: _set(m, "estimator", "Pickle"),
        "its estimator 'Pickle' is not one of KNN, RecipeModel",
    ),
    "unknown pipeline": (
        lambda m, a: (_set(m, "pipeline", "fax"), _set(m["params"], "pipeline", "fax")),
        "its picture preparation 'fax' is not one of uci8x8, upright8x8, mnist28",
    ),
    "a k the rows cannot give": (
        lambda m, a: _set(m["params"], "k", 5000),
        "holds a model digitlab cannot rebuild (k=5000 is larger than the 1797 "
        "training rows",
    ),
    "a parameter of the wrong type": (
        lambda m, a: _set(m["params"], "weights", ["uniform"]),
        "holds a model digitlab cannot rebuild",
    ),
    "infinite rows": (
        lambda m, a: a["X"].__setitem__((3, 3), np.inf),
        "its training rows X hold values that are not finite numbers",
    ),
}


@pytest.mark.parametrize("case", sorted(MODEL_CHANGES))
def test_a_model_file_with_a_correct_checksum_but_odd_contents_is_one_sentence(
    tmp_path, case
):
    change, words = MODEL_CHANGES[case]
    path = forged_model(tmp_path / "model.npz", change)
    before = digest(path)
    drawn("1", tmp_path / "one.png")
    for args in (
        ("predict", tmp_path / "one.png", "--model", path, "--no-record"),
        ("serve", "--model", path),
    ):
        line = error_line(cli(*args))
        assert line.startswith(f"Error: {str(path)!r} ") and words in line, line
        assert line.endswith("`digitlab train --save PATH`."), line
    assert digest(path) == before


def test_the_forged_file_unchanged_loads_and_predicts_like_the_original(tmp_path):
    from digitlab.modelfile import load_model

    path = forged_model(tmp_path / "model.npz", lambda m, a: None)
    model = load_model(path)
    original = load_model(tmp_path / "original.npz")
    assert model.k == 3 and np.array_equal(model._fit_X, original._fit_X)


@pytest.mark.parametrize("command", ["sweep", "mistakes", "compare"])
def test_absurd_repeats_are_refused_before_any_work(command):
    # Before: 10**20 splits were started (and ran until killed).
    line = error_line(cli(command, "--repeats", "99999999999999999999", "--no-record"))
    assert line == (
        "Error: repeats must be a whole number from 1 to 10,000, got "
        "99999999999999999999; 20 splits is usual."
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "--seed", "-1"], "from 0 to 4,294,967,295, got -1."),
        (
            ["train", "--seed", "99999999999999999999"],
            "from 0 to 4,294,967,295, got 99999999999999999999.",
        ),
        (
            ["mistakes", "--seed", "4294967295", "--repeats", "3"],
            "from 0 to 4,294,967,293 (with 3 splits using seeds up to seed + 2), "
            "got 4294967295.",
        ),
    ],
)
def test_seeds_numpy_cannot_take_are_one_sentence(args, expected):
    line = error_line(cli(*args, "--no-record"))
    assert line == "Error: seed must be a whole number " + expected


def test_a_recipe_that_cannot_fit_small_data_is_one_sentence(tmp_path):
    rows = ["label,a,b,c,d"] + [
        f"{i % 2},{i},{i % 7},{i % 5},{i % 3}" for i in range(40)
    ]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(rows) + "\n")
    # The PCA recipes ask for 30 components of 4 features: scikit-learn's own
    # ValueError was a traceback.
    for args in (
        ("compare", "--data", path, "--repeats", "2"),
        ("train", "--data", path, "--recipe", "knn-pca"),
    ):
        line = error_line(cli(*args, "--no-record"))
        assert (
            line.startswith("Error: The recipe '")
            and "cannot be fitted on this data (" in line
        )
        assert line.endswith("; choose another recipe for this data.")
