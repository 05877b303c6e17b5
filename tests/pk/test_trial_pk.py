"""The trial's PK objectives on small data sets with hand-worked expectations."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from phaseone.errors import InputError
from phaseone.pk import Dose, Route, read_concentrations, run_nca
from phaseone.pk.trial import (
    day_start,
    dinutuximab_peak_trough,
    isotretinoin_steady_state,
    lenalidomide_single_dose,
    trial_pk_data,
)

DATA = Path(__file__).parent / "data"


def test_lenalidomide_single_dose_is_the_standard_analysis() -> None:
    conc = read_concentrations(DATA / "theoph.csv", time="time_h", conc="conc_mg_per_L")
    doses = [Dose(str(s), 0.0, 320.0) for s in range(1, 13)]
    result = lenalidomide_single_dose(conc, doses)
    # WinNonlin (linear-up/log-down), Theoph subject 1 AUCINF_obs.
    assert result.value("1", "AUCIFO") == pytest.approx(214.9236316, rel=1e-6)
    with pytest.raises(InputError, match="lenalidomide is oral"):
        lenalidomide_single_dose(conc, [Dose("1", 0.0, 10.0, Route.IV_BOLUS)])


def test_isotretinoin_day_28_steady_state_by_hand() -> None:
    start = day_start(1, 28) + 8.0  # morning dose at 08:00 on day 28
    times = [start + x for x in (0, 1, 2, 6, 12)]
    frame = pd.DataFrame({"subject": "7", "time": times, "conc": [2.0, 8, 6, 4, 2.5]})
    doses = [Dose("7", day_start(1, d) + h, 80.0, method="capsule opened")
             for d in range(15, 29) for h in (8.0, 20.0)]
    result = isotretinoin_steady_state(read_concentrations(frame), doses)
    p = result.parameters.set_index("PPTESTCD")["value"]
    # Linear up to Tmax, then log down (the default method): segments by hand.
    auc = 5 + (8 - 6) / math.log(8 / 6) + 4 * (6 - 4) / math.log(6 / 4) + 6 * (4 - 2.5) / math.log(
        4 / 2.5)
    assert p["AUCTAU"] == pytest.approx(auc, rel=1e-12)
    assert p["CTROUGH"] == 2.0
    assert p["CAVG"] == pytest.approx(auc / 12, rel=1e-12)
    assert p["CLFTAU"] == pytest.approx(80 / auc, rel=1e-12)
    assert result.profiles["administration"].tolist() == ["capsule opened"]
    with pytest.raises(InputError, match="no dose on course 1 day 28"):
        isotretinoin_steady_state(read_concentrations(frame), doses[:4])


def test_dinutuximab_peak_and_trough_against_historical_values() -> None:
    plan = trial_pk_data()["sampling"]["dinutuximab"]
    assert plan["provenance"]["source"] == "assumed"
    peak_t = day_start(1, 11) + 8 + 10
    trough_t = day_start(1, 28)
    rows = [("1", peak_t + 0.25, 12.0), ("1", trough_t - 0.5, 0.3), ("1", 100.0, 5.0),
            ("2", peak_t, 10.0), ("2", trough_t + 5, 0.1),  # trough outside the 2-h window
            ("1", day_start(2, 11) + 18, 9.2)]
    samples = pd.DataFrame(rows, columns=["subject", "time", "conc"])
    result = dinutuximab_peak_trough(samples)
    c1 = result.per_course[result.per_course["course"] == 1].set_index("subject")
    assert c1.loc["1", "peak"] == 12.0
    assert c1.loc["1", "trough"] == 0.3
    assert math.isnan(c1.loc["2", "trough"])
    comp = result.comparison.set_index(["course", "measure", "reference"])
    label = comp.loc[(1, "peak", "unituxin-label-poppk")]
    assert label["observed_mean"] == pytest.approx(11.0)
    assert label["ratio_to_reference"] == pytest.approx(11.0 / 11.5)
    assert comp.loc[(1, "trough", "desai-2014"), "ratio_to_reference"] == pytest.approx(0.3 / 0.2)
    assert comp.loc[(2, "peak", "desai-2014"), "observed_mean"] == pytest.approx(9.2)
    assert all(ref["url"].startswith("https://") for ref in result.references)
    with pytest.raises(InputError, match="mcg/mL"):
        dinutuximab_peak_trough(samples, conc_unit="ng/mL")


def test_run_nca_accepts_dataframes() -> None:
    frame = pd.DataFrame({"subject": "1", "time": [0, 1, 2, 4], "conc": [0, 4, 3, 1]})
    doses = pd.DataFrame({"subject": ["1"], "time": [0.0], "dose": [10.0]})
    result = run_nca(frame, doses, parameters=["CMAX", "CLFO"])
    assert result.value("1", "CMAX") == 4
