"""The exact neighbor ranking: tie rule, exactness, agreement with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from threadpoolctl import threadpool_limits

from digitlab.errors import DigitlabError
from digitlab.neighbors import kneighbors, vote


def test_equal_distance_earlier_row_wins():
    X = np.array([[2.0], [0.0], [1.0], [1.0], [3.0], [1.0]])
    dist, ind = kneighbors(X, np.array([[1.0]]), 4)
    assert ind.tolist() == [[2, 3, 5, 0]]
    assert dist.tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_ties_beyond_candidate_depth_are_resolved_by_row():
    # 40 rows all at the same distance: the candidate shortcut cannot see them all.
    rng = np.random.default_rng(0)
    X = np.zeros((40, 3))
    X[:, 0] = rng.permutation([1.0, -1.0] * 20)
    dist, ind = kneighbors(X, np.zeros((1, 3)), 5)
    assert ind.tolist() == [[0, 1, 2, 3, 4]]
    assert np.all(dist == 1.0)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_matches_brute_force_reference(metric):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 7))
    Q = rng.normal(size=(50, 7))
    dist, ind = kneighbors(X, Q, 6, metric=metric)
    ref = NearestNeighbors(n_neighbors=6, metric=metric, algorithm="brute").fit(X)
    ref_dist, ref_ind = ref.kneighbors(Q)
    assert np.array_equal(ind, ref_ind)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-9, atol=1e-12)


def test_integer_data_gives_exact_distances(digits):
    X = digits.X[:500]
    dist, ind = kneighbors(X, X[:40], 10)
    direct = np.sqrt(((X[:40, None, :] - X[None, :, :]) ** 2).sum(-1))
    order = np.lexsort((np.broadcast_to(np.arange(500), direct.shape), direct))
    assert np.array_equal(ind, order[:, :10])
    assert np.array_equal(dist, np.take_along_axis(direct, order[:, :10], 1))


def test_exclude_self_leaves_each_row_out(digits):
    X = digits.X[:200]
    _, ind = kneighbors(X, X, 3, exclude_self=True)
    assert not np.any(ind == np.arange(200)[:, None])
    _, ind_full = kneighbors(X, X, 4)
    # Without exclusion the row itself comes first (no exact duplicates here).
    assert np.array_equal(ind_full[:, 0], np.arange(200))


def test_small_blocks_give_the_same_ranking(digits):
    X = digits.X
    a = kneighbors(X, X[:300], 7)
    b = kneighbors(X, X[:300], 7, block_bytes=1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_k_out_of_range_is_a_clear_error():
    with pytest.raises(DigitlabError, match="choose k between 1 and 3"):
        kneighbors(np.zeros((3, 2)), np.zeros((1, 2)), 4)


def test_equal_votes_go_to_smallest_label():
    labels = np.array([[3, 1, 3, 1]])
    proba, pred = vote(labels, np.ones((1, 4)), 5)
    assert pred.tolist() == [1]
    assert proba.tolist() == [[0.0, 0.5, 0.0, 0.5, 0.0]]


def test_distance_weights_zero_distance_takes_the_vote():
    labels = np.array([[2, 0, 0]])
    proba, pred = vote(labels, np.array([[0.0, 1.0, 1.0]]), 3, "distance")
    assert pred.tolist() == [2]
    assert proba.tolist() == [[0.0, 0.0, 1.0]]


def _agreement(digits, n_splits, ks):
    """Compare predictions with scikit-learn's, refitted for every split and k.

    digitlab's side uses one ranking per split: its exact ranking is sorted, so
    the k nearest are a prefix of the 15 nearest (``test_k_prefix`` checks it).
    """
    same = total = 0
    disagreements = []
    k_max = max(ks)
    for seed in range(n_splits):
        X_tr, X_te, y_tr, y_te = train_test_split(
            digits.X, digits.y, test_size=0.2, random_state=seed
        )
        dist, ind = kneighbors(X_tr, X_te, k_max)
        for k in ks:
            _, ours = vote(y_tr[ind[:, :k]], dist[:, :k], 10)
            ref = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
            theirs = ref.fit(X_tr, y_tr).predict(X_te)
            same += int(np.sum(ours == theirs))
            total += len(ours)
            for i in np.flatnonzero(ours != theirs):
                disagreements.append((X_tr, y_tr, X_te[i], k))
    return same, total, disagreements


def test_k_prefix_equals_knn_predict(digits):
    from digitlab import KNN

    split = digits.split(test_size=0.2, seed=1)
    dist, ind = kneighbors(split.X_train, split.X_test, 15)
    for k in (1, 4, 15):
        _, predicted = vote(split.y_train[ind[:, :k]], dist[:, :k], 10)
        model = KNN(k).fit(split.X_train, split.y_train)
        assert np.array_equal(predicted, model.predict(split.X_test))


def _is_tie_case(X_tr, y_tr, x, k):
    """A disagreement is documented if the k-th distance is tied or votes tie."""
    d = np.sqrt(((X_tr - x) ** 2).sum(1))
    order = np.lexsort((np.arange(len(d)), d))
    if k < len(d) and d[order[k - 1]] == d[order[k]]:
        return True
    counts = np.bincount(y_tr[order[:k]], minlength=10)
    return np.sum(counts == counts.max()) > 1


@pytest.mark.slow
def test_agrees_with_sklearn_on_100_splits_k_1_to_15(digits):
    with threadpool_limits(limits=1):  # many small fits: threads only add overhead
        same, total, disagreements = _agreement(digits, 100, range(1, 16))
    assert total == 100 * 15 * 360
    assert same / total >= 0.9999, (same, total)
    assert all(_is_tie_case(*case) for case in disagreements)


def test_same_results_with_1_and_2_threads(digits):
    X = digits.X
    rng = np.random.default_rng(3)
    Xf = X + rng.normal(scale=0.01, size=X.shape)  # float data: the re-rank path
    results = []
    for n in (1, 2):
        with threadpool_limits(limits=n):
            results.append(
                [kneighbors(A, A[:400], 9) for A in (X, Xf)]
                + [kneighbors(Xf, Xf[:400], 9, metric="cosine")]
            )
    for (d1, i1), (d2, i2) in zip(*results, strict=True):
        assert np.array_equal(i1, i2)
        assert d1.tobytes() == d2.tobytes()


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
@pytest.mark.parametrize("integer", [True, False])
def test_fit_rows_rank_exactly_like_the_array(digits, metric, integer):
    from digitlab.neighbors import FitRows

    X = digits.X if integer else digits.X / 7.0
    fit = FitRows(X[:1500])
    for queries in (X[1500:], X[1500:1501]):
        expected = kneighbors(X[:1500], queries, 5, metric=metric)
        for _ in range(2):  # the first call fills the cache, the second uses it
            got = kneighbors(fit, queries, 5, metric=metric)
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_array_equal(got[1], expected[1])


def test_a_fitted_model_derives_its_ranking_data_once(digits):
    from digitlab.model import KNN

    model = KNN(k=3).fit(digits.X[:1500], digits.y[:1500])
    model.predict(digits.X[1500:1510])
    augmented = model._fit_rows.__dict__["augmented"]
    dist, ind = model.kneighbors(digits.X[1510:])
    assert model._fit_rows.__dict__["augmented"] is augmented
    expected = kneighbors(digits.X[:1500], digits.X[1510:], 3)
    np.testing.assert_array_equal(dist, expected[0])
    np.testing.assert_array_equal(ind, expected[1])
    # Refitting replaces the rows and what was derived from them.
    model.fit(digits.X[:100], digits.y[:100])
    assert model._fit_rows.X is model._fit_X and len(model._fit_rows) == 100


def test_one_query_among_many_ties_takes_the_earliest_rows():
    # 1,000 rows at 4 distances only: the 7 nearest are the earliest rows of the
    # nearest distances, in row order (the web's one-picture path).
    X = np.repeat(np.arange(4.0), 250)[np.random.default_rng(1).permutation(1000)]
    X = X[:, None]
    dist, ind = kneighbors(X, np.array([[0.0]]), 7)
    zeros = np.flatnonzero(X[:, 0] == 0)
    assert ind[0].tolist() == zeros[:7].tolist()
    assert dist[0].tolist() == [0.0] * 7
    dist, ind = kneighbors(X, np.array([[0.4]]), 260)
    ones = np.flatnonzero(X[:, 0] == 1)
    assert ind[0].tolist() == zeros.tolist() + ones[:10].tolist()


def _brute_force(X, q, k):
    """Exact squared distances in integers, ties to the earlier row."""
    d = ((X.astype(np.int64) - q.astype(np.int64)) ** 2).sum(axis=1)
    order = np.lexsort((np.arange(len(X)), d))[:k]
    return d[order].astype(float), order


@pytest.mark.parametrize("k", [1, 5, 16, 1500])
def test_one_query_against_many_rows_is_pruned_and_exact(digits, k):
    """A web request's path: lower bounds in 16 principal directions pick the
    candidates; every row appears three times, so ties are everywhere."""
    from digitlab.neighbors import FitRows

    X = np.vstack([digits.X] * 3)  # 5,391 rows: enough to prune
    fit = FitRows(X)
    rng = np.random.default_rng(k)
    queries = np.vstack(
        [digits.X[rng.integers(0, len(digits.X), 60)], rng.integers(0, 17, (40, 64))]
    ).astype(float)
    for q in queries:
        dist, ind = kneighbors(fit, q[None], k, squared=True)
        expected = _brute_force(X, q, k)
        np.testing.assert_array_equal(dist[0], expected[0])
        np.testing.assert_array_equal(ind[0], expected[1])
    assert "projection" in fit.__dict__  # the pruned path ran


def test_pruned_ranking_of_large_integers_is_exact(digits):
    """Integers too large for exact float32 sums (up to 16 × 97 = 1,552) take
    the float64 distances on the pruned path; still the brute-force answer."""
    from digitlab.neighbors import FitRows

    X = np.vstack([digits.X] * 3) * 97.0
    fit = FitRows(X)
    rng = np.random.default_rng(7)
    for q in X[rng.integers(0, len(X), 30)] + rng.integers(-3, 4, (30, 64)):
        dist, ind = kneighbors(fit, q[None], 5, squared=True)
        expected = _brute_force(X, q, 5)
        np.testing.assert_array_equal(dist[0], expected[0])
        np.testing.assert_array_equal(ind[0], expected[1])
    assert "projection" in fit.__dict__ and "augmented32" not in fit.__dict__


def _leave_one_out_by_hand(X, k):
    """Direct squared distances of every pair, ordered by (distance, row number)."""
    diff = X[:, None, :] - X[None, :, :]
    D = np.einsum("ijd,ijd->ij", diff, diff)
    np.fill_diagonal(D, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), D.shape), D), axis=1)
    return np.take_along_axis(D, order[:, :k], 1), order[:, :k]


@pytest.mark.parametrize(
    ("name", "low", "high", "shape", "k", "block_bytes"),
    [
        # 0/1 rows: nearly every distance is tied; float32 products, int32 keys.
        ("ties", 0, 2, (500, 6), 40, 2**18),
        ("negative", -3, 4, (300, 5), 30, 2**16),
        # 0..255 over 16 features: float32 products, keys beyond int32.
        ("int64 keys", 0, 256, (800, 16), 20, 2**21),
        # 0..255 over 300 features: products above 2**24, float64 keys.
        ("pixels", 0, 256, (400, 300), 25, 2**20),
        # Values up to 10**7: exact in float64, but one key per entry would not
        # be; the value-and-column selection ranks them.
        ("large", 0, 10**7, (150, 8), 20, 2**20),
        ("all rows", 0, 3, (40, 2), 39, 2**26),
    ],
)
def test_leave_one_out_ranking_equals_direct_distances(
    name, low, high, shape, k, block_bytes
):
    rng = np.random.default_rng(len(name))
    X = rng.integers(low, high, shape).astype(np.float64)
    X[5] = X[3]  # duplicate rows: distance 0 to each other
    X[7] = high - 1  # the largest row sets the size of the keys
    dist, ind = kneighbors(
        X, X, k, exclude_self=True, squared=True, block_bytes=block_bytes
    )
    want_dist, want_ind = _leave_one_out_by_hand(X, k)
    np.testing.assert_array_equal(ind, want_ind)
    np.testing.assert_array_equal(dist, want_dist)
    assert dist[3, 0] == dist[5, 0] == 0.0 and 3 in ind[5][dist[5] == 0.0]


def test_leave_one_out_ranking_is_the_same_with_any_block_size(digits):
    X = digits.X.astype(np.float64)
    whole = kneighbors(X, X, 30, exclude_self=True)
    blocked = kneighbors(X, X, 30, exclude_self=True, block_bytes=2**20)
    np.testing.assert_array_equal(whole[1], blocked[1])
    np.testing.assert_array_equal(whole[0], blocked[0])
    # And the same as ranking the rows as queries against all others.
    d, i = kneighbors(X, X[:200], 31)
    np.testing.assert_array_equal(i[:, 1:], whole[1][:200])


@pytest.mark.parametrize(("high", "n_features"), [(17, 8), (256, 200)])
def test_large_leave_one_out_blocks_rank_like_the_value_path(high, n_features):
    # 2,100 rows: one block of 4.4 million keys is keyed and selected in row
    # chunks on threads; 200 features take the half product on the diagonal.
    # The result equals the selection by (value, column) of the same products.
    from digitlab.neighbors import FitRows, _symmetric_by_value, _symmetric_exact

    rng = np.random.default_rng(high)
    X = rng.integers(0, high, (2100, n_features)).astype(np.float64)
    X[10:20] = X[0]  # ties across the chunks' rows
    fit = FitRows(X)
    got = _symmetric_exact(fit, 20, 256 * 2**20)
    want = _symmetric_by_value(X, fit.sq, 20, 256 * 2**20)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1][0, :9].tolist() == list(range(10, 19))
