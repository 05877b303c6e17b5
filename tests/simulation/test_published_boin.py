"""BOIN operating characteristics against figures printed by the R packages.

With R's random stream (`rng="r"`) the trials are the ones BOIN::get.oc / simFastBOIN
ran for the same seed, so every printed digit must match. Sources in published.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import BOIN
from phaseone.simulation.api import simulate
from phaseone.simulation.results import OperatingCharacteristics

from .published import (
    CONFIG_A2000_NO_MTD_PCT,
    CONFIG_A2000_OVERDOSE_PATIENTS_PCT,
    CONFIG_A2000_SELECTED_PCT,
    CONFIG_A_DLTS,
    CONFIG_A_PATIENTS,
    CONFIG_A_SELECTED,
    CONFIG_A_TRUTH,
    MULTI_SCENARIOS,
    SAFE_CURVE,
    SAFE_CURVE_PATIENTS,
    TOXIC_CURVE,
    TOXIC_CURVE_NO_MTD_PCT,
)


def boin_r(
    truth: tuple[float, ...], cohorts: int, trials: int, seed: int, **options: bool
) -> OperatingCharacteristics:
    design = BOIN(target_rate=0.30, doses=len(truth), early_stop_n=18, **options)
    return simulate(design, truth, trials, seed, cohort_size=3, cohorts=cohorts, rng="r")


def r_round(value: float, digits: int) -> float:
    """R >= 4.0 rounds an exact half at the printed digit to even (0.05 -> 0.0)."""
    return float(np.round(value, digits))


def test_config_a_through_the_designs_package() -> None:
    oc = boin_r(CONFIG_A_TRUTH, 10, 1000, 123)
    assert tuple(round(f.value, 2) for f in oc.patients) == CONFIG_A_PATIENTS
    assert tuple(round(f.value, 2) for f in oc.dlts) == CONFIG_A_DLTS
    assert tuple(round(1000 * f.value) for f in oc.selection) == CONFIG_A_SELECTED


def test_config_a_2000_trials() -> None:
    oc = boin_r(CONFIG_A_TRUTH, 10, 2000, 123)
    sel = tuple(round(100 * f.value, 2) for f in oc.selection)
    assert sel == CONFIG_A2000_SELECTED_PCT
    assert round(100 * oc.no_mtd.value, 2) == CONFIG_A2000_NO_MTD_PCT
    share = 100 * oc.share_patients_overdosed.value
    assert share == pytest.approx(CONFIG_A2000_OVERDOSE_PATIENTS_PCT, abs=5e-6)


@pytest.mark.parametrize("name", list(MULTI_SCENARIOS))
def test_multi_scenario_table(name: str) -> None:
    spec = MULTI_SCENARIOS[name]
    oc = boin_r(spec["truth"], 10, 2000, 123)
    sel = [100 * f.value for f in oc.selection] + [100 * oc.no_mtd.value]
    pts = [f.value for f in oc.patients] + [oc.sample_size.value]
    dlt = [f.value for f in oc.dlts] + [oc.total_dlts.value]
    assert tuple(r_round(v, 1) for v in sel) == spec["selected"]
    assert tuple(r_round(v, 1) for v in pts) == spec["patients"]
    assert tuple(r_round(v, 1) for v in dlt) == spec["dlts"]


def test_twelve_cohorts_on_a_safe_curve() -> None:
    oc = boin_r(SAFE_CURVE, 12, 1000, 1)
    assert tuple(round(f.value, 3) for f in oc.patients) == SAFE_CURVE_PATIENTS


def test_extrasafe_stops_more_often_on_a_toxic_curve() -> None:
    plain = boin_r(TOXIC_CURVE, 12, 1000, 2)
    extra = boin_r(TOXIC_CURVE, 12, 1000, 2, extrasafe=True)
    assert round(100 * plain.no_mtd.value, 1) == TOXIC_CURVE_NO_MTD_PCT["plain"]
    assert round(100 * extra.no_mtd.value, 1) == TOXIC_CURVE_NO_MTD_PCT["extrasafe"]
    assert "extrasafe" in extra.stop_reasons
