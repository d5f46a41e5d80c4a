"""The KNN estimator: scikit-learn compatibility, the lesson's numbers, model files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits as sk_load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import check_estimator

import digitlab
from digitlab import KNN, DigitlabError, DigitlabNotice, load_model, save_model


def test_passes_check_estimator():
    results = check_estimator(KNN(), on_fail=None, on_skip=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []
    assert len(results) > 40


def test_the_lesson_gives_0_975():
    digits = sk_load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=0
    )
    sk = KNeighborsClassifier().fit(X_train, y_train).score(X_test, y_test)
    split = digitlab.load_digits().split(test_size=0.2, seed=0)
    ours = KNN(k=5).fit(split.X_train, split.y_train).score(split.X_test, split.y_test)
    assert ours == sk == 0.975
    assert np.array_equal(split.y_test, y_test)


def test_train_function_k1(digits):
    result = digitlab.train(digits, k=1)
    assert result.accuracy == 0.9888888888888889
    assert result.n_correct == 356


def test_predict_proba_matches_sklearn_outside_ties(digits):
    split = digits.split(test_size=0.3, seed=4)
    for weights in ("uniform", "distance"):
        ours = KNN(7, weights=weights).fit(split.X_train, split.y_train)
        ref = KNeighborsClassifier(7, weights=weights).fit(split.X_train, split.y_train)
        dist, ind = ours.kneighbors(split.X_test)
        ref_dist, ref_ind = ref.kneighbors(split.X_test)
        np.testing.assert_allclose(dist, ref_dist)
        # Rows whose neighbor sets differ must be ties at the 7th place, where
        # our rule (earlier row wins) decides and scikit-learn's heap may not.
        differ = np.flatnonzero((np.sort(ind) != np.sort(ref_ind)).any(axis=1))
        eighth, _ = ours.kneighbors(split.X_test[differ], n_neighbors=8)
        assert np.array_equal(eighth[:, 6], eighth[:, 7])
        same = np.setdiff1d(np.arange(split.n_test), differ)
        assert len(same) > 0.9 * split.n_test
        np.testing.assert_allclose(
            ours.predict_proba(split.X_test[same]),
            ref.predict_proba(split.X_test[same]),
        )


def test_clone_and_params():
    model = KNN(3, weights="distance", metric="manhattan")
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.set_params(k=9).k == 9


def test_images_are_flattened_with_a_notice(digits):
    with pytest.warns(DigitlabNotice, match=r"flattened them to rows of 64"):
        model = KNN().fit(digits.images[:1000], digits.y[:1000])
    with pytest.warns(DigitlabNotice):
        assert model.score(digits.images[1000:], digits.y[1000:]) > 0.9


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(64), [1], "got a 1D array of shape \\(64,\\)"),
        (np.zeros((3, 2, 2, 2)), [1, 2, 3], "got shape \\(3, 2, 2, 2\\)"),
        (np.zeros((4, 2)), [0, 1, 0], "X has 4 rows but y has 3 labels"),
        (np.zeros((4, 2)), [1, 1, 1, 1], "only 1 class"),
        (np.array([[0, 1.0], [np.nan, 1]]), [0, 1], "NaN at row 1, column 0"),
        (np.array([[0, 1.0], [np.inf, 1]]), [0, 1], "inf at row 1, column 0"),
    ],
)
def test_bad_input_is_a_clear_error(X, y, message):
    with pytest.raises(DigitlabError, match=message):
        KNN(1).fit(X, y)


def test_bad_parameters_are_clear_errors():
    X, y = np.arange(8.0).reshape(4, 2), [0, 1, 0, 1]
    with pytest.raises(DigitlabError, match="k=5 is larger than the 4 training rows"):
        KNN(5).fit(X, y)
    with pytest.raises(DigitlabError, match="k must be a whole number"):
        KNN(0).fit(X, y)
    with pytest.raises(DigitlabError, match="Unknown metric 'hamming'"):
        KNN(1, metric="hamming").fit(X, y)


def test_save_load_round_trip(tmp_path, digits):
    split = digits.split(seed=2)
    model = KNN(3, weights="distance", pipeline="uci8x8")
    model.fit(split.X_train, split.y_train)
    path = save_model(model, tmp_path / "m.npz", metadata={"accuracy": 0.5})
    loaded = load_model(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.metadata_ == {"accuracy": 0.5}
    assert np.array_equal(loaded.predict(split.X_test), model.predict(split.X_test))
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
    assert meta["format_version"] == 1
    assert meta["pipeline"] == "uci8x8"
    assert meta["classes"] == list(range(10))


def test_save_never_overwrites_without_force(tmp_path, digits):
    target = tmp_path / "keep.npz"
    target.write_bytes(b"my precious file")
    model = KNN().fit(digits.X[:100], digits.y[:100])
    with pytest.raises(DigitlabError, match="already exists"):
        save_model(model, target)
    assert target.read_bytes() == b"my precious file"
    save_model(model, target, force=True)
    assert load_model(target).k == 5
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]


def _rewrite_meta(path, change):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta, arrays)
    with open(path, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)


def test_load_refuses_damaged_newer_and_foreign_files(tmp_path, digits):
    model = KNN().fit(digits.X[:100], digits.y[:100])
    damaged = save_model(model, tmp_path / "damaged.npz")
    _rewrite_meta(damaged, lambda meta, arrays: arrays["X"].__setitem__((0, 0), 9))
    with pytest.raises(DigitlabError, match="damaged: its checksum does not match"):
        load_model(damaged)

    newer = save_model(model, tmp_path / "newer.npz")
    _rewrite_meta(newer, lambda meta, arrays: meta.update(format_version=99))
    with pytest.raises(DigitlabError, match="newer digitlab \\(model format 99"):
        load_model(newer)

    foreign = tmp_path / "foreign.npz"
    foreign.write_text("hello")
    with pytest.raises(DigitlabError, match="not a digitlab model file"):
        load_model(foreign)
    with zipfile.ZipFile(tmp_path / "zip.npz", "w") as zf:
        zf.writestr("x.txt", "hi")
    with pytest.raises(DigitlabError, match="not a digitlab model file"):
        load_model(tmp_path / "zip.npz")


def test_save_into_missing_folder(tmp_path, digits):
    model = KNN().fit(digits.X[:100], digits.y[:100])
    with pytest.raises(DigitlabError, match="does not exist"):
        save_model(model, tmp_path / "nope" / "m.npz")
