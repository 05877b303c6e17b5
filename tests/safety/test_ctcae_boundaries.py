"""CTCAE lab grading at every threshold boundary, for v4.03 and v5.0.

Every expected grade below was read by hand from the published NCI table row named in the
comment above its block (CTCAE v5.0: CTCAE_v5.0_2017-11-27.xlsx; CTCAE v4.03: the
2010-06-14 quick reference). Range notation: "<A - B" (a decrease) means below A and at least
B; ">A - B" (an increase) means above A and at most B. Each threshold is tested on both sides:
the value AT the threshold, and the nearest value past it.
"""

from __future__ import annotations

import pytest

from phaseone.safety.ctcae import Clinical, grade_value

BOTH = ("4.03", "5.0")


def g(version, analyte, value, unit, *, lln=None, uln=None, base=None, sym=None, iv=None):
    clinical = Clinical(symptomatic=sym, intervention=iv)
    return grade_value(
        analyte, value, unit, version=version, lln=lln, uln=uln, baseline=base, clinical=clinical
    )


# --- rows identical in v4.03 and v5.0 ---------------------------------------------------
# (analyte, value, unit, lln, uln, expected grade)
UNCHANGED = [
    # Investigations: Neutrophil count decreased (MedDRA 10029366):
    # G1 <LLN-1500/mm3; G2 <1500-1000; G3 <1000-500; G4 <500
    ("anc", 2000, "/uL", 2000, 8000, 0),
    ("anc", 1999, "/uL", 2000, 8000, 1),
    ("anc", 1500, "/uL", 2000, 8000, 1),
    ("anc", 1499, "/uL", 2000, 8000, 2),
    ("anc", 1000, "/uL", 2000, 8000, 2),
    ("anc", 999, "/uL", 2000, 8000, 3),
    ("anc", 500, "/uL", 2000, 8000, 3),
    ("anc", 499, "/uL", 2000, 8000, 4),
    ("anc", 0.499, "10^9/L", 2.0, 8.0, 4),  # same row in SI units: <0.5 x 10e9/L
    ("anc", 0.5, "10^9/L", 2.0, 8.0, 3),
    # Investigations: Platelet count decreased (10035528):
    # G1 <LLN-75,000; G2 <75,000-50,000; G3 <50,000-25,000; G4 <25,000
    ("platelets", 150000, "/uL", 150000, 450000, 0),
    ("platelets", 149999, "/uL", 150000, 450000, 1),
    ("platelets", 75000, "/uL", 150000, 450000, 1),
    ("platelets", 74999, "/uL", 150000, 450000, 2),
    ("platelets", 50000, "/uL", 150000, 450000, 2),
    ("platelets", 49999, "/uL", 150000, 450000, 3),
    ("platelets", 25000, "/uL", 150000, 450000, 3),
    ("platelets", 24999, "/uL", 150000, 450000, 4),
    ("platelets", 25.0, "10^9/L", 150, 450, 3),
    # Blood and lymphatic system disorders: Anemia (10002272):
    # G1 Hgb <LLN-10.0 g/dL; G2 <10.0-8.0; G3 <8.0 (G4 is clinical only)
    ("hemoglobin", 11.5, "g/dL", 11.5, 15.5, 0),
    ("hemoglobin", 11.4, "g/dL", 11.5, 15.5, 1),
    ("hemoglobin", 10.0, "g/dL", 11.5, 15.5, 1),
    ("hemoglobin", 9.9, "g/dL", 11.5, 15.5, 2),
    ("hemoglobin", 8.0, "g/dL", 11.5, 15.5, 2),
    ("hemoglobin", 7.9, "g/dL", 11.5, 15.5, 3),
    ("hemoglobin", 80, "g/L", 115, 155, 2),  # <100 - 80 g/L
    ("hemoglobin", 79, "g/L", 115, 155, 3),  # <80 g/L
    # Investigations: White blood cell decreased (10049182):
    # G1 <LLN-3000; G2 <3000-2000; G3 <2000-1000; G4 <1000
    ("wbc", 4500, "/uL", 4500, 13500, 0),
    ("wbc", 4499, "/uL", 4500, 13500, 1),
    ("wbc", 3000, "/uL", 4500, 13500, 1),
    ("wbc", 2999, "/uL", 4500, 13500, 2),
    ("wbc", 2000, "/uL", 4500, 13500, 2),
    ("wbc", 1999, "/uL", 4500, 13500, 3),
    ("wbc", 1000, "/uL", 4500, 13500, 3),
    ("wbc", 999, "/uL", 4500, 13500, 4),
    # Investigations: Lymphocyte count decreased (10025256):
    # G1 <LLN-800; G2 <800-500; G3 <500-200; G4 <200
    ("alc", 1000, "/uL", 1000, 4800, 0),
    ("alc", 999, "/uL", 1000, 4800, 1),
    ("alc", 800, "/uL", 1000, 4800, 1),
    ("alc", 799, "/uL", 1000, 4800, 2),
    ("alc", 500, "/uL", 1000, 4800, 2),
    ("alc", 499, "/uL", 1000, 4800, 3),
    ("alc", 200, "/uL", 1000, 4800, 3),
    ("alc", 199, "/uL", 1000, 4800, 4),
    # Metabolism and nutrition disorders: Hypernatremia (10020680):
    # G1 >ULN-150 mmol/L; G2 >150-155; G3 >155-160; G4 >160
    ("sodium", 145, "mmol/L", 135, 145, 0),
    ("sodium", 146, "mmol/L", 135, 145, 1),
    ("sodium", 150, "mmol/L", 135, 145, 1),
    ("sodium", 150.1, "mmol/L", 135, 145, 2),
    ("sodium", 155, "mmol/L", 135, 145, 2),
    ("sodium", 155.1, "mmol/L", 135, 145, 3),
    ("sodium", 160, "mmol/L", 135, 145, 3),
    ("sodium", 160.1, "mmol/L", 135, 145, 4),
    # Metabolism and nutrition disorders: Hyperkalemia (10020647):
    # G1 >ULN-5.5 mmol/L; G2 >5.5-6.0; G3 >6.0-7.0; G4 >7.0
    ("potassium", 5.0, "mmol/L", 3.5, 5.0, 0),
    ("potassium", 5.1, "mmol/L", 3.5, 5.0, 1),
    ("potassium", 5.5, "mmol/L", 3.5, 5.0, 1),
    ("potassium", 5.6, "mmol/L", 3.5, 5.0, 2),
    ("potassium", 6.0, "mmol/L", 3.5, 5.0, 2),
    ("potassium", 6.1, "mmol/L", 3.5, 5.0, 3),
    ("potassium", 7.0, "mmol/L", 3.5, 5.0, 3),
    ("potassium", 7.1, "mmol/L", 3.5, 5.0, 4),
    # Metabolism and nutrition disorders: Hypocalcemia (10020949), corrected serum calcium:
    # G1 <LLN-8.0 mg/dL; G2 <8.0-7.0; G3 <7.0-6.0; G4 <6.0
    ("calcium", 8.8, "mg/dL", 8.8, 10.8, 0),
    ("calcium", 8.7, "mg/dL", 8.8, 10.8, 1),
    ("calcium", 8.0, "mg/dL", 8.8, 10.8, 1),
    ("calcium", 7.9, "mg/dL", 8.8, 10.8, 2),
    ("calcium", 7.0, "mg/dL", 8.8, 10.8, 2),
    ("calcium", 6.9, "mg/dL", 8.8, 10.8, 3),
    ("calcium", 6.0, "mg/dL", 8.8, 10.8, 3),
    ("calcium", 5.9, "mg/dL", 8.8, 10.8, 4),
    # Hypercalcemia (10020587), corrected serum calcium:
    # G1 >ULN-11.5 mg/dL; G2 >11.5-12.5; G3 >12.5-13.5; G4 >13.5
    ("calcium", 10.8, "mg/dL", 8.8, 10.8, 0),
    ("calcium", 10.9, "mg/dL", 8.8, 10.8, 1),
    ("calcium", 11.5, "mg/dL", 8.8, 10.8, 1),
    ("calcium", 11.6, "mg/dL", 8.8, 10.8, 2),
    ("calcium", 12.5, "mg/dL", 8.8, 10.8, 2),
    ("calcium", 12.6, "mg/dL", 8.8, 10.8, 3),
    ("calcium", 13.5, "mg/dL", 8.8, 10.8, 3),
    ("calcium", 13.6, "mg/dL", 8.8, 10.8, 4),
    # Hypocalcemia, ionized calcium: G1 <LLN-1.0 mmol/L; G2 <1.0-0.9; G3 <0.9-0.8; G4 <0.8
    ("ionized_calcium", 1.12, "mmol/L", 1.12, 1.32, 0),
    ("ionized_calcium", 1.11, "mmol/L", 1.12, 1.32, 1),
    ("ionized_calcium", 1.0, "mmol/L", 1.12, 1.32, 1),
    ("ionized_calcium", 0.99, "mmol/L", 1.12, 1.32, 2),
    ("ionized_calcium", 0.9, "mmol/L", 1.12, 1.32, 2),
    ("ionized_calcium", 0.89, "mmol/L", 1.12, 1.32, 3),
    ("ionized_calcium", 0.8, "mmol/L", 1.12, 1.32, 3),
    ("ionized_calcium", 0.79, "mmol/L", 1.12, 1.32, 4),
    # Hypercalcemia, ionized calcium: G1 >ULN-1.5 mmol/L; G2 >1.5-1.6; G3 >1.6-1.8; G4 >1.8
    ("ionized_calcium", 1.32, "mmol/L", 1.12, 1.32, 0),
    ("ionized_calcium", 1.33, "mmol/L", 1.12, 1.32, 1),
    ("ionized_calcium", 1.5, "mmol/L", 1.12, 1.32, 1),
    ("ionized_calcium", 1.51, "mmol/L", 1.12, 1.32, 2),
    ("ionized_calcium", 1.6, "mmol/L", 1.12, 1.32, 2),
    ("ionized_calcium", 1.61, "mmol/L", 1.12, 1.32, 3),
    ("ionized_calcium", 1.8, "mmol/L", 1.12, 1.32, 3),
    ("ionized_calcium", 1.81, "mmol/L", 1.12, 1.32, 4),
    # Metabolism and nutrition disorders: Hypomagnesemia (10021028):
    # G1 <LLN-1.2 mg/dL; G2 <1.2-0.9; G3 <0.9-0.7; G4 <0.7
    ("magnesium", 1.7, "mg/dL", 1.7, 2.4, 0),
    ("magnesium", 1.6, "mg/dL", 1.7, 2.4, 1),
    ("magnesium", 1.2, "mg/dL", 1.7, 2.4, 1),
    ("magnesium", 1.19, "mg/dL", 1.7, 2.4, 2),
    ("magnesium", 0.9, "mg/dL", 1.7, 2.4, 2),
    ("magnesium", 0.89, "mg/dL", 1.7, 2.4, 3),
    ("magnesium", 0.7, "mg/dL", 1.7, 2.4, 3),
    ("magnesium", 0.69, "mg/dL", 1.7, 2.4, 4),
    # Hypermagnesemia (10020670): G1 >ULN-3.0 mg/dL; G2 "-" (none); G3 >3.0-8.0; G4 >8.0
    ("magnesium", 2.4, "mg/dL", 1.7, 2.4, 0),
    ("magnesium", 2.5, "mg/dL", 1.7, 2.4, 1),
    ("magnesium", 3.0, "mg/dL", 1.7, 2.4, 1),
    ("magnesium", 3.01, "mg/dL", 1.7, 2.4, 3),
    ("magnesium", 8.0, "mg/dL", 1.7, 2.4, 3),
    ("magnesium", 8.01, "mg/dL", 1.7, 2.4, 4),
    # Metabolism and nutrition disorders: Hypertriglyceridemia (10020870), fixed thresholds:
    # G1 150-300 mg/dL; G2 >300-500; G3 >500-1000; G4 >1000
    ("triglycerides", 149, "mg/dL", 0, 150, 0),
    ("triglycerides", 150, "mg/dL", 0, 150, 1),
    ("triglycerides", 300, "mg/dL", 0, 150, 1),
    ("triglycerides", 301, "mg/dL", 0, 150, 2),
    ("triglycerides", 500, "mg/dL", 0, 150, 2),
    ("triglycerides", 501, "mg/dL", 0, 150, 3),
    ("triglycerides", 1000, "mg/dL", 0, 150, 3),
    ("triglycerides", 1001, "mg/dL", 0, 150, 4),
    # Metabolism and nutrition disorders: Hypoalbuminemia (10020943):
    # G1 <LLN-3 g/dL; G2 <3-2; G3 <2 (G4 clinical only)
    ("albumin", 3.5, "g/dL", 3.5, 5.0, 0),
    ("albumin", 3.4, "g/dL", 3.5, 5.0, 1),
    ("albumin", 3.0, "g/dL", 3.5, 5.0, 1),
    ("albumin", 2.9, "g/dL", 3.5, 5.0, 2),
    ("albumin", 2.0, "g/dL", 3.5, 5.0, 2),
    ("albumin", 1.9, "g/dL", 3.5, 5.0, 3),
    ("albumin", 20, "g/L", 35, 50, 2),  # <30 - 20 g/L
    ("albumin", 19, "g/L", 35, 50, 3),  # <20 g/L
    # Hypokalemia (10021018), values only (symptom flag absent -> see dedicated tests):
    # G3 <3.0-2.5 mmol/L; G4 <2.5
    ("potassium", 3.0, "mmol/L", 3.5, 5.0, 2),  # <LLN - 3.0 with worst case -> G2
    ("potassium", 2.9, "mmol/L", 3.5, 5.0, 3),
    ("potassium", 2.5, "mmol/L", 3.5, 5.0, 3),
    ("potassium", 2.4, "mmol/L", 3.5, 5.0, 4),
    ("potassium", 3.5, "mmol/L", 3.5, 5.0, 0),
]


@pytest.mark.parametrize("version", BOTH)
@pytest.mark.parametrize(("analyte", "value", "unit", "lln", "uln", "expected"), UNCHANGED)
def test_unchanged_rows(version, analyte, value, unit, lln, uln, expected) -> None:
    assert g(version, analyte, value, unit, lln=lln, uln=uln).grade == expected


# --- ULN-multiple rows -----------------------------------------------------------------
# v4.03 grades ALT, AST, bilirubin, ALP and GGT against the ULN only; v5.0 does the same when
# the baseline was normal (or is unknown). ULN 40 U/L (1.0 mg/dL for bilirubin).
HEPATIC_ULN = [
    # Alanine aminotransferase increased (10001551) and AST increased (10003481):
    # G1 >ULN-3.0xULN; G2 >3.0-5.0; G3 >5.0-20.0; G4 >20.0
    *[
        (a, v, 40, e)
        for a in ("alt", "ast")
        for v, e in [(40, 0), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)]
    ],
    # Blood bilirubin increased (10005364): G1 >ULN-1.5xULN; G2 >1.5-3.0; G3 >3.0-10.0; G4 >10
    *[
        ("bilirubin", v, 1.0, e)
        for v, e in [(1.0, 0), (1.01, 1), (1.5, 1), (1.51, 2), (3.0, 2), (3.01, 3), (10, 3)]
    ],
    ("bilirubin", 10.01, 1.0, 4),
    # Alkaline phosphatase increased (10001675) and GGT increased (10056910):
    # G1 >ULN-2.5xULN; G2 >2.5-5.0; G3 >5.0-20.0; G4 >20.0
    *[
        (a, v, 40, e)
        for a in ("alp", "ggt")
        for v, e in [(40, 0), (41, 1), (100, 1), (101, 2), (200, 2), (201, 3), (800, 3), (801, 4)]
    ],
]


@pytest.mark.parametrize("version", BOTH)
@pytest.mark.parametrize(("analyte", "value", "uln", "expected"), HEPATIC_ULN)
def test_hepatic_against_uln(version, analyte, value, uln, expected) -> None:
    unit = "mg/dL" if analyte == "bilirubin" else "U/L"
    assert g(version, analyte, value, unit, uln=uln).grade == expected
    # A normal baseline does not change the v5.0 reading.
    assert g(version, analyte, value, unit, uln=uln, base=uln * 0.5).grade == expected


# v5.0 baseline-dependent rows: "... x baseline if baseline was abnormal". Baseline 80 U/L
# against a ULN of 40 (abnormal); bilirubin baseline 2.0 mg/dL against ULN 1.0.
V5_ABNORMAL_BASELINE = [
    # ALT/AST (10001551, 10003481): G1 1.5-3.0 x baseline; G2 >3.0-5.0; G3 >5.0-20.0; G4 >20
    *[
        (a, v, e)
        for a in ("alt", "ast")
        for v, e in [
            (80, 0),  # the baseline value itself is not an AE
            (119, 0),
            (120, 1),  # "1.5" is inclusive
            (240, 1),
            (241, 2),
            (400, 2),
            (401, 3),
            (1600, 3),
            (1601, 4),
        ]
    ],
    # Blood bilirubin increased (10005364): G1 >1.0-1.5 x baseline; G2 >1.5-3.0; G3 >3.0-10.0
    *[
        ("bilirubin", v, e)
        for v, e in [(2.0, 0), (2.01, 1), (3.0, 1), (3.01, 2), (6.0, 2), (6.01, 3), (20, 3)]
    ],
    ("bilirubin", 20.01, 4),
    # ALP (10001675) / GGT (10056910): G1 2.0-2.5 x baseline; G2 >2.5-5.0; G3 >5.0-20.0; G4 >20
    *[
        (a, v, e)
        for a in ("alp", "ggt")
        for v, e in [
            (159, 0),
            (160, 1),
            (200, 1),
            (201, 2),
            (400, 2),
            (401, 3),
            (1600, 3),
            (1601, 4),
        ]
    ],
]


@pytest.mark.parametrize(("analyte", "value", "expected"), V5_ABNORMAL_BASELINE)
def test_v5_abnormal_baseline(analyte, value, expected) -> None:
    bili = analyte == "bilirubin"
    unit, uln, base = ("mg/dL", 1.0, 2.0) if bili else ("U/L", 40, 80)
    result = g("5.0", analyte, value, unit, uln=uln, base=base)
    assert result.grade == expected
    assert result.baseline_status == "abnormal"


def test_v4_ignores_abnormal_baseline() -> None:
    # CTCAE v4.03 ALT row has no baseline clause: 120 U/L with ULN 40 is 3.0 x ULN -> G1,
    # 121 -> G2, whatever the baseline.
    assert g("4.03", "alt", 121, "U/L", uln=40, base=80).grade == 2
    assert g("5.0", "alt", 121, "U/L", uln=40, base=80).grade == 1


# --- creatinine ------------------------------------------------------------------------
# v5.0 Creatinine increased (10011368): G1 >ULN-1.5xULN; G2 >1.5-3.0 x baseline, >1.5-3.0 x
# ULN; G3 >3.0 x baseline, >3.0-6.0 x ULN; G4 >6.0 x ULN.
# v4.03 adds to G1: >1-1.5 x baseline.
CREATININE = [
    # ULN 0.8 mg/dL, no baseline
    (None, 0.8, 0, 0),
    (None, 0.81, 1, 1),
    (None, 1.2, 1, 1),
    (None, 1.21, 2, 2),
    (None, 2.4, 2, 2),
    (None, 2.41, 3, 3),
    (None, 4.8, 3, 3),
    (None, 4.81, 4, 4),
    # baseline 0.3 mg/dL: the baseline multiples can grade a value under the ULN
    (0.3, 0.3, 0, 0),
    (0.3, 0.31, 0, 1),  # v4.03 only: >1 x baseline
    (0.3, 0.45, 0, 1),
    (0.3, 0.46, 2, 2),  # >1.5 x baseline
    (0.3, 0.9, 2, 2),  # 3.0 x baseline, and >ULN
    (0.3, 0.91, 3, 3),  # >3.0 x baseline
]


@pytest.mark.parametrize(("base", "value", "v5", "v4"), CREATININE)
def test_creatinine(base, value, v5, v4) -> None:
    assert g("5.0", "creatinine", value, "mg/dL", uln=0.8, base=base).grade == v5
    assert g("4.03", "creatinine", value, "mg/dL", uln=0.8, base=base).grade == v4


def test_creatinine_in_si_units() -> None:
    # 1 mg/dL = 88.4 umol/L; ULN 70.72 umol/L (0.8 mg/dL); 6 x ULN = 424.3 umol/L.
    assert g("5.0", "creatinine", 424.0, "umol/L", uln=70.72).grade == 3
    assert g("5.0", "creatinine", 425.0, "umol/L", uln=70.72).grade == 4


# --- hyponatremia ----------------------------------------------------------------------
# v5.0 Hyponatremia (10021038): G1 <LLN-130; G2 125-129 and asymptomatic; G3 125-129
# symptomatic, 120-124 regardless of symptoms; G4 <120.
# v4.03: G1 <LLN-130; no G2; G3 <130-120; G4 <120.
HYPONATREMIA = [
    # value, symptomatic, v5 grade, v4.03 grade
    (135, None, 0, 0),
    (134, None, 1, 1),
    (130, None, 1, 1),
    (129, False, 2, 3),
    (129, True, 3, 3),
    (129, None, 3, 3),  # not recorded: worst case (admiral) -> G3
    (125, False, 2, 3),
    (124, False, 3, 3),
    (120, False, 3, 3),
    (119, False, 4, 4),
]


@pytest.mark.parametrize(("value", "sym", "v5", "v4"), HYPONATREMIA)
def test_hyponatremia(value, sym, v5, v4) -> None:
    assert g("5.0", "sodium", value, "mmol/L", lln=135, uln=145, sym=sym).grade == v5
    assert g("4.03", "sodium", value, "mmol/L", lln=135, uln=145, sym=sym).grade == v4


def test_hyponatremia_records_which_clinical_basis() -> None:
    assumed = g("5.0", "sodium", 128, "mmol/L", lln=135, uln=145)
    assert assumed.clinical_basis == "symptomatic: not recorded, worst case assumed"
    recorded = g("5.0", "sodium", 128, "mmol/L", lln=135, uln=145, sym=True)
    assert recorded.clinical_basis == "symptomatic: from AE record"


# --- hypokalemia (same row in both versions) -------------------------------------------
# Hypokalemia (10021018): G1 <LLN-3.0; G2 <LLN-3.0 symptomatic, intervention indicated.
@pytest.mark.parametrize("version", BOTH)
@pytest.mark.parametrize(
    ("value", "sym", "expected"),
    [
        (3.4, False, 1),
        (3.0, False, 1),
        (3.4, True, 2),
        (3.4, None, 2),
        (2.9, False, 3),
    ],
)
def test_hypokalemia_symptom(version, value, sym, expected) -> None:
    assert g(version, "potassium", value, "mmol/L", lln=3.5, uln=5.0, sym=sym).grade == expected


# --- lipase and amylase -----------------------------------------------------------------
# v5.0 Lipase increased (10024574) / Serum amylase increased (10040139): G1 >ULN-1.5xULN;
# G2 >1.5-2.0 x ULN, >2.0-5.0 and asymptomatic; G3 >2.0-5.0 with signs or symptoms, >5.0 and
# asymptomatic; G4 >5.0 with signs or symptoms.
# v4.03: G1 >ULN-1.5; G2 >1.5-2.0; G3 >2.0-5.0; G4 >5.0 (no symptom conditions).
PANCREATIC = [
    # value (ULN 60), symptomatic, v5, v4.03
    (60, None, 0, 0),
    (61, None, 1, 1),
    (90, None, 1, 1),
    (91, None, 2, 2),
    (120, None, 2, 2),
    (121, False, 2, 3),
    (121, True, 3, 3),
    (121, None, 3, 3),  # worst case: signs or symptoms
    (300, False, 2, 3),
    (301, False, 3, 4),
    (301, True, 4, 4),
    (301, None, 4, 4),
]


@pytest.mark.parametrize("analyte", ["lipase", "amylase"])
@pytest.mark.parametrize(("value", "sym", "v5", "v4"), PANCREATIC)
def test_pancreatic_enzymes(analyte, value, sym, v5, v4) -> None:
    assert g("5.0", analyte, value, "U/L", uln=60, sym=sym).grade == v5
    assert g("4.03", analyte, value, "U/L", uln=60, sym=sym).grade == v4


# --- hypophosphatemia ------------------------------------------------------------------
# v4.03 Hypophosphatemia (10021059): G1 <LLN-2.5 mg/dL; G2 <2.5-2.0; G3 <2.0-1.0; G4 <1.0
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3.7, 0),
        (3.6, 1),
        (2.5, 1),
        (2.4, 2),
        (2.0, 2),
        (1.9, 3),
        (1.0, 3),
        (0.9, 4),
    ],
)
def test_hypophosphatemia_v4(value, expected) -> None:
    assert g("4.03", "phosphate", value, "mg/dL", lln=3.7, uln=5.6).grade == expected


def test_hypophosphatemia_v5_is_clinical() -> None:
    # v5.0 Hypophosphatemia (10021059): G1 "laboratory finding only and intervention not
    # indicated"; G2 "oral replacement therapy indicated"; G3+ clinical. No lab thresholds.
    low = g("5.0", "phosphate", 0.9, "mg/dL", lln=3.7, uln=5.6)
    assert low.grade == 1 and low.clinical_review
    assert g("5.0", "phosphate", 3.6, "mg/dL", lln=3.7, uln=5.6, iv=True).grade == 2
    assert g("5.0", "phosphate", 3.7, "mg/dL", lln=3.7, uln=5.6).grade == 0


def test_clinical_only_grades_are_flagged() -> None:
    # Anemia G4 and Hypoalbuminemia G4 are "life-threatening; urgent intervention": not labs.
    anemia = g("5.0", "hemoglobin", 5.0, "g/dL", lln=11.5, uln=15.5)
    assert anemia.grade == 3 and anemia.clinical_review
    assert "clinical review" in (anemia.note or "")
    assert not g("5.0", "hemoglobin", 9.0, "g/dL", lln=11.5, uln=15.5).clinical_review


def test_rounding_before_comparison() -> None:
    # 3 x ULN computed in floating point: 3 * 40.1 = 120.30000000000001. A value printed as
    # 120.3 is exactly at the G1/G2 boundary and must grade 1 (admiral rounds the same way).
    assert 3 * 40.1 != 120.3
    assert g("5.0", "alt", 120.3, "U/L", uln=40.1).grade == 1
    # Unit conversion: 0.5 x 10^9/L is 500/uL, exactly the G3/G4 boundary.
    assert g("5.0", "anc", 0.5, "10^9/L", lln=1.5).grade == 3


def test_result_names_its_table_row() -> None:
    result = g("5.0", "platelets", 24999, "/uL", lln=150000, uln=450000)
    assert result.term == "Platelet count decreased"
    assert (
        result.citation == "CTCAE v5.0, Investigations: Platelet count decreased (MedDRA 10035528)"
    )
    assert result.rule.startswith("G4: < 25000")
