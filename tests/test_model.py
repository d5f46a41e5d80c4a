"""The KNN estimator: scikit-learn compatibility, the lesson's numbers, model files."""

from __future__ import annotations

import json
import linecache
import subprocess
import sys
import warnings
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


def test_images_are_flattened_with_one_notice_at_the_users_line(digits):
    with pytest.warns(DigitlabNotice) as caught:
        model = KNN().fit(digits.images[:1000], digits.y[:1000])  # the user's line
    (notice,) = caught
    assert str(notice.message) == (
        "X holds 1000 pictures of 8×8 pixels (shape (1000, 8, 8)), not rows of "
        "numbers; digitlab flattened them to rows of 64 numbers, the layout of "
        "digits.data."
    )
    # It points at the line above (not at digitlab's or scikit-learn's code).
    assert notice.filename == __file__
    assert (
        linecache.getline(__file__, notice.lineno)
        .rstrip()
        .endswith("# the user's line")
    )
    # Pictures of the same size at score (through scikit-learn's ClassifierMixin)
    # are what the model was fitted on: no second notice.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.score(digits.images[1000:], digits.y[1000:]) == (
            KNN()
            .fit(digits.X[:1000], digits.y[:1000])
            .score(digits.X[1000:], digits.y[1000:])
        )


def test_notice_counts_pictures_in_the_right_number(digits):
    model = KNN().fit(digits.X, digits.y)
    with pytest.warns(DigitlabNotice) as caught:
        model.score(digits.images[:1], digits.y[:1])
    (notice,) = caught
    assert "X holds 1 picture of 8×8 pixels" in str(notice.message)
    assert "flattened it to a row of 64 numbers" in str(notice.message)
    assert notice.filename == __file__  # through ClassifierMixin.score and back


def test_notice_shows_once_per_line_with_the_default_filter(digits):
    code = (
        "import digitlab\n"
        "d = digitlab.load_digits()\n"
        "for _ in range(3):\n"
        "    digitlab.KNN().fit(d.images, d.y)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("<string>:4: DigitlabNotice: X holds 1797 pictures ")


def test_n_neighbors_is_scikit_learns_name_for_k(digits):
    split = digits.split(test_size=0.2, seed=0)
    model = KNN(n_neighbors=3)
    assert repr(model) == "KNN(n_neighbors=3)"
    assert model.get_params()["n_neighbors"] == 3 and model.get_params()["k"] == 5
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    model.fit(split.X_train, split.y_train)
    ref = KNeighborsClassifier(n_neighbors=3).fit(split.X_train, split.y_train)
    assert model.n_neighbors_ == 3
    assert model.score(split.X_test, split.y_test) == ref.score(
        split.X_test, split.y_test
    )
    assert model.kneighbors(split.X_test[:2])[1].shape == (2, 3)
    assert model.score(split.X_test, split.y_test) != KNN(k=5).fit(
        split.X_train, split.y_train
    ).score(split.X_test, split.y_test)
    # The same number under both names is fine; two different numbers are not.
    assert KNN(k=3, n_neighbors=3).fit(split.X_train, split.y_train).n_neighbors_ == 3
    with pytest.raises(DigitlabError, match="Got k=7 and n_neighbors=3; .* only one"):
        KNN(k=7, n_neighbors=3).fit(split.X_train, split.y_train)
    with pytest.raises(DigitlabError, match="n_neighbors must be a whole number"):
        KNN(n_neighbors=0).fit(split.X_train, split.y_train)
    with pytest.raises(DigitlabError, match="n_neighbors=5000 is larger than the"):
        KNN(n_neighbors=5000).fit(split.X_train, split.y_train)
    # set_params takes effect as in scikit-learn, and a saved model keeps its k.
    assert model.set_params(n_neighbors=1).score(split.X_test, split.y_test) == (
        KNN(k=1).fit(split.X_train, split.y_train).score(split.X_test, split.y_test)
    )


def test_n_neighbors_model_saves_as_k(tmp_path, digits):
    model = KNN(n_neighbors=3).fit(digits.X, digits.y)
    loaded = load_model(save_model(model, tmp_path / "m.npz"))
    assert loaded.get_params()["k"] == 3 and loaded.get_params()["n_neighbors"] is None
    assert np.array_equal(loaded.predict(digits.X[:50]), model.predict(digits.X[:50]))


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
