"""The tangent metric: euclidean neighbors re-ranked by tangent distance."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from digitlab import KNN, DigitlabError
from digitlab._tangent import EUCLIDEAN_SHARE, N_CANDIDATES, tangent_sq_distances
from digitlab.neighbors import kneighbors


def bar(column: int, top: int = 1, bottom: int = 7) -> np.ndarray:
    digit = np.zeros((8, 8))
    digit[top:bottom, column] = 16
    return digit.ravel()


def test_a_shifted_stroke_is_near_and_the_same_picture_at_zero():
    one, shifted = bar(3), bar(4)
    across = np.zeros((8, 8))
    across[4, 1:7] = 16  # the same stroke a quarter turn away: another shape
    across = across.ravel()
    d = tangent_sq_distances(one, np.vstack([one, shifted, across]))
    euclidean_sq = ((np.vstack([one, shifted, across]) - one) ** 2).sum(axis=1)
    # 12 pixels of 16 differ; the crossing strokes share one pixel, so 10 do.
    assert euclidean_sq.tolist() == [0, 12 * 256, 10 * 256]
    assert d[0] == 0.0
    # A shift is one of the tangents: all of the difference is forgiven but the
    # share of the euclidean distance every difference keeps. A quarter turn
    # is far beyond a small rotation: most of it stays.
    share = d[1:] / euclidean_sq[1:]
    assert EUCLIDEAN_SHARE <= share[0] < EUCLIDEAN_SHARE + 0.05
    assert share[1] > 0.4


def test_ranking_is_the_euclidean_candidates_reranked(digits):
    X, Q = digits.X[:1500], digits.X[1500:1530]
    _, candidates = kneighbors(X, Q, N_CANDIDATES)
    dist, ind = kneighbors(X, Q, 5, metric="tangent")
    for q, cand, got_d, got_i in zip(Q, candidates, dist, ind, strict=True):
        d = tangent_sq_distances(q, X[cand])
        order = np.lexsort((cand, d))[:5]
        assert got_i.tolist() == cand[order].tolist()
        assert np.array_equal(got_d, np.sqrt(d[order]))
    squared, same = kneighbors(X, Q, 5, metric="tangent", squared=True)
    assert np.array_equal(same, ind) and np.array_equal(np.sqrt(squared), dist)


def test_equal_rows_keep_the_tie_rule(digits):
    # Row 0 repeated at the end: equal distance, so the earlier row comes first.
    X = np.vstack([digits.X[:200], digits.X[:1]])
    dist, ind = kneighbors(X, digits.X[:1], 2, metric="tangent")
    assert ind[0].tolist() == [0, 200] and dist[0, 0] == dist[0, 1]


def test_same_answer_on_any_thread_count(digits):
    X, Q = digits.X[:1200], digits.X[1200:1400]
    with threadpool_limits(limits=1):
        one = kneighbors(X, Q, 5, metric="tangent")
    many = kneighbors(X, Q, 5, metric="tangent")
    assert np.array_equal(one[1], many[1]) and np.array_equal(one[0], many[0])


def test_more_neighbors_than_candidates_and_leave_one_out(digits):
    X = digits.X[:300]
    dist, ind = kneighbors(X, X[:3], N_CANDIDATES + 10, metric="tangent")
    assert ind.shape == (3, N_CANDIDATES + 10)
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert all(len(set(row)) == len(row) for row in ind.tolist())
    _, loo = kneighbors(X, X, 3, metric="tangent", exclude_self=True)
    assert not np.any(loo == np.arange(len(X))[:, None])


def test_knn_with_tangent_metric_reads_the_lesson_split(digits):
    split = digits.split(test_size=0.2, seed=0)
    euclidean = KNN(5).fit(split.X_train, split.y_train)
    tangent = KNN(5, metric="tangent").fit(split.X_train, split.y_train)
    n_euclidean = int(np.sum(euclidean.predict(split.X_test) == split.y_test))
    n_tangent = int(np.sum(tangent.predict(split.X_test) == split.y_test))
    assert (n_euclidean, n_tangent) == (351, 357)


def test_rows_that_are_not_square_pictures_are_refused():
    X = np.arange(60, dtype=np.float64).reshape(6, 10)
    y = np.array([0, 1] * 3)
    with pytest.raises(DigitlabError, match="needs square pictures"):
        KNN(1, metric="tangent").fit(X, y).predict(X[:1])
