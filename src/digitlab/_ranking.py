"""The ranking engine the numpy, faiss and Dask backends share (private).

:mod:`digitlab.neighbors` (the public ranking, its tie rule and exactness
guarantees, the backend dispatch of :func:`~digitlab.neighbors.use`),
:mod:`digitlab._faiss` and :mod:`digitlab.distributed` all rank blocks with the
code here, so it imports none of them: the backends import this module, and
``neighbors`` imports it and, lazily, the backends.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class _Settings:
    backend: str = "numpy"
    dask: object = None


_settings: contextvars.ContextVar[_Settings | None] = contextvars.ContextVar(
    "digitlab_neighbors_settings", default=None
)


def _current() -> _Settings:
    return _settings.get() or _Settings()


_EPS = np.finfo(np.float64).eps
_EXACT_LIMIT = 2.0**52
# Integers up to 2**24 are exact in float32 as well: small counts (the 0..16 of
# the built-in digits) rank with half the memory traffic.
_EXACT_LIMIT_32 = 2.0**24
_EPS_32 = float(np.finfo(np.float32).eps)
# FitRows.projection keeps this many principal directions for the pruned
# ranking of a few queries (neighbors._pruned).
_PRUNE_DIMS = 16


def _is_integer_valued(X: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(X)) and np.array_equal(X, np.round(X)))


class FitRows:
    """The rows to search, with what every ranking against them needs.

    ``kneighbors(FitRows(X), Q, k)`` gives exactly ``kneighbors(X, Q, k)``;
    the squared norms, the integer check and the product matrix are computed
    on first use and then kept. A fitted model holds one, so each query (a web
    request: one row against 16,173) pays only for its own rows.

    Parameters
    ----------
    X : array-like of shape (n_fit, n_features)
        Not copied when it is already float64; do not change it afterwards.
    """

    def __init__(self, X):
        self.X = np.asarray(X, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.X)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.X.shape

    @cached_property
    def integer_valued(self) -> bool:
        """Whether every value is a finite whole number."""
        return _is_integer_valued(self.X)

    @cached_property
    def largest(self) -> float:
        """The largest absolute value (0 for no rows)."""
        return float(np.max(np.abs(self.X), initial=0))

    @cached_property
    def sq(self) -> np.ndarray:
        """Squared euclidean norm of each row."""
        return np.einsum("ij,ij->i", self.X, self.X)

    @cached_property
    def augmented(self) -> np.ndarray:
        """``[-2 X, |x|²]``: one product with ``[q, 1]`` gives ``|x|² - 2 q·x``."""
        return np.hstack([-2.0 * self.X, self.sq[:, None]])

    @cached_property
    def augmented32(self) -> np.ndarray:
        """:attr:`augmented` in float32 (exact where its products stay below 2**24)."""
        return self.augmented.astype(np.float32)

    @cached_property
    def projection(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The rows' first principal directions, for lower bounds of distances.

        Returns ``(P, Z_aug, largest)``: ``P`` (m × d) has orthonormal rows, so
        ``|P(q - x)|² <= |q - x|²`` for every row ``x``; one product of
        ``[Pq, 1]`` with ``Z_aug = [-2 XPᵀ, |XPᵀ|²]ᵀ`` (float32: a quarter of
        the rows' bytes; one direction per row, which halves the product's
        time) gives ``|P(q - x)|² - |Pq|²`` for all rows; ``largest`` is the
        largest ``|XPᵀ|²``.
        """
        m = min(_PRUNE_DIMS, self.X.shape[1])
        centered = self.X - self.X.mean(axis=0)
        P = np.linalg.svd(centered, full_matrices=False)[2][:m]
        Z = self.X @ P.T
        z_sq = np.einsum("ij,ij->i", Z, Z)
        Z_aug = np.vstack([-2.0 * Z.T, z_sq[None]]).astype(np.float32, order="C")
        return P, Z_aug, float(z_sq.max(initial=0))

    @cached_property
    def unit(self) -> np.ndarray:
        """The rows scaled to length 1 (zero rows stay zero)."""
        norms = np.sqrt(self.sq)
        norms[norms == 0] = 1.0
        return self.X / norms[:, None]

    def extended(self, X_new) -> FitRows:
        """These rows followed by ``X_new``, keeping what is computed already.

        What a ranking derives from the rows (norms, the integer check, the
        product matrices, the projection of the pruned ranking) is extended by
        the new rows' parts instead of being computed again for all rows; parts
        not computed yet are left for first use. The projection keeps its
        principal directions: its bounds hold for any orthonormal directions,
        so rankings stay exact (the directions only decide how many rows the
        pruned ranking must look at).

        Parameters
        ----------
        X_new : array-like of shape (n_new, n_features)

        Returns
        -------
        FitRows
            A new object; this one is left as it is (a ranking running on it
            meanwhile sees the old rows only).
        """
        X_new = np.asarray(X_new, dtype=np.float64)
        grown = FitRows(np.vstack([self.X, X_new]))
        added = FitRows(X_new)
        known, into = self.__dict__, grown.__dict__
        if "integer_valued" in known:
            into["integer_valued"] = known["integer_valued"] and added.integer_valued
        if "largest" in known:
            into["largest"] = max(known["largest"], added.largest)
        if "sq" in known:
            into["sq"] = np.concatenate([known["sq"], added.sq])
        for name in ("augmented", "augmented32", "unit"):
            if name in known:
                into[name] = np.vstack([known[name], getattr(added, name)])
        if "projection" in known:
            P, Z_aug, largest = known["projection"]
            Z = X_new @ P.T
            z_sq = np.einsum("ij,ij->i", Z, Z)
            new_columns = np.vstack([-2.0 * Z.T, z_sq[None]]).astype(np.float32)
            into["projection"] = (
                P,
                np.ascontiguousarray(np.hstack([Z_aug, new_columns])),
                max(largest, float(z_sq.max(initial=0))),
            )
        return grown


def _fit_rows(X_fit) -> FitRows:
    return X_fit if isinstance(X_fit, FitRows) else FitRows(X_fit)


def _select(D: np.ndarray, k: int, ids: np.ndarray | None = None):
    """The ``k`` smallest entries per row of exact distances ``D``, tie rule applied.

    Returns ``(values, columns)``; among equal values the lower column wins.
    ``ids`` maps columns to row numbers of the training data (default: identity).

    For wide ``D`` the k-th smallest value of each row is found by partitioning,
    and *every* entry not above it is a candidate, so all ties with the k-th
    place are among the candidates and the tie rule needs no second pass.
    """
    n_rows, n_cols = D.shape
    if n_rows == 1:
        # One query (a web request): its k-th smallest value, then every entry
        # not above it, ordered by (value, row number).
        row = D[0]
        kth = np.partition(row, k - 1)[k - 1]
        cols = np.flatnonzero(row <= kth)
        vals = row[cols]
        if ids is not None:
            cols = ids[0][cols]
        order = np.lexsort((cols, vals))[:k]
        return vals[order][None], cols[order][None]
    if ids is not None or n_cols <= 4 * k:
        cols = np.broadcast_to(np.arange(n_cols), D.shape) if ids is None else ids
        order = np.lexsort((cols, D), axis=-1)[:, :k]
        return np.take_along_axis(D, order, 1), np.take_along_axis(cols, order, 1)
    # A first threshold from a fifth of the columns: the k-th smallest of a subset
    # is >= the row's true k-th smallest, so no entry up to the latter is missed.
    sub = max(4 * k + 1, n_cols // 5)
    threshold = np.partition(D[:, :sub], k - 1, axis=1)[:, k - 1]
    flat = np.flatnonzero(threshold[:, None] >= D)
    rows, cols = np.divmod(flat, n_cols)
    vals = D.ravel()[flat]
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.zeros(n_rows, dtype=np.intp)
    np.cumsum(counts[:-1], out=starts[1:])
    # The exact k-th smallest per row, from the candidates padded into a matrix.
    padded = np.full((n_rows, counts.max()), np.inf)
    padded[rows, np.arange(len(flat)) - starts[rows]] = vals
    kth = np.partition(padded, k - 1, axis=1)[:, k - 1]
    keep = vals <= kth[rows]
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    # Columns are increasing within each row (flat order), so sorting stably by
    # (row, value) orders equal values by column: the tie rule.
    order = np.lexsort((cols, vals, rows))
    np.cumsum(np.bincount(rows, minlength=n_rows)[:-1], out=starts[1:])
    pick = order[starts[:, None] + np.arange(k)]
    return vals[pick], cols[pick]


def _select_threaded(D: np.ndarray, k: int, offset: int = 0):
    """:func:`_select` on row chunks in threads (numpy releases the GIL).

    Each row's result depends only on that row, so the output is the same for
    any number of threads.
    """
    n_threads = min(_n_threads(), max(1, len(D) // 64))
    if n_threads == 1:
        values, columns = _select(D, k)
        return values, columns + offset
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, len(D), n_threads + 1).astype(int).tolist()
    chunks = [D[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ThreadPoolExecutor(n_threads) as pool:
        parts = list(pool.map(lambda chunk: _select(chunk, k), chunks))
    columns = np.vstack([c for _, c in parts])
    return np.vstack([v for v, _ in parts]), columns + offset


# Below twice this many entries a block is selected in the calling thread: starting
# threads costs more than it saves on small blocks (the digits' 1,797²).
_THREAD_MIN_ENTRIES = 2**21


def _smallest_keys(K: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest entries of each row of ``K``, in increasing order.

    For keys that are unique within a row (``value * n + column``) this is the
    whole tie rule: no two entries compare equal. ``K`` is reordered in place.
    """
    return _smallest_of_chunks(K.shape[0], K.shape[1], k, lambda a, b: K[a:b])


def _smallest_of_chunks(n_rows: int, n_cols: int, k: int, make_keys) -> np.ndarray:
    """:func:`_smallest_keys` of the rows ``make_keys(a, b)`` returns, chunk by chunk.

    ``make_keys(a, b)`` gives rows ``a..b-1`` of the keys as a writable C-order
    array (it may build them there, so that work is shared out too). Large
    blocks are cut into row chunks done in threads (numpy releases the GIL);
    each row's result depends only on that row, so the output is the same for
    any number of threads.
    """

    def smallest(bounds):
        chunk = make_keys(*bounds)
        if k < chunk.shape[1]:
            chunk.partition(k - 1, axis=1)
        return np.sort(chunk[:, :k], axis=1)

    n_threads = min(_n_threads(), max(1, n_rows * n_cols // _THREAD_MIN_ENTRIES))
    if n_threads == 1:
        return smallest((0, n_rows))
    from concurrent.futures import ThreadPoolExecutor

    edges = np.linspace(0, n_rows, n_threads + 1).astype(int).tolist()
    with ThreadPoolExecutor(n_threads) as pool:
        parts = list(pool.map(smallest, zip(edges[:-1], edges[1:], strict=True)))
    return np.vstack(parts)


def _n_threads() -> int:
    import os

    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(8, n))


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


def _integer_exact(metric: str, X_fit, X_query: np.ndarray) -> bool:
    """Whether the matrix-product distances are exact integers for this data."""
    if metric not in ("euclidean", "manhattan"):
        return False
    fit = _fit_rows(X_fit)
    same = X_query is fit.X  # a leave-one-out ranking: check the rows once
    if not (fit.integer_valued and (same or _is_integer_valued(X_query))):
        return False
    return _products_below(_EXACT_LIMIT, fit, X_query)


def _products_below(limit: float, fit: FitRows, Q: np.ndarray) -> bool:
    """Whether every intermediate of the distance identity for integer rows of
    ``fit`` and ``Q`` stays below ``limit`` (then it is exact in that float
    type, in any order of addition): ``|q|² + |x|² + 2|q·x|`` bounds them."""
    largest = fit.largest
    if Q is not fit.X:
        largest = max(largest, float(np.max(np.abs(Q), initial=0)))
    return bool(4.0 * largest**2 * fit.shape[1] < limit)


class Ranker:
    """Everything the ranking of one block of queries needs, prepared once.

    ``Ranker(X_fit, k, ...).block(Q, start)`` ranks the query rows ``Q`` (rows
    ``start, start+1, ...`` of the queries, or the row numbers ``start`` when it
    is an array) against ``X_fit`` (an array or a :class:`FitRows`). It is what
    each block of :func:`digitlab.neighbors.kneighbors` runs, on this machine or
    on a Dask worker.
    Returned euclidean distances are squared.
    """

    def __init__(self, X_fit, k, metric, exclude_self, integer_exact):
        self.fit = fit = _fit_rows(X_fit)
        self.X_fit, self.k, self.metric = fit.X, k, metric
        self.exclude_self, self.integer_exact = exclude_self, integer_exact
        self.fit_sq = fit.sq
        self.max_fit_sq = self.fit_sq.max(initial=0)
        if metric == "euclidean" and integer_exact:
            # One matrix product gives |x|² - 2 q·x, exact integers here: the
            # distances' ranking without any pass over the block (|q|² is the
            # same along a row and is added to the k winners only).
            self.X_aug = fit.augmented
        if metric == "cosine":
            self.X_fit_unit = fit.unit

    def block(self, Q: np.ndarray, start):
        k, X_fit, metric = self.k, self.X_fit, self.metric
        if np.ndim(start) == 0:
            start = np.arange(start, start + len(Q))
        n_features = X_fit.shape[1]
        if metric == "euclidean" and self.integer_exact:
            q_sq = np.einsum("ij,ij->i", Q, Q)
            Q_aug = np.hstack([Q, np.ones((len(Q), 1))])
            if _products_below(_EXACT_LIMIT_32, self.fit, Q):
                # Every product and partial sum is an integer below 2**24: exact
                # in float32 too, whatever order the BLAS adds in.
                D = Q_aug.astype(np.float32) @ self.fit.augmented32.T
            else:
                D = Q_aug @ self.X_aug.T
            self._exclude(D, start)
            values, columns = _select_threaded(D, k)
            return values.astype(np.float64) + q_sq[:, None], columns
        if metric == "manhattan":
            from scipy.spatial.distance import cdist

            D = cdist(Q, X_fit, metric="cityblock")
            self._exclude(D, start)
            return _select_threaded(D, k)
        if metric == "euclidean":
            q_sq = np.einsum("ij,ij->i", Q, Q)
            D = Q @ X_fit.T
            D *= -2.0
            D += q_sq[:, None]
            D += self.fit_sq[None, :]
            np.maximum(D, 0.0, out=D)
            tol = 4.0 * (n_features + 2) * _EPS * (q_sq + self.max_fit_sq)
        else:
            q_norm = np.sqrt(np.einsum("ij,ij->i", Q, Q))
            q_norm[q_norm == 0] = 1.0
            D = 1.0 - (Q / q_norm[:, None]) @ self.X_fit_unit.T
            tol = np.full(len(Q), 8.0 * (n_features + 2) * _EPS)
        self._exclude(D, start)
        return _rerank(metric, Q, X_fit, D, k, tol, self.exclude_self, start)

    def _exclude(self, D, query_rows):
        if self.exclude_self:
            D[np.arange(len(D)), query_rows] = np.inf


def _rerank(metric, Q, X_fit, D_approx, k, tol, exclude_self, query_rows):
    """Exact top-k from approximate distances: candidates, direct distances, proof."""
    n_fit = X_fit.shape[0]
    m = min(n_fit, 2 * k + 16)
    if m < n_fit:
        cand = np.argpartition(D_approx, m - 1, axis=1)[:, :m]
    else:
        cand = np.broadcast_to(np.arange(n_fit), D_approx.shape).copy()
    exact = _direct(metric, Q, X_fit, cand)
    if exclude_self:
        exact[cand == query_rows[:, None]] = np.inf
    values, columns = _select(exact, k, ids=cand)
    if m < n_fit:
        outside_floor = np.take_along_axis(D_approx, cand, 1).max(axis=1) - tol
        unsure = np.flatnonzero(outside_floor <= values[:, -1] + tol)
        for r in unsure:
            all_rows = np.arange(n_fit)[None, :]
            full = _direct(metric, Q[r : r + 1], X_fit, all_rows)
            if exclude_self:
                full[0, query_rows[r]] = np.inf
            v, c = _select(full, k)
            values[r], columns[r] = v[0], c[0]
    return values, columns
