"""The command line, run as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from digitlab import load_model
from digitlab.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_cli_and_the_package_load_no_heavy_library_until_needed():
    """``digitlab --help`` answers without loading scikit-learn or scipy; the
    package's names load their modules on first use, and ``digitlab.train``
    stays the function once the module of that name is loaded."""
    code = (
        "import sys, digitlab, digitlab.cli\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'PIL', 'matplotlib') "
        "if m in sys.modules))\n"
        "from digitlab.train import train\n"
        "import digitlab.sweep\n"
        "print(digitlab.train is train, callable(digitlab.sweep), digitlab.KNN().k)\n"
        "print('KNN' in dir(digitlab), hasattr(digitlab, 'nope'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == ["[]", "True True 5", "True False"]


def test_train_prints_the_lesson():
    result = run("train")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "Data: scikit-learn digits, 1797 pictures of 8×8 = 64 features, 10 classes",
        "Split: test_size=0.2 (360 test / 1437 train), seed 0",
        "Model: k-nearest neighbors, k=5, uniform votes, euclidean",
        "Accuracy: 0.975 (351 of 360 test digits right)",
    ]


def test_train_k1_json():
    result = run("train", "--k", "1", "--json")
    out = json.loads(result.output)
    assert out["accuracy"] == 0.9888888888888889
    assert out["n_correct"] == 356 and out["n_test"] == 360 and out["n_train"] == 1437
    assert out["config"] == {
        "data": "digits",
        "k": 1,
        "metric": "euclidean",
        "seed": 0,
        "stratify": False,
        "test_size": 0.2,
        "weights": "uniform",
    }
    assert out["per_class_accuracy"]["9"] == 39 / 41
    assert out["version"] == "0.1.0"


def test_train_count_test_size_and_stratify():
    out = json.loads(run("train", "--test-size", "300", "--stratify", "--json").output)
    assert out["n_test"] == 300 and out["config"]["stratify"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--test-size", "0"], "test_size=0 test rows is impossible"),
        (["--test-size", "1.0"], "test_size=1 is outside (0, 1)"),
        (["--test-size", "5000"], "use a count between 1 and 1796"),
        (["--test-size", "abc"], "'abc' is not a number"),
        (["--k", "0"], "k must be a whole number of at least 1"),
        (["--k", "2000"], "k=2000 is larger than the 1437 training rows"),
        (["--metric", "hamming"], "'hamming' is not one of"),
        (["--save", "no/such/folder/m.npz"], "the folder 'no/such/folder' does not"),
        (["--data", "nope"], "Unknown data 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args, message):
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_save_and_never_overwrite(tmp_path):
    target = tmp_path / "model.npz"
    assert run("train", "--k", "3", "--save", str(target)).exit_code == 0
    assert load_model(target).k == 3
    before = target.read_bytes()
    result = CliRunner().invoke(main, ["train", "--k", "1", "--save", str(target)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert target.read_bytes() == before
    assert run("train", "--k", "1", "--save", str(target), "--force").exit_code == 0
    assert load_model(target).k == 1


def test_console_script_and_module_entry_points():
    for cmd in (["digitlab"], [sys.executable, "-m", "digitlab"]):
        proc = subprocess.run(
            [*cmd, "train", "--k", "1"], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert "Accuracy: 0.9889 (356 of 360 test digits right)" in proc.stdout


def test_user_error_in_a_real_process_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "digitlab", "train", "--k", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "Error: k must be a whole number of at least 1, got 0."
    ]


def test_n_neighbors_is_an_alias_of_k_everywhere_k_is():
    """Learners type scikit-learn's name; it sets the same number as --k."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=0
    )
    sk = KNeighborsClassifier(n_neighbors=3).fit(X_train, y_train)
    right = int((sk.predict(X_test) == y_test).sum())
    alias = run("train", "--n-neighbors", "3", "--no-record")
    assert alias.exit_code == 0, alias.output
    assert f"Accuracy: {right / 360:.4f} ({right} of 360 test digits right)" in (
        alias.output
    )
    assert alias.output == run("train", "--k", "3", "--no-record").output
    for command, value in (("mistakes", "3"), ("sweep", "1,3")):
        extra = ["--repeats", "2"] if command == "sweep" else []
        by_alias = run(command, "--n-neighbors", value, *extra, "--json", "--no-record")
        by_k = run(command, "--k", value, *extra, "--json", "--no-record")
        assert by_alias.exit_code == 0, by_alias.output
        assert json.loads(by_alias.output) == json.loads(by_k.output)
    picture = Path(__file__).parent / "fixtures" / "drawn" / "3_s1_paper.png"
    by_alias = run("predict", str(picture), "--n-neighbors", "3", "--json")
    assert by_alias.exit_code == 0, by_alias.output
    assert by_alias.output == run("predict", str(picture), "--k", "3", "--json").output
