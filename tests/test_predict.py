"""digitlab predict: the default model, drawn fixtures, the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import digitlab
from digitlab import DigitlabError, default_model, predict_files
from digitlab._tangent import tangent_sq_distances
from digitlab.cli import main
from digitlab.predict import RESTYLED_VARIATIONS
from digitlab.preprocess import straighten

DRAWN = Path(__file__).resolve().parent / "fixtures" / "drawn"
FIXTURE_FLOOR = 0.98  # measured 0.99 on the 100 drawn pictures (0.96 before)
EUCLIDEAN_RIGHT = 358  # the default rows ranked by plain euclidean distance


def label_of(path) -> int:
    return int(Path(path).name[0])


@pytest.fixture()
def three_files(tmp_path):
    for name in ("7_s1_paper.png", "1_s1_chalk.png", "2_s0_blue.jpg"):
        shutil.copy(DRAWN / name, tmp_path / name)
    return tmp_path


def _restyled(digits):
    """The built-in 7s that have a bar to take off and their rows without it,
    then the built-in 1s on a foot, the 2s with a loop and the 3s as two
    bowls: (digit, row, label)."""
    from digitlab.augment import (
        as_two_bowls,
        with_foot,
        with_loop,
        without_side_strokes,
    )

    sevens = [
        (i, without_side_strokes(digits.X[i])) for i in np.flatnonzero(digits.y == 7)
    ]
    ones = [(i, with_foot(digits.X[i])) for i in np.flatnonzero(digits.y == 1)]
    bare = [(i, row, 7) for i, row in sevens if row is not None]
    twos = [(i, with_loop(digits.X[i])) for i in np.flatnonzero(digits.y == 2)]
    threes = [(i, as_two_bowls(digits.X[i])) for i in np.flatnonzero(digits.y == 3)]
    return (
        bare
        + [(i, row, 1) for i, row in ones]
        + [(i, row, 2) for i, row in twos]
        + [(i, row, 3) for i, row in threes]
    )


@pytest.mark.slow
def test_default_model_is_fresh_each_call(digits):
    a, b = default_model(), default_model()
    assert a is not b and a.pipeline == "upright8x8" and a.k == 5
    assert a.metric == "tangent"
    # The digits, 4 copies of each, the 7s without their bar, the 1s on a
    # foot, the 2s with a loop, the 3s as two bowls, and those restyled
    # digits turned both ways: all straightened.
    restyled = _restyled(digits)
    n_bare = sum(label == 7 for _, _, label in restyled)
    assert 100 < n_bare < 180
    assert len(restyled) == n_bare + int(np.isin(digits.y, (1, 2, 3)).sum())
    assert a._fit_X.shape == (5 * 1797 + 3 * len(restyled), 64)
    assert np.array_equal(a._fit_X[:1797], straighten(digits.X))
    a.set_params(k=1)
    assert b.k == 5


@pytest.mark.slow
def test_default_model_rows_and_lesson_score_match_sklearn(digits):
    from sklearn.neighbors import KNeighborsClassifier

    from digitlab.augment import DEFAULT_VARIATIONS, vary_digit

    model = default_model()
    X, y = model._fit_X, model.classes_[model._y]
    n = len(digits)
    for v, variation in enumerate(DEFAULT_VARIATIONS, start=1):
        for i in (0, 777, 1796):
            expected = straighten(vary_digit(digits.X[i], *variation))
            assert np.array_equal(X[v * n + i], expected)
            assert y[v * n + i] == digits.y[i]
    restyled = _restyled(digits)
    r = len(restyled)
    for j, (_, row, label) in enumerate(restyled):
        assert np.array_equal(X[5 * n + j], straighten(row)) and y[5 * n + j] == label
    for v, variation in enumerate(RESTYLED_VARIATIONS, start=1):
        for j in (0, r // 2, r - 1):
            expected = straighten(vary_digit(restyled[j][1], *variation))
            assert np.array_equal(X[5 * n + v * r + j], expected)
            assert y[5 * n + v * r + j] == restyled[j][2]
    split = digits.split(test_size=0.2, seed=0)
    train = set(split.train_index.tolist())
    kept = [j for j, (i, _, _) in enumerate(restyled) if i in train]
    rows = np.concatenate(
        [v * n + split.train_index for v in range(5)]
        + [[5 * n + v * r + j for v in range(3) for j in kept]]
    ).astype(int)
    queries = straighten(split.X_test)
    sk = KNeighborsClassifier(5).fit(X[rows], y[rows])
    assert int(np.sum(sk.predict(queries) == split.y_test)) == EUCLIDEAN_RIGHT
    # The tangent ranking by hand: scikit-learn's 30 euclidean neighbors, their
    # tangent distances, ties by row, 5 votes, equal votes to the smallest label.
    _, candidates = sk.kneighbors(queries, 30)
    predicted = []
    for q, cand in zip(queries, candidates, strict=True):
        d = tangent_sq_distances(q, X[rows][cand])
        nearest = cand[np.lexsort((cand, d))[:5]]
        predicted.append(np.argmax(np.bincount(y[rows][nearest], minlength=10)))
    n_correct = int(np.sum(np.array(predicted) == split.y_test))
    assert n_correct == 358
    assert model.metadata_["accuracy"] == n_correct / 360
    assert "gets 358 of 360 test digits right" in model.metadata_["accuracy_note"]


@pytest.mark.slow
def test_default_model_builds_with_progress(monkeypatch, tmp_path):
    from digitlab import predict

    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(predict, "_default_rows", None)
    assert not predict.default_model_ready()
    calls = []
    model = default_model(progress=lambda done, total: calls.append((done, total)))
    # Drawing the 1,797 digits' copies, then straightening all rows: one total.
    total = 1797 * 6
    assert calls[0] == (100, total) and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {t for _, t in calls} == {total} and len(calls) > 40
    assert model._fit_X.shape[0] > 5 * 1797
    assert predict.default_model_ready()  # in memory, and now in the cache
    monkeypatch.setattr(predict, "_default_rows", None)
    assert predict.default_model_ready()
    assert len(list(tmp_path.glob("default-model-*.npz"))) == 1
    monkeypatch.setattr(predict, "_default_rows", None)
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", "none")
    assert not predict.default_model_ready()


def test_cache_round_trip_and_damage(tmp_path, monkeypatch):
    from digitlab import predict

    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(tmp_path))
    assert predict.cache_dir() == tmp_path
    X = np.arange(128, dtype=np.float64).reshape(2, 64) % 17
    predict._write_cache("abc", X, np.array([3, 4]), np.array([0, 0]))
    got_X, got_y, sources = predict._read_cache("abc")
    assert np.array_equal(got_X, X) and got_y.tolist() == [3, 4]
    assert sources.tolist() == [0, 0]
    (tmp_path / "default-model-abc.npz").write_bytes(b"damaged")
    assert predict._read_cache("abc") is None
    assert predict._read_cache("other") is None
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", "none")
    assert predict.cache_dir() is None


@pytest.mark.slow
def test_fixture_accuracy_floor():
    files = sorted(DRAWN.iterdir())
    pictures = [f for f in files if f.suffix in (".png", ".jpg")]
    assert len(pictures) == 100
    assert sum(f.suffix == ".jpg" for f in pictures) == 40
    predicted = default_model().predict_pictures(pictures)
    truth = np.array([label_of(f) for f in pictures])
    assert np.mean(predicted == truth) >= FIXTURE_FLOOR
    # No digit below 9 of its 10 (issue 17), the 8 of two circles included.
    for digit in range(10):
        assert np.sum((predicted == truth) & (truth == digit)) >= 9, digit


def test_predict_pictures_needs_a_pipeline(digits):
    model = digitlab.KNN().fit(digits.X, digits.y)
    with pytest.raises(DigitlabError, match="pipeline=None"):
        model.predict_pictures([DRAWN / "7_s0_paper.png"])


def test_predict_files_votes_and_confidence(three_files):
    result = predict_files([three_files], k=5)
    assert [Path(r.file).name for r in result.results] == [
        "1_s1_chalk.png",
        "2_s0_blue.jpg",
        "7_s1_paper.png",
    ]
    for r in result.results:
        assert sorted(r.votes) == [str(d) for d in range(10)]
        assert sum(r.votes.values()) == 5
        assert r.confidence == r.votes[str(r.digit)] / 5
    assert [r.digit for r in result.results] == [1, 2, 7]
    assert result.failures == []


def test_cli_lines_and_json(three_files):
    runner = CliRunner()
    seven = three_files / "7_s1_paper.png"
    out = runner.invoke(main, ["predict", str(seven)])
    assert out.exit_code == 0
    model = default_model()
    _, ind = model.kneighbors(model.prepare_pictures([seven]))
    counts = np.bincount(model.classes_[model._y[ind[0]]], minlength=10)
    ranked = sorted((-n, d) for d, n in enumerate(counts) if n)
    votes = ", ".join(f"{d} ×{-n}" for n, d in ranked)
    assert out.output == f"{seven}  7  (votes: {votes})\n"
    out = runner.invoke(main, ["predict", str(three_files), "--json", "--k", "3"])
    assert out.exit_code == 0
    data = json.loads(out.output)
    assert [Path(d["file"]).name[0] for d in data] == ["1", "2", "7"]
    assert [d["digit"] for d in data] == [1, 2, 7]
    assert all(sorted(d) == ["confidence", "digit", "file", "votes"] for d in data)
    assert all(sum(d["votes"].values()) == 3 for d in data)


def test_cli_show_prints_the_grid(three_files):
    picture = three_files / "1_s1_chalk.png"
    out = CliRunner().invoke(main, ["predict", str(picture), "--show"])
    lines = out.output.splitlines()
    assert len(lines) == 10
    model = default_model()
    row = model.prepare_pictures([picture])
    nearest = model._fit_X[model.kneighbors(row)[1][0, 0]]
    label = model.classes_[model._y[model.kneighbors(row)[1][0, 0]]]
    assert lines[0].startswith("model input")
    assert lines[0].endswith(f"nearest training digit: {label}")
    seen = np.array([list(line[:16:2]) for line in lines[1:9]])
    near = np.array([list(line[19::2]) for line in lines[1:9]])
    # Full-ink cells are drawn with the darkest shade, paper with blanks.
    assert np.array_equal(seen == "█", row.reshape(8, 8) >= 14)
    assert np.array_equal(seen == " ", row.reshape(8, 8) < 2)
    assert np.array_equal(
        seen == "░", (row.reshape(8, 8) >= 2) & (row.reshape(8, 8) < 6)
    )
    assert np.array_equal(near == "█", nearest.reshape(8, 8) >= 14)
    assert lines[9].endswith("1  (votes: 1 ×5)")


def test_cli_show_input_writes_png_and_never_overwrites(three_files, tmp_path):
    png = tmp_path / "input.png"
    args = ["predict", str(three_files / "7_s1_paper.png"), "--show-input", str(png)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0
    image = Image.open(png)
    assert image.size == (128, 128)
    grid = digitlab.prepare(three_files / "7_s1_paper.png", "upright8x8")
    grid = grid.reshape(8, 8)
    expected = 255 - np.round(grid / 16 * 255)
    assert np.array_equal(np.asarray(image)[::16, ::16], expected.astype(np.uint8))
    png.write_bytes(b"mine")
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 2 and "already exists" in out.output
    assert png.read_bytes() == b"mine"
    out = CliRunner().invoke(main, [*args, "--force"])
    assert out.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"


def test_cli_bad_files_one_line_each_others_predicted(three_files):
    (three_files / "empty.png").write_bytes(b"")
    (three_files / "notes.gif").write_text("not a picture")
    Image.new("RGB", (40, 40), "white").save(three_files / "blank.bmp")
    out = CliRunner().invoke(
        main, ["predict", str(three_files), str(three_files / "missing.png")]
    )
    assert out.exit_code == 2
    errors = [ln for ln in out.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 4
    assert any("missing.png: no such file" in e for e in errors)
    assert any("empty.png is an empty file" in e for e in errors)
    assert any("notes.gif is not a picture" in e for e in errors)
    assert any("blank.bmp looks blank" in e for e in errors)
    predicted = [ln for ln in out.output.splitlines() if "(votes:" in ln]
    assert len(predicted) == 3


def test_cli_with_a_saved_model(three_files, tmp_path):
    model_path = tmp_path / "m.npz"
    runner = CliRunner()
    assert runner.invoke(main, ["train", "--save", str(model_path)]).exit_code == 0
    out = runner.invoke(
        main, ["predict", str(three_files), "--model", str(model_path), "--json"]
    )
    assert out.exit_code == 0
    data = json.loads(out.output)
    saved = digitlab.load_model(model_path)  # 1,437 digits of the lesson's split
    assert saved.pipeline == "uci8x8"
    files = [d["file"] for d in data]
    assert [d["digit"] for d in data] == saved.predict_pictures(files).tolist()
    out = runner.invoke(
        main, ["predict", str(three_files), "--model", str(model_path), "--k", "5000"]
    )
    assert out.exit_code == 2
    assert "k=5000 is larger than the model's 1437 training digits" in out.output
