"""Tangent distance: a distance between digits that forgives small deformations.

Two pictures of the same digit by different writers differ by small shifts,
rotations, size and aspect changes and pen widths; the euclidean distance
counts each of those as a difference. The two-sided tangent distance (Simard,
LeCun and Denker, 1993) does not: each picture may move along its own seven
*tangents* (x and y shift, rotation, scaling, the two hyperbolic deformations,
a thicker pen), and the distance is what is left after the best such move of
both,

    d(q, x)² = min over a, b of |(q' + T_q a) - (x' + T_x b)|² + 0.2 |q - x|².

The last term (:data:`EUCLIDEAN_SHARE` of the plain squared euclidean
distance) keeps large deformations from being free: the tangents are only
right for small moves, and far along them one digit becomes another.

For the ``tangent`` metric of :func:`digitlab.neighbors.kneighbors`:

1. the ``N_CANDIDATES`` (30, at least ``k``) nearest rows by euclidean
   distance are found by the exact euclidean ranking (ties: earlier row);
2. the query and each candidate are drawn at twice the resolution (bilinear),
   blurred (a Gaussian of one fine pixel) and their x and y gradients taken;
   the drawing (``q'``, ``x'``) and the gradients are pooled back to the
   picture's own grid (the mean of each 2×2 cell), and the seven tangents are
   made from the gradients and the pixels' positions;
3. the candidates are ordered by their tangent distance, equal distances by
   row number, and the first ``k`` are the neighbors.

Step 2 is one fixed matrix applied to the rows, so each query costs a few
small matrix products: about 0.3 ms for 30 candidates. The numbers are float64
throughout; a tiny ridge keeps the least-squares fit defined for a blank
picture (no gradient, no tangents).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import ndimage

__all__ = ["EUCLIDEAN_SHARE", "N_CANDIDATES", "rerank", "tangent_sq_distances"]

#: How many euclidean neighbors the tangent distance re-ranks. More cost CPU
#: per picture (the web page's budget) and did not read MNIST better (of 2,000
#: digits, without the euclidean share: 30 candidates 86.5 %, 50: 85.7 %).
N_CANDIDATES = 30

#: The share of the squared euclidean distance added to the squared tangent
#: distance. Chosen on MNIST (4,000 digits, every 5th from the 1st and from the
#: 3rd): 0: 86.6 %, 0.1: 86.8 %, 0.2: 86.9 %, 0.4: 86.7 %.
EUCLIDEAN_SHARE = 0.2

_UPSAMPLE = 2
_BLUR = 1.0  # in pixels of the finer drawing
_RIDGE = 1e-9  # relative to the tangents' total squared length
_TINY = 1e-9


def _side(n_features: int) -> int:
    side = math.isqrt(n_features)
    if side * side != n_features:
        from digitlab.errors import DigitlabError

        raise DigitlabError(
            f"The tangent metric needs square pictures, but the rows have "
            f"{n_features} features; use metric='euclidean'."
        )
    return side


@functools.lru_cache(maxsize=4)
def _operators(side: int):
    """The smoothed picture and its two gradients as matrices on the rows.

    Drawing at twice the resolution, blurring, differentiating and pooling
    back are all linear, so each is one matrix, found by applying the steps to
    every unit row once: the smoothing (n_features, n_features) and the x and
    y gradients side by side (n_features, 2 n_features). Also returns the x
    and y position of every pixel.
    """
    n = side * side
    units = np.eye(n).reshape(n, side, side)
    fine = ndimage.zoom(units, (1, _UPSAMPLE, _UPSAMPLE), order=1, mode="nearest")
    smooth = ndimage.gaussian_filter(fine, (0, _BLUR, _BLUR), mode="constant")
    parts = [fine, np.gradient(smooth, axis=2), np.gradient(smooth, axis=1)]
    cell = (n, side, _UPSAMPLE, side, _UPSAMPLE)
    pooled = [p.reshape(cell).mean(axis=(2, 4)).reshape(n, n) for p in parts]
    smoothing, gx, gy = pooled
    gradients = np.ascontiguousarray(np.concatenate([gx, gy], axis=1))
    middle = (side - 1) / 2
    yy, xx = np.mgrid[0:side, 0:side]
    x, y = ((xx - middle) / side).ravel(), ((yy - middle) / side).ravel()
    return smoothing, gradients, x, y


def _tangents(rows: np.ndarray, side: int) -> np.ndarray:
    """The seven tangents of each row: (m, f) -> (m, 7, f)."""
    _, gradients, x, y = _operators(side)
    f = side * side
    out = rows @ gradients
    gx, gy = out[:, :f], out[:, f:]
    xgx, ygx, xgy, ygy = x * gx, y * gx, x * gy, y * gy
    tangents = np.empty((len(rows), 7, f))
    tangents[:, 0] = gx  # shift right
    tangents[:, 1] = gy  # shift down
    np.subtract(ygx, xgy, out=tangents[:, 2])  # rotation
    np.add(xgx, ygy, out=tangents[:, 3])  # scaling
    np.subtract(xgx, ygy, out=tangents[:, 4])  # stretch along x, squeeze along y
    np.add(ygx, xgy, out=tangents[:, 5])  # the same along the diagonals
    np.hypot(gx, gy, out=tangents[:, 6])  # a thicker pen
    return tangents


def tangent_sq_distances(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Squared two-sided tangent distances of one query row to each of ``rows``.

    Parameters
    ----------
    query : ndarray of shape (n_features,)
        A square picture as one flat row (64 counts of an 8×8 digit).
    rows : ndarray of shape (m, n_features)

    Returns
    -------
    ndarray of shape (m,)
        Squared distances between the smoothed pictures after the best
        deformation of both, plus ``EUCLIDEAN_SHARE`` times the squared
        euclidean distance, in the units of the rows.

    Examples
    --------
    >>> import numpy as np
    >>> digit = np.zeros((8, 8)); digit[1:7, 3] = 16
    >>> shifted = np.roll(digit, 1, axis=1)
    >>> euclidean_sq = float(((digit - shifted) ** 2).sum())
    >>> bool(tangent_sq_distances(digit.ravel(), shifted.ravel()[None])[0]
    ...      < euclidean_sq / 3)
    True
    """
    query = np.asarray(query, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.float64)
    return _sq_distances(query, rows, _side(query.shape[-1]))


def _sq_distances(query: np.ndarray, rows: np.ndarray, side: int) -> np.ndarray:
    """:func:`tangent_sq_distances` of float64 rows of a known picture side."""
    tq = _tangents(query[None], side)
    tx = _tangents(rows, side)
    m, n_tangents, f = tx.shape
    # The smoothing is linear: the difference of the smoothed pictures is the
    # smoothed difference, which is exactly zero for a row equal to the query.
    difference = (rows - query) @ _operators(side)[0]
    # q + Tq a = x + Tx b  <=>  x - q = Tq a - Tx b: the least-squares fit of
    # the difference by the 14 tangents together. In two steps: first what the
    # query's own tangents explain (an orthonormal basis of them, shared by all
    # rows), then what the row's tangents explain of the rest.
    basis_q = _orthonormal(tq[0])
    difference -= (difference @ basis_q.T) @ basis_q
    rest = tx.reshape(m * n_tangents, f)
    rest = (rest - (rest @ basis_q.T) @ basis_q).reshape(m, n_tangents, f)
    gram = rest @ rest.transpose(0, 2, 1)
    along = (rest @ difference[:, :, None])[:, :, 0]
    # A blank picture has no tangents: a tiny ridge keeps the fit defined and
    # changes nothing else measurable.
    ridge = _RIDGE * (np.trace(gram, axis1=1, axis2=2) + 1.0)
    gram = gram + ridge[:, None, None] * np.eye(n_tangents)
    fit = np.linalg.solve(gram, along[:, :, None])[:, :, 0]
    residual = (difference * difference).sum(axis=1) - (along * fit).sum(axis=1)
    # Moving along the tangents is free only to first order: far moves turn
    # one digit into another (a plain 7 into a 3). A share of the plain
    # euclidean distance keeps every difference costing something.
    euclidean_sq = ((rows - query) ** 2).sum(axis=1)
    return np.maximum(residual, 0.0) + EUCLIDEAN_SHARE * euclidean_sq


def _orthonormal(vectors: np.ndarray) -> np.ndarray:
    """An orthonormal basis (as rows) of the span of ``vectors`` (t, f).

    Modified Gram-Schmidt in a fixed order; vectors that add (almost) nothing
    to the span (a blank picture has no gradient) become zero rows.
    """
    basis = np.zeros_like(vectors)
    for j, v in enumerate(vectors):
        v = v - basis[:j].T @ (basis[:j] @ v)
        length = float(np.sqrt(v @ v))
        if length > _TINY * (1.0 + float(np.sqrt(vectors[j] @ vectors[j]))):
            basis[j] = v / length
    return basis


def rerank(X_fit: np.ndarray, X_query: np.ndarray, candidates: np.ndarray, k: int):
    """The ``k`` candidates of each query with the smallest tangent distance.

    Parameters
    ----------
    X_fit : ndarray of shape (n_fit, n_features)
    X_query : ndarray of shape (n_query, n_features)
    candidates : ndarray of int, shape (n_query, n_candidates)
        Row numbers into ``X_fit`` (the euclidean neighbors).
    k : int

    Returns
    -------
    sq_distances : ndarray of shape (n_query, k)
        Squared tangent distances, increasing.
    indices : ndarray of shape (n_query, k)
        Equal distances ordered by row number.
    """
    dist = np.empty((len(X_query), k))
    ind = np.empty((len(X_query), k), dtype=np.intp)
    side = _side(X_query.shape[1])
    for i, (q, rows) in enumerate(zip(X_query, candidates, strict=True)):
        d = _sq_distances(q, X_fit[rows], side)
        order = np.lexsort((rows, d))[:k]
        dist[i] = d[order]
        ind[i] = rows[order]
    return dist, ind
