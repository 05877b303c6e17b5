"""The power model's slope and interval, pinned to an ordinary least-squares fit done by
statsmodels (OLS on ln(dose), ln(AUC); conf_int(alpha=0.10))."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from phaseone.pk.proportionality import power_model

DOSES = [15, 15, 15, 20, 20, 20, 30, 30, 30, 50, 50, 70]
AUC = [1210.0, 980.0, 1405.0, 1630.0, 1502.0, 1890.0, 2650.0, 2210.0, 3010.0, 4420.0,
       5105.0, 6230.0]


def test_slope_and_interval_match_statsmodels_ols() -> None:
    fit = sm.OLS(np.log(AUC), sm.add_constant(np.log(DOSES))).fit()
    low, high = fit.conf_int(alpha=0.10)[1]
    got = power_model(DOSES, AUC, level=0.90)
    assert got.n == 12
    assert got.slope == pytest.approx(fit.params[1], rel=1e-12)
    assert got.intercept == pytest.approx(fit.params[0], rel=1e-12)
    assert got.slope_se == pytest.approx(fit.bse[1], rel=1e-12)
    assert (got.lower, got.upper) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))


def test_exactly_proportional_data_give_slope_one() -> None:
    got = power_model([10, 20, 40, 80], [3.0, 6.0, 12.0, 24.0])
    assert got.slope == pytest.approx(1.0) and got.slope_se == pytest.approx(0.0, abs=1e-12)


def test_too_little_data_says_why() -> None:
    assert power_model([10, 20], [1.0, 2.0]).reason == "fewer than 3 positive pairs"
    one = power_model([10, 10, 10], [1.0, 2.0, 3.0])
    assert one.reason == "only one dose" and math.isnan(one.slope)
    assert power_model([10, 20, 30, 40], [1.0, 0.0, math.nan, 2.0]).n == 2
