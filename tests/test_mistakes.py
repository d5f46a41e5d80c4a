"""digitlab.mistakes: numbers checked against scikit-learn on the same splits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

import digitlab
from digitlab import DigitlabError, mistakes, mistakes_on_split
from digitlab.mistakes import MistakesResult


@pytest.fixture(scope="module")
def lesson():
    """The lesson's split: digits, test_size 0.2, seed 0, k=5."""
    return mistakes_on_split()


@pytest.fixture(scope="module")
def sk_lesson(digits):
    """The lesson's script, run with scikit-learn itself."""
    X_train, X_test, y_train, y_test = train_test_split(
        digits.X, digits.y, test_size=0.2, random_state=0
    )
    knn = KNeighborsClassifier().fit(X_train, y_train)
    return knn, X_test, y_test, knn.predict(X_test)


def assert_matches_sklearn(result, y_true, y_pred):
    labels = np.unique(np.concatenate([y_true, y_pred]))
    assert result.labels.tolist() == labels.tolist()
    assert result.confusion.tolist() == confusion_matrix(y_true, y_pred).tolist()
    for normalize in ("true", "pred"):
        np.testing.assert_allclose(
            result.confusion_rates(normalize),
            confusion_matrix(y_true, y_pred, normalize=normalize),
            rtol=0,
            atol=1e-15,
        )
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    for label, scores in result.per_class.items():
        expected = report[str(label)]
        assert scores.precision == expected["precision"]
        assert scores.recall == expected["recall"]
        assert scores.f1 == expected["f1-score"]
        assert scores.support == expected["support"]
    averages = result.averages()
    for kind, key in (("macro", "macro avg"), ("weighted", "weighted avg")):
        for name, sk_name in (("precision", "precision"), ("recall", "recall")):
            assert averages[f"{kind}_{name}"] == pytest.approx(
                report[key][sk_name], rel=1e-12
            )
        assert averages[f"{kind}_f1"] == pytest.approx(report[key]["f1-score"])
    assert result.accuracy == pytest.approx(report["accuracy"], rel=1e-15)


def test_lesson_split_has_nine_mistakes_as_sklearn_finds(lesson, sk_lesson):
    knn, X_test, y_test, y_pred = sk_lesson
    assert (lesson.n_wrong, lesson.n_test, lesson.accuracy) == (9, 360, 0.975)
    wrong = np.flatnonzero(y_pred != y_test)
    assert len(wrong) == 9
    assert [m.test_row for m in lesson.examples] == wrong.tolist()
    assert [m.true for m in lesson.examples] == y_test[wrong].tolist()
    assert [m.predicted for m in lesson.examples] == y_pred[wrong].tolist()
    assert_matches_sklearn(lesson, y_test, y_pred)


def test_lesson_neighbors_votes_and_pictures(lesson, sk_lesson, digits):
    knn, X_test, y_test, y_pred = sk_lesson
    split = digits.split(test_size=0.2, seed=0)
    rows = [m.test_row for m in lesson.examples]
    dist, ind = knn.kneighbors(X_test[rows])
    proba = knn.predict_proba(X_test[rows])
    for n, m in enumerate(lesson.examples):
        assert [nb.train_row for nb in m.neighbors] == ind[n].tolist()
        np.testing.assert_allclose([nb.distance for nb in m.neighbors], dist[n])
        assert [nb.label for nb in m.neighbors] == split.y_train[ind[n]].tolist()
        assert [nb.data_row for nb in m.neighbors] == split.train_index[ind[n]].tolist()
        for nb in m.neighbors:
            assert np.array_equal(nb.image, digits.images[nb.data_row])
        assert m.data_row == split.test_index[m.test_row]
        assert np.array_equal(m.image, digits.images[m.data_row])
        assert m.shares == {
            int(c): float(p)
            for c, p in zip(knn.classes_, proba[n], strict=True)
            if p > 0
        }
        assert list(m.shares.values()) == sorted(m.shares.values(), reverse=True)
        assert m.seed == 0


def test_lesson_ties_are_the_equal_vote_cases(lesson, sk_lesson):
    knn, X_test, y_test, y_pred = sk_lesson
    rows = np.array([m.test_row for m in lesson.examples])
    top2 = np.sort(knn.predict_proba(X_test[rows]), axis=1)[:, -2:]
    expected = rows[top2[:, 0] == top2[:, 1]].tolist()
    assert expected == [66, 122]
    assert [m.test_row for m in lesson.examples if m.tie] == expected
    tie = next(m for m in lesson.examples if m.test_row == 122)
    assert tie.tie_note == "labels 3, 6 got equal votes; the smallest label 3 won"
    assert all(m.tie_note == "" for m in lesson.examples if not m.tie)


def test_lesson_pairs_most_confused_first(lesson):
    pairs = [(p.true, p.predicted, p.count) for p in lesson.pairs]
    cm = lesson.confusion
    expected = sorted(
        (
            (i, j, int(cm[i, j]))
            for i in range(10)
            for j in range(10)
            if i != j and cm[i, j]
        ),
        key=lambda t: (-t[2], t[0], t[1]),
    )
    assert pairs == expected
    assert pairs[0] == (8, 3, 2) and sum(c for _, _, c in pairs) == 9
    assert [m.test_row for m in lesson.examples_of(8, 3)] == [122, 169]


def test_distance_tie_at_the_kth_place_is_flagged():
    # The query 0 is at distance 1 from both training rows; the earlier row
    # (label 1) takes the only place, so the tie rule decides the wrong answer.
    X_train = np.array([[1.0, 0.0], [-1.0, 0.0], [5.0, 0.0]])
    model = digitlab.KNN(k=1).fit(X_train, [1, 0, 0])
    result = mistakes(model, np.array([[0.0, 0.0], [5.0, 0.0]]), np.array([0, 0]))
    (m,) = result.examples
    assert (m.test_row, m.true, m.predicted, m.tie) == (0, 0, 1, True)
    assert m.tie_note == (
        "neighbors 1 and 2 are both at distance 1; the earlier training row took "
        "the last place"
    )
    assert m.image is None and m.neighbors[0].image is None  # 2 features: no picture
    # The same tie between rows of one label decides nothing.
    same = digitlab.KNN(k=1).fit(X_train, [1, 1, 0])
    (m,) = mistakes(same, np.array([[0.0, 0.0]]), np.array([0])).examples
    assert m.tie is False


@pytest.mark.parametrize(
    "params",
    [
        {"k": 1, "seed": 3},
        {"k": 7, "weights": "distance", "metric": "manhattan", "seed": 5},
        {"k": 3, "test_size": 0.5, "stratify": True, "seed": 11, "metric": "cosine"},
    ],
)
def test_other_splits_match_sklearn_metrics(digits, params):
    result = mistakes_on_split(digits, **params)
    split = digits.split(
        params.get("test_size", 0.2), params["seed"], stratify="stratify" in params
    )
    model = digitlab.KNN(
        params["k"],
        weights=params.get("weights", "uniform"),
        metric=params.get("metric", "euclidean"),
    ).fit(split.X_train, split.y_train)
    y_pred = model.predict(split.X_test)
    assert_matches_sklearn(result, split.y_test, y_pred)
    assert [m.test_row for m in result.examples] == np.flatnonzero(
        y_pred != split.y_test
    ).tolist()
    assert all(len(m.neighbors) == params["k"] for m in result.examples)


def test_repeats_add_up_the_splits(digits, lesson):
    result = mistakes_on_split(digits, repeats=3)
    singles = [mistakes_on_split(digits, seed=s) for s in (0, 1, 2)]
    assert result.seeds == [0, 1, 2] and result.n_splits == 3
    assert result.n_test == 1080
    assert result.confusion.tolist() == sum(s.confusion for s in singles).tolist()
    assert result.accuracies == [s.accuracy for s in singles]
    assert result.examples[: lesson.n_wrong] == lesson.examples
    assert [m.seed for m in result.examples] == [
        s for r in singles for s in [r.seeds[0]] * r.n_wrong
    ]
    y_true, y_pred = [], []
    for seed in (0, 1, 2):
        split = digits.split(0.2, seed)
        model = digitlab.KNN(5).fit(split.X_train, split.y_train)
        y_true.append(split.y_test)
        y_pred.append(model.predict(split.X_test))
    assert_matches_sklearn(result, np.concatenate(y_true), np.concatenate(y_pred))
    assert result.config["repeats"] == 3
    assert "over 3 splits (seeds 0..2)" in result.summary_line()


def test_to_dict_is_json_ready(lesson):
    import json

    out = json.loads(json.dumps(lesson.to_dict(normalize="true"), sort_keys=True))
    assert out["n_wrong"] == 9 and out["accuracy"] == 0.975
    assert out["confusion"][8] == [0, 1, 0, 2, 0, 0, 0, 1, 35, 0]
    assert out["confusion_rates"][8][3] == 2 / 39
    assert out["per_class"]["8"]["recall"] == 35 / 39
    assert out["pairs"][0] == {"true": 8, "predicted": 3, "count": 2}
    first = out["examples"][0]
    assert (first["test_row"], first["data_row"], first["true"]) == (66, 891, 2)
    assert first["shares"] == {"3": 0.4, "7": 0.4, "2": 0.2}
    assert [n["label"] for n in first["neighbors"]] == [3, 2, 7, 3, 7]
    assert out["config"]["k"] == 5 and out["seeds"] == [0]


def test_repr_and_notebook_view(lesson):
    text = repr(lesson)
    assert "Accuracy 0.975 (9 wrong of 360)" in text
    assert "Most confused: 8 → 3 (2), 1 → 5 (1)" in text
    assert "test row 122 (data row 899): true 8, predicted 3" in text
    html = lesson._repr_html_()
    # Each wrong digit's card: its picture and its five neighbors' pictures.
    assert html.count('alt="true ') == 9
    assert html.count('alt="neighbor ') == 9 * 5
    assert html.count("data:image/png;base64,") == 9 * 6


def test_perfect_predictions_have_no_examples():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]])
    y = np.array(["a", "a", "b", "b"])
    model = digitlab.KNN(k=1).fit(X, y)
    result = mistakes(model, X + 0.1, y)
    assert result.n_wrong == 0 and result.examples == [] and result.pairs == []
    assert result.per_class["a"].f1 == 1.0
    assert "every test digit was right" in result.pair_line()


def test_user_mistakes_raise_one_clear_sentence(lesson):
    with pytest.raises(DigitlabError, match="repeats must be a whole number"):
        mistakes_on_split(repeats=0)
    with pytest.raises(DigitlabError, match="need a starting seed"):
        mistakes_on_split(seed=None, repeats=2)
    with pytest.raises(DigitlabError, match="Unknown normalize 'all'"):
        lesson.confusion_rates("all")
    model = digitlab.KNN(k=1).fit(np.eye(3), [0, 1, 2])
    with pytest.raises(DigitlabError, match="do not fit together"):
        mistakes(model, np.eye(3), [0, 1])
    with pytest.raises(DigitlabError, match="fit a digitlab.KNN first"):
        mistakes(object(), np.eye(3), [0, 1, 2])
    other = MistakesResult(
        labels=np.array([0, 1]),
        confusion=np.eye(2, dtype=int),
        examples=[],
        accuracies=[1.0],
        seeds=[0],
    )
    with pytest.raises(DigitlabError, match="different labels"):
        MistakesResult.combine([lesson, other])


# -- the command line ----------------------------------------------------------


def run_cli(*args):
    from click.testing import CliRunner

    from digitlab.cli import main

    return CliRunner().invoke(main, ["mistakes", *args])


def test_cli_prints_the_lesson_mistakes(lesson):
    result = run_cli()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:5] == [
        "Data: scikit-learn digits, 1797 pictures of 8×8 = 64 features, 10 classes",
        "Split: test_size=0.2 (360 test / 1437 train), seed 0",
        "Model: k-nearest neighbors, k=5, uniform votes, euclidean",
        "Accuracy 0.975 (9 wrong of 360)",
        "Confusion matrix (rows: true, columns: predicted)",
    ]
    assert lines[6] == "0 27  0  0  0  0  0  0  0  0  0"
    assert lines[14] == "8  0  1  0  2  0  0  0  1 35  0"
    assert "    8      1.000   0.897  0.946       39" in lines
    assert lines[lines.index("Per digit:") + 1].split() == [
        "label",
        "precision",
        "recall",
        "f1",
        "support",
    ]
    assert (
        "Most confused: 8 → 3 (2), 1 → 5 (1), 2 → 3 (1), 4 → 7 (1), 5 → 9 (1), "
        "8 → 1 (1), 8 → 7 (1), 9 → 5 (1)" in lines
    )
    wrong = [ln for ln in lines if ln.startswith("  seed 0, test row")]
    assert len(wrong) == 9
    assert wrong[1] == (
        "  seed 0, test row 122 (data row 899): true 8, predicted 3; votes 3: 40%, "
        "6: 40%, 8: 20%; neighbors 8@23.6 3@26.5 6@27.1 6@27.2 3@27.6 [tie: labels "
        "3, 6 got equal votes; the smallest label 3 won]"
    )


def test_cli_normalize_json_and_repeats():
    import json

    out = run_cli("--normalize", "true")
    assert out.exit_code == 0
    row8 = next(ln for ln in out.output.splitlines() if ln.startswith("8 "))
    # Row 8: 1, 2 and 1 of 39 eights went to 1, 3 and 7; 35 of 39 were right.
    assert row8.split() == ["8", ".", f"{1 / 39:.3f}", ".", f"{2 / 39:.3f}"] + [
        ".",
        ".",
        ".",
        f"{1 / 39:.3f}",
        f"{35 / 39:.3f}",
        ".",
    ]
    a = run_cli("--k", "1", "--repeats", "3", "--json")
    b = run_cli("--k", "1", "--repeats", "3", "--json")
    assert a.exit_code == 0 and a.output == b.output
    data = json.loads(a.output)
    assert data["n_test"] == 1080 and data["seeds"] == [0, 1, 2]
    assert data["config"]["k"] == 1 and data["config"]["repeats"] == 3
    assert data["accuracy_summary"]["n"] == 3
    assert data["written"] == {}


def test_cli_report_and_plot_never_overwrite(tmp_path):
    report, plot = tmp_path / "m.html", tmp_path / "m.png"
    result = run_cli("--report", str(report), "--plot", str(plot))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        f"Report written to {report}",
        f"Plot written to {plot}",
    ]
    assert report.read_text().count('class="mistake"') == 9
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html_before, png_before = report.read_bytes(), plot.read_bytes()
    for args in (["--report", str(report)], ["--plot", str(plot)]):
        again = run_cli("--k", "1", *args)
        assert again.exit_code == 2
        assert "already exists; choose another name or add --force" in again.output
        assert "Traceback" not in again.output
    assert report.read_bytes() == html_before and plot.read_bytes() == png_before
    forced = run_cli("--k", "1", "--report", str(report), "--force")
    assert forced.exit_code == 0
    assert report.read_text().count('class="mistake"') == 4  # k=1: 4 wrong


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeats", "0"], "0 is not in the range x>=1"),
        (["--normalize", "all"], "'all' is not one of 'true', 'pred'"),
        (["--report", "no/such/dir/r.html"], "the folder 'no/such/dir' does not"),
        (["--k", "0"], "k must be a whole number of at least 1"),
    ],
)
def test_cli_bad_input_exits_2(args, message):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_readme_mistakes_sessions_are_real(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    monkeypatch.chdir(tmp_path)
    for command in (
        "digitlab mistakes --report mistakes.html --plot confusion.png",
        "digitlab mistakes --k 1 --repeats 20",
    ):
        block = re.search(rf"\$ {re.escape(command)}\n(.*?)```", readme, re.S)
        assert block, command
        output = run_cli(*command.split()[2:]).output.splitlines()
        shown = [ln for ln in block.group(1).splitlines() if ln != "..."]
        # Every line shown in the README is a real output line, in order.
        positions = [output.index(ln) for ln in shown]
        assert positions == sorted(positions), command


def test_round_trip_through_dict_prints_the_same(lesson):
    import json

    stored = json.loads(json.dumps(lesson.to_dict()))
    again = MistakesResult.from_dict(stored)
    assert again.lines() == lesson.lines()
    assert again.confusion.tolist() == lesson.confusion.tolist()
    assert again.examples[1].neighbors[0].label == 8


def test_cli_runs_are_recorded_and_rerun_identically():
    import json

    from click.testing import CliRunner

    from digitlab.cli import main

    assert run_cli("--repeats", "2").exit_code == 0
    assert run_cli("--k", "1", "--no-record").exit_code == 0
    runs = CliRunner().invoke(main, ["runs", "--json"])
    (run,) = json.loads(runs.output)
    assert run["command"] == "mistakes" and run["seeds"] == [0, 1]
    shown = CliRunner().invoke(main, ["runs", "show", str(run["id"])]).output
    assert "  Accuracy 0.9847 (11 wrong of 720) over 2 splits (seeds 0..1)" in shown
    assert "  Most confused: 8 → 3 (2), 1 → 5 (1), 2 → 3 (1), 2 → 7 (1)" in shown
    rerun = CliRunner().invoke(main, ["runs", "rerun", str(run["id"])])
    assert rerun.exit_code == 0 and "Identical" in rerun.output


def test_repeats_find_the_pictures_wrong_again_and_again(digits):
    result = mistakes_on_split(digits, k=1, repeats=5)
    times, tested = {}, {}
    for seed in range(5):
        X_tr, X_te, y_tr, y_te, _, rows = train_test_split(
            digits.X, digits.y, np.arange(len(digits)), test_size=0.2, random_state=seed
        )
        pred = KNeighborsClassifier(n_neighbors=1).fit(X_tr, y_tr).predict(X_te)
        for row in rows[pred != y_te]:
            times[int(row)] = times.get(int(row), 0) + 1
        for row in rows:
            tested[int(row)] = tested.get(int(row), 0) + 1
    expected = sorted(
        ((r, int(digits.y[r]), n, tested[r]) for r, n in times.items() if n > 1),
        key=lambda t: (-t[2], t[0]),
    )
    assert expected  # some pictures are wrong in several splits
    assert result.hardest(limit=None) == expected
    row, true, n, seen = expected[0]
    assert result.hardest_line().startswith(
        f"Wrong again and again: data row {row} (true {true}, wrong {n} of {seen} "
        "times tested)"
    )
    assert "5 splits, seeds 0..4" in result.description
    assert mistakes_on_split(digits).hardest() == []
