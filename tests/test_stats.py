"""Summaries and paired tests against scipy and hand computation."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from digitlab.stats import paired_test, summarize


def test_summary_by_hand():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s.mean == 2.5
    assert math.isclose(s.std, math.sqrt(5 / 3))
    half = stats.t.ppf(0.975, 3) * math.sqrt(5 / 3) / 2
    assert math.isclose(s.ci_low, 2.5 - half) and math.isclose(s.ci_high, 2.5 + half)


def test_single_value_has_no_spread():
    s = summarize([0.9])
    assert (s.std, s.ci_low, s.ci_high) == (0.0, 0.9, 0.9)


def test_overlap():
    a, b = summarize([1.0, 1.1, 0.9]), summarize([1.05, 1.15, 0.95])
    c = summarize([5.0, 5.1, 4.9])
    assert a.overlaps(b) and not a.overlaps(c)


def test_paired_test_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(0.98, 0.01, 20)
    b = a - rng.normal(0.004, 0.002, 20)
    t = paired_test(a, b)
    assert math.isclose(t.p_value, stats.ttest_rel(a, b).pvalue)
    assert math.isclose(t.mean_difference, float(np.mean(a - b)))
    assert t.ci_low < t.mean_difference < t.ci_high


def test_paired_test_identical_results():
    assert paired_test([0.9, 0.8], [0.9, 0.8]).p_value == 1.0
