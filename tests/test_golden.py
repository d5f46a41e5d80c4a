"""Golden outputs: the exact stdout, stderr and exit code of the README's `$`
sessions and of every command's ``--json``, compared byte for byte.

Each golden file in ``tests/golden/`` is one *session*: commands run one after
the other in the same working folder and the same fresh ``DIGITLAB_HOME`` (so
``digitlab runs`` sees the runs recorded before it), each shown as::

    $ digitlab train --k 1
    [stdout]
    ...
    [stderr]
    ...
    [exit 0]

Only what truly varies between runs is normalized, on both sides, before
comparing: the temporary folder (``<TMP>``), this checkout (``<REPO>``), times of
day (``<WHEN>``), durations (``<S>``) and library versions (``<VERSION>``).

When you change an output on purpose, regenerate the files and read the diff::

    DIGITLAB_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py
    git diff tests/golden/

(``-k NAME`` regenerates one session only.) Say in the commit message which
outputs changed and why.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from digitlab.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
REGENERATE = os.environ.get("DIGITLAB_REGENERATE_GOLDEN") == "1"

# The README's broken CSV: line 4, column 2 ('a') holds an 'x'.
BAD_CSV = "label,a,b\n1,2,3\n2,4,5\n3,x,6\n"
REDUCED_COMPARE = ["--recipes", "knn,knn-distance,knn-pca", "--repeats", "3"]


@dataclass
class Session:
    """Commands run in order in one folder with one run history."""

    name: str
    commands: list  # argv lists, or (argv, stdin text)
    # "tmp": an empty temporary folder; "fixtures": one holding tests/fixtures'
    # drawn/ pictures (the README's `cd tests/fixtures`) and a notes.png that is
    # not a picture.
    cwd: str = "tmp"
    needs_mnist: bool = False
    # A run history to start from (copied into the session's DIGITLAB_HOME).
    history: Path | None = None
    marks: list = field(default_factory=list)


def _mnist(*args):
    return ["train", "--data", "MNIST", *args]


SESSIONS = [
    Session(
        "help",
        [["--help"]]
        + [
            [*path.split(), "--help"]
            for path in (
                "train",
                "sweep",
                "mistakes",
                "predict",
                "serve",
                "compare",
                "runs",
                "runs list",
                "runs show",
                "runs best",
                "runs rerun",
                "runs export",
                "runs delete",
            )
        ],
    ),
    Session(
        "train",
        [
            ["train"],
            ["train", "--k", "1", "--json"],
            ["train", "--json"],
            ["train", "--k", "3", "--test-size", "300", "--stratify", "--seed", "7"],
            ["train", "--weights", "distance", "--metric", "manhattan"],
            ["train", "--recipe", "knn-distance", "--json"],
            ["train", "--save", "model.npz"],
            ["train", "--save", "model.npz"],
            ["train", "--test-size", "abc"],
            ["train", "--recipe", "svc", "--k", "3"],
            ["runs"],
            ["runs", "show", "4"],
            ["runs", "show", "6"],
            ["runs", "show", "7"],
            ["runs", "rerun", "4"],
            ["runs", "rerun", "6"],
        ],
    ),
    Session(
        "sweep",
        [
            ["sweep"],
            ["sweep", "--cv", "10", "--k", "1..5", "--repeats", "3"],
            ["sweep", "--loo", "--k", "1..4"],
            ["sweep", "--k", "1,3", "--test-sizes", "0.2,0.3", "--repeats", "2"]
            + ["--stratify", "--csv", "sweep.csv", "--json"],
            ["sweep", "--cv", "5", "--k", "1..3", "--repeats", "2", "--json"],
            ["sweep", "--loo", "--k", "1..3", "--json"],
            ["runs"],
            ["runs", "best"],
            ["runs", "show", "2"],
            ["runs", "show", "3"],
            ["runs", "show", "4"],
            ["runs", "rerun", "3"],
            ["runs", "rerun", "4"],
        ],
    ),
    Session(
        "mistakes",
        [
            ["mistakes", "--report", "mistakes.html", "--plot", "confusion.png"],
            ["mistakes", "--k", "1", "--repeats", "20"],
            ["mistakes", "--normalize", "true", "--k", "3"],
            ["mistakes", "--json"],
            ["mistakes", "--report", "same.html", "--plot", "same.html"],
            ["runs"],
            ["runs", "show", "1"],
            ["runs", "rerun", "3"],
        ],
    ),
    Session(
        "predict",
        [
            ["predict", "drawn/7_s0_paper.png", "drawn/4_s0_scan.jpg"]
            + ["drawn/3_s1_chalk.png"],
            ["predict", "drawn/2_s0_canvas.png", "--show"],
            ["predict", "drawn/9_s1_blue.jpg", "--json"],
            ["predict", "drawn/1_s0_paper.png", "notes.png"],
            ["predict", "drawn/5_s0_paper.png", "--k", "1", "--show-input", "in.png"],
            ["predict", "drawn/5_s0_paper.png", "--model", "x.npz", "--recipe", "svc"],
            ["runs"],
            ["runs", "show", "1"],
            ["runs", "rerun", "1"],
        ],
        cwd="fixtures",
    ),
    Session(
        "compare",
        [
            ["compare", "--list"],
            ["compare", "--list", "--json"],
            ["compare", *REDUCED_COMPARE],
            ["compare", *REDUCED_COMPARE, "--json"],
            ["compare", "--recipes", ","],
            ["runs", "show", "1"],
        ],
        marks=[pytest.mark.slow],
    ),
    Session(
        # The README's run-history session, command for command.
        "runs",
        [
            ["train"],
            ["train", "--k", "1"],
            ["train", "--k", "3", "--test-size", "0.3", "--seed", "7"],
            ["sweep", "--k", "1..5", "--test-sizes", "0.2,0.3", "--repeats", "20"],
            ["runs"],
            ["runs", "best"],
            ["runs", "show", "4", "--plot", "sweep.png"],
            ["runs", "rerun", "2"],
            ["runs", "export", "--csv", "runs.csv"],
            (["runs", "delete", "3"], "n\n"),
            ["runs", "--json", "--command", "train", "--limit", "1"],
            ["runs", "list", "--command", "train", "--limit", "1"],
            ["runs", "best", "--json", "--command", "train"],
            ["runs", "show", "2", "--json"],
            ["runs", "delete", "3", "--yes"],
            ["runs", "show", "3"],
            ["runs", "rerun", "4"],
            ["mistakes", "--repeats", "2"],
            ["runs", "show", "5"],
            ["runs", "rerun", "5"],
            ["runs", "best", "--command", "mistakes"],
            ["train", "--no-record"],
            ["runs", "--limit", "2"],
        ],
    ),
    Session(
        # A history written by digitlab before recording moved into the core
        # (commit d4a9600, schema 1; tests/fixtures/old_history/README.md): it
        # must still show and rerun, identically.
        "old_history",
        [["runs"], ["runs", "best"]]
        + [["runs", "show", str(i)] for i in range(1, 8)]
        + [["runs", "rerun", str(i)] for i in range(1, 8)],
        history=FIXTURES / "old_history" / "runs.sqlite",
    ),
    Session(
        # The README's "Your own data" and Dask sessions (MNIST's 10,000 digits).
        "data",
        [
            _mnist("--k", "3"),
            ["train", "--data", "bad.csv"],
            ["train", "--data", "nowhere.csv"],
            ["runs"],
            ["runs", "show", "1"],
        ],
        needs_mnist=True,
        marks=[pytest.mark.slow],
    ),
    Session(
        "dask",
        [_mnist("--dask", "local:2", "--k", "3")],
        needs_mnist=True,
        marks=[pytest.mark.slow],
    ),
]


def _versions() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {platform.python_version()}
    for name in ("digitlab", "numpy", "scikit-learn", "scipy", "click"):
        with contextlib.suppress(PackageNotFoundError):
            found.add(version(name))
    # Longest first, so "1.26.4" is replaced before a "1.26" inside it.
    return sorted(found, key=len, reverse=True)


def normalize(text: str, tmp: Path, mnist: Path | None) -> str:
    """Replace what varies between runs (and only that) by placeholders."""
    for path, name in ((mnist, "<MNIST>"), (tmp, "<TMP>"), (REPO, "<REPO>")):
        if path is not None:
            text = text.replace(str(path.resolve()), name).replace(str(path), name)
    for ver in _versions():
        text = re.sub(rf'(?<=["\s]){re.escape(ver)}(?=["\s,)])', "<VERSION>", text)
    text = re.sub(
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?",
        "<WHEN>",
        text,
    )
    # Durations: "took 1.05 s", compare's fit+predict column, JSON seconds.
    text = re.sub(r"took \d+(\.\d+)? s", "took <S> s", text)
    text = re.sub(r" +\d+\.\d\d s$", " <S> s", text, flags=re.M)
    text = re.sub(
        r'("([a-z_]*seconds[a-z_]*|[a-z_]*_s)": )'
        r"(-?\d+(\.\d+)?(e-?\d+)?|\[[^\]]*\])",
        r"\1<S>",
        text,
    )
    return text


def _prepare_cwd(session: Session, tmp: Path) -> Path:
    cwd = tmp / "work"
    cwd.mkdir()
    (cwd / "bad.csv").write_text(BAD_CSV)
    if session.cwd == "fixtures":
        # Copies, not a link: recorded runs keep resolved paths, and those must
        # lie under <TMP> (see _fixed_length_tmp).
        shutil.copytree(FIXTURES / "drawn", cwd / "drawn")
        (cwd / "notes.png").write_text("shopping: milk, eggs\n")
    return cwd


def run_session(session: Session, tmp: Path, mnist: Path | None, monkeypatch):
    """Run the session's commands; the transcript, normalized."""
    cwd = _prepare_cwd(session, tmp)
    home = tmp / "home"
    home.mkdir()
    if session.history is not None:
        shutil.copyfile(session.history, home / "runs.sqlite")
    monkeypatch.setenv("DIGITLAB_HOME", str(home))
    monkeypatch.chdir(cwd)
    if mnist is not None:
        # A copy under the fixed-length folder: the run list pads its data column
        # to the path's length, and ../shared lies elsewhere on every checkout.
        copy = tmp / "mnist"
        copy.mkdir()
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            shutil.copyfile(mnist / name, copy / name)
        mnist = copy
    mnist_file = None if mnist is None else mnist / "t10k-images-idx3-ubyte.gz"
    blocks = []
    for command in session.commands:
        argv, stdin = command if isinstance(command, tuple) else (command, None)
        argv = [str(mnist_file) if a == "MNIST" else a for a in argv]
        result = CliRunner().invoke(main, argv, input=stdin, prog_name="digitlab")
        if result.exception is not None and not isinstance(
            result.exception, SystemExit
        ):
            raise result.exception
        shown = " ".join(shlex.quote(a) for a in argv)
        blocks.append(
            f"$ digitlab {shown}\n[stdout]\n{result.stdout}[stderr]\n"
            f"{result.stderr}[exit {result.exit_code}]\n"
        )
    return normalize("\n".join(blocks), tmp, mnist)


@pytest.fixture
def fixed_length_tmp():
    """A fresh folder whose path has the same length on every run.

    Tables pad their columns to the longest value, so a path inside a table (a
    predict run's pictures in ``runs show``) would shift the columns if the
    folder's name changed length; pytest's ``tmp_path`` does (``..._0``,
    ``..._10``). ``mkdtemp`` always adds 8 characters.
    """
    base = Path("/tmp") if os.access("/tmp", os.W_OK) else Path(tempfile.gettempdir())
    tmp = Path(tempfile.mkdtemp(prefix="digitlab-golden-", dir=base)).resolve()
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize(
    "session",
    [pytest.param(s, id=s.name, marks=s.marks) for s in SESSIONS],
)
def test_golden_output(session, fixed_length_tmp, monkeypatch, request):
    mnist = None
    if session.needs_mnist:
        mnist = request.getfixturevalue("mnist_dir")
    if session.name == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed")
    actual = run_session(session, fixed_length_tmp, mnist, monkeypatch)
    golden = GOLDEN / f"{session.name}.txt"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual)
        return
    assert golden.exists(), (
        f"{golden} is missing; make it with DIGITLAB_REGENERATE_GOLDEN=1 "
        "python -m pytest tests/test_golden.py"
    )
    expected = golden.read_text()
    if actual != expected:
        # pytest's diff of two long strings is hard to read; show a unified one.
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"golden/{golden.name}",
                "now",
            )
        )
        pytest.fail(
            f"The output of session {session.name!r} changed:\n{diff}\nIf the "
            "change is on purpose: DIGITLAB_REGENERATE_GOLDEN=1 python -m pytest "
            "tests/test_golden.py, and say why in the commit message.",
            pytrace=False,
        )


def test_normalize_keeps_numbers_and_replaces_only_volatile_parts(tmp_path):
    text = (
        f"When: 2026-11-25 14:09 (took 1.05 s)\nFiles: {tmp_path}/a.png\n"
        '"duration_s": 0.25, "accuracy": 0.975\nknn  0.9876    0.05 s\n'
    )
    assert normalize(text, tmp_path, None) == (
        "When: <WHEN> (took <S> s)\nFiles: <TMP>/a.png\n"
        '"duration_s": <S>, "accuracy": 0.975\nknn  0.9876 <S> s\n'
    )
