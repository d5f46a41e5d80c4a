"""compare(): identical splits, honest statistics, no leakage, the CLI face."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import digitlab
from digitlab import KNN, DigitlabError, load_model
from digitlab.cli import main
from digitlab.recipes import Augmented, Recipe, augment_images
from digitlab.stats import paired_test, summarize


@pytest.fixture(scope="module")
def result(digits):
    return digitlab.compare(digits, ["knn", "svc", "knn-distance"], repeats=4, seed=3)


def test_accuracies_are_those_of_each_split(digits, result):
    assert result.seeds == [3, 4, 5, 6]
    assert result.recipes == ["knn", "svc", "knn-distance"]
    for i, seed in enumerate(result.seeds):
        split = digits.split(test_size=0.2, seed=seed)
        svc = SVC(C=1.0, gamma=0.002).fit(split.X_train, split.y_train)
        assert result.accuracy["svc"][i] == svc.score(split.X_test, split.y_test)
        knn = KNN(1).fit(split.X_train, split.y_train)
        assert result.accuracy["knn"][i] == knn.score(split.X_test, split.y_test)
    assert (result.n_train, result.n_test) == (1437, 360)


def test_statistics_come_from_stats(result):
    s = result.summary("svc")
    assert s == summarize(result.accuracy["svc"])
    p = result.paired("svc")
    assert p == paired_test(result.accuracy["svc"], result.accuracy["knn"])
    assert result.paired("knn") is None
    means = {r: result.accuracy[r].mean() for r in result.recipes}
    assert result.best() == max(means, key=means.get)


def test_outputs(result):
    text = repr(result)
    lines = text.splitlines()
    assert lines[0] == (
        "4 random 80/20 splits of scikit-learn digits (seeds 3..6), identical "
        "for every recipe"
    )
    s = result.summary("svc")
    assert f"svc           {s.mean:.4f}    {s.std:.4f}" in text
    best = result.best()
    assert lines[-1].endswith(f"use it with: digitlab train --recipe {best}")
    html = result._repr_html_()
    assert html.count("<tr>") == 4 and f"<b>{best}</b>" in html
    d = result.to_dict()
    assert d["seeds"] == [3, 4, 5, 6] and d["best"] == best
    assert d["recipes"]["svc"]["accuracy"] == list(result.accuracy["svc"])
    assert d["recipes"]["knn"]["vs_baseline"] is None
    assert d["recipes"]["svc"]["vs_baseline"]["p_value"] == result.paired("svc").p_value
    json.dumps(d)


def test_plot(result):
    ax = result.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == result.recipes
    s = result.summary("svc")
    line = ax.lines[2]  # svc's interval
    np.testing.assert_allclose(line.get_xdata(), [s.ci_low * 100, s.ci_high * 100])


def test_baseline_is_added_and_mistakes_are_clear(digits):
    r = digitlab.compare(digits, ["svc"], repeats=2)
    assert r.recipes == ["knn", "svc"]
    with pytest.raises(DigitlabError, match="Unknown recipe 'fast'"):
        digitlab.compare(digits, ["fast"], repeats=2)
    with pytest.raises(DigitlabError, match="repeats=0 is too small"):
        digitlab.compare(digits, ["knn"], repeats=0)
    with pytest.raises(DigitlabError, match="named more than once"):
        digitlab.compare(digits, ["knn", "knn"], repeats=2)
    with pytest.raises(DigitlabError, match="was not compared"):
        r.summary("mlp")


# ---------------------------------------------------------------- leakage
LOG: dict[str, list] = {}


class RecordingPCA(TransformerMixin, BaseEstimator):
    """PCA that records every array it is fitted on and every array it transforms."""

    def __init__(self, n_components=20):
        self.n_components = n_components

    def fit(self, X, y=None):
        LOG.setdefault("fit", []).append(np.array(X))
        self.pca_ = PCA(self.n_components, svd_solver="full").fit(X)
        return self

    def transform(self, X):
        LOG.setdefault("transform", []).append(np.array(X))
        return self.pca_.transform(X)


class RecordingKNN(KNN):
    def fit(self, X, y):
        LOG.setdefault("augmented", []).append(np.array(X))
        return super().fit(X, y)


def test_fitted_transforms_and_augmentation_see_only_training_parts(digits):
    LOG.clear()
    recipes = [
        Recipe("pca", "recording PCA", lambda p: make_pipeline(RecordingPCA(), KNN(1))),
        Recipe("aug", "recording augmentation", lambda p: Augmented(RecordingKNN(1))),
    ]
    digitlab.compare(digits, recipes, repeats=3, baseline="pca")
    assert len(LOG["fit"]) == len(LOG["augmented"]) == 3
    for i, seed in enumerate([0, 1, 2]):
        split = digits.split(test_size=0.2, seed=seed)
        np.testing.assert_array_equal(LOG["fit"][i], split.X_train)
        np.testing.assert_array_equal(
            LOG["augmented"][i], augment_images(split.X_train, angles=(-10.0, 10.0))
        )
        # fit_transform on the training part, then transform to predict the test
        np.testing.assert_array_equal(LOG["transform"][2 * i], split.X_train)
        np.testing.assert_array_equal(LOG["transform"][2 * i + 1], split.X_test)
    assert len(LOG["transform"]) == 6


# ---------------------------------------------------------------- CLI
def test_cli_compare_json(digits):
    out = CliRunner().invoke(
        main, ["compare", "--recipes", "knn,svc", "--repeats", "2", "--json"]
    )
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    split = digits.split(test_size=0.2, seed=1)
    svc = SVC(C=1.0, gamma=0.002).fit(split.X_train, split.y_train)
    assert d["recipes"]["svc"]["accuracy"][1] == svc.score(split.X_test, split.y_test)
    assert d["seeds"] == [0, 1] and d["plot"] is None


def test_cli_compare_text_and_plot(tmp_path):
    png = tmp_path / "cmp.png"
    args = ["compare", "--recipes", "knn,knn-distance", "--repeats", "2"]
    out = CliRunner().invoke(main, [*args, "--plot", str(png)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("2 random 80/20 splits of scikit-learn digits")
    assert lines[1].startswith("recipe        mean acc  ± std")
    assert lines[-2].startswith("Best: knn")
    assert lines[-1] == f"Plot saved to {png}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = CliRunner().invoke(main, [*args, "--plot", str(png)])
    assert again.exit_code == 2
    assert "already exists; choose another name or add --force" in again.output
    forced = CliRunner().invoke(main, [*args, "--plot", str(png), "--force"])
    assert forced.exit_code == 0


def test_cli_compare_list_and_errors():
    out = CliRunner().invoke(main, ["compare", "--list"])
    assert out.exit_code == 0
    assert out.output.splitlines()[0].startswith("knn           k-nearest neighbors")
    assert len(out.output.splitlines()) == len(digitlab.RECIPES)
    bad = CliRunner().invoke(main, ["compare", "--recipes", "knn,nope"])
    assert bad.exit_code == 2
    assert bad.output.startswith("Error: Unknown recipe 'nope'; choose one of knn,")
    empty = CliRunner().invoke(main, ["compare", "--recipes", ","])
    assert empty.exit_code == 2 and "--recipes is empty" in empty.output


def test_cli_train_recipe_and_model_file(tmp_path, digits):
    path = tmp_path / "svc.npz"
    out = CliRunner().invoke(
        main, ["train", "--recipe", "svc", "--save", str(path), "--json"]
    )
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["accuracy"] == 357 / 360 and d["config"]["recipe"] == "svc"
    split = digits.split(test_size=0.2, seed=0)
    assert load_model(path).score(split.X_test, split.y_test) == 357 / 360
    both = CliRunner().invoke(main, ["train", "--recipe", "svc", "--k", "3"])
    assert both.exit_code == 2
    assert "--recipe svc brings its own model settings, so --k cannot" in both.output


def test_cli_compare_is_recorded_with_its_whole_table(tmp_path):
    from digitlab.runs import RunStore

    db = tmp_path / "runs.sqlite"
    args = ["compare", "--recipes", "knn,svc", "--repeats", "2", "--runs-db", str(db)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    with RunStore(db) as store:
        (run,) = store.runs()
    assert run.command == "compare"
    assert run.seeds == [0, 1]
    table = run.results
    assert table["order"] == ["knn", "svc"]
    assert run.score == np.mean(table["recipes"][table["best"]]["accuracy"])
    rebuilt = digitlab.CompareResult.from_dict(table)
    assert rebuilt.lines()[:-1] == out.output.splitlines()[:-1]
    shown = CliRunner().invoke(
        main, ["runs", "show", str(run.id), "--runs-db", str(db)]
    )
    assert shown.exit_code == 0, shown.output
    assert out.output.splitlines()[2] in shown.output
