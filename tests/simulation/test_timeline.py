"""Calendar-time simulation: durations, waiting designs, common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import RollingSix, ThreePlusThree
from phaseone.errors import InputError
from phaseone.simulation.api import compare, simulate
from phaseone.simulation.exact_api import exact_oc
from phaseone.simulation.timeline import Timeline

TRUTH = (0.05, 0.10, 0.20, 0.35, 0.50)


def test_three_plus_three_in_time_matches_its_exact_oc() -> None:
    design = ThreePlusThree(doses=5)
    sim = simulate(design, TRUTH, 3000, seed=4, timeline=Timeline("fixed", 5.0, 28.0))
    exact = exact_oc(design, TRUTH)
    for e, s in zip(exact.selection, sim.selection, strict=True):
        assert abs(e.value - s.value) <= 3 * s.se + 1e-12
    assert abs(exact.sample_size.value - sim.sample_size.value) <= 3 * sim.sample_size.se


def test_fixed_arrivals_give_a_hand_checkable_duration() -> None:
    # Every dose safe: 3+3 escalates through 5 doses in cohorts of 3, then expands the
    # top dose to 6. With a patient every 10 days and a 28-day window, each cohort takes
    # 2 * 10 (enrolment) + 28 (last patient's window) = 48 days from its first patient,
    # and the next cohort's first patient arrives 10 days after the window closes.
    oc = simulate(ThreePlusThree(doses=5), (0.0,) * 5, 5, seed=1,
                  timeline=Timeline("fixed", 10.0, 28.0))  # fmt: skip
    cohorts = 6
    expected = cohorts * 48 + (cohorts - 1) * 10
    assert oc.duration is not None
    assert oc.duration.value == pytest.approx(expected)
    assert oc.sample_size.value == 18


def test_rolling_six_is_shorter_than_three_plus_three_on_the_same_patients() -> None:
    tl = Timeline("exponential", 7.0, 28.0)
    r6, tpt = compare([RollingSix(doses=5), ThreePlusThree(doses=5)], TRUTH, 600, seed=2,
                      timeline=tl)  # fmt: skip
    assert r6.duration is not None and tpt.duration is not None
    assert r6.duration.value < tpt.duration.value
    # About the same number of DLTs, as Skolnik et al. reported.
    assert abs(r6.total_dlts.value - tpt.total_dlts.value) < 1.0
    assert r6.duration_quantiles is not None and "q50" in r6.duration_quantiles


def test_bad_timeline_is_rejected() -> None:
    with pytest.raises(InputError, match="arrival_days"):
        Timeline("fixed", 0.0, 28.0)
    with pytest.raises(InputError, match="arrival"):
        Timeline("poisson", 7.0, 28.0)  # type: ignore[arg-type]


def test_same_seed_same_durations() -> None:
    a = simulate(RollingSix(doses=5), TRUTH, 50, seed=8)
    b = simulate(RollingSix(doses=5), TRUTH, 50, seed=8)
    assert a.duration == b.duration
    assert np.isfinite(a.duration.value if a.duration else np.nan)


def test_tite_crm_uses_partial_follow_up_and_is_faster_than_waiting() -> None:
    from phaseone.designs import CRM, TITECRM, StopAtN

    skeleton = (0.05, 0.12, 0.25, 0.40, 0.55)
    tl = Timeline("fixed", 7.0, 28.0)
    tite = TITECRM(skeleton=skeleton, target_rate=0.25, window_days=28) | StopAtN(12)
    crm = CRM(skeleton=skeleton, target_rate=0.25) | StopAtN(12)
    a = simulate(tite, TRUTH, 15, seed=3, timeline=tl, keep_trials=True)
    b = simulate(crm, TRUTH, 15, seed=3, timeline=tl)
    assert a.sample_size.value == b.sample_size.value == 12
    assert a.duration is not None and b.duration is not None
    # Waiting CRM (cohorts of 1): 12 windows back to back plus arrivals; TITE-CRM enrols
    # weekly (the 12th patient on day 77) and waits only for the last outcome: the end of
    # the last window (day 105), or earlier if that patient has a DLT.
    days = a.trials_frame()["duration_days"]
    assert (days > 77).all() and (days <= 105 + 1e-9).all()
    assert (days == 105).any()
    assert b.duration.value > 12 * 28
