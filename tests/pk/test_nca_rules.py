"""NCA rules on small profiles whose expected values are worked out by hand in the test,
plus one figure from the PKNCA documentation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phaseone.errors import InputError
from phaseone.pk import (
    AUCMethod,
    BLQAction,
    BLQRules,
    Dose,
    Interval,
    LambdaZControls,
    LambdaZRule,
    NCAOptions,
    QualityFlags,
    Route,
    read_concentrations,
    registry,
    run_nca,
)
from phaseone.pk.formulas import FORMULAS

DATA = Path(__file__).parent / "data"


def profile(times, conc, **extra) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame({"subject": "S", "time": times, "conc": conc, **extra})


def one(frame, doses=None, **kw):  # type: ignore[no-untyped-def]
    conc = read_concentrations(frame, **{k: kw.pop(k) for k in list(kw) if k in (
        "blq", "lloq", "exclude", "lambda_z")})
    doses = [Dose("S", 0.0, 100.0)] if doses is None else doses
    return run_nca(conc, doses, **kw)


def theoph():  # type: ignore[no-untyped-def]
    return read_concentrations(DATA / "theoph.csv", time="time_h", conc="conc_mg_per_L")


def test_pknca_vignette_auclast_0_24_subject_1() -> None:
    """PKNCA 0.12.1 vignette "Computing NCA Parameters for Theophylline": auclast on [0, 24]
    for subject 1 is 92.365442 (to the last measurable sample in the interval, 12.12 h)."""
    result = run_nca(theoph(), [Dose("1", 0.0, 320.0)], intervals=[Interval(0, 24, ("AUCLST",))])
    assert result.value("1", "AUCLST") == pytest.approx(92.365442, rel=1e-7)


def test_auc_methods_by_hand() -> None:
    # Falls once before Tmax (1 -> 2 h) and once after (3 -> 4 h); Tmax = 3 h.
    frame = profile([0, 1, 2, 3, 4], [0, 8, 4, 10, 5])
    by_method = {
        AUCMethod.LINEAR: 4 + 6 + 7 + 7.5,
        AUCMethod.LINUP_LOGDOWN: 4 + 4 / math.log(2) + 7 + 5 / math.log(2),
        AUCMethod.LINLOG: 4 + 6 + 7 + 5 / math.log(2),
    }
    for method, expected in by_method.items():
        r = one(frame, parameters=["AUCLST"], options=NCAOptions(auc_method=method))
        assert r.value("S", "AUCLST") == pytest.approx(expected, rel=1e-12), method


def test_partial_auc_interpolates_by_method() -> None:
    frame = profile([0, 2, 4], [0, 10, 5])
    linear = one(frame, intervals=[Interval(1, 3, ("AUCINT",))],
                 options=NCAOptions(auc_method=AUCMethod.LINEAR))
    assert linear.value("S", "AUCINT") == pytest.approx(1 * (5 + 10) / 2 + 1 * (10 + 7.5) / 2)
    log = one(frame, intervals=[Interval(1, 3, ("AUCINT",))])
    c3 = 10 * 0.5 ** 0.5  # log interpolation half way down 10 -> 5
    expected = 7.5 + (10 - c3) / math.log(10 / c3)
    assert log.value("S", "AUCINT") == pytest.approx(expected, rel=1e-12)


def test_partial_auc_extrapolates_with_lambda_z() -> None:
    # Exactly mono-exponential after a bolus: log trapezoids and the λz tail are exact.
    t = np.array([1.0, 2, 3, 4, 5])
    frame = profile(t, 10 * np.exp(-0.2 * t))
    r = one(frame, [Dose("S", 0.0, 100.0, Route.IV_BOLUS)],
            intervals=[Interval(2, 8, ("AUCINT", "LAMZ"))])
    assert r.value("S", "LAMZ") == pytest.approx(0.2, rel=1e-12)
    assert r.value("S", "AUCINT") == pytest.approx(50 * (math.exp(-0.4) - math.exp(-1.6)),
                                                   rel=1e-12)
    whole = one(frame, [Dose("S", 0.0, 100.0, Route.IV_BOLUS)], parameters=["C0", "AUCIFO"])
    assert whole.value("S", "C0") == pytest.approx(10.0, rel=1e-12)
    assert whole.value("S", "AUCIFO") == pytest.approx(50.0, rel=1e-12)


def test_steady_state_interval_by_hand() -> None:
    frame = profile([24, 25, 26, 30, 36], [2.0, 8, 6, 4, 2.5])
    doses = [Dose("S", t, 100.0) for t in (0.0, 12.0, 24.0)]
    r = one(frame, doses, intervals=[Interval(start=24, tau=12)],
            options=NCAOptions(auc_method=AUCMethod.LINEAR))
    auc = 5 + 7 + 20 + 19.5
    expected = {"AUCTAU": auc, "CMAX": 8, "TMAX": 1, "CMIN": 2, "CTROUGH": 2,
                "CAVG": auc / 12, "FLUCP": 100 * 6 / (auc / 12), "SWING": 3, "PTROUGHR": 4,
                "CLFTAU": 100 / auc}
    for code, value in expected.items():
        assert r.value("S", code) == pytest.approx(value, rel=1e-12), code


def test_auctau_interpolates_when_the_last_sample_is_after_tau() -> None:
    frame = profile([0, 1, 6, 14], [1.0, 8, 4, 2])
    r = one(frame, intervals=[Interval(start=0, tau=12, parameters=("AUCTAU",))])
    c12 = 4 * (2 / 4) ** (6 / 8)  # log-linear at 12 h on the falling 6 -> 14 h segment
    expected = 4.5 + (8 - 4) / (math.log(2) / 5) + (4 - c12) / (math.log(4 / c12) / 6)
    assert r.value("S", "AUCTAU") == pytest.approx(expected, rel=1e-12)


# --- edge cases -------------------------------------------------------------------------


def test_all_blq() -> None:
    frame = profile([0, 1, 2, 4], [np.nan] * 4, blq=[True] * 4, lloq=[0.1] * 4)
    r = one(frame, blq="blq", lloq="lloq")
    assert r.value("S", "CMAX") == 0
    assert r.value("S", "AUCLST") == 0
    p = r.parameters.set_index("PPTESTCD")
    assert math.isnan(p.loc["TMAX", "value"])
    assert p.loc["TMAX", "exclusion_reason"] == "no measurable concentration"
    assert math.isnan(p.loc["LAMZHL", "value"])
    assert p.loc["LAMZHL", "exclusion_reason"] != ""
    assert math.isnan(p.loc["AUCIFO", "value"])


def test_single_point() -> None:
    r = one(profile([1.0], [5.0]))
    assert r.value("S", "CMAX") == 5
    assert r.value("S", "TMAX") == 1
    assert r.value("S", "AUCLST") == pytest.approx(2.5)  # from 0 at the dose
    p = r.parameters.set_index("PPTESTCD")
    assert math.isnan(p.loc["LAMZ", "value"])
    assert "fewer than 3" in p.loc["LAMZ", "exclusion_reason"]
    assert "fewer than 3" in p.loc["CLFO", "exclusion_reason"]


def test_zero_concentrations_at_the_end() -> None:
    r = one(profile([0, 1, 2, 4, 8, 12], [0, 10, 8, 4, 2, 0]),
            options=NCAOptions(auc_method=AUCMethod.LINEAR))
    assert r.value("S", "TLST") == 8
    assert r.value("S", "CLST") == 2
    assert r.value("S", "AUCLST") == pytest.approx(5 + 9 + 12 + 12)
    assert r.value("S", "AUCALL") == pytest.approx(5 + 9 + 12 + 12 + 4)
    assert r.value("S", "LAMZUL") == 8


def test_rising_terminal_phase_gives_no_half_life_with_reason() -> None:
    frame = profile([0, 1, 2, 4, 6, 8, 10], [0, 10, 2, 3, 4, 5, 6])
    for rule in LambdaZRule:
        r = one(frame, options=NCAOptions(lambda_z=LambdaZControls(rule=rule)))
        p = r.parameters.set_index("PPTESTCD")
        assert math.isnan(p.loc["LAMZHL", "value"])
        assert "no declining terminal phase" in p.loc["LAMZHL", "exclusion_reason"]
        assert "no declining terminal phase" in p.loc["AUCIFO", "exclusion_reason"]
        assert not r.lambda_z_points["used_in_lambda_z"].any()


def test_pknca_and_winnonlin_differ_when_the_best_fit_rises() -> None:
    # The last three points rise almost exactly log-linearly (best adjusted R²);
    # longer windows fall. PKNCA reports no half-life; WinNonlin takes the best falling fit.
    frame = profile([0, 1, 2, 3, 4, 5, 6], [0, 20, 10, 5, 2.5, 2.6, 2.7])
    pk = one(frame, parameters=["LAMZ"])
    wnl = one(frame, parameters=["LAMZ", "LAMZNPT"],
              options=NCAOptions(lambda_z=LambdaZControls(rule=LambdaZRule.WINNONLIN)))
    assert math.isnan(pk.value("S", "LAMZ"))
    assert wnl.value("S", "LAMZ") > 0


def test_duplicate_times_are_an_error() -> None:
    with pytest.raises(InputError, match="two samples at time 2"):
        read_concentrations(profile([0, 1, 2, 2], [0, 5, 4, 3]))


def test_unsorted_input_gives_the_same_result() -> None:
    frame = pd.read_csv(DATA / "theoph.csv")
    shuffled = frame.sample(frac=1.0, random_state=np.random.default_rng(7))
    doses = [Dose(str(s), 0.0, 320.0) for s in range(1, 13)]
    a = run_nca(read_concentrations(frame, time="time_h", conc="conc_mg_per_L"), doses)
    b = run_nca(read_concentrations(shuffled, time="time_h", conc="conc_mg_per_L"), doses)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)


def test_missing_dose() -> None:
    r = one(profile([0, 1, 2, 4, 8], [0, 10, 8, 4, 2]), doses=[])
    p = r.parameters.set_index("PPTESTCD")
    assert p.loc["CMAX", "value"] == 10
    assert math.isnan(p.loc["CLFO", "value"])
    assert p.loc["CLFO", "exclusion_reason"] == "no dose recorded for this profile"
    assert not math.isnan(p.loc["AUCIFO", "value"])
    r = one(profile([0, 1, 2, 4, 8], [0, 10, 8, 4, 2]), doses=[Dose("S", 0.0, None)])
    assert r.parameters.set_index("PPTESTCD").loc["VZFO", "exclusion_reason"] == (
        "dose amount not recorded")


# --- BLQ, λz controls, flags, registry -----------------------------------------------------


def test_blq_rules_by_position() -> None:
    frame = profile([0, 1, 2, 3, 4], [np.nan, 10, np.nan, 4, np.nan],
                    blq=[True, False, True, False, True], lloq=[1.0] * 5)
    linear = AUCMethod.LINEAR
    default = one(frame, blq="blq", lloq="lloq", parameters=["AUCLST", "AUCALL"],
                  options=NCAOptions(auc_method=linear))
    # first -> 0, middle dropped, last -> 0
    assert default.value("S", "AUCLST") == pytest.approx(5 + 2 * (10 + 4) / 2)
    assert default.value("S", "AUCALL") == pytest.approx(5 + 14 + 2)
    half = one(frame, blq="blq", lloq="lloq", parameters=["AUCLST"],
               options=NCAOptions(auc_method=linear, blq=BLQRules(middle=BLQAction.HALF_LLOQ)))
    assert half.value("S", "AUCLST") == pytest.approx(5 + (10 + 0.5) / 2 + (0.5 + 4) / 2)


def test_lambda_z_controls() -> None:
    conc = theoph()
    dose = [Dose("6", 0.0, 320.0)]
    capped = run_nca(conc, dose, parameters=["LAMZNPT"],
                     options=NCAOptions(lambda_z=LambdaZControls(max_points=3)))
    assert capped.value("6", "LAMZNPT") == 3
    late = run_nca(conc, dose, parameters=["LAMZLL"],
                   options=NCAOptions(lambda_z=LambdaZControls(earliest_time=5.0)))
    assert late.value("6", "LAMZLL") >= 5.0


def test_lambda_z_manual_include_and_exclude() -> None:
    t = np.array([0, 0.5, 1, 2, 4, 6, 8, 12, 24])
    c = np.array([0, 4, 7, 6, 5, 4.1, 3.2, 2.2, 0.8])
    mark = ["", "", "", "include", "", "include", "", "include", ""]
    forced = one(profile(t, c, lz=mark), lambda_z="lz", parameters=["LAMZ", "LAMZNPT"])
    slope = np.polyfit(t[[3, 5, 7]], np.log(c[[3, 5, 7]]), 1)[0]
    assert forced.value("S", "LAMZNPT") == 3
    assert forced.value("S", "LAMZ") == pytest.approx(-slope, rel=1e-10)
    drop = ["", "", "", "", "", "", "", "", "exclude"]
    excluded = one(profile(t, c, lz=drop), lambda_z="lz", parameters=["LAMZUL"])
    assert excluded.value("S", "LAMZUL") == 12


def test_quality_flags_keep_the_value_and_add_a_reason() -> None:
    flagged = run_nca(theoph(), [Dose("8", 0.0, 320.0)],
                      options=NCAOptions(flags=QualityFlags(min_r2adj=0.99)))
    p = flagged.parameters[flagged.parameters["subject"] == "8"].set_index("PPTESTCD")
    assert p.loc["LAMZHL", "value"] == pytest.approx(8.510037883, rel=1e-6)  # WinNonlin
    assert "R2ADJ" in p.loc["LAMZHL", "exclusion_reason"]
    assert p.loc["CMAX", "exclusion_reason"] == ""


def test_registry_computes_only_what_is_asked() -> None:
    r = run_nca(theoph(), [Dose("1", 0.0, 320.0)], parameters=["CMAX"])
    assert set(r.computed["dose-inf"]) == {"_core", "CMAX"}
    r = run_nca(theoph(), [Dose("1", 0.0, 320.0)], parameters=["AUCIFO"])
    assert set(r.computed["dose-inf"]) == {"_core", "_auc", "_lambda_z", "AUCLST", "CLST",
                                           "LAMZ", "AUCIFO"}
    assert set(r.parameters["PPTESTCD"]) == {"AUCIFO"}


def test_registry_and_formulas_agree() -> None:
    reg = registry()
    assert set(reg) == set(FORMULAS)
    for spec in reg.values():
        for dep in spec.depends:
            assert dep in reg or dep.startswith("_"), (spec.code, dep)


def test_unknown_parameter_is_an_error() -> None:
    with pytest.raises(InputError, match="unknown parameter 'AUCX'"):
        run_nca(theoph(), [Dose("1", 0.0, 320.0)], parameters=["AUCX"])
