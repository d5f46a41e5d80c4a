"""Compare recipes on identical seeded splits, honestly.

:func:`compare` fits every recipe on the same ``repeats`` random train/test splits
(seeds ``seed .. seed+repeats-1``), so differences between recipes are not
differences between splits. It reports each recipe's mean accuracy, spread and
95 % interval (:func:`digitlab.stats.summarize`) and the paired difference against
a baseline recipe with a paired t-test across the splits
(:func:`digitlab.stats.paired_test`).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from digitlab.data import Dataset, check_test_size, load_digits
from digitlab.errors import DigitlabError
from digitlab.recipes import DEFAULT_RECIPES, Recipe, get_recipe
from digitlab.stats import PairedTest, Summary, paired_test, summarize

__all__ = ["compare", "CompareResult"]


@dataclass
class CompareResult:
    """Accuracies and times of several recipes on the same seeded splits.

    Attributes
    ----------
    recipes : list of str
        Recipe names, in the order they were run.
    descriptions : dict
        Recipe name → its one-line description.
    seeds : list of int
        The split seeds; split ``i`` of every recipe used ``seeds[i]``.
    accuracy : dict
        Recipe name → ndarray of one accuracy per split.
    fit_seconds, predict_seconds : dict
        Recipe name → ndarray of seconds per split.
    baseline : str
        The recipe every other one is compared with, split by split.
    """

    recipes: list[str]
    descriptions: dict[str, str]
    seeds: list[int]
    accuracy: dict[str, np.ndarray]
    fit_seconds: dict[str, np.ndarray]
    predict_seconds: dict[str, np.ndarray]
    baseline: str
    test_size: float | int
    stratify: bool
    data_summary: str
    data_source: str
    n_train: int
    n_test: int
    level: float = 0.95
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def repeats(self) -> int:
        return len(self.seeds)

    def summary(self, recipe: str) -> Summary:
        """Mean, std and 95 % interval of ``recipe``'s accuracies over the splits."""
        return summarize(self.accuracy[self._known(recipe)], self.level)

    def paired(self, recipe: str) -> PairedTest | None:
        """``recipe`` minus the baseline, split by split, with a paired t-test.

        ``None`` for the baseline itself.
        """
        recipe = self._known(recipe)
        if recipe == self.baseline:
            return None
        return paired_test(
            self.accuracy[recipe], self.accuracy[self.baseline], self.level
        )

    def best(self) -> str:
        """The recipe with the highest mean accuracy (the earlier one on a tie)."""
        means = [self.accuracy[r].mean() for r in self.recipes]
        return self.recipes[int(np.argmax(means))]

    def _known(self, recipe: str) -> str:
        if recipe not in self.accuracy:
            raise DigitlabError(
                f"Recipe {recipe!r} was not compared; choose one of "
                f"{', '.join(self.recipes)}."
            )
        return recipe

    # ------------------------------------------------------------------ output
    def header(self) -> str:
        seeds = (
            f"seeds {self.seeds[0]}..{self.seeds[-1]}"
            if self.repeats > 1
            else (f"seed {self.seeds[0]}")
        )
        share = (
            f"{round((1 - self.test_size) * 100):g}/{round(self.test_size * 100):g}"
            if isinstance(self.test_size, float)
            else f"{self.n_train}/{self.n_test}"
        )
        kind = "stratified " if self.stratify else ""
        plural = "s" if self.repeats != 1 else ""
        return (
            f"{self.repeats} random {kind}{share} split{plural} of "
            f"{self.data_summary} ({seeds}), identical for every recipe"
        )

    def rows(self) -> list[dict]:
        """One dict per recipe: the numbers of the table."""
        out = []
        for name in self.recipes:
            s = self.summary(name)
            p = self.paired(name)
            out.append(
                {
                    "recipe": name,
                    "description": self.descriptions[name],
                    "summary": s,
                    "paired": p,
                    "fit_seconds": float(self.fit_seconds[name].mean()),
                    "predict_seconds": float(self.predict_seconds[name].mean()),
                }
            )
        return out

    def table_lines(self) -> list[str]:
        width = max(len("recipe"), *(len(r) for r in self.recipes))
        lines = [
            f"{'recipe':<{width}}  mean acc  ± std    95 % interval      "
            f"vs {self.baseline} (paired)        fit+predict"
        ]
        for row in self.rows():
            s, p = row["summary"], row["paired"]
            vs = "—" if p is None else _format_paired(p)
            seconds = row["fit_seconds"] + row["predict_seconds"]
            lines.append(
                f"{row['recipe']:<{width}}  {s.mean:.4f}    {s.std:.4f}   "
                f"{s.ci_low:.4f}–{s.ci_high:.4f}    {vs:<28}  {seconds:6.2f} s"
            )
        return lines

    def best_line(self) -> str:
        best = self.best()
        s = self.summary(best)
        return (
            f"Best: {best} ({s.mean:.4f}) — use it with: digitlab train --recipe {best}"
        )

    def lines(self) -> list[str]:
        return [self.header(), *self.table_lines(), self.best_line()]

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        """The table, the verdict and the dot plot (inline styles, inline PNG)."""
        esc = html.escape
        pad = "padding: 1px 8px; white-space: nowrap"
        th = f'<th style="{pad}; text-align: left">'
        td = f'<td style="{pad}; text-align: right"'
        head = (
            f"<tr>{th}recipe</th>{th}mean acc</th>{th}± std</th>"
            f"{th}95 % interval</th>"
            f"{th}vs {esc(self.baseline)} (paired)</th>{th}fit+predict</th></tr>"
        )
        best = self.best()
        body = []
        for row in self.rows():
            s, p = row["summary"], row["paired"]
            vs = "—" if p is None else _format_paired(p)
            name = esc(row["recipe"])
            if row["recipe"] == best:
                name = f"<b>{name}</b>"
            body.append(
                f'<tr><td style="{pad}" title="{esc(row["description"])}">{name}</td>'
                f"{td}>{s.mean:.4f}</td>{td}>{s.std:.4f}</td>"
                f"{td}>{s.ci_low:.4f}–{s.ci_high:.4f}</td>{td}>{esc(vs)}</td>"
                f"{td}>{row['fit_seconds'] + row['predict_seconds']:.2f} s</td></tr>"
            )
        from digitlab.plots import plot_compare, png_img_tag

        picture = png_img_tag(
            plot_compare, self, alt="mean accuracy of each recipe with its interval"
        )
        return (
            '<div style="font-family: system-ui, sans-serif; font-size: 13px">'
            f'<p style="margin: 4px 0">{esc(self.header())}</p>'
            f'<table style="border-collapse: collapse">{head}{"".join(body)}</table>'
            f'<p style="margin: 4px 0">{esc(self.best_line())}</p>'
            f'<div style="max-width: 680px">{picture}</div></div>'
        )

    def to_dict(self) -> dict:
        """Everything ``digitlab compare --json`` prints (JSON-able)."""
        recipes = {}
        for row in self.rows():
            name, paired = row["recipe"], row["paired"]
            recipes[name] = {
                "description": row["description"],
                "accuracy": [float(a) for a in self.accuracy[name]],
                "summary": row["summary"].to_dict(),
                "vs_baseline": None if paired is None else paired.to_dict(),
                "fit_seconds": row["fit_seconds"],
                "predict_seconds": row["predict_seconds"],
                "fit_seconds_per_split": [float(t) for t in self.fit_seconds[name]],
                "predict_seconds_per_split": [
                    float(t) for t in self.predict_seconds[name]
                ],
            }
        return {
            "data": self.data_source,
            "data_summary": self.data_summary,
            "level": self.level,
            "test_size": self.test_size,
            "stratify": self.stratify,
            "seeds": list(self.seeds),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "baseline": self.baseline,
            "order": list(self.recipes),
            "recipes": recipes,
            "best": self.best(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> CompareResult:
        """Rebuild a result from :meth:`to_dict` (e.g. from the run history)."""
        order = d["order"]
        per = d["recipes"]
        return cls(
            recipes=list(order),
            descriptions={r: per[r]["description"] for r in order},
            seeds=list(d["seeds"]),
            accuracy={r: np.array(per[r]["accuracy"]) for r in order},
            fit_seconds={r: np.array(per[r]["fit_seconds_per_split"]) for r in order},
            predict_seconds={
                r: np.array(per[r]["predict_seconds_per_split"]) for r in order
            },
            baseline=d["baseline"],
            test_size=d["test_size"],
            stratify=d["stratify"],
            data_summary=d.get("data_summary", d["data"]),
            data_source=d["data"],
            n_train=d["n_train"],
            n_test=d["n_test"],
            level=d.get("level", 0.95),
        )

    def plot(self, ax=None):
        """Dot plot: each recipe's mean accuracy with its 95 % interval.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw here; by default on a new pyplot figure (shown inline in a
            notebook, saved by ``plt.savefig``).

        Returns
        -------
        matplotlib Axes
        """
        from digitlab.plots import plot_compare

        return plot_compare(self, ax=ax)


def _format_paired(p: PairedTest) -> str:
    value = "p<0.001" if p.p_value < 0.001 else f"p={p.p_value:.3f}"
    return f"{p.mean_difference * 100:+.2f} pt, {value}"


def _check_repeats(repeats) -> int:
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)):
        raise DigitlabError(f"repeats must be a whole number, got {repeats!r}.")
    if repeats < 1:
        raise DigitlabError(
            f"repeats={repeats} is too small; use at least 1 split (20 is usual)."
        )
    return int(repeats)


def compare(
    data: Dataset | None = None,
    recipes=None,
    *,
    repeats: int = 20,
    test_size: float | int = 0.2,
    seed: int = 0,
    stratify: bool = False,
    baseline: str = "knn",
    progress=None,
) -> CompareResult:
    """Fit and score several recipes on the same seeded train/test splits.

    Parameters
    ----------
    data : Dataset, optional
        The built-in digits by default.
    recipes : sequence of str or Recipe, optional
        Which recipes (default: :data:`digitlab.recipes.DEFAULT_RECIPES`). The
        baseline is added in front when missing.
    repeats : int
        How many splits; split ``i`` uses seed ``seed + i``.
    test_size : float or int
        Share (or count) of rows in each test part.
    seed : int
        The first split's seed.
    stratify : bool
        Keep class shares equal in both parts.
    baseline : str
        The recipe the others are compared with, split by split.
    progress : callable, optional
        Called as ``progress(recipe_name, split_number)`` after each fit.

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> r = compare(recipes=["knn", "svc"], repeats=3)
    >>> [round(float(a), 4) for a in r.accuracy["svc"]]
    [0.9917, 0.9889, 0.975]
    """
    data = load_digits() if data is None else data
    repeats = _check_repeats(repeats)
    test_size = check_test_size(test_size, len(data))
    chosen = [get_recipe(r) for r in (DEFAULT_RECIPES if recipes is None else recipes)]
    if not chosen:
        raise DigitlabError("No recipes to compare; name at least one, e.g. knn,svc.")
    names = [r.name for r in chosen]
    if len(set(names)) != len(names):
        raise DigitlabError(
            f"Recipes are named more than once in {', '.join(names)}; name each once."
        )
    base = baseline.name if isinstance(baseline, Recipe) else baseline
    if base not in names:
        chosen.insert(0, get_recipe(baseline))
        names.insert(0, base)
    seeds = [seed + i for i in range(repeats)]
    splits = [data.split(test_size=test_size, seed=s, stratify=stratify) for s in seeds]
    # One BLAS thread: these models are small, and on a busy machine extra BLAS
    # threads only wait for each other (logistic regression ran 40× slower).
    with threadpool_limits(limits=1):
        accuracy, fit_s, pred_s = _run(chosen, splits, progress)
    return CompareResult(
        recipes=names,
        descriptions={r.name: r.description for r in chosen},
        seeds=seeds,
        accuracy=accuracy,
        fit_seconds=fit_s,
        predict_seconds=pred_s,
        baseline=base,
        test_size=test_size,
        stratify=stratify,
        data_summary=data.description or data.source,
        data_source=data.source,
        n_train=splits[0].n_train,
        n_test=splits[0].n_test,
    )


def _run(recipes, splits, progress):
    """Fit and test every recipe on every split; accuracies and seconds."""
    accuracy, fit_s, pred_s = {}, {}, {}
    for recipe in recipes:
        template = recipe.build()
        acc, fits, preds = [], [], []
        for i, split in enumerate(splits):
            model = clone(template)
            start = time.perf_counter()
            model.fit(split.X_train, split.y_train)
            middle = time.perf_counter()
            y_pred = model.predict(split.X_test)
            end = time.perf_counter()
            acc.append(float(np.mean(y_pred == split.y_test)))
            fits.append(middle - start)
            preds.append(end - middle)
            if progress is not None:
                progress(recipe.name, i + 1)
        accuracy[recipe.name] = np.array(acc)
        fit_s[recipe.name] = np.array(fits)
        pred_s[recipe.name] = np.array(preds)
    return accuracy, fit_s, pred_s
