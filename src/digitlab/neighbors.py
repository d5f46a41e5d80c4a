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
* A few query rows against many small integer rows (one picture against the
  default model) are first bounded from below in 16 principal directions; only
  rows whose bound is within rounding of an upper bound of the k-th distance
  get their exact integer distance, so the result is the same exact ranking.
* For other data the matrix product only proposes candidates. Their distances are
  recomputed directly, pair by pair, and a rigorous bound on the matrix product's
  rounding error proves that no row outside the candidates could rank higher;
  rows where the proof fails are ranked from direct distances of all rows.

Memory stays bounded: queries are processed in blocks so that one block of the
distance matrix takes at most ``block_bytes`` (256 MiB by default).
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from digitlab.errors import DigitlabError

__all__ = [
    "BACKENDS",
    "METRICS",
    "WEIGHTS",
    "FitRows",
    "Ranker",
    "check_backend",
    "check_metric",
    "check_weights",
    "kneighbors",
    "use",
    "vote",
]

METRICS = ("euclidean", "manhattan", "cosine")
WEIGHTS = ("uniform", "distance")
BACKENDS = ("numpy", "faiss")


@dataclass(frozen=True)
class _Settings:
    backend: str = "numpy"
    dask: object = None


_settings: contextvars.ContextVar[_Settings | None] = contextvars.ContextVar(
    "digitlab_neighbors_settings", default=None
)


def _current() -> _Settings:
    return _settings.get() or _Settings()


@contextlib.contextmanager
def use(backend: str | None = None, dask=None):
    """Rank neighbors with ``backend`` and/or on ``dask`` inside this block.

    Every :func:`kneighbors` call inside (from ``train``, ``sweep``, the model)
    that does not name its own ``backend`` or ``dask`` uses these. This is how
    the CLI's ``--backend`` and ``--dask`` reach every command.

    Examples
    --------
    >>> with use(backend="faiss"):  # doctest: +SKIP
    ...     digitlab.train(data)
    """
    current = _current()
    new = _Settings(
        backend=current.backend if backend is None else check_backend(backend),
        dask=current.dask if dask is None else dask,
    )
    token = _settings.set(new)
    try:
        if new.dask is not None and new.dask is not current.dask:
            from digitlab.distributed import connect

            with connect(new.dask) as client:
                inner = _settings.set(_Settings(new.backend, client))
                try:
                    yield
                finally:
                    _settings.reset(inner)
        else:
            yield
    finally:
        _settings.reset(token)


def current_dask():
    """The Dask client or address set with :func:`use`, or None."""
    return _current().dask


def check_backend(backend: str) -> str:
    """Return ``backend`` if digitlab knows it, else raise a clear error."""
    if backend not in BACKENDS:
        raise DigitlabError(
            f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}."
        )
    return backend


DEFAULT_BLOCK_BYTES = 256 * 2**20
_EPS = np.finfo(np.float64).eps
_EXACT_LIMIT = 2.0**52
# Integers up to 2**24 are exact in float32 as well: small counts (the 0..16 of
# the built-in digits) rank with half the memory traffic.
_EXACT_LIMIT_32 = 2.0**24
_EPS_32 = float(np.finfo(np.float32).eps)
# One or a few query rows against many small integer rows (a web request
# against the 16,173 rows of the default model) are ranked from lower bounds
# in a few principal directions first: see _pruned.
_PRUNE_DIMS = 16
_PRUNE_MIN_ROWS = 4096
_PRUNE_MAX_FEATURES = 128
_PRUNE_MAX_QUERIES = 8
# The first upper bound comes from about this many evenly spread rows.
_PRUNE_SAMPLE = 1024


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


def _block_rows(n_fit: int, n_features: int, block_bytes: int) -> int:
    # A block holds the n_fit-wide distance rows plus a few same-sized temporaries.
    per_row = 8 * max(n_fit, 1) * 3 + 8 * n_features
    return int(max(1, min(65536, block_bytes // per_row)))


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


def kneighbors(
    X_fit,
    X_query,
    k: int,
    *,
    metric: str = "euclidean",
    exclude_self: bool = False,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    squared: bool = False,
    backend: str | None = None,
    dask=None,
):
    """Rank the ``k`` nearest rows of ``X_fit`` for every row of ``X_query``.

    Parameters
    ----------
    X_fit : ndarray of shape (n_fit, n_features), or FitRows
        The rows to search (the training digits); a :class:`FitRows` of them
        keeps what the ranking derives from them for the next call.
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
    backend : {"numpy", "faiss"}, optional
        ``"faiss"`` (the ``fast`` extra) finds candidates with an exact flat
        index and re-ranks them exactly; the result is identical to ``"numpy"``.
        Default: the one chosen with :func:`use`, else ``"numpy"``.
    dask : str or distributed.Client, optional
        Run the blocks as Dask tasks: a scheduler address, ``"local:N"`` for a
        local cluster of N worker processes, or a client. The result is
        identical to the single-machine run. Default: the one chosen with
        :func:`use`, else none.

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
    fit = _fit_rows(X_fit)
    X_fit = fit.X
    X_query = np.asarray(X_query, dtype=np.float64)
    n_fit = X_fit.shape[0]
    n_query = X_query.shape[0]
    available = n_fit - 1 if exclude_self else n_fit
    if not 1 <= k <= available:
        raise DigitlabError(
            f"k={k} neighbors asked for, but only {available} training rows can be "
            f"neighbors; choose k between 1 and {available}."
        )
    if exclude_self and X_query.shape != X_fit.shape:
        raise DigitlabError("exclude_self needs the query rows to be the fit rows.")
    backend = check_backend(_current().backend if backend is None else backend)
    dask = _current().dask if dask is None else dask
    if backend == "faiss":
        from digitlab._faiss import faiss_kneighbors

        values, columns = faiss_kneighbors(
            X_fit,
            X_query,
            k,
            metric=metric,
            exclude_self=exclude_self,
            block_bytes=block_bytes,
        )
        return (values if squared else np.sqrt(values)), columns
    integer_exact = _integer_exact(metric, fit, X_query)
    rows = _block_rows(n_fit, X_fit.shape[1], block_bytes)
    blocks = [(start, min(n_query, start + rows)) for start in range(0, n_query, rows)]
    if dask is not None:
        from digitlab.distributed import rank_blocks

        parts = rank_blocks(
            dask,
            X_fit,
            None if exclude_self else X_query,
            blocks,
            k,
            metric=metric,
            exclude_self=exclude_self,
            integer_exact=integer_exact,
        )
    elif exclude_self and integer_exact and metric == "euclidean":
        values, columns = _symmetric_exact(X_fit, k, block_bytes)
        return (values if squared else np.sqrt(values)), columns
    elif (
        integer_exact
        and metric == "euclidean"
        and not exclude_self
        and n_query <= _PRUNE_MAX_QUERIES
        and n_fit >= _PRUNE_MIN_ROWS
        and X_fit.shape[1] <= _PRUNE_MAX_FEATURES
    ):
        values, columns = _pruned(fit, X_query, k)
        return (values if squared else np.sqrt(values)), columns
    else:
        ranker = Ranker(fit, k, metric, exclude_self, integer_exact)
        parts = [ranker.block(X_query[start:stop], start) for start, stop in blocks]
    dist_out = np.empty((n_query, k))
    idx_out = np.empty((n_query, k), dtype=np.intp)
    for (start, stop), (values, columns) in zip(blocks, parts, strict=True):
        dist_out[start:stop] = values
        idx_out[start:stop] = columns
    if metric == "euclidean" and not squared:
        np.sqrt(dist_out, out=dist_out)
    return dist_out, idx_out


def _pruned(fit: FitRows, Q: np.ndarray, k: int):
    """Exact squared euclidean top-k of a few integer query rows, pruned.

    ``b(x) = |P(q - x)|²`` (``P``: :attr:`FitRows.projection`) never exceeds
    ``|q - x|²``. The exact distances of any k rows bound the k-th smallest
    distance from above; here those of the 2k rows with the smallest bounds
    among every ``stride``-th row (a cheap sample) give ``u``. Every row at
    most ``u`` away (ties included) has ``b(x) <= u``: only rows whose computed
    bound is within its rounding error of ``u`` can be among the k nearest, and
    their exact integer distances decide, with the tie rule. For the default
    model that is a few dozen to a few hundred of 16,173 rows, found by reading
    a matrix a quarter the size of the rows (which keeps a busy server's caches
    for the rest).
    """
    P, Z_aug, largest = fit.projection
    n_fit, m = len(fit), len(P)
    n_take = min(2 * k, n_fit)
    stride = max(1, min(n_fit // _PRUNE_SAMPLE, n_fit // n_take))  # >= n_take rows
    values = np.empty((len(Q), k))
    columns = np.empty((len(Q), k), dtype=np.intp)
    zq_aug = np.ones(m + 1, dtype=np.float32)
    for r, q in enumerate(Q):
        zq = P @ q
        zq_sq = float(zq @ zq)
        zq_aug[:m] = zq
        shifted = zq_aug @ Z_aug  # b(x) - |Pq|², for every row
        # Each bound adds m + 1 float32 terms of at most |Pq|² + largest (after
        # float32 rounding of Z and Pq): far inside tol. The relative margin
        # covers P's rows being orthonormal only to float64 precision.
        tol = 4.0 * (m + 2) * _EPS_32 * (zq_sq + largest) + 1e-9 * zq_sq
        sample = shifted[::stride]
        first = np.argpartition(sample, n_take - 1)[:n_take] * stride
        exact = _exact_sq_function(fit, q)
        upper = np.partition(exact(first), k - 1)[k - 1]
        cand = np.flatnonzero(shifted <= upper * (1.0 + 1e-9) + tol - zq_sq)
        v, c = _select(exact(cand)[None], k, ids=cand[None])
        values[r], columns[r] = v[0], c[0]
    return values, columns


def _exact_sq_function(fit: FitRows, q: np.ndarray):
    """Squared distances of integer ``q`` to chosen integer rows: exact integers.

    Returns a function of the row numbers. Where every product and partial sum
    is an integer below 2**24 (the built-in digits' 0..16), in float32, which
    reads half the bytes and is exact in any order of addition.
    """
    q_sq = float(q @ q)
    if _products_below(_EXACT_LIMIT_32, fit, q):
        rows_aug, q_aug = fit.augmented32, np.ones(len(q) + 1, dtype=np.float32)
    else:
        rows_aug, q_aug = fit.augmented, np.ones(len(q) + 1)
    q_aug[:-1] = q
    return lambda rows: (rows_aug[rows] @ q_aug).astype(np.float64) + q_sq


def _symmetric_exact(X: np.ndarray, k: int, block_bytes: int):
    """Leave-one-out ranking of integer rows, using each product block twice.

    The rows are cut into square blocks; the product of blocks I and J (I <= J)
    gives the distances of I's rows to J's rows *and*, transposed, of J's rows
    to I's rows, so the matrix products cost half of the plain blocked ranking.
    Each row keeps its k best per block (the tie rule inside the block), and
    the union of those holds its k best overall, since fewer rows precede a
    winner inside its block than in the whole.
    """
    n = len(X)
    sq = np.einsum("ij,ij->i", X, X)
    # A square block holds the product, two distance blocks and selection work.
    side = int(max(64, min(n, np.sqrt(block_bytes / (8 * 5)))))
    edges = list(range(0, n, side)) + [n]
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    found: list[list] = [[] for _ in spans]
    for a, (i0, i1) in enumerate(spans):
        for b in range(a, len(spans)):
            j0, j1 = spans[b]
            P = X[i0:i1] @ X[j0:j1].T  # exact integers
            D = sq[j0:j1] - 2.0 * P  # |x_j|² - 2 x_i·x_j for the rows of I
            if a == b:
                np.fill_diagonal(D, np.inf)
            found[a].append(_select_threaded(D, min(k, j1 - j0), offset=j0))
            if a != b:
                D = np.multiply(P.T, -2.0, order="C")
                D += sq[i0:i1]
                found[b].append(_select_threaded(D, min(k, i1 - i0), offset=i0))
    values = np.empty((n, k))
    columns = np.empty((n, k), dtype=np.intp)
    for a, (i0, i1) in enumerate(spans):
        vals = np.hstack([v for v, _ in found[a]])
        cols = np.hstack([c for _, c in found[a]])
        order = np.lexsort((cols, vals), axis=-1)[:, :k]
        values[i0:i1] = np.take_along_axis(vals, order, 1) + sq[i0:i1, None]
        columns[i0:i1] = np.take_along_axis(cols, order, 1)
    return values, columns


def _integer_exact(metric: str, X_fit, X_query: np.ndarray) -> bool:
    """Whether the matrix-product distances are exact integers for this data."""
    if metric not in ("euclidean", "manhattan"):
        return False
    fit = _fit_rows(X_fit)
    if not (fit.integer_valued and _is_integer_valued(X_query)):
        return False
    return _products_below(_EXACT_LIMIT, fit, X_query)


def _products_below(limit: float, fit: FitRows, Q: np.ndarray) -> bool:
    """Whether every intermediate of the distance identity for integer rows of
    ``fit`` and ``Q`` stays below ``limit`` (then it is exact in that float
    type, in any order of addition): ``|q|² + |x|² + 2|q·x|`` bounds them."""
    largest = max(fit.largest, float(np.max(np.abs(Q), initial=0)))
    return bool(4.0 * largest**2 * fit.shape[1] < limit)


class Ranker:
    """Everything the ranking of one block of queries needs, prepared once.

    ``Ranker(X_fit, k, ...).block(Q, start)`` ranks the query rows ``Q`` (rows
    ``start, start+1, ...`` of the queries, or the row numbers ``start`` when it
    is an array) against ``X_fit`` (an array or a :class:`FitRows`). It is what
    each block of :func:`kneighbors` runs, on this machine or on a Dask worker.
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
    # Each (query, class) sum is accumulated in rank order, as scikit-learn adds
    # neighbor by neighbor, so float sums (distance weights) are bit-for-bit the
    # same: bincount adds its weights in the order given, here row-major.
    bins = (np.arange(n_query)[:, None] * n_classes + neighbor_labels).ravel()
    proba = np.bincount(bins, weights=w.ravel(), minlength=n_query * n_classes)
    proba = proba.reshape(n_query, n_classes)
    predicted = np.argmax(proba, axis=1)
    normalizer = proba.sum(axis=1, keepdims=True)
    normalizer[normalizer == 0.0] = 1.0
    proba /= normalizer
    return proba, predicted
