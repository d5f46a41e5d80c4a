"""The user's examples: reading a folder of them, and teaching a model in place."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import digitlab
from digitlab.augment import augment_digits
from digitlab.errors import DigitlabError, DigitlabNotice
from digitlab.examples import (
    EXAMPLE_VARIATIONS,
    learn_examples,
    load_examples,
    mark_examples,
    teach,
)
from digitlab.explain import describe_model, explain
from digitlab.neighbors import FitRows, kneighbors
from digitlab.preprocess import prepare

DRAWN = Path(__file__).parent / "fixtures" / "drawn"
# An 8 drawn as two stacked circles, the way many people draw it: the model
# fitted on the 1,797 built-in digits reads it as 9.
TWO_CIRCLE_EIGHT = DRAWN / "8_s0_paper.png"


@pytest.fixture
def lesson_model(digits):
    """k=5 on the 1,797 built-in digits (fixed: not the default model, which
    others improve)."""
    return digitlab.KNN(5, pipeline="uci8x8").fit(digits.X, digits.y)


# ---- the rows ----------------------------------------------------------------


@pytest.mark.parametrize("integer", [True, False])
def test_extended_rows_rank_exactly_like_rows_made_at_once(integer):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 17, size=(5000, 64)).astype(np.float64)
    new = rng.integers(0, 17, size=(7, 64)).astype(np.float64)
    if not integer:
        X, new = X / 3.0, new / 3.0
    queries = np.vstack([new[:2] + 1, X[:3], new[3:4]])
    rows = FitRows(X)
    # Everything computed first, so every part is extended, not made afresh.
    for part in ("integer_valued", "largest", "sq", "augmented", "augmented32"):
        getattr(rows, part)
    rows.unit, rows.projection  # noqa: B018
    grown = rows.extended(new)
    fresh = FitRows(np.vstack([X, new]))
    assert np.array_equal(grown.X, fresh.X)
    assert grown.integer_valued is fresh.integer_valued is integer
    assert grown.largest == fresh.largest
    assert np.array_equal(grown.augmented, fresh.augmented)
    assert np.array_equal(grown.sq, fresh.sq)
    assert len(rows) == 5000  # the old rows are left as they were
    P, Z_aug, _ = grown.projection
    assert Z_aug.shape == (len(P) + 1, 5007)
    for k in (1, 5, 40):
        got = kneighbors(grown, queries, k)
        want = kneighbors(fresh.X, queries, k, block_bytes=2**16)  # the plain path
        assert np.array_equal(got[1], want[1]) and np.allclose(got[0], want[0])
    # The new rows are found: each one is its own nearest row.
    assert kneighbors(grown, new, 1)[1].ravel().tolist() == list(range(5000, 5007))


def test_add_examples_predicts_like_a_model_fitted_on_all_rows(digits):
    model = digitlab.KNN(5).fit(digits.X[:1500], digits.y[:1500])
    model.predict(digits.X[1500:1510])  # its ranking data are made
    model.add_examples(digits.X[1500:1700], digits.y[1500:1700])
    whole = digitlab.KNN(5).fit(digits.X[:1700], digits.y[:1700])
    assert model.n_examples_ == 200 and whole.n_examples_ == 0
    test = digits.X[1700:]
    assert np.array_equal(model.predict(test), whole.predict(test))
    d1, i1 = model.kneighbors(test)
    d2, i2 = whole.kneighbors(test)
    assert np.array_equal(i1, i2) and np.array_equal(d1, d2)
    assert model.is_example([0, 1499, 1500, 1699]).tolist() == [
        False,
        False,
        True,
        True,
    ]


def test_add_examples_with_copies_counts_examples_not_rows(digits):
    model = digitlab.KNN(5).fit(digits.X, digits.y)
    model.add_examples(digits.X[:2], digits.y[:2], variations=EXAMPLE_VARIATIONS)
    copies = augment_digits(digits.X[:2], digits.y[:2], EXAMPLE_VARIATIONS)[0]
    assert model.n_examples_ == 2
    assert len(model._fit_X) == 1797 + 2 * 5
    assert np.array_equal(model._fit_X[1797:], copies)


def test_add_examples_refuses_a_new_label_and_a_wrong_width(digits):
    model = digitlab.KNN(5).fit(digits.X, digits.y)
    with pytest.raises(DigitlabError) as error:
        model.add_examples(digits.X[:1], [10])
    assert str(error.value) == (
        "The label 10 is not one of the model's labels; choose one of "
        "0, 1, 2, 3, 4, 5, 6, 7, 8, 9."
    )
    with pytest.raises(DigitlabError, match="features"):
        model.add_examples(np.zeros((1, 63)), [1])
    with pytest.raises(DigitlabError, match="one label per row"):
        model.add_examples(digits.X[:2], [1])
    assert len(model._fit_X) == 1797 and model.n_examples_ == 0


# ---- teach -------------------------------------------------------------------


def test_teach_changes_the_next_prediction_and_marks_the_neighbor(
    lesson_model, tmp_path
):
    before = explain(lesson_model, TWO_CIRCLE_EIGHT)
    assert before["digit"] == "9"
    assert not any(n["yours"] for n in before["neighbors"])
    taught = teach(lesson_model, TWO_CIRCLE_EIGHT, "8", folder=tmp_path / "ex")
    assert taught["label"] == "8" and taught["n_examples"] == 1
    assert taught["n_train"] == 1797 + 1 + len(EXAMPLE_VARIATIONS)
    assert taught["path"].startswith("8/") and taught["count"] == 1
    saved = tmp_path / "ex" / taught["path"]
    with Image.open(saved) as a, Image.open(TWO_CIRCLE_EIGHT) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    after = explain(lesson_model, TWO_CIRCLE_EIGHT)
    assert after["digit"] == "8" and after["confidence"] == 1.0
    nearest = after["neighbors"][0]
    assert nearest["yours"] is True and nearest["distance"] == 0.0
    assert nearest["index"] == 1797 and nearest["label"] == "8"
    assert describe_model(lesson_model)["n_examples"] == 1
    # The same writer's other two-circle 8s (other pens, other paper) too.
    others = sorted(DRAWN.glob("8_s0_*"))
    assert lesson_model.predict_pictures(others).tolist() == [8] * len(others)


def test_teach_without_a_folder_saves_nothing(lesson_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    taught = teach(lesson_model, TWO_CIRCLE_EIGHT, 8)
    assert taught == {"label": "8", "n_examples": 1, "n_train": 1802}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("label", ["x", 12, "../8", True])
def test_teach_refuses_labels_the_model_does_not_know(lesson_model, tmp_path, label):
    with pytest.raises(DigitlabError, match="not one of the model's labels"):
        teach(lesson_model, TWO_CIRCLE_EIGHT, label, folder=tmp_path / "ex")
    assert lesson_model.n_examples_ == 0 and len(lesson_model._fit_X) == 1797
    assert not (tmp_path / "ex").exists()


def test_teach_refuses_a_blank_picture_and_a_model_without_neighbors(
    lesson_model, digits, tmp_path
):
    blank = Image.new("L", (60, 60), 255)
    with pytest.raises(DigitlabError, match="draw a digit first"):
        teach(lesson_model, blank, 3, folder=tmp_path / "ex")
    assert not (tmp_path / "ex").exists() and lesson_model.n_examples_ == 0
    from digitlab.recipes import RecipeModel

    svc = RecipeModel("svc", pipeline="uci8x8").fit(digits.X, digits.y)
    with pytest.raises(DigitlabError) as error:
        teach(svc, TWO_CIRCLE_EIGHT, 8)
    assert "does not decide by its nearest training digits" in str(error.value)


def test_a_knn_recipe_learns_and_a_saved_model_keeps_the_rows(digits, tmp_path):
    from digitlab.recipes import RecipeModel

    model = RecipeModel("knn", pipeline="uci8x8").fit(digits.X, digits.y)
    teach(model, TWO_CIRCLE_EIGHT, 8)
    row = prepare(TWO_CIRCLE_EIGHT)[None]
    assert model.predict(row).tolist() == [8]
    assert len(model._fit_X) == len(model.estimator_._fit_X) == 1802
    # Saved, the examples are plain training rows; marked again, they are the user's.
    loaded = digitlab.load_model(digitlab.save_model(model, tmp_path / "m.npz"))
    assert loaded.predict(row).tolist() == [8]
    assert loaded.estimator_.n_examples_ == 0
    mark_examples(loaded, 1, 1797)
    assert describe_model(loaded)["n_examples"] == 1
    assert explain(loaded, TWO_CIRCLE_EIGHT)["neighbors"][0]["yours"] is True


# ---- a folder of examples ----------------------------------------------------


def make_folder(root: Path) -> Path:
    (root / "8").mkdir(parents=True)
    (root / "4").mkdir()
    (root / ".trash").mkdir()
    for name in ("8_s0_paper.png", "8_s0_scan.jpg"):
        shutil.copy(DRAWN / name, root / "8" / name)
    shutil.copy(DRAWN / "4_s1_paper.png", root / "4" / "a.png")
    (root / "4" / "notes.txt").write_text("not a picture, and not a picture name")
    (root / "8" / ".digitlab-x.tmp").write_bytes(b"half written")
    shutil.copy(DRAWN / "3_s0_paper.png", root / ".trash" / "x.png")
    return root


def test_load_examples_prepares_each_picture_like_the_training_digits(tmp_path):
    root = make_folder(tmp_path / "ex")
    examples = load_examples(root, classes=np.arange(10))
    assert examples.y.tolist() == [4, 8, 8]  # labels sorted, then file names
    assert examples.meta["paths"] == [
        str(root / "4" / "a.png"),
        str(root / "8" / "8_s0_paper.png"),
        str(root / "8" / "8_s0_scan.jpg"),
    ]
    for row, path in zip(examples.X, examples.meta["paths"], strict=True):
        assert np.array_equal(row, prepare(path, pipeline="uci8x8"))
    assert examples.pipeline == "uci8x8" and examples.X.shape == (3, 64)
    # Without the model's labels the folder names are the labels, as text.
    assert load_examples(root).y.tolist() == ["4", "8", "8"]


def test_an_unreadable_example_is_skipped_with_a_note_naming_it(tmp_path):
    root = make_folder(tmp_path / "ex")
    (root / "8" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    Image.new("L", (40, 40), 255).save(root / "4" / "blank.png")
    with pytest.warns(DigitlabNotice) as notes:
        examples = load_examples(root, classes=np.arange(10))
    assert len(examples) == 3
    (note,) = [str(w.message) for w in notes]
    assert note.startswith("Skipped 2 unreadable example pictures: ")
    assert str(root / "4" / "blank.png") in note and "no ink" in note.lower()
    assert str(root / "8" / "broken.png") in note
    assert len(examples.meta["skipped"]) == 2


def test_a_folder_not_named_after_a_label_is_refused(tmp_path):
    root = make_folder(tmp_path / "ex")
    (root / "seven").mkdir()
    with pytest.raises(DigitlabError) as error:
        load_examples(root, classes=np.arange(10))
    assert str(error.value) == (
        f"The examples folder {str(root / 'seven')!r} is not named after one of "
        "the model's labels (0, 1, 2, 3, 4, 5, 6, 7, 8, 9); rename or remove it."
    )


def test_a_missing_or_empty_folder_is_no_examples_only_when_allowed(tmp_path):
    missing = tmp_path / "none"
    with pytest.raises(DigitlabError, match="does not exist"):
        load_examples(missing)
    assert len(load_examples(missing, missing_ok=True)) == 0
    empty = tmp_path / "empty"
    (empty / "3").mkdir(parents=True)
    with pytest.raises(DigitlabError, match="holds no readable pictures"):
        load_examples(empty)
    nothing = load_examples(empty, missing_ok=True)
    assert nothing.X.shape == (0, 64) and len(nothing.y) == 0
    (tmp_path / "file").write_text("x")
    with pytest.raises(DigitlabError, match="is a file, not a folder"):
        load_examples(tmp_path / "file", missing_ok=True)


def test_learn_examples_adds_the_folder_to_the_model(lesson_model, tmp_path):
    root = make_folder(tmp_path / "ex")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learned = learn_examples(lesson_model, root)
    assert len(learned) == 3 and lesson_model.n_examples_ == 3
    assert len(lesson_model._fit_X) == 1797 + 3 * 5
    assert lesson_model.predict_pictures([TWO_CIRCLE_EIGHT]).tolist() == [8]
    info = describe_model(lesson_model)
    assert info["n_examples"] == 3 and info["n_train"] == 1812
    # The lesson's accuracy is still known: the fitted rows are the 1,797 digits.
    assert info["accuracy"] is not None


# ---- the commands ------------------------------------------------------------


def mine(root: Path) -> Path:
    """Two more two-circle 8s of the same writer (other pen, other scan)."""
    (root / "8").mkdir(parents=True)
    for name in ("8_s0_scan.jpg", "8_s0_blue.jpg"):
        shutil.copy(DRAWN / name, root / "8" / name)
    return root


def test_predict_with_examples_learns_them_first(tmp_path):
    from click.testing import CliRunner

    from digitlab.cli import main

    folder = mine(tmp_path / "mine")
    model = tmp_path / "lesson.npz"
    data = digitlab.load_digits()
    digitlab.save_model(digitlab.KNN(5, pipeline="uci8x8").fit(data.X, data.y), model)
    picture = str(TWO_CIRCLE_EIGHT)
    cold = CliRunner().invoke(main, ["predict", picture, "--model", str(model)])
    assert cold.exit_code == 0
    assert cold.output == f"{picture}  9  (votes: 9 ×4, 8 ×1)\n"
    taught = CliRunner().invoke(
        main, ["predict", picture, "--model", str(model), "--examples", str(folder)]
    )
    assert taught.exit_code == 0, taught.output
    assert taught.output == (
        f"Learned 2 examples of yours from {folder} first.\n"
        f"{picture}  8  (votes: 8 ×5)\n"
    )
    # --k refits the model: the examples stay in it.
    three = CliRunner().invoke(
        main,
        ["predict", picture, "--model", str(model), "--examples", str(folder)]
        + ["--k", "3"],
    )
    assert three.output.endswith(f"{picture}  8  (votes: 8 ×3)\n")
    missing = CliRunner().invoke(
        main, ["predict", picture, "--examples", str(tmp_path / "nope")]
    )
    assert missing.exit_code == 2
    assert missing.output == (
        f"Error: The examples folder {str(tmp_path / 'nope')!r} does not exist; give "
        "a folder with one subfolder of pictures per label (7/a.png, ...).\n"
    )


def test_train_with_examples_adds_them_to_the_train_part_only(tmp_path):
    import json

    from click.testing import CliRunner

    from digitlab.cli import main

    folder = mine(tmp_path / "mine")
    saved = tmp_path / "m.npz"
    result = CliRunner().invoke(
        main, ["train", "--examples", str(folder), "--save", str(saved), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["n_examples"] == 2 and out["config"]["examples"] == str(folder)
    assert (out["n_train"], out["n_test"]) == (1437, 360)
    text = CliRunner().invoke(main, ["train", "--examples", str(folder)]).output
    assert (
        f"Examples: 2 of yours from {folder} joined the train part (never the test "
        "part)\n" in text
    )
    # The saved rows: the train part, then the examples with their copies;
    # not one test digit.
    split = digitlab.load_digits().split(test_size=0.2, seed=0)
    model = digitlab.load_model(saved)
    examples = load_examples(folder, classes=np.arange(10))
    copies = augment_digits(examples.X, examples.y, EXAMPLE_VARIATIONS)
    assert np.array_equal(model._fit_X[:1437], split.X_train)
    assert np.array_equal(model._fit_X[1437:], copies[0])
    assert np.array_equal(model.classes_[model._y[1437:]], copies[1])
    assert model.predict(prepare(TWO_CIRCLE_EIGHT)[None]).tolist() == [8]
    # A model that does not learn by rows is fitted on both together.
    svc = digitlab.train(recipe="svc", examples=folder)
    assert len(svc.model._fit_X) == 1437 + 2 and len(svc.examples) == 2
