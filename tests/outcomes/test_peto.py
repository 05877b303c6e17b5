"""Peto standard errors and their log(-log) intervals, worked by hand on four patients.

Peto et al., Br J Cancer 1977;35:1-39: SE(S) = S sqrt((1 - S) / n(t)), n(t) at risk at t.
Interval: theta = log(-log S), se(theta) = sqrt((1 - S)/n) / |log S|, z = 1.959964,
lower = exp(-exp(theta + z se)), upper = exp(-exp(theta - z se)).
"""

from __future__ import annotations

import math

import pytest

from phaseone.outcomes.km import kaplan_meier

# Times 1, 2, 3+, 4: events at 1, 2, 4; censored at 3.
#   t=1: n=4, d=1, S=3/4.  (1-S)/n = 1/16, SE = 0.75 x 0.25 = 0.1875.
#        theta = log(0.287682) = -1.245899; se(theta) = 0.25/0.287682 = 0.869015;
#        z se = 1.703228 -> lower = exp(-exp(0.457329)) = 0.2060,
#                           upper = exp(-exp(-2.949127)) = 0.9490.
#   t=2: n=3, d=1, S=1/2.  (1-S)/n = 1/6, SE = 0.5 x 0.408248 = 0.204124.
#        theta = log(log 2) = -0.366513; se(theta) = 0.408248/0.693147 = 0.588979;
#        z se = 1.154378 -> lower = exp(-exp(0.787865)) = 0.1109,
#                           upper = exp(-exp(-1.520891)) = 0.8037.
#   t=3: censored, n=2, S=1/2: (1-S)/n = 1/4, SE = 0.25; interval 0.0578 .. 0.8449.
#   t=4: n=1, d=1, S=0: SE 0, no interval.
HAND = [
    (1, 0.75, 0.1875, 0.2060, 0.9490),
    (2, 0.5, 0.204124, 0.1109, 0.8037),
    (3, 0.5, 0.25, 0.0578, 0.8449),
]


def test_peto_by_hand() -> None:
    km = kaplan_meier([1, 2, 3, 4], [True, True, False, True], se_method="peto")
    assert list(km.time) == [1, 2, 3, 4]
    for i, (t, s, se, lo, hi) in enumerate(HAND):
        assert km.time[i] == t
        assert km.survival[i] == pytest.approx(s, abs=1e-12)
        assert km.std_err[i] == pytest.approx(se, abs=1e-6)
        assert (km.lower[i], km.upper[i]) == pytest.approx((lo, hi), abs=1e-4)
    assert km.survival[3] == 0 and math.isnan(km.lower[3]) and math.isnan(km.upper[3])


def test_peto_and_greenwood_differ_where_censoring_has_happened() -> None:
    # Before any censoring Greenwood's sum d/(n(n-d)) at t=1 is 1/12, not Peto's 1/16.
    g = kaplan_meier([1, 2, 3, 4], [True, True, False, True])
    assert g.std_err[0] == pytest.approx(0.75 * math.sqrt(1 / 12), abs=1e-12)
    p = kaplan_meier([1, 2, 3, 4], [True, True, False, True], se_method="peto")
    assert p.std_err[0] < g.std_err[0]
