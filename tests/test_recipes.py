"""Recipes: augmentation and deskewing by hand, each recipe against scikit-learn."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import digitlab
from digitlab import (
    KNN,
    DigitlabError,
    RecipeModel,
    load_model,
    make_estimator,
    save_model,
)
from digitlab.recipes import (
    RECIPES,
    Augmented,
    Deskew,
    augment_images,
    deskew_images,
    n_variants,
)


def test_augment_images_by_hand():
    x = np.arange(9.0).reshape(1, 9)  # [[0 1 2] [3 4 5] [6 7 8]]
    out = augment_images(x, shifts=1, half_shifts=True, angles=[90.0])
    assert out.shape == (n_variants(shifts=1, half_shifts=True, angles=[90]), 9)
    assert out.shape[0] == 10
    pictures = out.reshape(-1, 3, 3)
    np.testing.assert_array_equal(pictures[0], x.reshape(3, 3))
    np.testing.assert_array_equal(pictures[1], [[3, 4, 5], [6, 7, 8], [0, 0, 0]])
    np.testing.assert_array_equal(pictures[2], [[0, 0, 0], [0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(pictures[3], [[1, 2, 0], [4, 5, 0], [7, 8, 0]])
    np.testing.assert_array_equal(pictures[4], [[0, 0, 1], [0, 3, 4], [0, 6, 7]])
    # half a pixel up: each row is the mean of itself and the row below
    np.testing.assert_array_equal(
        pictures[5], [[1.5, 2.5, 3.5], [4.5, 5.5, 6.5], [0, 0, 0]]
    )
    # a quarter turn about the centre is exact
    np.testing.assert_array_equal(pictures[9], [[6, 3, 0], [7, 4, 1], [8, 5, 2]])


def test_augment_needs_square_pictures():
    with pytest.raises(DigitlabError, match="square pictures"):
        augment_images(np.zeros((2, 10)))


def test_deskew_straightens_a_slanted_stroke():
    upright = np.zeros((8, 8))
    upright[1:7, 3:5] = 16  # centred: the deskew also centres the ink
    slanted = np.zeros((8, 8))
    for row in range(1, 7):
        slanted[row, row] = 16  # a 45° stroke
    out = deskew_images(np.stack([upright, slanted]).reshape(2, 64)).reshape(2, 8, 8)
    np.testing.assert_allclose(out[0], upright)  # nothing to straighten

    def column_spread(img):
        cols = np.arange(8)
        per_row = [(img[r] * cols).sum() / img[r].sum() for r in range(2, 6)]
        return np.ptp(per_row)

    assert column_spread(slanted) == 3.0
    assert column_spread(out[1]) < 0.5
    assert Deskew().fit(slanted.reshape(1, 64)).transform(
        slanted.reshape(1, 64)
    ).shape == (1, 64)


def _estimators(est):
    yield est
    for value in est.get_params(deep=True).values():
        if isinstance(value, BaseEstimator):
            yield value
    if hasattr(est, "steps"):
        for _, step in est.steps:
            yield from _estimators(step)
    inner = getattr(est, "estimator", None)
    if isinstance(inner, BaseEstimator):
        yield from _estimators(inner)


@pytest.mark.parametrize("name", list(RECIPES))
def test_neighbor_recipes_search_with_digitlab_knn(name):
    parts = list(_estimators(make_estimator(name)))
    assert not any(isinstance(p, KNeighborsClassifier) for p in parts)
    assert any(isinstance(p, KNN) for p in parts) == RECIPES[name].neighbors
    assert RECIPES[name].description and "\n" not in RECIPES[name].description


@pytest.fixture(scope="module")
def split(digits):
    return digits.split(test_size=0.2, seed=0)


def test_svc_recipes_match_sklearn(split):
    ref = SVC(C=1.0, gamma=0.002).fit(split.X_train, split.y_train)
    ours = make_estimator("svc").fit(split.X_train, split.y_train)
    np.testing.assert_array_equal(ours.predict(split.X_test), ref.predict(split.X_test))
    assert ref.score(split.X_test, split.y_test) == 357 / 360


def test_knn_shift_is_1nn_on_the_augmented_training_rows(split):
    params = RECIPES["knn-shift"].defaults
    rows = augment_images(
        split.X_train,
        shifts=params["shifts"],
        half_shifts=params["half_shifts"],
        angles=params["angles"],
    )
    labels = np.tile(split.y_train, len(rows) // split.n_train)
    assert (params["k"], params["weights"]) == (3, "distance")
    ref = KNeighborsClassifier(3, weights="distance", algorithm="brute")
    expected = ref.fit(rows, labels).predict(split.X_test)
    model = make_estimator("knn-shift").fit(split.X_train, split.y_train)
    np.testing.assert_array_equal(model.predict(split.X_test), expected)
    assert model.n_augmented_ == split.n_train * 11
    assert np.mean(expected == split.y_test) > 0.99


def test_knn_pca_matches_sklearn(split):
    n = RECIPES["knn-pca"].defaults["n_components"]
    ref = make_pipeline(PCA(n, svd_solver="full"), KNeighborsClassifier(1))
    expected = ref.fit(split.X_train, split.y_train).predict(split.X_test)
    ours = make_estimator("knn-pca").fit(split.X_train, split.y_train)
    np.testing.assert_array_equal(ours.predict(split.X_test), expected)


def test_augmented_fits_only_on_augmented_training_rows(split):
    class Recorder(KNN):
        def fit(self, X, y):
            Recorder.seen = np.array(X)
            return super().fit(X, y)

    model = Augmented(Recorder(1), shifts=1, angles=(-10.0, 10.0))
    model.fit(split.X_train, split.y_train)
    expected = augment_images(split.X_train, shifts=1, angles=(-10.0, 10.0))
    np.testing.assert_array_equal(Recorder.seen, expected)
    assert len(Recorder.seen) == 7 * split.n_train


def test_unknown_recipe_and_parameter_are_clear_errors():
    with pytest.raises(DigitlabError, match="Unknown recipe 'knn-magic'; choose one"):
        make_estimator("knn-magic")
    with pytest.raises(DigitlabError, match="has no parameter 'n'; its parameters"):
        make_estimator("knn", {"n": 3})
    assert make_estimator("knn-distance", {"k": 7}).k == 7


@pytest.mark.slow
def test_mlp_and_logreg_are_deterministic(split):
    for name in ("logreg", "mlp"):
        a = RecipeModel(name).fit(split.X_train, split.y_train)
        b = RecipeModel(name).fit(split.X_train, split.y_train)
        np.testing.assert_array_equal(a.predict(split.X_test), b.predict(split.X_test))
        assert a.score(split.X_test, split.y_test) > 0.95


def test_recipe_model_file_round_trip(tmp_path, split):
    model = RecipeModel("knn-shift", pipeline="uci8x8").fit(
        split.X_train, split.y_train
    )
    path = save_model(model, tmp_path / "shift.npz", metadata={"note": "test"})
    with zipfile.ZipFile(path) as z:
        assert not any(name.endswith(".pkl") for name in z.namelist())
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        stored_X = archive["X"]
    assert meta["format_version"] == 2
    assert meta["estimator"] == "RecipeModel"
    assert meta["params"] == {
        "recipe": "knn-shift",
        "params": None,
        "pipeline": "uci8x8",
    }
    np.testing.assert_array_equal(stored_X, split.X_train)  # raw, not augmented
    loaded = load_model(path)
    assert isinstance(loaded, RecipeModel)
    assert loaded.metadata_ == {"note": "test"}
    np.testing.assert_array_equal(
        loaded.predict(split.X_test), model.predict(split.X_test)
    )


def test_recipe_model_with_parameters_round_trip(tmp_path, split):
    model = RecipeModel("knn-distance", params={"k": 6}).fit(
        split.X_train, split.y_train
    )
    loaded = load_model(save_model(model, tmp_path / "m.npz"))
    assert loaded.params == {"k": 6}
    assert loaded.estimator_.k == 6
    np.testing.assert_array_equal(
        loaded.predict(split.X_test), model.predict(split.X_test)
    )


def test_train_with_a_recipe(digits):
    result = digitlab.train(digits, recipe="svc")
    assert result.accuracy == 357 / 360
    assert result.config()["recipe"] == "svc"
    assert "Model: recipe svc: support vector machine" in repr(result)
    with pytest.raises(DigitlabError, match="Unknown recipe 'nope'"):
        digitlab.train(digits, recipe="nope")


DRAWN = Path(__file__).parent / "fixtures" / "drawn"


def test_predict_with_a_recipe_model(tmp_path, digits):
    from click.testing import CliRunner

    from digitlab.cli import main
    from digitlab.preprocess import prepare

    pictures = [DRAWN / "7_s0_paper.png", DRAWN / "4_s0_scan.jpg"]
    ref = SVC(C=10.0, gamma=0.001)
    rows = augment_images(digits.X, shifts=1, angles=())
    ref.fit(rows, np.tile(digits.y, 5))
    expected = ref.predict(np.vstack([prepare(p) for p in pictures]))
    out = CliRunner().invoke(
        main, ["predict", *map(str, pictures), "--recipe", "svc-shift", "--json"]
    )
    assert out.exit_code == 0, out.output
    answers = json.loads(out.output)
    assert [a["digit"] for a in answers] == expected.tolist()
    # an SVC has no probabilities: the predicted digit gets the whole vote
    assert answers[0]["votes"][str(expected[0])] == 1.0
    assert answers[0]["confidence"] == 1.0
    bad = CliRunner().invoke(
        main, ["predict", str(pictures[0]), "--recipe", "svc", "--k", "3"]
    )
    assert bad.exit_code == 2
    assert "k applies to k-nearest-neighbors models" in bad.output
    both = CliRunner().invoke(
        main, ["predict", str(pictures[0]), "--recipe", "svc", "--model", "m.npz"]
    )
    assert both.exit_code == 2 and "give only one of them" in both.output


def test_serve_answers_with_a_recipe_model(tmp_path, digits):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from digitlab.web.app import create_app

    model = RecipeModel("svc", pipeline="uci8x8").fit(digits.X, digits.y)
    picture = (DRAWN / "7_s0_paper.png").read_bytes()
    with TestClient(create_app(model, examples_dir=tmp_path)) as client:
        info = client.get("/api/model").json()
        answer = client.post(
            "/api/predict", files={"file": ("7.png", picture, "image/png")}
        )
    assert info["recipe"] == "svc" and info["estimator"] == "RecipeModel"
    assert info["accuracy"] == 357 / 360  # svc on the lesson's split, as in train
    assert answer.status_code == 200, answer.text
    row = digitlab.prepare(DRAWN / "7_s0_paper.png")
    assert answer.json()["digit"] == str(model.predict(row[None])[0])
    assert answer.json()["neighbors"] == []


def test_serve_recipe_mistakes_are_clear_errors():
    pytest.importorskip("fastapi")
    from click.testing import CliRunner

    from digitlab.cli import main

    both = CliRunner().invoke(main, ["serve", "--recipe", "svc", "--model", "m.npz"])
    assert both.exit_code == 2 and "give only one of them" in both.output
    unknown = CliRunner().invoke(main, ["serve", "--recipe", "nope"])
    assert unknown.exit_code == 2
    assert unknown.output.startswith("Error: Unknown recipe 'nope'; choose one of")
