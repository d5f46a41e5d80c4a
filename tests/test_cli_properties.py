"""Generated option values thrown at the real CLI commands (hypothesis).

Whatever a user types, a command ends with exit code 0 or with exit code 2 and
exactly one ``Error:`` line; never a traceback, never click's "Aborted!". The
commands run on a 40-row CSV so each call is cheap, and the strategies only
produce values that are either wrong or cheap to run (no valid ``--workers``,
which would start a server, and no valid thousands of repeats).
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from digitlab.cli import main
from digitlab.runs import RunStore, new_run

EDGE_TEXT = [
    "",
    " ",
    "0",
    "-0",
    "-1",
    "1",
    "3",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "1e-400",
    "0.5",
    "1.0",
    "0x10",
    "1_000",
    "..",
    "1..",
    "..3",
    "5..1",
    "1..99999999999999999999",
    "-99999999999999999999..1",
    "1,,2",
    "1,2,3",
    "1..3,5",
    "99999999999999999999",
    "-99999999999999999999",
    "٣",  # an Arabic-Indic digit: int() reads it
    "\x00",
    "1\n2",
]
TEXT = st.one_of(
    st.sampled_from(EDGE_TEXT),
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(
        alphabet=st.characters(
            blacklist_categories=["Cs"], blacklist_characters="\x00"
        ),
        max_size=10,
    ),
)
# Repeats that are wrong, or small enough to run at once.
REPEATS = st.one_of(
    st.sampled_from(["0", "-1", "x", "1.5", "10001", "99999999999999999999", ""]),
    st.integers(1, 3).map(str),
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A folder with a 40-row CSV (4 features, 2 classes), a picture and a history."""
    folder = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 16, size=(40, 4))
    lines = ["label,a,b,c,d"] + [
        f"{i % 2}," + ",".join(str(v) for v in row) for i, row in enumerate(rows)
    ]
    (folder / "rows.csv").write_text("\n".join(lines) + "\n")
    picture = Image.new("L", (40, 40), 255)
    ImageDraw.Draw(picture).line([(20, 5), (20, 35)], fill=0, width=4)
    picture.save(folder / "one.png")
    with RunStore(folder / "runs.sqlite") as store:
        for k in (1, 3):
            store.add(
                new_run(
                    "train",
                    argv=["train", "--k", str(k)],
                    config={"k": k},
                    results={"accuracy": 0.5},
                    data_name="digits",
                    data_fingerprint="f",
                    score=0.5,
                )
            )
    return folder


def answered_cleanly(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    shown = f"digitlab {' '.join(map(repr, args))}\n{result.output}"
    assert result.exit_code in (0, 2), shown
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output, shown
    assert "Aborted!" not in result.output, shown
    if result.exit_code == 2:
        errors = [ln for ln in result.output.splitlines() if ln.startswith("Error")]
        assert len(errors) == 1, shown


@SETTINGS
@given(
    k=TEXT,
    test_size=TEXT,
    seed=TEXT,
    weights=st.sampled_from(["uniform", "distance", "Uniform", "", "x"]),
    metric=st.sampled_from(["euclidean", "manhattan", "cosine", "l2", ""]),
)
def test_train_options(tiny, k, test_size, seed, weights, metric):
    answered_cleanly(
        [
            "train",
            "--data",
            str(tiny / "rows.csv"),
            "--k",
            k,
            "--test-size",
            test_size,
            "--seed",
            seed,
            "--weights",
            weights,
            "--metric",
            metric,
            "--no-record",
        ]
    )


@SETTINGS
@given(ks=TEXT, test_sizes=TEXT, repeats=REPEATS, seed=TEXT)
def test_sweep_options(tiny, ks, test_sizes, repeats, seed):
    answered_cleanly(
        [
            "sweep",
            "--data",
            str(tiny / "rows.csv"),
            "--k",
            ks,
            "--test-sizes",
            test_sizes,
            "--repeats",
            repeats,
            "--seed",
            seed,
            "--no-record",
        ]
    )


@SETTINGS
@given(
    k=TEXT,
    repeats=REPEATS,
    normalize=st.sampled_from(["true", "pred", "all", ""]),
    labels=TEXT,
)
def test_mistakes_options(tiny, k, repeats, normalize, labels):
    args = ["mistakes", "--data", str(tiny / "rows.csv"), "--k", k]
    args += ["--repeats", repeats, "--labels", labels, "--no-record"]
    if normalize:
        args += ["--normalize", normalize]
    answered_cleanly(args)


@SETTINGS
@given(
    command=st.sampled_from(
        [["runs", "--limit"], ["runs", "show"], ["runs", "delete", "--yes"]]
    ),
    value=TEXT,
)
def test_runs_options(tiny, command, value):
    # A copy per example: delete may remove a run.
    db = tiny / "runs-copy.sqlite"
    db.write_bytes((tiny / "runs.sqlite").read_bytes())
    answered_cleanly([*command, value, "--runs-db", str(db)])


def _not_a_valid_worker_count(text: str) -> bool:
    try:
        return not 1 <= int(text) <= 10**6
    except ValueError:
        return True


@SETTINGS
@given(
    k=TEXT,
    workers=TEXT.filter(_not_a_valid_worker_count),
    port=TEXT,
)
def test_predict_and_serve_options(tiny, k, workers, port):
    answered_cleanly(
        ["predict", str(tiny / "one.png"), "--k", k, "--no-record", "--json"]
    )
    # Never a valid worker count: a valid one would start the server.
    answered_cleanly(["serve", "--workers", workers, "--port", port])
