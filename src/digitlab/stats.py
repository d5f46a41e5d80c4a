"""Honest summaries of repeated measurements: means, spreads, intervals, paired tests.

``sweep`` and ``compare`` both report accuracies over repeated splits with these
functions, so a "± std" or a "95 % interval" means the same thing everywhere.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Summary", "summarize", "paired_test", "PairedTest"]


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and a Student-t interval of the mean."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    level: float = 0.95

    def overlaps(self, other: Summary) -> bool:
        """True when the two intervals share any value."""
        return self.ci_low <= other.ci_high and other.ci_low <= self.ci_high

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
        }


@functools.lru_cache(maxsize=256)
def _t_quantile(q: float, df: int) -> np.float64:
    """Student's t quantile: ``scipy.stats.t.ppf(q, df)``, the same float.

    ``t.ppf`` is ``scipy.special.stdtrit`` behind argument checks; calling it
    directly spares a command the import of ``scipy.stats`` (about a second),
    and the value is kept: a sweep summarizes many cells of the same ``n``.
    """
    from scipy.special import stdtrit

    return stdtrit(df, q)


def summarize(values, level: float = 0.95) -> Summary:
    """Summarize repeated measurements (e.g. accuracies over seeded splits).

    The interval is the Student-t interval of the mean: with ``n`` splits, mean
    ``m`` and sample standard deviation ``s``, ``m ± t(n-1) · s / sqrt(n)``. With
    one value the interval is that value alone (no spread can be measured).

    Examples
    --------
    >>> s = summarize([0.97, 0.98, 0.99])
    >>> round(s.mean, 4), round(s.std, 4)
    (0.98, 0.01)
    """
    a = np.asarray(values, dtype=np.float64)
    n = a.size
    mean = float(a.mean())
    if n < 2:
        return Summary(n, mean, 0.0, mean, mean, level)
    std = float(a.std(ddof=1))
    half = float(_t_quantile(0.5 + level / 2, n - 1) * std / np.sqrt(n))
    return Summary(n, mean, std, mean - half, mean + half, level)


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of two methods measured on the same splits."""

    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int

    def to_dict(self) -> dict:
        return {
            "mean_difference": self.mean_difference,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "n": self.n,
        }


def paired_test(a, b, level: float = 0.95) -> PairedTest:
    """Paired t-test of ``a - b`` over the same splits (two-sided).

    When every difference is equal (including all zero), the p-value is 1 for a
    zero difference and 0 otherwise, rather than NaN.
    """
    from scipy import stats

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    s = summarize(d, level)
    if s.n < 2 or s.std == 0.0:
        p = 1.0 if s.mean == 0.0 else 0.0
    else:
        p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return PairedTest(s.mean, s.ci_low, s.ci_high, p, s.n)
