"""Which digits the model gets wrong, and why.

:func:`mistakes` takes a fitted model and a test set and returns a
:class:`MistakesResult`: the confusion matrix, per-class precision / recall / f1 /
support, the most confused (true, predicted) pairs, and every wrong test digit with
its picture, its vote shares and the k nearest training digits that voted, so the
reason for each mistake is visible. :func:`mistakes_on_split` does the same on the
split ``digitlab train`` uses, or on several seeded splits added together.

The numbers equal scikit-learn's ``confusion_matrix`` and ``classification_report``
(with ``zero_division=0``) on the same predictions.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from digitlab.errors import DigitlabError
from digitlab.neighbors import vote

__all__ = [
    "ClassScores",
    "Mistake",
    "MistakesResult",
    "Neighbor",
    "Pair",
    "mistakes",
    "mistakes_on_split",
]

NORMALIZE = ("true", "pred")


def _plain(value):
    """A numpy scalar as the matching Python value (for dict keys and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall, f1 and support of one label."""

    label: object
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
        }


@dataclass(frozen=True)
class Pair:
    """``count`` test digits of label ``true`` were predicted as ``predicted``."""

    true: object
    predicted: object
    count: int

    def __str__(self) -> str:
        return f"{self.true} → {self.predicted} ({self.count})"


@dataclass(frozen=True)
class Neighbor:
    """One training digit that voted for a test digit."""

    train_row: int
    """Row number in the training part of the split."""
    data_row: int | None
    """Row number in the whole data set, when known."""
    label: object
    distance: float
    image: np.ndarray | None = field(repr=False, compare=False)


@dataclass(frozen=True)
class Mistake:
    """One wrong test digit with the neighbors whose votes made it wrong."""

    test_row: int
    """Row number in the test part of the split."""
    data_row: int | None
    """Row number in the whole data set, when known."""
    true: object
    predicted: object
    shares: dict
    """Vote share of every label that got votes, largest first."""
    neighbors: tuple[Neighbor, ...]
    tie: bool
    """True when the tie rule decided the prediction."""
    tie_note: str
    """How the tie rule decided it (empty when ``tie`` is false)."""
    image: np.ndarray | None = field(repr=False, compare=False)
    seed: int | None = None
    """The seed of the split this digit was tested in."""

    def to_dict(self) -> dict:
        return {
            "test_row": self.test_row,
            "data_row": self.data_row,
            "seed": self.seed,
            "true": _plain(self.true),
            "predicted": _plain(self.predicted),
            "shares": {str(k): v for k, v in self.shares.items()},
            "tie": self.tie,
            "tie_note": self.tie_note,
            "neighbors": [
                {
                    "train_row": n.train_row,
                    "data_row": n.data_row,
                    "label": _plain(n.label),
                    "distance": n.distance,
                }
                for n in self.neighbors
            ],
        }

    def describe(self) -> str:
        """One line for people: where it is, what it is, who voted."""
        where = f"test row {self.test_row}"
        if self.data_row is not None:
            where += f" (data row {self.data_row})"
        if self.seed is not None:
            where = f"seed {self.seed}, {where}"
        votes = ", ".join(f"{lab}: {share:.0%}" for lab, share in self.shares.items())
        near = " ".join(f"{n.label}@{n.distance:.1f}" for n in self.neighbors)
        line = (
            f"{where}: true {self.true}, predicted {self.predicted}; votes {votes}; "
            f"neighbors {near}"
        )
        return line + (f" [tie: {self.tie_note}]" if self.tie else "")


@dataclass
class MistakesResult:
    """Confusion matrix, per-class scores and wrong digits of one or more splits.

    With several splits (``repeats``) the confusion matrix is the sum of the
    splits' matrices, the per-class scores are computed from that sum (as
    ``classification_report`` on all splits' predictions put together), and
    ``examples`` holds the wrong digits of every split, each with its ``seed``.

    Attributes
    ----------
    labels : ndarray
        The labels, sorted; rows and columns of ``confusion`` follow this order.
    confusion : ndarray of int, shape (n_labels, n_labels)
        ``confusion[i, j]``: test digits of label ``labels[i]`` predicted as
        ``labels[j]`` (rows: true, columns: predicted).
    examples : list of Mistake
        Every wrong test digit, in test-row order (split by split).
    accuracies : list of float
        The accuracy of each split.
    seeds : list
        The seed of each split (``None`` when not known).
    config : dict
        The settings that reproduce the result (data, split, model).
    """

    labels: np.ndarray
    confusion: np.ndarray
    examples: list[Mistake]
    accuracies: list[float]
    seeds: list
    config: dict = field(default_factory=dict)
    description: str = ""
    times_tested: dict = field(default_factory=dict, repr=False)
    """``{data_row: n}``: in how many splits each picture was a test digit."""

    # -- the numbers -------------------------------------------------------------

    @property
    def n_test(self) -> int:
        """Test digits, all splits together."""
        return int(self.confusion.sum())

    @property
    def n_wrong(self) -> int:
        return self.n_test - int(np.trace(self.confusion))

    @property
    def accuracy(self) -> float:
        """Share of test digits predicted right, all splits together."""
        return float(np.trace(self.confusion) / self.n_test)

    @property
    def n_splits(self) -> int:
        return len(self.accuracies)

    def confusion_rates(self, normalize: str = "true") -> np.ndarray:
        """The confusion matrix as rates, like ``confusion_matrix(normalize=...)``.

        ``"true"``: each row (true label) sums to 1, so a cell is the share of that
        digit predicted as the column's label. ``"pred"``: each column sums to 1.
        Rows or columns without digits stay 0.
        """
        if normalize not in NORMALIZE:
            raise DigitlabError(
                f"Unknown normalize {normalize!r}; use 'true' (rows sum to 1) or "
                "'pred' (columns sum to 1)."
            )
        cm = self.confusion.astype(np.float64)
        axis = 1 if normalize == "true" else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = cm / cm.sum(axis=axis, keepdims=True)
        return np.nan_to_num(rates)

    @property
    def per_class(self) -> dict:
        """``{label: ClassScores}``, as ``classification_report(zero_division=0)``."""
        cm = self.confusion
        tp = np.diag(cm).astype(np.float64)
        support = cm.sum(axis=1)
        predicted = cm.sum(axis=0)
        out = {}
        for i, label in enumerate(self.labels):
            # f1 from counts, 2·tp / (2·tp + fp + fn), as scikit-learn computes it.
            out[_plain(label)] = ClassScores(
                label=_plain(label),
                precision=float(tp[i] / predicted[i]) if predicted[i] else 0.0,
                recall=float(tp[i] / support[i]) if support[i] else 0.0,
                f1=float(2 * tp[i] / (support[i] + predicted[i]))
                if support[i] + predicted[i]
                else 0.0,
                support=int(support[i]),
            )
        return out

    def averages(self) -> dict:
        """Macro and support-weighted averages of precision, recall and f1."""
        scores = list(self.per_class.values())
        support = np.array([s.support for s in scores], dtype=np.float64)
        out = {}
        for name in ("precision", "recall", "f1"):
            values = np.array([getattr(s, name) for s in scores])
            out[f"macro_{name}"] = float(np.average(values))
            out[f"weighted_{name}"] = (
                float(np.average(values, weights=support)) if support.sum() else 0.0
            )
        return out

    @property
    def pairs(self) -> list[Pair]:
        """Off-diagonal cells with digits in them, most confused first.

        Equal counts are ordered by true label, then predicted label.
        """
        out = [
            Pair(
                _plain(self.labels[i]),
                _plain(self.labels[j]),
                int(self.confusion[i, j]),
            )
            for i, j in zip(*np.nonzero(self.confusion), strict=True)
            if i != j
        ]
        order = sorted(
            range(len(out)),
            key=lambda n: (-out[n].count, *_label_rank(self.labels, out[n])),
        )
        return [out[n] for n in order]

    def hardest(self, limit: int | None = 10) -> list[tuple[int, object, int, int]]:
        """Pictures wrong in more than one split: ``(data_row, true, wrong, tested)``.

        ``wrong`` counts the splits that got the picture wrong, ``tested`` the
        splits it was a test digit in. Most often wrong first (then by data row).
        With repeated splits this shows the few pictures that are hard whichever
        split they land in.
        """
        wrong: dict[int, int] = {}
        truth = {}
        for m in self.examples:
            if m.data_row is not None:
                wrong[m.data_row] = wrong.get(m.data_row, 0) + 1
                truth[m.data_row] = m.true
        out = sorted(
            (
                (row, truth[row], n, self.times_tested.get(row, n))
                for row, n in wrong.items()
                if n > 1
            ),
            key=lambda t: (-t[2], t[0]),
        )
        return out if limit is None else out[:limit]

    def hardest_line(self, limit: int = 5) -> str:
        """One line: ``Wrong again and again: data row 37 (true 9, ...)``."""
        hardest = self.hardest(limit=None)
        if not hardest:
            return "Wrong again and again: no picture was wrong in more than one split."
        text = ", ".join(
            f"data row {row} (true {true}, wrong {n} of {tested} times tested)"
            for row, true, n, tested in hardest[:limit]
        )
        if len(hardest) > limit:
            text += f", ... ({len(hardest) - limit} more)"
        return f"Wrong again and again: {text}"

    def examples_of(self, true, predicted) -> list[Mistake]:
        """The wrong digits of label ``true`` predicted as ``predicted``."""
        return [m for m in self.examples if m.true == true and m.predicted == predicted]

    # -- combining splits --------------------------------------------------------

    @classmethod
    def combine(cls, results) -> MistakesResult:
        """Add the results of several splits together (see the class docstring)."""
        results = list(results)
        if not results:
            raise DigitlabError("combine needs at least one result.")
        labels = results[0].labels
        for r in results[1:]:
            if not np.array_equal(r.labels, labels):
                raise DigitlabError(
                    "Cannot combine results with different labels; every split "
                    "must see the same digits."
                )
        config = dict(results[0].config)
        if config:
            config["repeats"] = len(results)
        return cls(
            labels=labels,
            confusion=sum(r.confusion for r in results),
            examples=[m for r in results for m in r.examples],
            accuracies=[a for r in results for a in r.accuracies],
            seeds=[s for r in results for s in r.seeds],
            config=config,
            description=results[0].description,
            times_tested=_add_counts(r.times_tested for r in results),
        )

    @classmethod
    def from_dict(cls, data: dict) -> MistakesResult:
        """Rebuild a result from :meth:`to_dict` (pictures are not stored there).

        ``digitlab runs show`` uses it to print a recorded run again.
        """
        labels = np.asarray(data["labels"])
        by_name = {str(v): _plain(v) for v in labels}
        examples = [
            Mistake(
                test_row=m["test_row"],
                data_row=m["data_row"],
                true=m["true"],
                predicted=m["predicted"],
                shares={by_name.get(k, k): v for k, v in m["shares"].items()},
                neighbors=tuple(
                    Neighbor(
                        train_row=n["train_row"],
                        data_row=n["data_row"],
                        label=n["label"],
                        distance=n["distance"],
                        image=None,
                    )
                    for n in m["neighbors"]
                ),
                tie=m["tie"],
                tie_note=m["tie_note"],
                image=None,
                seed=m["seed"],
            )
            for m in data["examples"]
        ]
        return cls(
            labels=labels,
            confusion=np.asarray(data["confusion"], dtype=np.int64),
            examples=examples,
            accuracies=list(data["accuracies"]),
            seeds=list(data["seeds"]),
            config=dict(data.get("config", {})),
            description=data.get("description", ""),
            times_tested={h["data_row"]: h["tested"] for h in data.get("hardest", [])},
        )

    # -- faces -------------------------------------------------------------------

    def to_dict(self, normalize: str | None = None) -> dict:
        """Everything ``digitlab mistakes --json`` prints (pictures left out)."""
        from digitlab._version import __version__
        from digitlab.stats import summarize

        out = {
            "config": self.config,
            "labels": [_plain(v) for v in self.labels],
            "confusion": self.confusion.tolist(),
            "n_test": self.n_test,
            "n_wrong": self.n_wrong,
            "accuracy": self.accuracy,
            "per_class": {str(k): v.to_dict() for k, v in self.per_class.items()},
            "averages": self.averages(),
            "pairs": [
                {"true": p.true, "predicted": p.predicted, "count": p.count}
                for p in self.pairs
            ],
            "examples": [m.to_dict() for m in self.examples],
            "hardest": [
                {"data_row": row, "true": true, "wrong": n, "tested": tested}
                for row, true, n, tested in self.hardest(limit=None)
            ],
            "seeds": self.seeds,
            "accuracies": self.accuracies,
            "description": self.description,
            "version": __version__,
        }
        if self.n_splits > 1:
            out["accuracy_summary"] = summarize(self.accuracies).to_dict()
        if normalize is not None:
            out["normalize"] = normalize
            out["confusion_rates"] = self.confusion_rates(normalize).tolist()
        return out

    def summary_line(self) -> str:
        from digitlab.train import format_score

        line = (
            f"Accuracy {format_score(self.accuracy)} ({self.n_wrong} wrong of "
            f"{self.n_test})"
        )
        if self.n_splits > 1:
            from digitlab.stats import summarize

            s = summarize(self.accuracies)
            line += (
                f" over {self.n_splits} splits (seeds {self.seeds[0]}.."
                f"{self.seeds[-1]}); per split: mean {s.mean:.4f}, std {s.std:.4f}"
            )
        return line

    def confusion_lines(self, normalize: str | None = None) -> list[str]:
        """The confusion matrix as aligned text (rows: true, columns: predicted)."""
        names = [str(_plain(v)) for v in self.labels]
        if normalize is None:
            cells = [[str(v) for v in row] for row in self.confusion]
            title = "Confusion matrix (rows: true, columns: predicted)"
        else:
            rates = self.confusion_rates(normalize)
            cells = [[f"{v:.3f}" if v else "." for v in row] for row in rates]
            which = "row" if normalize == "true" else "column"
            title = (
                "Confusion matrix, rates (rows: true, columns: predicted; "
                f"each {which} sums to 1)"
            )
        width = max(len(c) for row in [names, *cells] for c in row)
        head = max(len(n) for n in names)
        lines = [title, " " * head + " " + " ".join(n.rjust(width) for n in names)]
        for name, row in zip(names, cells, strict=True):
            lines.append(name.rjust(head) + " " + " ".join(c.rjust(width) for c in row))
        return lines

    def per_class_lines(self) -> list[str]:
        """Precision, recall, f1 and support per label, as text."""
        lines = ["Per digit:", "label  precision  recall     f1  support"]
        for label, s in self.per_class.items():
            lines.append(
                f"{str(label):>5}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}"
                f"  {s.support:7d}"
            )
        a = self.averages()
        for kind in ("macro", "weighted"):
            lines.append(
                f"{kind:>8}  {a[kind + '_precision']:6.3f}  {a[kind + '_recall']:6.3f}"
                f"  {a[kind + '_f1']:5.3f}  {self.n_test:7d}"
            )
        return lines

    def pair_line(self, limit: int = 10) -> str:
        pairs = self.pairs
        if not pairs:
            return "Most confused: none, every test digit was right."
        text = ", ".join(str(p) for p in pairs[:limit])
        if len(pairs) > limit:
            text += f", ... ({len(pairs) - limit} more pairs)"
        return f"Most confused: {text}"

    def lines(self, normalize: str | None = None, max_examples: int = 20) -> list[str]:
        """What ``digitlab mistakes`` prints."""
        out = [self.summary_line(), *self.confusion_lines(normalize)]
        out += self.per_class_lines()
        out.append(self.pair_line())
        if self.hardest(limit=1):
            out.append(self.hardest_line())
        if self.examples:
            out.append("Wrong digits (neighbors as label@distance, nearest first):")
            for m in self.examples[:max_examples]:
                out.append("  " + m.describe())
            if len(self.examples) > max_examples:
                out.append(
                    f"  ... {len(self.examples) - max_examples} more; see --report "
                    "or --json for all of them."
                )
        return out

    def __repr__(self) -> str:
        head = f"MistakesResult: {self.description}\n" if self.description else ""
        return head + "\n".join(self.lines(max_examples=10))

    def _repr_html_(self) -> str:
        from digitlab.report import render_notebook

        return render_notebook(self, max_examples=20)

    def plot(self, ax=None, *, normalize: str | None = None):
        """The confusion matrix as a heat map (:func:`digitlab.plots.plot_confusion`).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw here; by default on a new pyplot figure (shown inline in a
            notebook, saved by ``plt.savefig``).
        normalize : {None, "true", "pred"}
            Counts, or rates per true label or per predicted label.

        Returns
        -------
        matplotlib Axes
        """
        from digitlab.plots import plot_confusion

        return plot_confusion(self, ax=ax, normalize=normalize)

    def to_html(self, path, *, force: bool = False, normalize: str | None = None):
        """Write the self-contained HTML report (see :mod:`digitlab.report`).

        Returns the path written; an existing file is kept unless ``force``.
        """
        from digitlab.report import write_report

        return write_report(self, path, force=force, normalize=normalize)


def _add_counts(counts) -> dict:
    total: dict = {}
    for c in counts:
        for key, n in c.items():
            total[key] = total.get(key, 0) + n
    return total


def _label_rank(labels: np.ndarray, pair: Pair) -> tuple[int, int]:
    index = {_plain(v): i for i, v in enumerate(labels)}
    return index[pair.true], index[pair.predicted]


def _as_pictures(rows: np.ndarray, images) -> np.ndarray | None:
    """The pictures of ``rows``: given ones, or the rows reshaped when square."""
    if images is not None:
        images = np.asarray(images)
        if images.shape[0] != rows.shape[0]:
            raise DigitlabError(
                f"Got {images.shape[0]} pictures for {rows.shape[0]} rows; give "
                "one picture per row."
            )
        return images
    side = math.isqrt(rows.shape[1])
    if side * side == rows.shape[1]:
        return rows.reshape(-1, side, side)
    return None


def _tie(model, classes, proba_row, pred_index, labels_k1, dist_k1, k) -> str:
    """How the tie rule decided a prediction, or ``""`` when it did not."""
    top = proba_row[pred_index]
    rivals = [classes[j] for j in np.flatnonzero(proba_row == top) if j != pred_index]
    if rivals:
        names = ", ".join(str(_plain(c)) for c in [classes[pred_index], *rivals])
        return (
            f"labels {names} got equal votes; the smallest label "
            f"{_plain(classes[pred_index])} won"
        )
    if (
        len(dist_k1) > k
        and dist_k1[k - 1] == dist_k1[k]
        and labels_k1[k - 1] != labels_k1[k]
    ):
        # The k-th place was shared: the earlier training row took it. Would the
        # other one have changed the vote?
        swapped = labels_k1[:k].copy()
        swapped[k - 1] = labels_k1[k]
        weights = getattr(model, "weights", "uniform")
        _, pred = vote(swapped[None, :], dist_k1[None, :k], len(classes), weights)
        if pred[0] != pred_index:
            return (
                f"neighbors {k} and {k + 1} are both at distance {dist_k1[k]:.4g}; "
                "the earlier training row took the last place"
            )
    return ""


def mistakes(
    model,
    X_test,
    y_test,
    *,
    test_images=None,
    train_images=None,
    test_rows=None,
    train_rows=None,
    seed=None,
    config: dict | None = None,
    description: str = "",
) -> MistakesResult:
    """Find the test digits a fitted model gets wrong, and the neighbors behind them.

    Parameters
    ----------
    model : KNN
        A fitted :class:`~digitlab.model.KNN` (any classifier with ``classes_``,
        ``predict``, ``predict_proba`` and ``kneighbors`` works).
    X_test : array-like of shape (n_test, n_features)
    y_test : array-like of shape (n_test,)
    test_images, train_images : ndarray, optional
        Pictures of the test and training rows (for the gallery). By default the
        rows are reshaped to squares when their length is a square (64 → 8×8).
    test_rows, train_rows : array of int, optional
        Row numbers of the test and training digits in the whole data set (a
        split's ``test_index`` and ``train_index``), so every digit can be found.
    seed : int, optional
        The seed of the split, kept with each wrong digit.
    config : dict, optional
        Settings to keep with the result (what ``digitlab mistakes --json`` shows).
    description : str
        One line for people about the data, split and model.

    Returns
    -------
    MistakesResult

    Examples
    --------
    >>> import digitlab
    >>> split = digitlab.load_digits().split(test_size=0.2, seed=0)
    >>> model = digitlab.KNN(k=5).fit(split.X_train, split.y_train)
    >>> result = digitlab.mistakes(model, split.X_test, split.y_test)
    >>> result.n_wrong, [str(p) for p in result.pairs[:2]]
    (9, ['8 → 3 (2)', '1 → 5 (1)'])
    """
    for attr in ("classes_", "predict", "predict_proba", "kneighbors"):
        if not hasattr(model, attr):
            raise DigitlabError(
                f"mistakes needs a fitted k-nearest-neighbors model (missing "
                f"{attr!r}); fit a digitlab.KNN first."
            )
    X_test = np.asarray(X_test, dtype=np.float64)
    y_test = np.asarray(y_test)
    if X_test.ndim != 2 or len(y_test) != len(X_test) or len(y_test) == 0:
        raise DigitlabError(
            f"X_test {X_test.shape} and y_test {y_test.shape} do not fit together; "
            "give a non-empty 2D X_test with one label per row."
        )
    classes = np.asarray(model.classes_)
    y_pred = np.asarray(model.predict(X_test))
    labels = np.union1d(classes, np.unique(y_test))
    true_idx = np.searchsorted(labels, y_test)
    pred_idx = np.searchsorted(labels, y_pred)
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(confusion, (true_idx, pred_idx), 1)

    wrong = np.flatnonzero(y_pred != y_test)
    fit_X, fit_y = getattr(model, "_fit_X", None), getattr(model, "_y", None)
    if len(wrong) and (fit_X is None or fit_y is None):
        raise DigitlabError(
            "mistakes needs a k-nearest-neighbors model that keeps its training "
            "digits; fit a digitlab.KNN first."
        )
    examples: list[Mistake] = []
    if len(wrong):
        k = int(
            getattr(model, "n_neighbors_", None)
            or getattr(model, "k", None)
            or model.n_neighbors
        )
        # One extra neighbor shows whether the k-th place was an exact tie.
        dist, ind = model.kneighbors(X_test[wrong], n_neighbors=min(k + 1, len(fit_X)))
        proba = np.asarray(model.predict_proba(X_test[wrong]))
        pictures = _as_pictures(X_test, test_images)
        train_pictures = _as_pictures(fit_X, train_images)
        for n, row in enumerate(wrong):
            voters = fit_y[ind[n]]  # class indices into ``classes``
            predicted = int(np.searchsorted(classes, y_pred[row]))
            note = _tie(model, classes, proba[n], predicted, voters, dist[n], k)
            order = np.argsort(-proba[n], kind="stable")
            shares = {
                _plain(classes[j]): float(proba[n, j]) for j in order if proba[n, j] > 0
            }
            neighbors = tuple(
                Neighbor(
                    train_row=int(ind[n, j]),
                    data_row=None if train_rows is None else int(train_rows[ind[n, j]]),
                    label=_plain(classes[voters[j]]),
                    distance=float(dist[n, j]),
                    image=None if train_pictures is None else train_pictures[ind[n, j]],
                )
                for j in range(k)
            )
            examples.append(
                Mistake(
                    test_row=int(row),
                    data_row=None if test_rows is None else int(test_rows[row]),
                    true=_plain(y_test[row]),
                    predicted=_plain(y_pred[row]),
                    shares=shares,
                    neighbors=neighbors,
                    tie=bool(note),
                    tie_note=note,
                    image=None if pictures is None else pictures[row],
                    seed=seed,
                )
            )
    return MistakesResult(
        labels=labels,
        confusion=confusion,
        examples=examples,
        accuracies=[float(np.mean(y_pred == y_test))],
        seeds=[seed],
        config=dict(config or {}),
        description=description,
        times_tested={} if test_rows is None else dict.fromkeys(map(int, test_rows), 1),
    )


def mistakes_on_split(
    data=None,
    *,
    test_size: float | int = 0.2,
    seed: int | None = 0,
    stratify: bool = False,
    k: int = 5,
    weights: str = "uniform",
    metric: str = "euclidean",
    repeats: int = 1,
) -> MistakesResult:
    """Train as ``digitlab train`` does and find the mistakes on the test part.

    With no arguments this is the lesson's split (scikit-learn's digits,
    ``test_size=0.2``, seed 0, five neighbors): 9 wrong of 360.

    Parameters
    ----------
    data : Dataset, optional
        The digits; scikit-learn's built-in digits by default.
    test_size, seed, stratify, k, weights, metric
        As for :func:`digitlab.train`.
    repeats : int
        Use ``repeats`` splits with seeds ``seed, seed + 1, ...`` and add their
        confusion matrices together: which digits are hard on average, not on one
        lucky split.

    Returns
    -------
    MistakesResult

    Examples
    --------
    >>> result = mistakes_on_split()
    >>> result.accuracy, result.n_wrong, result.n_test
    (0.975, 9, 360)
    """
    from digitlab.data import load_digits
    from digitlab.train import train

    if (
        isinstance(repeats, bool)
        or not isinstance(repeats, numbers.Integral)
        or repeats < 1
    ):
        raise DigitlabError(
            f"repeats must be a whole number of at least 1, got {repeats!r}."
        )
    if repeats > 1 and seed is None:
        raise DigitlabError(
            "Repeated splits need a starting seed; give seed=0 (or any whole number)."
        )
    data = load_digits() if data is None else data
    results = []
    for r in range(repeats):
        run_seed = seed if seed is None else seed + r
        trained = train(
            data,
            test_size=test_size,
            seed=run_seed,
            stratify=stratify,
            k=k,
            weights=weights,
            metric=metric,
        )
        split = trained.split
        images = data.images
        results.append(
            mistakes(
                trained.model,
                split.X_test,
                split.y_test,
                test_images=None if images is None else images[split.test_index],
                train_images=None if images is None else images[split.train_index],
                test_rows=split.test_index,
                train_rows=split.train_index,
                seed=run_seed,
                config=trained.config(),
                description=" · ".join(trained.lines()[:3]),
            )
        )
    if repeats == 1:
        return results[0]
    combined = MistakesResult.combine(results)
    last = seed + repeats - 1
    combined.description = combined.description.replace(
        f"seed {seed}", f"{repeats} splits, seeds {seed}..{last}", 1
    )
    return combined
