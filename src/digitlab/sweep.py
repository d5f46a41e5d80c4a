"""The lesson's experiment done honestly: test_size × k × many splits, one ranking.

The lesson ends with "try other values of test_size and n_neighbors and find the
best combination". Doing that with one split per setting rewards the luckiest
split. :func:`sweep` scores every (test_size, k) cell on many seeded splits (or
k-fold cross-validation, or leave-one-out), summarizes each cell with a mean, a
standard deviation and a 95 % interval (:mod:`digitlab.stats`), and says when the
best cells cannot be told apart.

How it is fast and still exact
------------------------------
Every row of the data is ranked against all other rows ONCE
(:func:`digitlab.neighbors.kneighbors` with ``exclude_self``), deep enough that a
test row keeps at least ``max(ks)`` training rows after any split's test rows are
left out. For one split, the neighbors a KNN fitted on the train part would see
are the ranking's entries that are training rows, in the same order, except that
equal distances must be ordered by position in the train part (where
``train_test_split`` put them) rather than by row number. Splits are grouped in
families that order their training rows the same way (:class:`_Family`): the
random splits of one seed are one ``RandomState(seed).permutation``, whatever
the test size. With each row's place in that order as its rank, one integer key
per ranking entry, ``distance group * n + rank`` (plus a constant for rows
outside the train part), orders exactly as the KNN does, so the ``max(ks)``
smallest keys of each test row are its neighbors: one sort per split for all its
test rows (:func:`_read_family`). The test rows of all splits are then voted on
together for every k at once (:func:`vote_every_k`). Rows where the ranking is
not provably deep enough (too few training rows inside it, or the k-th in the
group of its last entry) are searched again directly against the train part.
The result of every (test_size, k, seed) cell is exactly what ``digitlab train``
gives for it.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from digitlab.data import Dataset, check_seeds, check_test_size, load_digits
from digitlab.errors import DigitlabError
from digitlab.neighbors import (
    DEFAULT_BLOCK_BYTES,
    check_metric,
    check_weights,
    kneighbors,
)
from digitlab.stats import Summary, summarize

__all__ = [
    "DEFAULT_KS",
    "DEFAULT_REPEATS",
    "DEFAULT_TEST_SIZES",
    "Cell",
    "Ranking",
    "SplitScore",
    "SweepResult",
    "evaluate_split",
    "parse_ks",
    "parse_test_sizes",
    "rank_all",
    "shuffle_split_order",
    "split_neighbors",
    "sweep",
    "vote_every_k",
]

DEFAULT_TEST_SIZES = (0.1, 0.2, 0.3, 0.4, 0.5)
DEFAULT_KS = tuple(range(1, 16))
DEFAULT_REPEATS = 20
# RandomState (behind train_test_split and KFold) takes seeds up to 2**32 - 1.
_MAX_SEED = 2**32 - 1


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class Ranking:
    """Every row's nearest other rows, nearest first (``kneighbors`` tie rule).

    Attributes
    ----------
    distances, indices : ndarray of shape (n_samples, depth)
        From ``kneighbors(X, X, depth, exclude_self=True)``.
    ranked : ndarray of shape (n_samples, depth)
        The values the ranking compared: squared distances for euclidean (two
        square roots can be equal where the squares are not), else ``distances``.
    groups : ndarray of int, shape (n_samples, depth)
        Equal ranked values in a row share a group number; groups increase with
        distance. Used to re-order ties by train position.
    X : ndarray
        The rows ranked, for the direct searches of rows the ranking cannot prove.
    metric : str
    """

    distances: np.ndarray
    ranked: np.ndarray
    indices: np.ndarray
    groups: np.ndarray
    X: np.ndarray
    metric: str

    @property
    def depth(self) -> int:
        return int(self.indices.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.indices.shape[0])

    @property
    def complete(self) -> bool:
        """Whether every row's ranking holds all the other rows."""
        return self.depth >= self.n_samples - 1

    @cached_property
    def key_dtype(self):
        """The integer type of the read-off's sort keys (see :func:`_read_family`)."""
        return np.int32 if 2 * (self.depth + 1) * self.n_samples < 2**31 else np.int64

    @cached_property
    def group_keys(self) -> np.ndarray:
        """``groups * n_samples``: the major part of the (distance, train rank) key."""
        return self.groups.astype(self.key_dtype) * self.key_dtype(self.n_samples)

    @cached_property
    def group_distances(self) -> np.ndarray:
        """``[row, g]``: the distance of the row's group ``g`` (its ``g``-th value)."""
        out = np.zeros(self.distances.shape)
        out[np.arange(self.n_samples)[:, None], self.groups] = self.distances
        return out


def rank_all(
    X, depth: int, *, metric: str = "euclidean", block_bytes: int = DEFAULT_BLOCK_BYTES
) -> Ranking:
    """Rank every row of ``X`` against all other rows, ``depth`` neighbors deep.

    Memory stays bounded: :func:`~digitlab.neighbors.kneighbors` works in blocks
    of at most ``block_bytes`` of distances (256 MiB by default), never a full
    ``n × n`` matrix; the ranking itself holds ``n × depth`` entries.
    """
    X = np.asarray(X, dtype=np.float64)
    ranked, ind = kneighbors(
        X,
        X,
        depth,
        metric=metric,
        exclude_self=True,
        squared=True,
        block_bytes=block_bytes,
    )
    # The same square roots kneighbors takes, so vote weights are the same floats.
    dist = np.sqrt(ranked) if metric == "euclidean" else ranked
    groups = np.zeros(ranked.shape, dtype=np.int32)
    np.cumsum(ranked[:, 1:] != ranked[:, :-1], axis=1, out=groups[:, 1:])
    return Ranking(dist, ranked, ind, groups, X, metric)


@dataclass(frozen=True)
class _Family:
    """Splits that order their training rows the same way, read off together.

    ``order`` lists every row once; each split's train part is ``order[lo:hi]``
    (in that order: positions in the train part are ``rank - lo``) and its test
    rows are ``rows[:n_test]``. The random splits of one seed are one family:
    ``ShuffleSplit`` draws one permutation, the test part is its first
    ``n_test`` rows and the train part the rest, for every test size.
    """

    order: np.ndarray
    rows: np.ndarray
    splits: tuple[tuple[int, int, int], ...]  # (lo, hi, n_test)

    @classmethod
    def of_split(cls, n_samples: int, train_index, test_index) -> _Family:
        """One split in any order (stratified, a fold, one given by a caller)."""
        train_index = np.asarray(train_index, dtype=np.intp)
        test_index = np.asarray(test_index, dtype=np.intp)
        rest = np.ones(n_samples, dtype=bool)
        rest[train_index] = False
        order = np.concatenate((train_index, np.flatnonzero(rest)))
        return cls(order, test_index, ((0, len(train_index), len(test_index)),))

    def train_index(self, split: int) -> np.ndarray:
        lo, hi, _ = self.splits[split]
        return self.order[lo:hi]

    def test_index(self, split: int) -> np.ndarray:
        return self.rows[: self.splits[split][2]]


def _read_family(ranking: Ranking, family: _Family, k: int, with_distances: bool):
    """The ``k`` nearest training rows of every test row of every split of a family.

    For a test row, the neighbors a KNN fitted on the train part sees are the
    ranking's entries that are training rows, in the same order except among
    equal distances, which the KNN orders by train position (the ranking by row
    number). With ``rank`` a row's place in ``family.order``, train position is
    ``rank - lo``, so one integer sort key per entry does both at once:
    ``group * n + rank``, plus a large constant for rows outside the train part.
    The ``k`` smallest keys of a row are its ``k`` nearest training rows, tie
    rule included.

    A row is taken from the ranking only when that is provably right: its k-th
    training neighbor lies in a strictly nearer group than the last entry read
    (everything outside the ranking is at least that far). The ranking's
    columns are read in two passes, a shallow window that proves nearly every
    row, then the whole depth; rows the ranking cannot prove are searched
    directly against the train part. When the ranking holds every other row, a
    tie at its last place cannot hide anything: its rows are proven too.

    Parameters
    ----------
    ranking : Ranking
    family : _Family
    k : int
        How many training neighbors per test row.
    with_distances : bool
        Also return their distances (for distance-weighted votes).

    Yields
    ------
    One tuple per split of the family, in order:

    distances : ndarray of shape (n_test, k), or None
        None when ``with_distances`` is false and every row was proven.
    ranks : ndarray of int, shape (n_test, k)
        Places in ``family.order`` (train positions plus ``lo``).
    n_direct : int
        How many test rows were searched directly.
    """
    n, depth = ranking.n_samples, ranking.depth
    key_type = ranking.key_dtype
    n_key = key_type(n)
    outside_key = key_type((depth + 1) * n)
    rank_of_row = np.empty(n, dtype=key_type)
    rank_of_row[family.order] = np.arange(n, dtype=key_type)
    windows = [
        min(depth, _window_for(k, 1.0 - (hi - lo) / n)) for lo, hi, _ in family.splits
    ]
    n_read = max(n_test for _, _, n_test in family.splits)
    rows = family.rows[:n_read]
    # The keys of the first max(windows) columns of every row read; the rows a
    # window does not prove are read again at the whole depth.
    shallow = max(windows)
    read_ranks = rank_of_row[ranking.indices[rows, :shallow]]
    read_keys = read_ranks + ranking.group_keys[rows, :shallow]
    for (lo, hi, n_test), window in zip(family.splits, windows, strict=True):
        keys = np.zeros((n_test, k), dtype=key_type)
        left = np.arange(n_test)
        for width in dict.fromkeys((window, depth)):
            if not len(left):
                break
            if width < k:  # a ranking shallower than k: search directly
                continue
            if width <= shallow and len(left) == n_test:
                part, rank = read_keys[:n_test, :width], read_ranks[:n_test, :width]
            else:
                rank = rank_of_row[ranking.indices[rows[left], :width]]
                part = rank + ranking.group_keys[rows[left], :width]
            # Arithmetic, not a masked write: several times faster on these shapes.
            outside = rank < lo
            if hi < n:
                outside |= rank >= hi
            part = part + outside * outside_key
            best = np.sort(part, axis=1)[:, :k]
            # Proven: the k-th key (a training row's) is in a group strictly
            # nearer than the last one read; a key at or above the last group's
            # keys is a farther, cut or outside entry.
            if ranking.complete and width == depth:
                proven = best[:, -1] < outside_key
            else:
                proven = best[:, -1] < ranking.group_keys[rows[left], width - 1]
            if len(left) == n_test and proven.all():
                keys, left = best, left[:0]
                break
            keys[left[proven]] = best[proven]
            left = left[~proven]
        group = keys // n_key
        ranks = keys - group * n_key
        dist = None
        if with_distances or len(left):
            dist = ranking.group_distances[rows[:n_test, None], group]
        if len(left):
            train = family.order[lo:hi]
            d, p = kneighbors(
                ranking.X[train], ranking.X[rows[left]], k, metric=ranking.metric
            )
            dist[left], ranks[left] = d, p + lo
        yield dist, ranks, len(left)


def split_neighbors(
    ranking: Ranking, train_index, test_index, k: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``k`` nearest training rows of each test row, as a KNN on the split sees.

    Equal to ``kneighbors(X[train_index], X[test_index], k)``: equal distances are
    ordered by position in ``train_index``. Rows the ranking does not prove are
    searched directly (see :func:`_read_family`).

    Returns
    -------
    distances : ndarray of shape (n_test, k)
    positions : ndarray of int, shape (n_test, k)
        Positions in ``train_index`` (row numbers of the train part).
    n_direct : int
        How many test rows the ranking could not prove and were searched directly.
    """
    family = _Family.of_split(ranking.n_samples, train_index, test_index)
    ((dist, ranks, n_direct),) = _read_family(ranking, family, k, True)
    ranks = ranks.astype(np.intp)
    return dist, ranks, n_direct


def vote_every_k(neighbor_labels, distances, ks, n_classes: int, weights: str):
    """Predicted class codes for every k at once, from ranked neighbors.

    Column ``j`` equals what :func:`digitlab.neighbors.vote` predicts from the
    first ``ks[j]`` neighbors: the votes are added neighbor by neighbor in the same
    order, so even distance-weighted sums are the same floats.

    Rows whose neighbors all share one label predict it for every k. For the
    others the leading class is followed as the votes come in: adding to class
    ``c`` can only make ``c`` the new leader, when it now has more votes than
    the leader, or as many and a smaller label. That is ``argmax`` (equal votes
    to the smallest label) at every step, without looking at all classes.

    Returns
    -------
    ndarray of int, shape (n_query, len(ks))
    """
    check_weights(weights)
    neighbor_labels = np.asarray(neighbor_labels)
    ks = [int(k) for k in ks]
    k_max = max(ks)
    labels = neighbor_labels[:, :k_max]
    predicted = np.empty((len(labels), len(ks)), dtype=np.int64)
    first = labels[:, 0]
    unanimous = np.all(labels == first[:, None], axis=1)
    predicted[unanimous] = first[unanimous, None]
    rows = np.flatnonzero(~unanimous)
    if len(rows):
        labels = labels[rows]
        if weights == "uniform":
            votes = _leaders_by_count(labels, ks, n_classes)
        else:
            votes = _leaders_by_distance(labels, distances[rows, :k_max], ks, n_classes)
        predicted[rows] = votes
    return predicted


def _leaders_by_count(labels, ks, n_classes):
    """The leading class after each k of ``labels`` (uniform votes).

    Each class's tally is kept as ``count * pack + (pack - 1 - c)`` (``pack`` a
    power of two above the largest label): the largest tally is the most votes
    and, among equal votes, the smallest label, so the leader's tally is simply
    the running maximum. The labels are read one rank at a time (the transposed
    layout) and the tallies are small integers, which keeps every step cheap.
    """
    n_rows = len(labels)
    pack = 1 << int(n_classes - 1).bit_length()
    small = (max(ks) + 1) * pack < 2**15
    tally_type = np.int16 if small else np.int64
    slots = np.ascontiguousarray(labels.T, dtype=np.intp)
    slots += np.arange(n_rows) * n_classes
    tally = np.tile(
        np.arange(pack - 1, pack - 1 - n_classes, -1, dtype=tally_type), n_rows
    )
    lead = np.full(n_rows, pack - 1, dtype=tally_type)  # class 0, no votes
    out = np.empty((len(ks), n_rows), dtype=tally_type)
    column = {k: j for j, k in enumerate(ks)}
    step = tally_type(pack)
    for j in range(max(ks)):
        slot = slots[j]
        mine = tally[slot]
        mine += step
        tally[slot] = mine
        np.maximum(lead, mine, out=lead)
        if j + 1 in column:
            out[column[j + 1]] = lead
    out &= tally_type(pack - 1)
    return (pack - 1 - out.T).astype(np.int64)


def _leaders_by_distance(labels, distances, ks, n_classes):
    """The leading class after each k of ``labels`` (votes weighted 1/distance)."""
    with np.errstate(divide="ignore"):
        w = 1.0 / distances
    # Nearest first, so a neighbor at distance 0 is in every prefix: there the
    # zero-distance neighbors take the whole vote, as in ``vote``.
    zero = distances[:, 0] == 0.0
    w[zero] = distances[zero] == 0.0
    n_rows = len(labels)
    labels_by_rank = np.ascontiguousarray(labels.T, dtype=np.intp)
    slots = labels_by_rank + np.arange(n_rows) * n_classes
    w = np.ascontiguousarray(w.T)
    votes = np.zeros(n_rows * n_classes)
    leader = np.zeros(n_rows, dtype=np.intp)  # argmax of no votes: class 0
    lead = np.zeros(n_rows)
    out = np.empty((len(ks), n_rows), dtype=np.int64)
    column = {k: j for j, k in enumerate(ks)}
    for j in range(max(ks)):
        label, slot = labels_by_rank[j], slots[j]
        mine = votes[slot]
        mine += w[j]
        votes[slot] = mine
        take = (mine > lead) | ((mine == lead) & (label < leader))
        leader = np.where(take, label, leader)
        np.maximum(lead, mine, out=lead)
        if j + 1 in column:
            out[column[j + 1]] = leader
    return out.T


@dataclass(frozen=True)
class SplitScore:
    """How many test rows each k got right on one split."""

    n_correct: np.ndarray
    n_train: int
    n_test: int
    n_direct: int


def evaluate_split(
    ranking: Ranking,
    labels,
    train_index,
    test_index,
    ks,
    weights: str = "uniform",
) -> SplitScore:
    """Score one split for every k at once: a pure function, safe to run as a task.

    Parameters
    ----------
    ranking : Ranking
        From :func:`rank_all` on the whole data.
    labels : ndarray of int, shape (n_samples,)
        Class codes 0..n_classes-1 (``np.unique(y, return_inverse=True)[1]``).
    train_index, test_index : ndarray of int
        The split, in the order ``train_test_split`` (or a fold) gives.
    ks : sequence of int
    weights : {"uniform", "distance"}

    Returns
    -------
    SplitScore
    """
    family = _Family.of_split(ranking.n_samples, train_index, test_index)
    (score,) = _score_families(ranking, np.asarray(labels), [family], ks, weights)
    return score


# The test rows voted on together at most (about 30 MB of neighbor labels and
# votes at k 15): enough to vote every split of the default grids at once,
# while a sweep of many more seeds keeps its memory bounded.
_VOTE_BATCH_ROWS = 2**20


def _score_families(ranking, labels, families, ks, weights, progress=None):
    """:class:`SplitScore` of every split of ``families``, in order.

    The test rows of many splits are voted on together (one pass per k, not one
    per split), then counted per split. A row whose ``max(ks)`` nearest
    training rows share one label predicts it for every k (no votes needed).
    """
    ks = [int(k) for k in ks]
    k_max = max(ks)
    n_classes = int(labels.max()) + 1
    labels = labels.astype(np.int16 if n_classes < 2**15 else np.int64)
    scores: list[SplitScore] = []
    batch: list[tuple] = []
    n_batch_rows = 0
    total = sum(len(f.splits) for f in families)
    done = 0
    for family in families:
        label_by_rank = labels[family.order]
        reads = _read_family(ranking, family, k_max, weights == "distance")
        for (lo, hi, n_test), (dist, ranks, direct) in zip(
            family.splits, reads, strict=True
        ):
            truth = labels[family.rows[:n_test]]
            batch.append((label_by_rank[ranks], dist, truth, hi - lo, direct))
            n_batch_rows += n_test
        done += len(family.splits)
        if n_batch_rows >= _VOTE_BATCH_ROWS:
            scores += _score_batch(batch, ks, n_classes, weights)
            batch, n_batch_rows = [], 0
        if progress is not None:
            progress(done, total)
    return scores + _score_batch(batch, ks, n_classes, weights)


def _score_batch(batch, ks, n_classes, weights) -> list[SplitScore]:
    """Vote the test rows of a batch of splits together and count each split."""
    if not batch:
        return []
    neighbor_labels = np.concatenate([b[0] for b in batch])
    truth = np.concatenate([b[2] for b in batch])
    sizes = np.array([len(b[2]) for b in batch])
    ends = np.cumsum(sizes)
    starts = ends - sizes
    first = neighbor_labels[:, 0]
    unanimous = np.all(neighbor_labels == first[:, None], axis=1)
    # Right for every k: a unanimous row whose label is the true one.
    always = np.concatenate(([0], np.cumsum(unanimous & (first == truth))))
    n_correct = np.repeat((always[ends] - always[starts])[:, None], len(ks), axis=1)
    others = np.flatnonzero(~unanimous)
    if len(others):
        if weights == "uniform":
            predicted = _leaders_by_count(neighbor_labels[others], ks, n_classes)
        else:
            distances = np.concatenate([b[1] for b in batch])[others, : max(ks)]
            predicted = _leaders_by_distance(
                neighbor_labels[others], distances, ks, n_classes
            )
        right = np.zeros((len(others) + 1, len(ks)), dtype=np.int64)
        np.cumsum(predicted == truth[others, None], axis=0, out=right[1:])
        cut_start = np.searchsorted(others, starts)
        cut_end = np.searchsorted(others, ends)
        n_correct += right[cut_end] - right[cut_start]
    return [
        SplitScore(n_correct[i], b[3], int(sizes[i]), b[4]) for i, b in enumerate(batch)
    ]


def _window_for(k_max: int, test_share: float, margin: float = 4.0) -> int:
    """Ranking columns that keep ``k_max + 1`` training rows for nearly every row.

    With a share ``t`` of rows held out at random, ``D`` columns keep about
    ``D(1 - t)`` training rows, give or take ``sqrt(D t (1 - t))``; ``margin``
    standard deviations of room make a shortfall rare (a few rows in a thousand
    splits at 4), and rows that fall short are read deeper or searched directly.
    """
    need = k_max + 1
    keep = max(1e-9, 1.0 - test_share)
    return math.ceil((need + margin * math.sqrt(need * test_share) + 4) / keep)


def _depth_for(k_max: int, test_share: float, n: int) -> int:
    """The depth of the shared ranking: 6 standard deviations of room."""
    return int(min(n - 1, _window_for(k_max, test_share, margin=6.0)))


# ------------------------------------------------------------------------ arguments


#: The largest k a text like ``--k 1..N`` may name (more than any data set here).
MAX_K = 10_000_000
#: The most k values one sweep may try.
MAX_K_VALUES = 100_000


def parse_ks(text: str) -> tuple[int, ...]:
    """``"1..15"`` → 1, 2, ..., 15; ``"1,3,5"`` → 1, 3, 5; both mix (``"1..5,9"``)."""
    ks: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        try:
            if ".." in part:
                lo, hi = part.split("..")
                lo, hi = int(lo), int(hi)
                if hi < lo:
                    raise ValueError
            else:
                lo = hi = int(part)
        except ValueError:
            raise DigitlabError(
                f"Cannot read k values {text!r}; write a range like 1..15 or a list "
                "like 1,3,5."
            ) from None
        if hi > MAX_K or lo < -MAX_K or len(ks) + (hi - lo + 1) > MAX_K_VALUES:
            # Checked before the range is made: 1..10**20 would fill the memory.
            raise DigitlabError(
                f"The k values {text!r} go too far; k is at most {MAX_K:,} and a "
                f"sweep tries at most {MAX_K_VALUES:,} values (k cannot exceed the "
                "number of training rows anyway)."
            )
        ks.update(range(lo, hi + 1))
    return tuple(sorted(ks))


def parse_test_sizes(text: str) -> tuple[float | int, ...]:
    """``"0.1,0.2"`` (or with spaces) → shares; whole numbers are test-row counts."""
    sizes: list[float | int] = []
    for part in str(text).replace(",", " ").split():
        try:
            sizes.append(int(part))
        except ValueError:
            try:
                sizes.append(float(part))
            except ValueError:
                raise DigitlabError(
                    f"Cannot read test sizes {text!r}; write shares like "
                    "0.1,0.2,0.3 or counts of test rows like 300,600."
                ) from None
    if not sizes:
        raise DigitlabError(
            "No test sizes given; write shares like 0.1,0.2,0.3 or counts like 300."
        )
    return tuple(sizes)


def _check_ks(ks) -> tuple[int, ...]:
    if isinstance(ks, str):
        ks = parse_ks(ks)
    if isinstance(ks, (int, np.integer)):
        ks = (ks,)
    ks = tuple(ks)
    if not ks:
        raise DigitlabError("No k values given; write a range like 1..15.")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise DigitlabError(
                f"k must be whole numbers of at least 1, got {k!r}; write a range "
                "like 1..15."
            )
    return tuple(sorted({int(k) for k in ks}))


def _check_count(value, name: str, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        raise DigitlabError(
            f"{name} must be a whole number of at least {minimum}, got {value!r}."
        )
    return int(value)


# -------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Cell:
    """One (test_size, k) cell: its summary over all splits or folds."""

    test_size: float | int | None
    k: int
    summary: Summary

    @property
    def mean(self) -> float:
        return self.summary.mean

    def label(self, scheme: str = "split") -> str:
        if scheme == "split":
            return f"test_size={self.test_size}, k={self.k}"
        return f"k={self.k}"

    def to_dict(self) -> dict:
        return {"test_size": self.test_size, "k": self.k, **self.summary.to_dict()}


_SUMMARY_FIELDS = ("n", "mean", "std", "ci_low", "ci_high", "level")


def _fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _ks_text(ks: Sequence[int]) -> str:
    ks = list(ks)
    if len(ks) > 2 and ks == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]}..{ks[-1]}"
    return ",".join(str(k) for k in ks)


@dataclass
class SweepResult:
    """Everything one sweep measured, with honest summaries.

    Attributes
    ----------
    rows : list of dict
        The tidy table: one row per (test_size, k, seed[, fold]) with
        ``n_train``, ``n_test``, ``n_correct`` and ``accuracy``.
    cells : list of Cell
        One summary per (test_size, k), in grid order.
    config : dict
        The settings that reproduce the sweep.
    ranking_depth, n_direct : int
        How deep the shared ranking went, and how many test rows (over all
        splits) it could not prove and were searched directly.
    """

    rows: list[dict]
    cells: list[Cell]
    config: dict
    data_summary: str
    ranking_depth: int
    n_direct: int

    # --- the numbers ------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return self.config["scheme"]

    @property
    def test_sizes(self) -> list:
        return list(dict.fromkeys(c.test_size for c in self.cells))

    @property
    def ks(self) -> list[int]:
        return list(self.config["ks"])

    def cell(self, test_size, k: int) -> Cell:
        """The summary of one (test_size, k) cell (``test_size=None`` for CV/LOO)."""
        for c in self.cells:
            if c.test_size == test_size and c.k == k:
                return c
        raise DigitlabError(f"No cell test_size={test_size}, k={k} in this sweep.")

    def accuracies(self, test_size, k: int) -> np.ndarray:
        """The per-split (or per-fold) accuracies of one cell, in seed order."""
        return np.array(
            [
                r["accuracy"]
                for r in self.rows
                if r["test_size"] == test_size and r["k"] == k
            ]
        )

    def best(self) -> Cell:
        """The cell with the highest mean accuracy (first in grid order on ties)."""
        best = self.cells[0]
        for c in self.cells[1:]:
            if c.mean > best.mean:
                best = c
        return best

    def overlapping(self) -> list[Cell]:
        """Other cells whose 95 % interval overlaps the best cell's, best first."""
        best = self.best()
        others = [c for c in self.cells if c is not best]
        close = [c for c in others if c.summary.overlaps(best.summary)]
        return sorted(close, key=lambda c: -c.mean)

    def lesson_pick(self) -> dict | None:
        """What the lesson's single split would have picked, and its true mean.

        The single split is the first seed (random splits) or the first fold of
        the first repetition (CV); leave-one-out has no such split (``None``).
        """
        if self.scheme == "loo":
            return None
        first_seed = self.config["seeds"][0]
        single = [
            r for r in self.rows if r["seed"] == first_seed and r["fold"] in (0, None)
        ]
        pick = single[0]
        for r in single[1:]:
            if r["accuracy"] > pick["accuracy"]:
                pick = r
        cell = self.cell(pick["test_size"], pick["k"])
        return {
            "test_size": pick["test_size"],
            "k": pick["k"],
            "seed": first_seed,
            "accuracy": pick["accuracy"],
            "mean": cell.mean,
            "rank_by_mean": 1 + sorted(self.cells, key=lambda c: -c.mean).index(cell),
        }

    def noise(self) -> float:
        """The typical split-to-split standard deviation (median over cells)."""
        return float(np.median([c.summary.std for c in self.cells]))

    # --- the words ----------------------------------------------------------------

    def grid_line(self) -> str:
        cfg = self.config
        ks = f"k {_ks_text(cfg['ks'])}"
        if self.scheme == "loo":
            return f"Grid: leave-one-out × {ks} ({cfg['n_samples']} held-out digits)"
        seeds = cfg["seeds"]
        seed_text = (
            f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}..{seeds[-1]}"
        )
        strat = ", stratified" if cfg["stratify"] else ""
        if self.scheme == "cv":
            reps = len(seeds)
            return (
                f"Grid: {cfg['cv']}-fold cross-validation × {ks} × {reps} shuffled "
                f"repetition{'s' if reps > 1 else ''} ({seed_text}{strat})"
            )
        sizes = " ".join(str(t) for t in cfg["test_sizes"])
        return (
            f"Grid: test_size {sizes} × {ks} × {len(seeds)} random split"
            f"{'s' if len(seeds) > 1 else ''} ({seed_text}{strat})"
        )

    def group_label(self, test_size, style: str = "column") -> str:
        """The name of a test size's row of cells, in one of three styles.

        ``"column"`` (the table): ``ts=0.2``, ``10-fold``, ``LOO``; ``"axis"``
        (a plot's axis): ``0.2``, ``10-fold CV``, ``leave-one-out``;
        ``"legend"``: ``test_size=0.2``, ``10-fold CV``, ``leave-one-out``.
        """
        if self.scheme == "split":
            prefix = {"column": "ts=", "axis": "", "legend": "test_size="}[style]
            return f"{prefix}{test_size}"
        if self.scheme == "loo":
            return "LOO" if style == "column" else "leave-one-out"
        folds = f"{self.config['cv']}-fold"
        return folds if style == "column" else f"{folds} CV"

    def n_label(self) -> str:
        """What each mean is over: ``20 splits``, ``30 folds``, ``1797 held-out
        digits``."""
        cfg = self.config
        if self.scheme == "loo":
            return f"{cfg['n_samples']} held-out digits"
        if self.scheme == "cv":
            return f"{len(cfg['seeds']) * cfg['cv']} folds"
        return f"{len(cfg['seeds'])} splits"

    def run_summary(self) -> str:
        """The best cell and the repeats in a few words, ``best ts=0.2 k=1 (20×)``
        (the configuration column of ``digitlab runs``)."""
        best, cfg = self.best(), self.config
        if self.scheme == "loo":
            return f"best k={best.k} (leave-one-out)"
        if self.scheme == "cv":
            return f"best k={best.k} ({cfg['cv']}-fold × {len(cfg['seeds'])})"
        return f"best ts={best.test_size} k={best.k} ({len(cfg['seeds'])}×)"

    def table_lines(self) -> list[str]:
        """The mean ± std table: one line per k, one column per test size."""
        cfg = self.config
        if self.scheme == "loo":
            head = "Leave-one-out accuracy (± half-width of the 95% interval)"
        elif self.scheme == "cv":
            n = len(cfg["seeds"]) * cfg["cv"]
            head = f"Mean accuracy over {n} folds (± std)"
        else:
            head = f"Mean accuracy over {len(cfg['seeds'])} splits (± std)"
        best = self.best()
        sizes = self.test_sizes
        width = 14
        lines = [
            head,
            "      " + "".join(f"{self.group_label(t):>{width}}" for t in sizes),
        ]
        for k in self.ks:
            line = f"{'k=' + str(k):<6}"
            for t in sizes:
                c = self.cell(t, k)
                mark = "*" if c is best else " "
                s = c.summary
                spread = s.ci_high - s.mean if self.scheme == "loo" else s.std
                text = f"{_fmt(c.mean)}±{_fmt(spread, 3)}{mark}"
                line += f"{text:>{width}}"
            lines.append(line.rstrip())
        return lines

    def verdict_lines(self) -> list[str]:
        """The honest best, the lesson's pick beside it, and the overlap note."""
        best = self.best()
        s = best.summary
        level = round(100 * s.level)
        spread = "" if self.scheme == "loo" else f" ± {_fmt(s.std, 3)}"
        lines = [
            f"Best on average (*): {best.label(self.scheme)}: {_fmt(s.mean)}{spread} "
            f"({level}% CI {_fmt(s.ci_low)}–{_fmt(s.ci_high)})"
        ]
        pick = self.lesson_pick()
        if pick is not None:
            one = "split" if self.scheme == "split" else "fold"
            n_all = len(self.accuracies(best.test_size, best.k))
            label = (
                f"test_size={pick['test_size']}, k={pick['k']}"
                if self.scheme == "split"
                else f"k={pick['k']}"
            )
            text = (
                f"The lesson's single {one} (seed {pick['seed']}) would have picked "
                f"{label}: {_fmt(pick['accuracy'])}"
            )
            if pick["rank_by_mean"] > 1:
                text += (
                    f" — a lucky {one}: over all {n_all} {one}s that cell averages "
                    f"{_fmt(pick['mean'])} (rank {pick['rank_by_mean']} of "
                    f"{len(self.cells)})."
                )
            else:
                text += (
                    f" — here also the best cell on average ({_fmt(pick['mean'])} "
                    f"over all {n_all} {one}s), but one {one} alone cannot show that."
                )
            text += (
                f" The highest of {len(self.cells)} scores on one {one} is partly "
                f"that {one}'s luck; differences below ~{self.noise():.3f} are within "
                f"{one}-to-{one} noise here."
            )
            lines.append(text)
        close = self.overlapping()
        if close:
            shown = "; ".join(c.label(self.scheme) for c in close[:4])
            more = f" and {len(close) - 4} more" if len(close) > 4 else ""
            lines.append(
                f"{len(close)} other "
                + (
                    f"cells have {level}% intervals"
                    if len(close) > 1
                    else f"cell has a {level}% interval"
                )
                + f" overlapping the best one ({shown}{more}): "
                "the data cannot tell them apart."
            )
        return lines

    def lines(self, width: int = 88) -> list[str]:
        """Everything ``digitlab sweep`` prints (notes wrapped at ``width``)."""
        notes = [
            wrapped
            for line in self.verdict_lines()
            for wrapped in textwrap.wrap(line, width, subsequent_indent="  ")
        ]
        return [
            f"Data: {self.data_summary}",
            self.grid_line(),
            *self.table_lines(),
            *notes,
        ]

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        """The table, the verdict and the heat map (inline styles, inline PNG)."""
        from digitlab.plots import plot_sweep_heatmap, png_img_tag

        esc = html.escape
        sizes = self.test_sizes
        best = self.best()
        cell = "padding: 1px 6px; text-align: right; white-space: nowrap"
        head = "".join(
            f'<th style="{cell}">{esc(self.group_label(t))}</th>' for t in sizes
        )
        body = []
        for k in self.ks:
            tds = []
            for t in sizes:
                c = self.cell(t, k)
                s = c.summary
                mark = "; font-weight: bold; background: #fde2dd" if c is best else ""
                tds.append(
                    f'<td style="{cell}{mark}" '
                    f'title="95% CI {_fmt(s.ci_low)}–{_fmt(s.ci_high)}">'
                    f"{_fmt(s.mean)} ± {_fmt(s.std, 3)}</td>"
                )
            body.append(f'<tr><th style="{cell}">k={k}</th>{"".join(tds)}</tr>')
        notes = "".join(
            f'<p style="margin: 4px 0">{esc(line)}</p>' for line in self.verdict_lines()
        )
        picture = png_img_tag(
            plot_sweep_heatmap, self, alt="heat map of mean accuracy by test_size and k"
        )
        return (
            '<div style="font-family: system-ui, sans-serif; font-size: 13px">'
            f'<p style="margin: 4px 0"><b>{esc(self.grid_line())}</b></p>'
            '<div style="display: flex; flex-wrap: wrap; gap: 16px; '
            'align-items: flex-start">'
            f'<table style="border-collapse: collapse; margin: 0"><thead><tr><th></th>'
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f'<div style="max-width: 680px">{picture}</div></div>{notes}</div>'
        )

    # --- export ---------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Everything ``digitlab sweep --json`` prints (no timings: stable bytes)."""
        from digitlab._version import __version__

        return {
            "config": dict(self.config),
            "data": self.data_summary,
            "rows": self.rows,
            "cells": [c.to_dict() for c in self.cells],
            "best": self.best().to_dict(),
            "lesson_pick": self.lesson_pick(),
            "overlapping": [c.to_dict() for c in self.overlapping()],
            "noise_std": self.noise(),
            "ranking": {"depth": self.ranking_depth, "direct_searches": self.n_direct},
            "notes": self.verdict_lines(),
            "version": __version__,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SweepResult:
        """Rebuild a result from :meth:`to_dict` (how the run history shows it)."""
        cells = [
            Cell(c["test_size"], c["k"], Summary(**{f: c[f] for f in _SUMMARY_FIELDS}))
            for c in d["cells"]
        ]
        ranking = d.get("ranking", {})
        return cls(
            rows=list(d["rows"]),
            cells=cells,
            config=dict(d["config"]),
            data_summary=d.get("data", ""),
            ranking_depth=int(ranking.get("depth", 0)),
            n_direct=int(ranking.get("direct_searches", 0)),
        )

    CSV_COLUMNS = (
        "scheme",
        "test_size",
        "k",
        "seed",
        "fold",
        "n_train",
        "n_test",
        "n_correct",
        "accuracy",
    )

    def to_csv(self) -> str:
        """The tidy table as CSV text, one line per (test_size, k, seed[, fold])."""
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.CSV_COLUMNS)
        for r in self.rows:
            writer.writerow(
                ["" if r.get(c) is None else r.get(c) for c in self.CSV_COLUMNS]
            )
        return out.getvalue()

    def plot(self, ax=None):
        """Heatmap of mean accuracy and accuracy vs k (see :mod:`digitlab.plots`).

        Parameters
        ----------
        ax : None, one Axes, or a pair of Axes
            ``None``: a new pyplot figure with both panels (shown inline in a
            notebook, saved by ``plt.savefig``); one Axes: only the accuracy-vs-k
            curves, on it; a pair: the heatmap on the first, the curves on the
            second.

        Returns
        -------
        ndarray of two Axes, or Axes
            With ``ax=None`` a NumPy array of the two new Axes (the figure is
            ``axes[0].figure``); otherwise what was given.
        """
        from digitlab.plots import plot_sweep

        return plot_sweep(self, ax=ax)


# ---------------------------------------------------------------------------- sweep


def sweep(
    data: Dataset | None = None,
    *,
    test_sizes: Sequence[float | int] | None = None,
    ks: Sequence[int] | str = DEFAULT_KS,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
    cv: int | None = None,
    loo: bool = False,
    weights: str = "uniform",
    metric: str = "euclidean",
    stratify: bool = False,
    progress: Callable[[int, int], None] | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> SweepResult:
    """Score k-nearest neighbors on test_size × k × many splits from one ranking.

    Parameters
    ----------
    data : Dataset, optional
        Default: scikit-learn's digits.
    test_sizes : sequence of float or int, optional
        Shares of rows held out (0.2) or counts (300). Default 0.1 .. 0.5.
        Not used with ``cv`` or ``loo``.
    ks : sequence of int or str
        The k values (``"1..15"`` and ``"1,3,5"`` are read too). Default 1..15.
    repeats : int
        Random splits per test size (seeds ``seed .. seed + repeats - 1``), or
        shuffled repetitions of the k-fold cross-validation.
    seed : int
        The first seed.
    cv : int, optional
        Use ``cv``-fold cross-validation (``KFold``, or ``StratifiedKFold`` with
        ``stratify``, shuffled with each seed) instead of random splits.
    loo : bool
        Leave-one-out: every digit predicted from all the others, every k at once.
    weights : {"uniform", "distance"}
    metric : {"euclidean", "manhattan", "cosine"}
    stratify : bool
        Keep class shares equal in train and test (splits and folds).
    progress : callable, optional
        Called as ``progress(done, total)`` after each split is scored.
    block_bytes : int
        The most memory one block of the shared ranking's distances may take
        (256 MiB by default); the sweep never holds a full ``n × n`` matrix.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> result = sweep(ks=(1, 3), test_sizes=(0.2,), repeats=3)
    >>> [round(c.mean, 4) for c in result.cells]  # scikit-learn agrees
    [0.9889, 0.988]
    """
    data = load_digits() if data is None else data
    check_weights(weights)
    check_metric(metric)
    ks = _check_ks(ks)
    repeats = _check_count(repeats, "repeats", 1)
    seed = _check_count(seed, "seed", 0)
    # The number of repeats is bounded here; the seeds they use are checked
    # below (leave-one-out uses none).
    _, repeats = check_seeds(None, repeats)
    n = len(data)
    X = np.asarray(data.X, dtype=np.float64)
    classes, labels = np.unique(data.y, return_inverse=True)
    k_max = ks[-1]

    if loo and cv is not None:
        raise DigitlabError("Choose either --cv or --loo, not both.")
    if (loo or cv is not None) and test_sizes is not None:
        raise DigitlabError(
            "test sizes do not apply to cross-validation or leave-one-out; drop "
            "--test-sizes, or drop --cv/--loo to sweep random splits."
        )
    if loo:
        if stratify:
            raise DigitlabError(
                "--stratify does not apply to leave-one-out (every digit is held "
                "out once); drop one of them."
            )
        return _sweep_loo(data, X, labels, ks, weights, metric, progress, block_bytes)

    last_seed = seed + repeats - 1
    if last_seed > _MAX_SEED:
        raise DigitlabError(
            f"The seeds {seed}..{last_seed} go past {_MAX_SEED}, the largest seed "
            "numpy's random generator takes; choose a smaller --seed or --repeats."
        )
    if cv is not None:
        cv = _check_count(cv, "cv (the number of folds)", 2)
        if cv > n:
            raise DigitlabError(
                f"cv={cv} folds is more than the {n} rows; choose between 2 and {n}."
            )
        families, keys = _cv_families(data, cv, repeats, seed, stratify)
        test_share = 1.0 / cv + 1.0 / n
        groups = [None]
    else:
        sizes = DEFAULT_TEST_SIZES if test_sizes is None else tuple(test_sizes)
        if not sizes:
            raise DigitlabError("No test sizes given; use shares like 0.1,0.2,0.3.")
        sizes = tuple(dict.fromkeys(check_test_size(t, n) for t in sizes))
        families, keys = _random_families(data, sizes, repeats, seed, stratify)
        shares = [t if isinstance(t, float) else t / n for t in sizes]
        test_share = max(shares)
        groups = list(sizes)

    min_train = min(hi - lo for f in families for lo, hi, _ in f.splits)
    if k_max > min_train:
        raise DigitlabError(
            f"k={k_max} is larger than the {min_train} training rows of the "
            f"smallest train part; choose k up to {min_train} or a smaller test size."
        )
    depth = _depth_for(k_max, test_share, n)
    ranking = rank_all(X, depth, metric=metric, block_bytes=block_bytes)
    scores = _splits_on_dask(ranking, labels, families, ks, weights, progress)
    if scores is None:
        scores = _score_families(ranking, labels, families, ks, weights, progress)
    scheme = "cv" if cv is not None else "split"
    # The tidy table in grid order: test size, then k, then seed (and fold).
    by_group: dict = {t: [] for t in groups}
    for key, score in zip(keys, scores, strict=True):
        by_group[key["test_size"]].append((key, score, score.n_correct.tolist()))
    rows: list[dict] = []
    for t in groups:
        for j, k in enumerate(ks):
            for key, score, n_correct in by_group[t]:
                rows.append(
                    {
                        "scheme": scheme,
                        **key,
                        "k": k,
                        "n_train": score.n_train,
                        "n_test": score.n_test,
                        "n_correct": n_correct[j],
                        "accuracy": n_correct[j] / score.n_test,
                    }
                )
    n_direct = sum(score.n_direct for score in scores)
    cells = _summarize_cells(rows, groups, ks)
    config = {
        "scheme": "cv" if cv is not None else "split",
        "data": data.source,
        "n_samples": n,
        "test_sizes": None if cv is not None else list(groups),
        "ks": list(ks),
        "seeds": list(range(seed, seed + repeats)),
        "cv": cv,
        "weights": weights,
        "metric": metric,
        "stratify": stratify,
    }
    return SweepResult(rows, cells, config, data.summary(), depth, n_direct)


def _splits_on_dask(ranking, labels, families, ks, weights, progress):
    """Inside ``--dask`` (:func:`digitlab.neighbors.use`): every split is a task.

    The ranking and the labels go to each worker once; a task carries one
    split's row numbers and returns its :class:`SplitScore`, the same object
    :func:`evaluate_split` gives here. Returns None when no Dask client is set.
    """
    from digitlab.neighbors import current_dask

    dask = current_dask()
    if dask is None:
        return None
    from digitlab.distributed import run_tasks

    items = [
        {
            "train_index": f.train_index(i),
            "test_index": f.test_index(i),
            "ks": ks,
            "weights": weights,
        }
        for f in families
        for i in range(len(f.splits))
    ]
    shared = {"ranking": ranking, "labels": labels}
    return run_tasks(dask, evaluate_split, shared, items, progress=progress)


def shuffle_split_order(n_samples: int, seed: int) -> np.ndarray:
    """The permutation behind ``train_test_split(..., random_state=seed)``.

    ``ShuffleSplit`` (which ``train_test_split`` calls when not stratifying)
    draws ``RandomState(seed).permutation(n_samples)``; the test part is its
    first ``n_test`` rows and the train part the rest, in this order, for any
    test size. Drawing it once per seed gives every test size's split.
    """
    return np.random.RandomState(seed).permutation(n_samples)


def _random_families(data, sizes, repeats, seed, stratify):
    """The random splits as families, and each split's row key, in family order."""
    n = len(data)
    families, keys = [], []
    if stratify:
        for t in sizes:
            for s in range(seed, seed + repeats):
                train_index, test_index = data.split_indices(t, s, stratify=True)
                families.append(_Family.of_split(n, train_index, test_index))
                keys.append({"test_size": t, "seed": s, "fold": None})
        return families, keys
    # train_test_split's sizes: a share rounds the test part up.
    n_tests = [t if isinstance(t, int) else math.ceil(t * n) for t in sizes]
    for s in range(seed, seed + repeats):
        order = shuffle_split_order(n, s)
        splits = tuple((n_test, n, n_test) for n_test in n_tests)
        families.append(_Family(order, order, splits))
        keys.extend({"test_size": t, "seed": s, "fold": None} for t in sizes)
    return families, keys


def _cv_families(data, folds, repeats, seed, stratify):
    """The folds (one family each), and each fold's row key."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = StratifiedKFold if stratify else KFold
    families, keys = [], []
    for s in range(seed, seed + repeats):
        kf = splitter(n_splits=folds, shuffle=True, random_state=s)
        try:
            parts = list(kf.split(np.zeros(len(data)), data.y))
        except ValueError as exc:
            raise DigitlabError(f"Cannot make {folds} folds: {exc}") from None
        for fold, (train_index, test_index) in enumerate(parts):
            families.append(_Family.of_split(len(data), train_index, test_index))
            keys.append({"test_size": None, "seed": s, "fold": fold})
    return families, keys


def _summarize_cells(rows, groups, ks) -> list[Cell]:
    by_cell: dict = {}
    for r in rows:
        by_cell.setdefault((r["test_size"], r["k"]), []).append(r["accuracy"])
    return [Cell(t, k, summarize(by_cell[(t, k)])) for t in groups for k in ks]


def _sweep_loo(
    data, X, labels, ks, weights, metric, progress, block_bytes
) -> SweepResult:
    n = len(data)
    k_max = ks[-1]
    if k_max > n - 1:
        raise DigitlabError(
            f"k={k_max} is larger than the {n - 1} other rows leave-one-out can use; "
            f"choose k up to {n - 1}."
        )
    # With one row held out, the train part is every other row in data order, so
    # the ranking's own order (row number on ties) is already the KNN's order.
    ranking = rank_all(X, k_max, metric=metric, block_bytes=block_bytes)
    n_classes = int(labels.max()) + 1
    predicted = vote_every_k(
        labels[ranking.indices], ranking.distances, ks, n_classes, weights
    )
    correct = predicted == labels[:, None]
    rows, cells = [], []
    for j, k in enumerate(ks):
        n_correct = int(correct[:, j].sum())
        rows.append(
            {
                "scheme": "loo",
                "test_size": None,
                "seed": None,
                "fold": None,
                "k": k,
                "n_train": n - 1,
                "n_test": n,
                "n_correct": n_correct,
                "accuracy": n_correct / n,
            }
        )
        # Over single held-out digits: a mean of 0/1 outcomes and its t-interval.
        cells.append(Cell(None, k, summarize(correct[:, j].astype(np.float64))))
    if progress is not None:
        progress(1, 1)
    config = {
        "scheme": "loo",
        "data": data.source,
        "n_samples": n,
        "test_sizes": None,
        "ks": list(ks),
        "seeds": [],
        "cv": None,
        "weights": weights,
        "metric": metric,
        "stratify": False,
    }
    return SweepResult(rows, cells, config, data.summary(), k_max, 0)
