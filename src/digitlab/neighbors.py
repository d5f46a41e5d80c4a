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

import numpy as np

from digitlab._ranking import (
    _EPS_32,
    _EXACT_LIMIT_32,
    FitRows,
    Ranker,
    _current,
    _fit_rows,
    _integer_exact,
    _products_below,
    _select,
    _select_threaded,
    _Settings,
    _settings,
    _smallest_keys,
    _smallest_of_chunks,
)
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

METRICS = ("euclidean", "manhattan", "cosine", "tangent")
WEIGHTS = ("uniform", "distance")
BACKENDS = ("numpy", "faiss")


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
# A diagonal block of the leave-one-out ranking is multiplied as X @ X.T (half
# the products, then a copy) only with this many features or more: measured on
# the digits (64 features) the plain product is faster, on MNIST (784) the half.
_SYRK_MIN_FEATURES = 128
# One or a few query rows against many small integer rows (a web request
# against the 16,173 rows of the default model) are ranked from lower bounds
# in a few principal directions first: see _pruned.
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


def _block_rows(n_fit: int, n_features: int, block_bytes: int) -> int:
    # A block holds the n_fit-wide distance rows plus a few same-sized temporaries.
    per_row = 8 * max(n_fit, 1) * 3 + 8 * n_features
    return int(max(1, min(65536, block_bytes // per_row)))


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
    metric : {"euclidean", "manhattan", "cosine", "tangent"}
        ``tangent``: the nearest rows by euclidean distance re-ranked by a
        distance that forgives small shifts, rotations, size changes and pen
        widths of square pictures (:mod:`digitlab._tangent`; exact and
        deterministic too).
    exclude_self : bool
        ``X_query`` is ``X_fit`` and row ``i`` must not be its own neighbor
        (leave-one-out rankings).
    block_bytes : int
        Upper bound on the memory one block of distances may take.
    squared : bool
        Euclidean and tangent only: return the squared distances, the values
        actually ranked
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
    if metric == "tangent":
        from digitlab._tangent import N_CANDIDATES, rerank

        _, candidates = kneighbors(
            fit,
            X_query,
            min(max(N_CANDIDATES, k), available),
            exclude_self=exclude_self,
            block_bytes=block_bytes,
            backend=backend,
            dask=dask,
        )
        values, columns = rerank(X_fit, X_query, candidates, k)
        return (values if squared else np.sqrt(values)), columns
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
        values, columns = _symmetric_exact(fit, k, block_bytes)
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


def _symmetric_exact(fit: FitRows, k: int, block_bytes: int):
    """Leave-one-out ranking of integer rows, using each product block twice.

    The rows are cut into square blocks; the product of blocks I and J (I <= J)
    gives the distances of I's rows to J's rows *and*, transposed, of J's rows
    to I's rows, so the matrix products cost half of the plain blocked ranking.
    Each row keeps its k best per block (the tie rule inside the block), and
    the union of those holds its k best overall, since fewer rows precede a
    winner inside its block than in the whole.

    Row ``i`` ranks ``D_ij = |x_j|² - 2 x_i·x_j`` (``|x_i|²`` is the same along
    the row), an exact integer in ``[-2L, L]`` with ``L`` the largest ``|x|²``.
    Where ``(D_ij + 2L) * n + j`` fits an exact integer type, that one key per
    entry orders by distance and, on equal distance, by row number: selecting
    the k smallest keys (a partition, then a sort of k) is the whole ranking,
    with the tie rule, and needs no second pass over the candidates.
    """
    X = fit.X
    n = len(X)
    sq = fit.sq
    largest = int(sq.max(initial=0))
    n_keys = (3 * largest + 2) * n  # the keys, and the diagonal's key above them
    if n_keys >= 2**53:
        return _symmetric_by_value(X, sq, k, block_bytes)
    # key_ij = column_key_j - 2n·(x_i·x_j), with column_key_j = (|x_j|² + 2L)·n + j.
    if _products_below(_EXACT_LIMIT_32, fit, X):
        # Every product and partial sum is an integer below 2**24: exact in
        # float32 too, at twice the speed; the keys are then made as integers.
        rows = scaled = X.astype(np.float32)
        key_type = np.int32 if n_keys < 2**31 else np.int64
    else:
        # float64 keys, and the factor -2n folded into one side of the product:
        # its entries stay integers far below 2**53 (|2n x_i·x_j| <= n_keys), so
        # each key is that product plus the column's part, one pass.
        rows, scaled, key_type = X, X * (-2.0 * n), np.float64
    column_key = ((sq + 2 * largest) * n + np.arange(n)).astype(key_type)
    factor = key_type(-2 * n)
    outside = key_type(n_keys - n)

    def keys_of(P, is_scaled, columns, in_place, diagonal=False):
        """``make_keys`` for :func:`_smallest_of_chunks` on the product ``P``."""

        def make(r0, r1):
            part = P[r0:r1]
            if in_place and part.dtype == key_type:
                K = part
            else:
                K = np.empty(part.shape, dtype=key_type)  # C order, also for P.T
            if not is_scaled:
                np.multiply(part, factor, out=K, dtype=key_type, casting="unsafe")
            elif K is not part:
                np.copyto(K, part, casting="unsafe")
            K += columns
            if diagonal:  # row i is not its own neighbor
                rows_here = np.arange(r1 - r0)
                K[rows_here, rows_here + r0] = outside
            return K

        return make

    spans = _square_spans(n, block_bytes)
    found: list[list] = [[] for _ in spans]
    for a, (i0, i1) in enumerate(spans):
        for b in range(a, len(spans)):
            j0, j1 = spans[b]
            if a == b and rows.shape[1] >= _SYRK_MIN_FEATURES:
                # numpy computes X @ X.T as half a product plus a transposed
                # copy: worth it with many features (MNIST's 784), not with few.
                P, is_scaled = rows[i0:i1] @ rows[i0:i1].T, False
            else:
                other = scaled[j0:j1]
                if a == b and scaled is rows:
                    other = other.copy()  # the plain product, not X @ X.T's half
                P, is_scaled = rows[i0:i1] @ other.T, scaled is not rows
            if a != b:
                # J's rows against I's first: the keys of I's rows reuse P's memory.
                make = keys_of(P.T, is_scaled, column_key[i0:i1], in_place=False)
                found[b].append(
                    _smallest_of_chunks(j1 - j0, i1 - i0, min(k, i1 - i0), make)
                )
            make = keys_of(
                P, is_scaled, column_key[j0:j1], in_place=True, diagonal=a == b
            )
            found[a].append(
                _smallest_of_chunks(i1 - i0, j1 - j0, min(k, j1 - j0), make)
            )
    keys = np.empty((n, k), dtype=np.int64)
    for a, (i0, i1) in enumerate(spans):
        merged = found[a][0] if len(found[a]) == 1 else np.hstack(found[a])
        keys[i0:i1] = _smallest_keys(merged, k) if len(found[a]) > 1 else merged
    values, columns = np.divmod(keys, n)
    return (values - 2 * largest + sq[:, None]).astype(np.float64), columns


def _square_spans(n: int, block_bytes: int) -> list[tuple[int, int]]:
    """The row ranges of the square blocks a leave-one-out ranking works in.

    A block's product and its few working copies stay within ``block_bytes``
    (about five float64 matrices of side × side); at least 64 rows a side.
    """
    side = int(max(64, min(n, np.sqrt(block_bytes / (8 * 5)))))
    edges = list(range(0, n, side)) + [n]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _symmetric_by_value(X: np.ndarray, sq: np.ndarray, k: int, block_bytes: int):
    """:func:`_symmetric_exact` for integers too large for one key per entry."""
    n = len(X)
    spans = _square_spans(n, block_bytes)
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
