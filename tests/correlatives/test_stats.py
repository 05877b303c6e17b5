"""Exact tests pinned to R 4.2.2 (Debian bookworm r-base-core; exactRankTests 0.8-35).

Each expected number was printed by the R call written beside it (print(..., digits = 12))
on 2026-12-06; none was produced by phaseone.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import mannwhitneyu
from scipy.stats import nchypergeom_fisher as nchg

from phaseone.correlatives.stats import (
    clopper_pearson,
    fisher_exact,
    rank_sum_distribution,
    rank_sum_test,
)

HIGH = [12.1, 35.4, 20.2, 41.9, 8.3]
LOW = [-4.0, 2.5, 11.0, -9.7, 0.6, 5.2, 3.3]


def test_rank_sum_without_ties_matches_r_wilcox_test() -> None:
    # r <- wilcox.test(h, l, exact = TRUE, conf.int = TRUE)
    r = rank_sum_test(HIGH, LOW)
    assert r.w == 34
    assert r.p_value == pytest.approx(0.00505050505051, rel=1e-10)
    assert r.estimate == pytest.approx(19.6)
    assert (r.conf_low, r.conf_high) == pytest.approx((6.9, 39.4))
    assert not r.ties
    # wilcox.test(h, l, exact = TRUE, conf.int = TRUE, conf.level = 0.9)$conf.int
    r90 = rank_sum_test(HIGH, LOW, conf_level=0.9)
    assert (r90.conf_low, r90.conf_high) == pytest.approx((7.7, 38.6))


def test_rank_sum_small_groups_matches_r() -> None:
    # wilcox.test(c(-3.1, 0.4, 2.2), c(5.0, 6.5, 7.1, 8.8), exact = TRUE, conf.int = TRUE)
    r = rank_sum_test([-3.1, 0.4, 2.2], [5.0, 6.5, 7.1, 8.8])
    assert r.w == 0
    assert r.p_value == pytest.approx(0.0571428571429, rel=1e-10)
    assert r.estimate == pytest.approx(-6.65)
    assert (r.conf_low, r.conf_high) == pytest.approx((-11.9, -2.8))


@pytest.mark.parametrize(("x", "y", "w", "p"), [
    # library(exactRankTests); wilcox.exact(c(1, 2, 2, 3, 5, 5), c(2, 4, 5, 6, 6, 7, 8))
    ([1, 2, 2, 3, 5, 5], [2, 4, 5, 6, 6, 7, 8], 7, 0.044289044289),
    # wilcox.exact(c(0.5, 1.5, 1.5, 3, 4), c(1.5, 2, 3, 3, 5, 6))
    ([0.5, 1.5, 1.5, 3, 4], [1.5, 2, 3, 3, 5, 6], 8, 0.24025974026),
])
def test_rank_sum_with_ties_matches_exact_rank_tests(x: list[float], y: list[float],
                                                     w: float, p: float) -> None:
    r = rank_sum_test(x, y)
    assert r.ties
    assert r.w == w
    assert r.p_value == pytest.approx(p, rel=1e-9)


def test_untied_p_values_agree_with_scipy_exact_mann_whitney() -> None:
    # A second reference: SciPy's exact Mann-Whitney distribution, several group sizes.
    for n_x, n_y in [(1, 1), (2, 5), (4, 4), (6, 9), (10, 12)]:
        x = [i * 1.7 + 0.3 for i in range(n_x)]
        y = [j * 1.1 + 0.05 for j in range(n_y)]
        ours = rank_sum_test(x, y).p_value
        theirs = mannwhitneyu(x, y, method="exact").pvalue
        assert ours == pytest.approx(theirs, rel=1e-9), (n_x, n_y)


def test_rank_sum_distribution_is_a_distribution() -> None:
    sums, probs = rank_sum_distribution([1, 2.5, 2.5, 4, 5.5, 5.5], 3)
    assert probs.sum() == pytest.approx(1.0)
    assert sums.min() == 1 + 2.5 + 2.5 and sums.max() == 4 + 5.5 + 5.5
    # Symmetric about m * mean(scores).
    assert list(probs) == pytest.approx(list(probs[::-1]))


def test_rank_sum_refuses_empty_groups() -> None:
    with pytest.raises(ValueError, match="at least one"):
        rank_sum_test([], [1.0])


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (3, 14, 0.0465792878899, 0.5079756770485),  # binom.test(3, 14)$conf.int
    (0, 9, 0.0, 0.33626711688),                  # binom.test(0, 9)$conf.int
])
def test_clopper_pearson_matches_r_binom_test(k: int, n: int, low: float, high: float) -> None:
    r = clopper_pearson(k, n)
    assert (r.conf_low, r.conf_high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("table", "p", "estimate", "low", "high"), [
    # fisher.test(matrix(c(3, 1, 1, 3), 2))
    ([[3, 1], [1, 3]], 0.485714285714, 6.40830886701, 0.211732915306, 621.933750545417),
    # fisher.test(matrix(c(2, 5, 6, 3), 2))  (R fills by column)
    ([[2, 6], [5, 3]], 0.314685314685, 0.223529510496, 0.0131751476042, 2.4470278167894),
    # fisher.test(matrix(c(7, 0, 17, 14), 2)): an empty cell, infinite estimate
    ([[7, 17], [0, 14]], 0.0334072462555, math.inf, 0.965048022971, math.inf),
])
def test_fisher_matches_r(table: list[list[int]], p: float, estimate: float, low: float,
                          high: float) -> None:
    r = fisher_exact(table)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    # R finds the MLE and the limits with uniroot at its default tolerance (~1e-4), so its
    # printed estimate is accurate to about 0.1% and its limits to about 1%; the test below
    # checks ours against the defining equations instead.
    assert r.odds_ratio == pytest.approx(estimate, rel=1e-3)
    assert r.conf_low == pytest.approx(low, rel=1e-2)
    assert r.conf_high == pytest.approx(high, rel=1e-2)


def test_fisher_limits_solve_their_defining_equations() -> None:
    # Exact limits: P(X >= a | lower) = P(X <= a | upper) = 2.5% under the noncentral
    # hypergeometric distribution of the top-left cell given the margins.
    r = fisher_exact([[2, 6], [5, 3]])
    total, col1, row1 = 16, 7, 8
    # The conditional MLE makes the observed cell the conditional mean.
    assert nchg.mean(total, col1, row1, r.odds_ratio) == pytest.approx(2, abs=1e-6)
    assert nchg.sf(2 - 1, total, col1, row1, r.conf_low) == pytest.approx(0.025, abs=1e-7)
    assert nchg.cdf(2, total, col1, row1, r.conf_high) == pytest.approx(0.025, abs=1e-7)
