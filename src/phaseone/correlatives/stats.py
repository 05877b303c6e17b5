"""Exact small-sample statistics for the correlative analyses.

- Wilcoxon rank-sum (Mann-Whitney) test from the exact permutation distribution of the
  rank sum, midranks for ties (the distribution R's `exactRankTests::wilcox.exact` uses;
  without ties it equals base R's `wilcox.test(exact = TRUE)`), with the Hodges-Lehmann
  shift and its exact order-statistic interval (Bauer 1972; as `wilcox.test(conf.int = TRUE)`).
- Clopper-Pearson interval for a proportion (as R's `binom.test`).
- Fisher's exact test on a 2x2 table with the conditional maximum-likelihood odds ratio and
  its exact interval (as R's `fisher.test`).

Tests pin each to R 4.2 output recorded beside the call that produced it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Relative tolerance when comparing permutation statistics: the sums are of half-integers,
# so the only error to absorb is floating-point rounding.
_EPS = 1e-7


@dataclass(frozen=True)
class RankSumResult:
    """Two-sample Wilcoxon rank-sum comparison of `x` against `y` (shift = x - y)."""

    n_x: int
    n_y: int
    w: float  # Mann-Whitney W: rank sum of x minus n_x(n_x+1)/2, as R reports it
    p_value: float  # two-sided, exact
    estimate: float  # Hodges-Lehmann shift: median of all x_i - y_j
    conf_low: float
    conf_high: float
    conf_level: float
    achieved_conf_level: float
    ties: bool

    @property
    def method(self) -> str:
        return ("exact Wilcoxon rank-sum test (midranks, permutation distribution)"
                if self.ties else "exact Wilcoxon rank-sum test")


def _midranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def rank_sum_distribution(scores: Sequence[float], m: int) -> tuple[NDArray[np.float64],
                                                                     NDArray[np.float64]]:
    """Exact null distribution of the sum of `m` scores drawn without replacement.

    Scores are ranks or midranks (multiples of 1/2). Returns (sums, probabilities), sums
    ascending. Counts subsets by dynamic programming over items, as in Streitberg and
    Röhmel's shift algorithm, so ties cost nothing extra.
    """
    doubled = [round(2 * s) for s in scores]
    if any(abs(2 * s - d) > _EPS for s, d in zip(scores, doubled, strict=True)):
        raise ValueError("scores must be multiples of 1/2 (ranks or midranks)")
    total = sum(doubled)
    # counts[k, s]: number of k-subsets of the items seen so far whose doubled sum is s.
    counts = np.zeros((m + 1, total + 1), dtype=np.float64)
    counts[0, 0] = 1.0
    for seen, score in enumerate(doubled, start=1):
        top = min(seen, m)
        counts[1:top + 1, score:] += counts[0:top, :total + 1 - score].copy()
    row = counts[m]
    support = np.nonzero(row)[0]
    probabilities = row[support] / math.comb(len(doubled), m)
    return support / 2.0, probabilities


def rank_sum_test(x: Sequence[float], y: Sequence[float],
                  conf_level: float = 0.95) -> RankSumResult:
    """Exact two-sided Wilcoxon rank-sum test of x against y, with the Hodges-Lehmann shift.

    The p-value is P(|T - E T| >= |t - E T|) under the permutation distribution of the
    rank sum T of x (midranks when values tie). The interval is the pair of order
    statistics of the n_x*n_y differences x_i - y_j cut at the exact untied critical value,
    as R's `wilcox.test`; with ties its coverage is approximate (R itself then falls back to
    a normal approximation), which the result reports through `ties`.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if len(xa) < 1 or len(ya) < 1:
        raise ValueError("each group needs at least one value")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("values must be finite")
    if not 0 < conf_level < 1:
        raise ValueError("conf_level must lie strictly between 0 and 1")
    n_x, n_y = len(xa), len(ya)
    ranks = _midranks(np.concatenate([xa, ya]))
    ties = len(np.unique(ranks)) != len(ranks)
    t = float(ranks[:n_x].sum())
    sums, probs = rank_sum_distribution(ranks.tolist(), n_x)
    expected = n_x * float(ranks.sum()) / (n_x + n_y)
    far = np.abs(sums - expected) >= abs(t - expected) - _EPS
    p_value = min(1.0, float(probs[far].sum()))

    diffs = np.sort(np.subtract.outer(xa, ya).ravel())
    estimate = float(np.median(diffs))
    low, high, achieved = _shift_interval(diffs, n_x, n_y, conf_level)
    return RankSumResult(n_x=n_x, n_y=n_y, w=t - n_x * (n_x + 1) / 2, p_value=p_value,
                         estimate=estimate, conf_low=low, conf_high=high,
                         conf_level=conf_level, achieved_conf_level=achieved, ties=ties)


def _shift_interval(diffs: NDArray[np.float64], n_x: int, n_y: int,
                    conf_level: float) -> tuple[float, float, float]:
    """Order-statistic interval for the shift from the untied W distribution."""
    sums, probs = rank_sum_distribution(list(range(1, n_x + n_y + 1)), n_x)
    w_values = sums - n_x * (n_x + 1) / 2  # 0 .. n_x*n_y
    cdf = np.cumsum(probs)
    alpha = 1 - conf_level
    # qu: the smallest w with P(W <= w) >= alpha/2 (R's qwilcox); at least 1.
    qu = int(w_values[np.searchsorted(cdf, alpha / 2 - 1e-12)])
    qu = max(qu, 1)
    ql = n_x * n_y - qu
    achieved = 1 - 2 * float(cdf[qu - 1]) if qu - 1 >= 0 else 1.0
    return float(diffs[qu - 1]), float(diffs[ql]), achieved


@dataclass(frozen=True)
class ProportionResult:
    """A proportion k/n with its exact (Clopper-Pearson) interval."""

    k: int
    n: int
    estimate: float
    conf_low: float
    conf_high: float
    conf_level: float


def clopper_pearson(k: int, n: int, conf_level: float = 0.95) -> ProportionResult:
    """k of n with the exact binomial interval (as R's `binom.test(k, n)$conf.int`)."""
    from scipy.stats import beta

    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"expected 0 <= k <= n and n >= 1, got k={k}, n={n}")
    alpha = 1 - conf_level
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return ProportionResult(k=k, n=n, estimate=k / n, conf_low=low, conf_high=high,
                            conf_level=conf_level)


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test on [[a, b], [c, d]] with the conditional MLE odds ratio."""

    table: tuple[tuple[int, int], tuple[int, int]]
    p_value: float
    odds_ratio: float
    conf_low: float
    conf_high: float
    conf_level: float


def fisher_exact(table: Sequence[Sequence[int]], conf_level: float = 0.95) -> FisherResult:
    """Two-sided Fisher test, conditional MLE odds ratio and exact interval (R fisher.test).

    The p-value sums the tables no more likely than the observed one (relative tolerance
    1e-7, as R). The odds ratio is the conditional maximum-likelihood estimate (not the
    sample cross-product ratio) and the interval inverts the noncentral hypergeometric
    distribution.
    """
    from scipy.stats import fisher_exact as scipy_fisher
    from scipy.stats.contingency import odds_ratio

    cells = [[int(v) for v in row] for row in table]
    if len(cells) != 2 or any(len(row) != 2 for row in cells):
        raise ValueError("expected a 2x2 table")
    if any(v < 0 for row in cells for v in row):
        raise ValueError("counts must be non-negative")
    _, p_value = scipy_fisher(np.array(cells))
    result = odds_ratio(cells, kind="conditional")
    ci = result.confidence_interval(confidence_level=conf_level)
    return FisherResult(table=((cells[0][0], cells[0][1]), (cells[1][0], cells[1][1])),
                        p_value=float(p_value), odds_ratio=float(result.statistic),
                        conf_low=float(ci.low), conf_high=float(ci.high),
                        conf_level=conf_level)
