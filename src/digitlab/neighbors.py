"""Exact k-nearest-neighbor ranking with one documented tie rule.

This is the one piece of search code every digitlab command shares: ``train``,
``sweep``, ``mistakes``, ``predict`` and the web page all rank neighbors here.

The tie rule
------------
* **Equal distance**: the earlier training row wins (lower row index first).
* **Equal votes**: the smallest label wins.

scikit-learn's brute-force ``KNeighborsClassifier`` behaves the same way in
practice; where its heap-based search orders equal distances differently the two
can disagree, and only on such exact ties.

Exactness
---------
Distances are ranked exactly, not approximately:

* For integer-valued data (the 0..16 block counts of the built-in digits, the 0..255
  pixels of MNIST) the euclidean distances computed by the matrix-product identity
  ``|q|² - 2 q·x + |x|²`` are exact integers in float64, so ranking them is exact
  and does not depend on the BLAS library or its thread count.
* For other data the matrix product only proposes candidates. Their distances are
  recomputed directly, pair by pair, and a rigorous bound on the matrix product's
  rounding error proves that no row outside the candidates could rank higher;
  rows where the proof fails are ranked from direct distances of all rows.

Memory stays bounded: queries are processed in blocks so that one block of the
distance matrix takes at most ``block_bytes`` (256 MiB by default).
"""

from __future__ import annotations

import numpy as np

from digitlab.errors import DigitlabError

__all__ = ["METRICS", "WEIGHTS", "check_metric", "check_weights", "kneighbors", "vote"]

METRICS = ("euclidean", "manhattan", "cosine")
WEIGHTS = ("uniform", "distance")
DEFAULT_BLOCK_BYTES = 256 * 2**20
_EPS = np.finfo(np.float64).eps
_EXACT_LIMIT = 2.0**52


def check_metric(metric: str) -> str:
    """Return ``metric`` if digitlab knows it, else raise a clear error."""
    if metric not in METRICS:
        raise DigitlabError(
            f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}."
        )
    return metric


def check_weights(weights: str) -> str:
    """Return ``weights`` if digitlab knows it, else raise a clear error."""
    if weights not in WEIGHTS:
        raise DigitlabError(
            f"Unknown weights {weights!r}; choose one of {', '.join(WEIGHTS)}."
        )
    return weights


def _is_integer_valued(X: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(X)) and np.array_equal(X, np.round(X)))


def _block_rows(n_fit: int, n_features: int, block_bytes: int) -> int:
    # A block holds the n_fit-wide distance rows plus a few same-sized temporaries.
    per_row = 8 * max(n_fit, 1) * 3 + 8 * n_features
    return int(max(1, min(65536, block_bytes // per_row)))


def _select(D: np.ndarray, k: int, ids: np.ndarray | None = None):
    """The ``k`` smallest entries per row of exact distances ``D``, tie rule applied.

    Returns ``(values, columns)``; among equal values the lower column wins.
    ``ids`` maps columns to row numbers of the training data (default: identity).
    """
    n_rows, n_cols = D.shape
    cols = np.broadcast_to(np.arange(n_cols), D.shape) if ids is None else ids
    if k >= n_cols:
        order = np.lexsort((cols, D), axis=-1)
        return np.take_along_axis(D, order, 1), np.take_along_axis(cols, order, 1)
    # Take a few extra candidates so that ties at the k-th place are usually all
    # inside the candidate set; rows where they are not are sorted in full below.
    m = min(n_cols, k + max(8, k))
    if m < n_cols:
        cand = np.argpartition(D, m - 1, axis=1)[:, :m]
    else:
        cand = np.broadcast_to(np.arange(n_cols), D.shape)
    cand_d = np.take_along_axis(D, cand, 1)
    cand_ids = np.take_along_axis(cols, cand, 1) if ids is not None else cand
    order = np.lexsort((cand_ids, cand_d), axis=-1)
    cand_d = np.take_along_axis(cand_d, order, 1)
    cand_ids = np.take_along_axis(cand_ids, order, 1)
    values, columns = cand_d[:, :k].copy(), cand_ids[:, :k].copy()
    if m < n_cols:
        # Everything outside the candidates is >= the largest candidate; if that
        # equals the k-th value, an outside row might tie and win by index.
        unsure = np.flatnonzero(cand_d[:, m - 1] <= cand_d[:, k - 1])
        for r in unsure:
            row_cols = cols[r]
            order = np.lexsort((row_cols, D[r]))[:k]
            values[r], columns[r] = D[r, order], row_cols[order]
    return values, columns


def _direct(metric: str, Q: np.ndarray, X: np.ndarray, cand: np.ndarray):
    """Distances of each query row to its candidate rows, computed pair by pair."""
    Xc = X[cand]  # (rows, m, d)
    if metric == "euclidean":
        diff = Xc - Q[:, None, :]
        return np.einsum("rmd,rmd->rm", diff, diff)
    if metric == "manhattan":
        return np.abs(Xc - Q[:, None, :]).sum(axis=2)
    dots = np.einsum("rmd,rd->rm", Xc, Q)
    qn = np.sqrt(np.einsum("rd,rd->r", Q, Q))
    xn = np.sqrt(np.einsum("rmd,rmd->rm", Xc, Xc))
    qn[qn == 0] = 1.0
    xn[xn == 0] = 1.0
    return 1.0 - dots / (qn[:, None] * xn)


def kneighbors(
    X_fit,
    X_query,
    k: int,
    *,
    metric: str = "euclidean",
    exclude_self: bool = False,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    squared: bool = False,
):
    """Rank the ``k`` nearest rows of ``X_fit`` for every row of ``X_query``.

    Parameters
    ----------
    X_fit : ndarray of shape (n_fit, n_features)
        The rows to search (the training digits).
    X_query : ndarray of shape (n_query, n_features)
        The rows whose neighbors are wanted.
    k : int
        How many neighbors per query row; at most ``n_fit`` (``n_fit - 1`` with
        ``exclude_self``).
    metric : {"euclidean", "manhattan", "cosine"}
    exclude_self : bool
        ``X_query`` is ``X_fit`` and row ``i`` must not be its own neighbor
        (leave-one-out rankings).
    block_bytes : int
        Upper bound on the memory one block of distances may take.
    squared : bool
        Euclidean only: return the squared distances, the values actually ranked
        (their square roots can coincide where the squares differ in the last bit).

    Returns
    -------
    distances : ndarray of shape (n_query, k)
        Distances in increasing order (euclidean: not squared unless ``squared``).
    indices : ndarray of shape (n_query, k)
        Row numbers into ``X_fit``; equal distances are ordered by row number.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [1.0], [3.0]])
    >>> d, i = kneighbors(X, np.array([[1.0]]), 3)
    >>> i.tolist(), d.tolist()
    ([[1, 2, 0]], [[0.0, 0.0, 1.0]])
    """
    check_metric(metric)
    X_fit = np.asarray(X_fit, dtype=np.float64)
    X_query = np.asarray(X_query, dtype=np.float64)
    n_fit, n_features = X_fit.shape
    n_query = X_query.shape[0]
    available = n_fit - 1 if exclude_self else n_fit
    if not 1 <= k <= available:
        raise DigitlabError(
            f"k={k} neighbors asked for, but only {available} training rows can be "
            f"neighbors; choose k between 1 and {available}."
        )
    if exclude_self and X_query.shape != X_fit.shape:
        raise DigitlabError("exclude_self needs the query rows to be the fit rows.")

    fit_sq = np.einsum("ij,ij->i", X_fit, X_fit)
    if metric == "cosine":
        norms = np.sqrt(fit_sq)
        norms[norms == 0] = 1.0
        X_fit_unit = X_fit / norms[:, None]
    integer_exact = (
        metric in ("euclidean", "manhattan")
        and _is_integer_valued(X_fit)
        and _is_integer_valued(X_query)
        and 2
        * (fit_sq.max(initial=0) + np.max(np.abs(X_query), initial=0) ** 2 * n_features)
        < _EXACT_LIMIT
    )
    rows = _block_rows(n_fit, n_features, block_bytes)
    dist_out = np.empty((n_query, k))
    idx_out = np.empty((n_query, k), dtype=np.intp)
    for start in range(0, n_query, rows):
        stop = min(n_query, start + rows)
        Q = X_query[start:stop]
        if metric == "manhattan":
            from scipy.spatial.distance import cdist

            D = cdist(Q, X_fit, metric="cityblock")
            exact = True
        elif metric == "euclidean":
            q_sq = np.einsum("ij,ij->i", Q, Q)
            D = Q @ X_fit.T
            D *= -2.0
            D += q_sq[:, None]
            D += fit_sq[None, :]
            np.maximum(D, 0.0, out=D)
            exact = integer_exact
            tol = 4.0 * (n_features + 2) * _EPS * (q_sq + fit_sq.max(initial=0))
        else:
            q_norm = np.sqrt(np.einsum("ij,ij->i", Q, Q))
            q_norm[q_norm == 0] = 1.0
            D = 1.0 - (Q / q_norm[:, None]) @ X_fit_unit.T
            exact = False
            tol = np.full(len(Q), 8.0 * (n_features + 2) * _EPS)
        if exclude_self:
            D[np.arange(len(Q)), np.arange(start, stop)] = np.inf
        if exact:
            values, columns = _select(D, k)
        else:
            values, columns = _rerank(metric, Q, X_fit, D, k, tol, exclude_self, start)
        dist_out[start:stop] = values
        idx_out[start:stop] = columns
    if metric == "euclidean" and not squared:
        np.sqrt(dist_out, out=dist_out)
    return dist_out, idx_out


def _rerank(metric, Q, X_fit, D_approx, k, tol, exclude_self, start):
    """Exact top-k from approximate distances: candidates, direct distances, proof."""
    n_fit = X_fit.shape[0]
    m = min(n_fit, 2 * k + 16)
    if m < n_fit:
        cand = np.argpartition(D_approx, m - 1, axis=1)[:, :m]
    else:
        cand = np.broadcast_to(np.arange(n_fit), D_approx.shape).copy()
    exact = _direct(metric, Q, X_fit, cand)
    if exclude_self:
        exact[cand == (np.arange(len(Q)) + start)[:, None]] = np.inf
    values, columns = _select(exact, k, ids=cand)
    if m < n_fit:
        outside_floor = np.take_along_axis(D_approx, cand, 1).max(axis=1) - tol
        unsure = np.flatnonzero(outside_floor <= values[:, -1] + tol)
        for r in unsure:
            all_rows = np.arange(n_fit)[None, :]
            full = _direct(metric, Q[r : r + 1], X_fit, all_rows)
            if exclude_self:
                full[0, start + r] = np.inf
            v, c = _select(full, k)
            values[r], columns[r] = v[0], c[0]
    return values, columns


def vote(neighbor_labels, distances, n_classes: int, weights: str = "uniform"):
    """Votes per class from ranked neighbors, the way scikit-learn counts them.

    Parameters
    ----------
    neighbor_labels : ndarray of int, shape (n_query, k)
        Class indices (0..n_classes-1) of each query's neighbors, nearest first.
    distances : ndarray of shape (n_query, k)
    n_classes : int
    weights : {"uniform", "distance"}
        ``distance`` weighs each vote by 1/distance; a neighbor at distance 0
        takes the whole vote (shared with any other neighbor at distance 0).

    Returns
    -------
    proba : ndarray of shape (n_query, n_classes)
        Vote shares; each row sums to 1.
    predicted : ndarray of int, shape (n_query,)
        The class index with the most votes; equal votes go to the smallest label.
    """
    check_weights(weights)
    n_query, k = neighbor_labels.shape
    if weights == "uniform":
        w = np.ones((n_query, k))
    else:
        with np.errstate(divide="ignore"):
            w = 1.0 / distances
        inf_mask = np.isinf(w)
        inf_row = np.any(inf_mask, axis=1)
        w[inf_row] = inf_mask[inf_row]
    proba = np.zeros((n_query, n_classes))
    rows = np.arange(n_query)
    # Accumulate neighbor by neighbor, in rank order, as scikit-learn does, so that
    # float sums (distance weights) are bit-for-bit the same.
    for j in range(k):
        proba[rows, neighbor_labels[:, j]] += w[:, j]
    predicted = np.argmax(proba, axis=1)
    normalizer = proba.sum(axis=1, keepdims=True)
    normalizer[normalizer == 0.0] = 1.0
    proba /= normalizer
    return proba, predicted
