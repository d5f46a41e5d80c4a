"""The faiss backend: candidates from an exact flat index, then exact re-ranking.

faiss computes squared euclidean distances in float32, so its order can differ
from the exact one by rounding, and it orders ties its own way. digitlab only
takes its ``2k + 16`` best rows per query as *candidates*, recomputes their
distances exactly (float64, pair by pair), applies the tie rule, and proves with
a rigorous bound on float32 rounding that no row outside the candidates could
rank among the ``k`` best or tie with the k-th. Rows where the proof fails are
ranked by the numpy backend. The result is identical to the numpy backend.
"""

from __future__ import annotations

import numpy as np

from digitlab._ranking import Ranker, _direct, _integer_exact, _select
from digitlab.errors import DigitlabError

_U32 = 2.0**-24  # unit roundoff of float32


def _import_faiss():
    try:
        import faiss
    except ImportError:
        raise DigitlabError(
            "The faiss backend needs faiss-cpu; install it with "
            "pip install 'digitlab[fast]', or use --backend numpy."
        ) from None
    return faiss


def faiss_kneighbors(X_fit, X_query, k, *, metric, exclude_self, block_bytes):
    """:func:`digitlab.neighbors.kneighbors` through a faiss ``IndexFlatL2``.

    Returns squared distances (the values ranked) and row numbers.
    """
    if metric != "euclidean":
        raise DigitlabError(
            f"The faiss backend ranks euclidean distances only, not {metric!r}; use "
            "--backend numpy for other metrics."
        )
    faiss = _import_faiss()
    n_fit, n_features = X_fit.shape
    n_query = len(X_query)
    depth = min(n_fit, 2 * k + 16 + int(exclude_self))
    ranker = Ranker(
        X_fit, k, metric, exclude_self, _integer_exact(metric, X_fit, X_query)
    )
    dist_out = np.empty((n_query, k))
    idx_out = np.empty((n_query, k), dtype=np.intp)
    if depth == n_fit:  # nothing to gain from candidates
        return ranker.block(X_query, 0)
    index = faiss.IndexFlatL2(n_features)
    index.add(np.ascontiguousarray(X_fit, dtype=np.float32))
    fit_norm = np.sqrt(ranker.max_fit_sq)
    # faiss's float32 d² = |q|² + |x|² - 2 q·x (or a direct sum) from float32
    # inputs: every rounding is within (n_features + 8) units of float32 of
    # (|q| + |x|)², doubled for safety.
    gamma = 2.0 * (n_features + 8) * _U32 / (1.0 - (n_features + 8) * _U32)
    # Re-ranking holds rows × depth × features float64 numbers (twice); small
    # blocks keep the gathered candidates in cache. faiss searches bigger blocks.
    per_row = 16 * depth * max(n_features, 1)
    rows = int(max(1, min(512, block_bytes // per_row)))
    search_rows = rows * max(1, 4096 // rows)
    for search_start in range(0, n_query, search_rows):
        search_stop = min(n_query, search_start + search_rows)
        approx_all, cand_all = index.search(
            np.ascontiguousarray(X_query[search_start:search_stop], dtype=np.float32),
            depth,
        )
        for start in range(search_start, search_stop, rows):
            stop = min(search_stop, start + rows)
            local = slice(start - search_start, stop - search_start)
            values, columns = _rerank_block(
                ranker,
                X_query[start:stop],
                np.arange(start, stop),
                approx_all[local],
                cand_all[local].astype(np.intp),
                gamma,
                fit_norm,
            )
            dist_out[start:stop] = values
            idx_out[start:stop] = columns
    return dist_out, idx_out


def _rerank_block(ranker, Q, query_rows, approx, cand, gamma, fit_norm):
    """Exact top-k of one block from faiss's candidates, proven or recomputed."""
    X_fit, k = ranker.X_fit, ranker.k
    q_sq = np.einsum("ij,ij->i", Q, Q)
    if ranker.integer_exact:
        # Exact integers, the same numbers the numpy backend gives.
        dots = np.einsum("rmd,rd->rm", X_fit[cand], Q)
        exact = ranker.fit_sq[cand] - 2.0 * dots + q_sq[:, None]
    else:
        exact = _direct("euclidean", Q, X_fit, cand)
    if ranker.exclude_self:
        exact[cand == query_rows[:, None]] = np.inf
    values, columns = _select(exact, k, ids=cand)
    tol = gamma * (np.sqrt(q_sq) + fit_norm) ** 2
    # Any row outside the candidates has a float32 d² >= the last candidate's.
    proven = approx[:, -1].astype(np.float64) - tol > values[:, -1]
    unsure = np.flatnonzero(~proven)
    if len(unsure):
        values[unsure], columns[unsure] = ranker.block(Q[unsure], query_rows[unsure])
    return values, columns
