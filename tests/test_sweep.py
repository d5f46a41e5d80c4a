"""digitlab sweep: cells equal `digitlab train`, sklearn agrees, honest statistics."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

import digitlab
from digitlab.cli import main
from digitlab.data import Dataset
from digitlab.errors import DigitlabError
from digitlab.neighbors import kneighbors, vote
from digitlab.sweep import (
    evaluate_split,
    parse_ks,
    parse_test_sizes,
    rank_all,
    shuffle_split_order,
    split_neighbors,
    sweep,
    vote_every_k,
)


@pytest.fixture(scope="module")
def default_sweep(digits):
    return sweep(digits)


def _labels(y):
    return np.unique(y, return_inverse=True)[1]


# ----------------------------------------------------------------------- the engine


@pytest.mark.parametrize("stratify", [False, True])
def test_split_indices_are_train_test_splits_rows(digits, stratify):
    index = np.arange(len(digits))
    for test_size in (0.1, 0.25, 0.5, 300):
        for seed in (0, 1, 19):
            want = train_test_split(
                index,
                test_size=test_size,
                random_state=seed,
                stratify=digits.y if stratify else None,
            )
            got = digits.split_indices(test_size, seed, stratify=stratify)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
@pytest.mark.parametrize("scale", [1.0, 1 / 7])
@pytest.mark.parametrize("depth", [24, 96])
def test_split_neighbors_equal_a_search_of_the_train_part(digits, metric, scale, depth):
    # depth 24 is too shallow for many rows at test_size 0.5: those must be found by
    # the direct search; 1/7 makes the data non-integer (the re-ranked path).
    X = digits.X * scale
    ranking = rank_all(X, depth, metric=metric)
    n_direct = 0
    for test_size, seed, stratify in [(0.1, 0, False), (0.5, 3, False), (0.3, 1, True)]:
        train, test = digits.split_indices(test_size, seed, stratify=stratify)
        dist, pos, direct = split_neighbors(ranking, train, test, 15)
        want_dist, want_pos = kneighbors(X[train], X[test], 15, metric=metric)
        np.testing.assert_array_equal(pos, want_pos)
        np.testing.assert_array_equal(dist, want_dist)
        n_direct += direct
    if depth == 24:
        assert n_direct > 100  # the fallback really ran
    else:
        assert n_direct == 0


def test_ties_are_reordered_by_train_position():
    # Four rows at equal distance from the query row 0; the split puts them in the
    # train part in reverse row order, so a KNN on the split sees row 4 first.
    X = np.array([[0.0], [1.0], [-1.0], [1.0], [-1.0], [5.0]])
    ranking = rank_all(X, 5)
    assert ranking.indices[0].tolist() == [1, 2, 3, 4, 5]
    train = np.array([4, 3, 2, 1, 5])
    dist, pos, direct = split_neighbors(ranking, train, np.array([0]), 2)
    assert train[pos[0]].tolist() == [4, 3] and dist[0].tolist() == [1.0, 1.0]
    assert direct == 0


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_vote_every_k_equals_vote_for_each_k(digits, weights):
    # Duplicated rows give distance-0 neighbors, the special case of distance votes.
    X = np.vstack([digits.X, digits.X[:50]])
    y = np.concatenate([digits.y, digits.y[:50]])
    dist, ind = kneighbors(X, X, 15, exclude_self=True)
    labels = _labels(y)[ind]
    assert np.any(dist[:, 0] == 0)
    ks = [1, 2, 3, 7, 15]
    predicted = vote_every_k(labels, dist, ks, 10, weights)
    for j, k in enumerate(ks):
        want = vote(labels[:, :k], dist[:, :k], 10, weights)[1]
        np.testing.assert_array_equal(predicted[:, j], want)


def test_shuffle_split_order_gives_train_test_splits_rows():
    # One permutation per seed serves every test size, as in ShuffleSplit.
    for n in (1797, 37):
        index = np.arange(n)
        for seed in range(40):
            order = shuffle_split_order(n, seed)
            for test_size in (0.1, 0.25, 0.5, 0.9, 1, n - 1):
                train, test = train_test_split(
                    index, test_size=test_size, random_state=seed
                )
                n_test = len(test)
                np.testing.assert_array_equal(order[:n_test], test)
                np.testing.assert_array_equal(order[n_test:], train)


def _cells_by_direct_search(data, train, test, ks, weights, metric="euclidean"):
    """n_correct per k from a search of the train part alone and ``vote``."""
    labels = _labels(data.y)
    dist, pos = kneighbors(data.X[train], data.X[test], max(ks), metric=metric)
    neighbor_labels = labels[train][pos]
    return [
        int(
            np.sum(
                vote(neighbor_labels[:, :k], dist[:, :k], 10, weights)[1]
                == labels[test]
            )
        )
        for k in ks
    ]


@pytest.mark.parametrize(
    ("weights", "stratify"),
    [("uniform", False), ("distance", False), ("uniform", True)],
)
def test_every_cell_equals_a_search_of_its_train_part(digits, weights, stratify):
    # Many seeds and test sizes, every k: each cell is what a KNN fitted on that
    # split alone gets right.
    ks = tuple(range(1, 16))
    sizes = (0.1, 0.37, 0.5, 200)
    result = sweep(
        digits,
        test_sizes=sizes,
        ks=ks,
        repeats=12,
        seed=30,
        weights=weights,
        stratify=stratify,
    )
    got = {(r["test_size"], r["seed"], r["k"]): r["n_correct"] for r in result.rows}
    for t in sizes:
        for s in range(30, 42):
            train, test = digits.split_indices(t, s, stratify=stratify)
            want = _cells_by_direct_search(digits, train, test, ks, weights)
            assert [got[t, s, k] for k in ks] == want, (t, s)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_rows_the_ranking_cannot_prove_are_searched_directly(digits, weights):
    # A ranking 20 deep cannot hold 15 training rows of many test rows at
    # test_size 0.5, and shallower than k it holds none: both are searched
    # directly and the cells stay exact.
    labels = _labels(digits.y)
    ks = (1, 5, 15)
    for depth in (20, 8):
        ranking = rank_all(digits.X, depth)
        n_direct = 0
        for t, s in [(0.5, 0), (0.3, 4), (0.1, 9)]:
            train, test = digits.split_indices(t, s)
            score = evaluate_split(ranking, labels, train, test, ks, weights)
            assert score.n_correct.tolist() == _cells_by_direct_search(
                digits, train, test, ks, weights
            )
            n_direct += score.n_direct
        assert n_direct > 100


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_votes_in_small_batches_give_the_same_rows(digits, monkeypatch, weights):
    # Many seeds are voted on in batches of rows (bounded memory); batches of a
    # few hundred rows must give exactly the rows of one batch.
    import importlib

    sweep_module = importlib.import_module("digitlab.sweep")  # the module
    kwargs = {"test_sizes": (0.1, 0.3), "ks": (1, 2, 7), "repeats": 6}
    whole = sweep(digits, weights=weights, **kwargs)
    monkeypatch.setattr(sweep_module, "_VOTE_BATCH_ROWS", 300)
    batched = sweep(digits, weights=weights, **kwargs)
    assert batched.rows == whole.rows
    assert len(whole.rows) == 2 * 3 * 6


def test_a_complete_ranking_needs_no_direct_search():
    # 30 rows with many equal distances, ranked against all 29 others: a tie at
    # the ranking's last place is still complete, so nothing is searched again.
    rng = np.random.default_rng(3)
    X = rng.integers(0, 2, (30, 3)).astype(np.float64)
    ranking = rank_all(X, 29)
    assert np.all(ranking.ranked[:, -1] == ranking.ranked[:, -2])
    for seed in range(10):
        train = np.random.default_rng(seed).permutation(30)
        test, train = train[:8], train[8:]
        dist, pos, n_direct = split_neighbors(ranking, train, test, 12)
        want_dist, want_pos = kneighbors(X[train], X[test], 12)
        np.testing.assert_array_equal(pos, want_pos)
        np.testing.assert_array_equal(dist, want_dist)
        assert n_direct == 0


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_vote_every_k_with_many_classes_and_deep_k(weights):
    # 300 classes and k up to 60 (the uniform tallies outgrow 16 bits), and ks
    # given out of order: every column is still what `vote` says for its k.
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 300, (400, 60))
    labels[:100] = rng.integers(0, 3, (100, 60))  # many equal votes
    labels[100:150] = 7  # unanimous rows
    dist = np.sort(rng.integers(0, 4, (400, 60)).astype(np.float64), axis=1)
    ks = [60, 1, 2, 13, 40]
    predicted = vote_every_k(labels, dist, ks, 300, weights)
    for j, k in enumerate(ks):
        want = vote(labels[:, :k], dist[:, :k], 300, weights)[1]
        np.testing.assert_array_equal(predicted[:, j], want)


def test_loo_with_distance_weights_equals_a_direct_computation(digits):
    result = sweep(digits, loo=True, ks=(1, 4, 9), weights="distance")
    labels = _labels(digits.y)
    dist, ind = kneighbors(digits.X, digits.X, 9, exclude_self=True)
    for row in result.rows:
        k = row["k"]
        predicted = vote(labels[ind[:, :k]], dist[:, :k], 10, "distance")[1]
        assert row["n_correct"] == int(np.sum(predicted == labels))


# ------------------------------------------------------------- cells equal `train`


def test_default_grid_shape_and_sampled_cells_equal_train(digits, default_sweep):
    result = default_sweep
    assert len(result.rows) == 5 * 15 * 20 == 1500
    assert result.test_sizes == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert result.ks == list(range(1, 16))
    rng = np.random.default_rng(4)
    for i in rng.choice(len(result.rows), 12, replace=False):
        row = result.rows[i]
        want = digitlab.train(
            digits, test_size=row["test_size"], seed=row["seed"], k=row["k"]
        )
        assert row["n_correct"] == want.n_correct
        assert row["accuracy"] == want.accuracy
        assert row["n_test"] == want.split.n_test
        assert row["n_train"] == want.split.n_train


@pytest.mark.parametrize(
    ("weights", "metric", "stratify"),
    [("distance", "euclidean", False), ("uniform", "manhattan", True)],
)
def test_other_settings_equal_train(digits, weights, metric, stratify):
    result = sweep(
        digits,
        test_sizes=(0.25, 400),
        ks=(1, 4, 9),
        repeats=3,
        seed=5,
        weights=weights,
        metric=metric,
        stratify=stratify,
    )
    assert len(result.rows) == 2 * 3 * 3
    for row in result.rows:
        want = digitlab.train(
            digits,
            test_size=row["test_size"],
            seed=row["seed"],
            k=row["k"],
            weights=weights,
            metric=metric,
            stratify=stratify,
        )
        assert row["n_correct"] == want.n_correct, row


def test_the_lesson_split_is_a_row(default_sweep):
    # The lesson: test_size 0.2, seed 0, k=5 scores 0.975 (351 of 360).
    row = next(
        r
        for r in default_sweep.rows
        if (r["test_size"], r["seed"], r["k"]) == (0.2, 0, 5)
    )
    assert (row["n_correct"], row["n_test"], row["accuracy"]) == (351, 360, 0.975)


# ------------------------------------------------------------------ honest summaries


def test_cell_summaries_are_t_intervals(default_sweep):
    for cell in default_sweep.cells[::7]:
        acc = default_sweep.accuracies(cell.test_size, cell.k)
        assert len(acc) == 20
        low, high = stats.t.interval(
            0.95, len(acc) - 1, loc=acc.mean(), scale=stats.sem(acc)
        )
        s = cell.summary
        assert math.isclose(s.mean, acc.mean(), rel_tol=1e-12)
        assert math.isclose(s.std, acc.std(ddof=1), rel_tol=1e-12)
        assert math.isclose(s.ci_low, low, rel_tol=1e-12)
        assert math.isclose(s.ci_high, high, rel_tol=1e-12)


@pytest.mark.slow
def test_best_cell_and_lesson_pick_from_train(digits, default_sweep):
    # Recompute the whole seed-0 split and the best cell's 20 splits with `train`.
    result = default_sweep
    best = result.best()
    means = {(c.test_size, c.k): c.mean for c in result.cells}
    assert best.mean == max(means.values())
    assert (best.test_size, best.k) == (0.2, 1)
    want = [
        digitlab.train(digits, test_size=0.2, seed=s, k=1).accuracy for s in range(20)
    ]
    assert best.mean == np.mean(want)
    seed0 = {
        (t, k): digitlab.train(digits, test_size=t, seed=0, k=k).accuracy
        for t in result.test_sizes
        for k in result.ks
    }
    top = max(seed0.values())
    first = next(key for key, v in seed0.items() if v == top)
    pick = result.lesson_pick()
    assert (pick["test_size"], pick["k"], pick["accuracy"]) == (*first, top)
    assert pick["accuracy"] > pick["mean"]  # optimistic, as the note says


def test_verdict_lines_name_best_pick_and_overlap(default_sweep):
    result = default_sweep
    best, pick = result.best(), result.lesson_pick()
    lines = result.verdict_lines()
    s = best.summary
    assert lines[0] == (
        f"Best on average (*): test_size={best.test_size}, k={best.k}: "
        f"{s.mean:.4f} ± {s.std:.3f} (95% CI {s.ci_low:.4f}–{s.ci_high:.4f})"
    )
    assert lines[1].startswith(
        f"The lesson's single split (seed 0) would have picked test_size="
        f"{pick['test_size']}, k={pick['k']}: {pick['accuracy']:.4f} — a lucky split"
    )
    overlapping = [
        c for c in result.cells if c is not best and c.summary.overlaps(best.summary)
    ]
    assert {(c.test_size, c.k) for c in result.overlapping()} == {
        (c.test_size, c.k) for c in overlapping
    }
    assert len(overlapping) > 0
    assert lines[2].startswith(f"{len(overlapping)} other cells have 95% intervals")


def test_no_overlap_note_when_the_best_stands_out():
    # Two well-separated classes at k=1, noise dominating at k=25.
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(1.0, 1, (100, 2))])
    y = np.repeat([0, 1], 100)
    data = Dataset(X=np.round(X * 100), y=y, source="blobs")
    result = sweep(data, test_sizes=(0.3,), ks=(1, 25), repeats=30)
    assert result.best().k == 25
    assert result.overlapping() == []
    assert not any("overlapping" in line for line in result.verdict_lines())


# ------------------------------------------------------------------ sklearn agreement


@pytest.mark.slow
def test_default_grid_agrees_with_sklearn(digits, default_sweep):
    # Every test size and k of the default grid, on its first 4 seeds (300 cells;
    # benchmarks/sweep_vs_sklearn.py checks all 1,500: 99.994 %).
    same = total = 0
    for t in default_sweep.test_sizes:
        for seed in range(4):
            train, test = digits.split_indices(t, seed)
            for k in default_sweep.ks:
                clf = KNeighborsClassifier(n_neighbors=k).fit(
                    digits.X[train], digits.y[train]
                )
                n_right = int(np.sum(clf.predict(digits.X[test]) == digits.y[test]))
                ours = next(
                    r["n_correct"]
                    for r in default_sweep.rows
                    if (r["test_size"], r["seed"], r["k"]) == (t, seed, k)
                )
                # Each disagreeing prediction moves n_correct by at most one.
                same += len(test) - abs(n_right - ours)
                total += len(test)
    print(f"agreement with scikit-learn: {same} of {total} = {same / total:.6f}")
    assert same / total >= 0.9999


def test_cv_equals_cross_val_score(digits):
    result = sweep(digits, cv=5, ks=(1, 3, 8), repeats=2, seed=7)
    assert len(result.rows) == 3 * 2 * 5
    for k in (1, 3, 8):
        for seed in (7, 8):
            folds = KFold(5, shuffle=True, random_state=seed)
            ours = [
                r["accuracy"] for r in result.rows if r["k"] == k and r["seed"] == seed
            ]
            exact = cross_val_score(digitlab.KNN(k), digits.X, digits.y, cv=folds)
            assert ours == exact.tolist()
            theirs = cross_val_score(
                KNeighborsClassifier(n_neighbors=k), digits.X, digits.y, cv=folds
            )
            assert np.max(np.abs(np.array(ours) - theirs)) <= 1 / 359
    assert result.cell(None, 1).summary.n == 10


def test_stratified_cv_equals_cross_val_score(digits):
    result = sweep(digits, cv=4, ks=(5,), repeats=1, seed=1, stratify=True)
    folds = StratifiedKFold(4, shuffle=True, random_state=1)
    exact = cross_val_score(digitlab.KNN(5), digits.X, digits.y, cv=folds)
    assert [r["accuracy"] for r in result.rows] == exact.tolist()


def _loo_by_hand(X, y, k_values):
    """Leave-one-out from a full distance matrix: sort (distance, row), count votes."""
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(D, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), D.shape), D), axis=1)
    right = {}
    for k in k_values:
        labels = y[order[:, :k]]
        counts = np.stack([(labels == c).sum(axis=1) for c in range(10)], axis=1)
        right[k] = int(np.sum(np.argmax(counts, axis=1) == y))
    return right


def test_loo_equals_a_direct_computation(digits):
    ks = (1, 2, 3, 6, 11)
    result = sweep(digits, loo=True, ks=ks)
    want = _loo_by_hand(digits.X, digits.y, ks)
    assert {r["k"]: r["n_correct"] for r in result.rows} == want
    assert result.rows[0]["n_test"] == 1797 and result.rows[0]["n_train"] == 1796
    cell = result.cell(None, 1)
    assert math.isclose(cell.mean, want[1] / 1797)


def test_loo_held_out_digits_match_knn(digits):
    result = sweep(digits, loo=True, ks=(3,))
    ranking = rank_all(digits.X, 3)
    labels = _labels(digits.y)
    predicted = vote_every_k(
        labels[ranking.indices], ranking.distances, [3], 10, "uniform"
    )
    for i in (0, 500, 1796):
        rest = np.delete(np.arange(1797), i)
        model = digitlab.KNN(3).fit(digits.X[rest], digits.y[rest])
        assert model.predict(digits.X[i : i + 1])[0] == predicted[i, 0]
    assert result.rows[0]["n_correct"] == int(np.sum(predicted[:, 0] == labels))


# ----------------------------------------------------------- determinism and memory


def test_same_json_bytes_with_one_and_two_threads():
    outputs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            result = CliRunner().invoke(
                main, ["sweep", "--k", "1..6", "--repeats", "4", "--json"]
            )
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["best"]["k"] >= 1


def test_ranking_memory_stays_within_its_blocks():
    # 4,000 rows: a full distance matrix would take 128 MB; blocks of 8 MiB keep
    # the peak far below that.
    rng = np.random.default_rng(1)
    X = rng.integers(0, 17, (4000, 16)).astype(np.float64)
    y = rng.integers(0, 10, 4000)
    data = Dataset(X=X, y=y, source="random")
    tracemalloc.start()
    try:
        result = sweep(
            data, test_sizes=(0.3,), ks=(1, 5), repeats=2, block_bytes=8 * 2**20
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20, peak
    row = result.rows[0]
    want = digitlab.train(data, test_size=0.3, seed=0, k=1)
    assert row["n_correct"] == want.n_correct


# --------------------------------------------------------------------- arguments


def test_parse_ks_and_test_sizes():
    assert parse_ks("1..15") == tuple(range(1, 16))
    assert parse_ks("1,3,5") == (1, 3, 5)
    assert parse_ks("5, 1..3,3") == (1, 2, 3, 5)
    assert parse_test_sizes("0.1,0.2 300") == (0.1, 0.2, 300)
    with pytest.raises(DigitlabError, match="write a range like 1..15"):
        parse_ks("1..x")
    with pytest.raises(DigitlabError, match="write a range like 1..15"):
        parse_ks("9..2")
    with pytest.raises(DigitlabError, match="Cannot read test sizes"):
        parse_test_sizes("0.1,big")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ks": (0, 3)}, "k must be whole numbers of at least 1"),
        ({"ks": (2000,)}, "k=2000 is larger than the 898 training rows"),
        ({"test_sizes": (1.5,)}, "test_size=1.5 is outside (0, 1)"),
        ({"repeats": 0}, "repeats must be a whole number of at least 1"),
        ({"cv": 1}, "at least 2"),
        ({"cv": 5, "loo": True}, "either --cv or --loo"),
        ({"cv": 5, "test_sizes": (0.2,)}, "test sizes do not apply"),
        ({"loo": True, "stratify": True}, "--stratify does not apply"),
        ({"weights": "heavy"}, "Unknown weights 'heavy'"),
        (
            {"seed": 2**32 - 1, "repeats": 3},
            "The seeds 4294967295..4294967297 go past 4294967295",
        ),
        # The repeats bound every command shares (data.check_seeds) comes first.
        (
            {"cv": 5, "repeats": 10**20},
            "repeats must be a whole number from 1 to 10,000",
        ),
    ],
)
def test_bad_arguments_raise_one_clear_sentence(digits, kwargs, message):
    with pytest.raises(DigitlabError, match=None) as info:
        sweep(digits, **kwargs)
    assert message in str(info.value)


# ------------------------------------------------------------- printing and plots


def test_repr_and_html(default_sweep):
    text = repr(default_sweep)
    lines = text.splitlines()
    assert lines[1] == (
        "Grid: test_size 0.1 0.2 0.3 0.4 0.5 × k 1..15 × 20 random splits (seeds 0..19)"
    )
    assert lines[2] == "Mean accuracy over 20 splits (± std)"
    assert lines[3].split() == ["ts=0.1", "ts=0.2", "ts=0.3", "ts=0.4", "ts=0.5"]
    c = default_sweep.cell(0.1, 1)
    assert lines[4].startswith(f"k=1    {c.mean:.4f}±{c.summary.std:.3f}")
    html = default_sweep._repr_html_()
    assert html.count("<tr>") == 1 + 15 and "Best on average" in html


def test_csv_is_the_tidy_table(default_sweep):
    lines = default_sweep.to_csv().splitlines()
    assert lines[0] == "scheme,test_size,k,seed,fold,n_train,n_test,n_correct,accuracy"
    assert len(lines) == 1501
    lesson = [ln for ln in lines if ln.startswith("split,0.2,5,0,")]
    assert lesson == ["split,0.2,5,0,,1437,360,351,0.975"]


def test_plot_axes(default_sweep):
    heat, curves = default_sweep.plot()
    assert heat.get_xlabel() == "k (n_neighbors)"
    assert [t.get_text() for t in heat.get_yticklabels()] == [
        "0.1",
        "0.2",
        "0.3",
        "0.4",
        "0.5",
    ]
    assert len(curves.get_lines()) == 5 + 1  # one per test size, and the best star
    y = curves.get_lines()[1].get_ydata()
    assert y[0] == default_sweep.cell(0.2, 1).mean
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    assert default_sweep.plot(ax=ax) is ax


# ----------------------------------------------------------------------------- CLI


def test_cli_default_prints_table_and_verdict(default_sweep):
    result = CliRunner().invoke(main, ["sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == default_sweep.lines()


def test_cli_writes_csv_and_png_but_never_overwrites(tmp_path):
    csv_path, png_path = tmp_path / "s.csv", tmp_path / "s.png"
    args = ["sweep", "--k", "1,3", "--test-sizes", "0.2,0.3", "--repeats", "3"]
    run = CliRunner().invoke
    result = run(main, [*args, "--csv", str(csv_path), "--plot", str(png_path)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {csv_path}" in result.output
    assert len(csv_path.read_text().splitlines()) == 1 + 2 * 2 * 3
    from PIL import Image

    with Image.open(png_path) as img:
        assert img.format == "PNG" and img.width > 600
    before = png_path.read_bytes()
    again = run(main, [*args, "--plot", str(png_path)])
    assert again.exit_code == 2
    assert f"Error: '{png_path}' already exists" in again.output
    assert png_path.read_bytes() == before
    forced = run(main, [*args, "--k", "1", "--plot", str(png_path), "--force"])
    assert forced.exit_code == 0 and png_path.read_bytes() != before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "one"], "Cannot read k values 'one'"),
        (["--cv", "5", "--loo"], "Choose either --cv or --loo"),
        (["--test-sizes", "0.2", "--loo"], "test sizes do not apply"),
        (["--k", "1..1000", "--test-sizes", "0.5"], "k=1000 is larger than the 898"),
        (["--seed", "4294967295", "--repeats", "2"], "go past 4294967295"),
        (["--csv", "no/such/dir/x.csv"], "the folder 'no/such/dir' does not exist"),
    ],
)
def test_cli_bad_input_exits_2(args, message):
    result = CliRunner().invoke(main, ["sweep", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_cli_cv_and_loo_json():
    cv = json.loads(
        CliRunner()
        .invoke(main, ["sweep", "--cv", "3", "--k", "1,5", "--repeats", "2", "--json"])
        .output
    )
    assert cv["config"]["scheme"] == "cv" and len(cv["rows"]) == 2 * 2 * 3
    loo = json.loads(
        CliRunner().invoke(main, ["sweep", "--loo", "--k", "1..3", "--json"]).output
    )
    assert loo["config"]["scheme"] == "loo" and loo["lesson_pick"] is None
    assert [r["k"] for r in loo["rows"]] == [1, 2, 3]


def test_readme_sessions_are_real():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for args in (["sweep"], ["sweep", "--cv", "10", "--k", "1..5", "--repeats", "3"]):
        output = CliRunner().invoke(main, args).output
        assert f"$ digitlab {' '.join(args)}\n" + output in readme


def test_sweep_is_recorded_with_its_whole_table(tmp_path):
    from digitlab.runs import RunStore
    from digitlab.sweep import SweepResult

    db = tmp_path / "runs.sqlite"
    args = ["sweep", "--k", "1,3", "--test-sizes", "0.2", "--repeats", "3"]
    result = CliRunner().invoke(main, [*args, "--runs-db", str(db)])
    assert result.exit_code == 0, result.output
    store = RunStore(db)
    (run,) = store.runs()
    assert run.results["rows"] and len(run.results["rows"]) == 2 * 3
    rebuilt = SweepResult.from_dict(run.results)
    assert rebuilt.lines() == result.output.splitlines()
    assert run.score == rebuilt.best().mean
    again = CliRunner().invoke(main, [*run.reproduce, "--json", "--no-record"])
    assert json.loads(again.output)["best"]["mean"] == run.score


def _read_idx(path):
    import gzip

    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@pytest.mark.slow
def test_mnist_10k_sweep_completes_and_equals_train(mnist_dir):
    images = _read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    labels = _read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    data = Dataset(
        X=images.reshape(len(images), -1).astype(np.float64),
        y=labels.astype(np.int64),
        source="mnist",
    )
    result = sweep(data, test_sizes=(0.5,), ks=(1, 3), repeats=1)
    assert [r["n_test"] for r in result.rows] == [5000, 5000]
    for row in result.rows:
        want = digitlab.train(data, test_size=0.5, seed=0, k=row["k"])
        assert row["n_correct"] == want.n_correct
