"""pandas DataFrames of responses: per evaluation (with components), best response, rates.

Column names follow SDTM RS where one exists (USUBJID, RSDTC, VISIT, OVRLRESP).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from phaseone.response.inrc import PatientResponse
from phaseone.response.rates import Rate

if TYPE_CHECKING:
    import pandas as pd


def evaluation_rows(patients: Iterable[PatientResponse]) -> list[dict[str, Any]]:
    """One flat row per evaluation: the components, the overall response and its rule."""
    rows = []
    for p in patients:
        for e in p.evaluations:
            row: dict[str, Any] = {
                "USUBJID": p.patient_id,
                "DOSE_LEVEL": p.dose_level,
                "RSDTC": e.date.isoformat(),
                "ADY": e.day,
                "VISIT": e.label or e.kind,
                "BASELINE": e.kind == "baseline",
            }
            for c in e.components:
                row[c.component.upper()] = c.response
            for name in ("PRIMARY", "METASTATIC", "MARROW"):
                row.setdefault(name, None)
            row["OVRLRESP"] = e.overall.response if e.kind != "baseline" else None
            row["RULE"] = e.overall.rule
            row["REASON"] = e.overall.reason
            row["RELATIVE_BONE_SCORE"] = e.relative_bone_score
            row["SOFT_TISSUE_SUM_MM"] = e.soft_tissue_sum_mm
            row["INVRESP"] = e.investigator_response
            row["AGREES"] = e.agrees
            rows.append(row)
    return rows


def patient_dict(patient: PatientResponse) -> dict[str, Any]:
    """One patient with every evaluation's components, rules, reasons and inputs."""
    return {
        "patient_id": patient.patient_id,
        "dose_level": patient.dose_level,
        "best": patient.best,
        "best_reason": patient.best_reason,
        "criteria": patient.criteria,
        "disease_at_baseline": patient.disease_at_baseline,
        "evaluations": [
            {
                "date": e.date.isoformat(),
                "label": e.label,
                "kind": e.kind,
                "overall": e.overall.response if e.kind != "baseline" else None,
                "rule": e.overall.rule,
                "reason": e.overall.reason,
                "investigator_response": e.investigator_response,
                "agrees": e.agrees,
                "components": [
                    {
                        "component": c.component,
                        "response": c.response,
                        "rule": c.rule,
                        "reason": c.reason,
                        "inputs": dict(c.inputs),
                    }
                    for c in e.components
                ],
            }
            for e in patient.evaluations
        ],
    }


def best_rows(patients: Iterable[PatientResponse]) -> list[dict[str, Any]]:
    return [
        {
            "USUBJID": p.patient_id,
            "DOSE_LEVEL": p.dose_level,
            "CRITERIA": p.criteria,
            "BOR": p.best,
            "BORDTC": p.best_date.isoformat() if p.best_date else None,
            "REASON": p.best_reason,
            "DISEASE_AT_BASELINE": p.disease_at_baseline,
            "BEST_RELATIVE_BONE_CHANGE": p.best_relative_bone_change,
        }
        for p in patients
    ]


def rate_rows(rates: Iterable[Rate]) -> list[dict[str, Any]]:
    return [
        {
            "dose_level": "all" if r.dose_level is None else r.dose_level,
            "responders": r.responders,
            "evaluable": r.evaluable,
            "rate": r.rate,
            "ci_lower": r.lower,
            "ci_upper": r.upper,
            "excluded_no_disease": r.excluded,
            **r.counts,
        }
        for r in rates
    ]


# RSTESTCD values for the INRC components; the CDISC CT value for INRC in RSCAT was not
# found, so RSCAT carries the rule set id (configurable text).
RS_TESTS = {
    "primary": ("PRIMRESP", "Primary Tumor Response"),
    "metastatic": ("METSRESP", "Metastatic Soft Tissue and Bone Response"),
    "marrow": ("BMRESP", "Bone Marrow Response"),
}


def rs_rows(patients: Iterable[PatientResponse]) -> list[dict[str, Any]]:
    """SDTM RS-like rows: one per component and one OVRLRESP per evaluation after baseline."""
    rows = []
    for p in patients:
        seq = 0
        for e in p.evaluations:
            if e.kind == "baseline":
                continue
            tests: list[tuple[str, str, str]] = [
                (*RS_TESTS[c.component], c.response) for c in e.components
            ]
            tests.append(("OVRLRESP", "Overall Response", e.overall.response))
            for code, name, result in tests:
                seq += 1
                rows.append(
                    {
                        "USUBJID": p.patient_id,
                        "RSSEQ": seq,
                        "RSTESTCD": code,
                        "RSTEST": name,
                        "RSCAT": p.criteria,
                        "RSORRES": result,
                        "RSSTRESC": result,
                        "RSEVAL": "COMPUTED",
                        "VISIT": e.label or e.kind,
                        "RSDTC": e.date.isoformat(),
                        "RSDY": e.day,
                    }
                )
    return rows


def rs_frame(patients: Iterable[PatientResponse]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rs_rows(patients))


def evaluations_frame(patients: Iterable[PatientResponse]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(evaluation_rows(patients))


def best_response_frame(patients: Iterable[PatientResponse]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(best_rows(patients))


def rates_frame(rates: Iterable[Rate]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rate_rows(rates))
