"""Shared fixtures: one invented, eligible patient and helpers to change and screen it.

The base patient is a 7-year-old boy with relapsed high-risk neuroblastoma (MIBG-avid
bone disease), screened as of 2024-06-03 (day 1 of protocol therapy). Every test
changes one fact and checks the verdict the registry wording implies.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from phaseone.eligibility import EligibilityResult, Screener, parse_record
from phaseone.eligibility.result import CriterionResult
from phaseone.protocol import resolve_protocol

AS_OF = dt.date(2024, 6, 3)

BASE: dict[str, Any] = {
    "id": "EX-01",
    "site": "chla",
    "birth_date": "2017-03-14",
    "sex": "male",
    "childbearing_potential": False,
    "measurements": [{"date": "2024-05-28", "height_cm": 121.5, "weight_kg": 22.4}],
    "diagnosis": {
        "date": "2020-09-02",
        "histology": "neuroblastoma",
        "high_risk": True,
        "catecholamines_elevated": True,
    },
    "disease_history": {
        "frontline_response": "VGPR",
        "induction_cycles": 5,
        "relapses": [{"date": "2024-04-10", "kind": "relapse"}],
    },
    "disease_sites": {
        "tumor_mibg_avid": True,
        "mibg_scans": [
            {
                "date": "2024-05-20",
                "avid_bone_sites": 4,
                "avid_soft_tissue_sites": 0,
                "curie_score": 6,
            }
        ],
        "fdg_pet_scans": [],
        "soft_tissue_lesions": [],
        "marrow_samples": [
            {"date": "2024-05-21", "side": "left", "method": "aspirate", "morphology": "negative"},
            {"date": "2024-05-21", "side": "right", "method": "aspirate", "morphology": "negative"},
            {"date": "2024-05-21", "side": "left", "method": "biopsy", "morphology": "negative"},
            {"date": "2024-05-21", "side": "right", "method": "biopsy", "morphology": "negative"},
        ],
        "only_radiated_sites": False,
    },
    "cns": {
        "prior_cns_metastases": False,
        "skull_lesion_intracranial_extension": False,
        "head_imaging": [],
    },
    "biopsies": [
        {
            "date": "2024-04-15",
            "site": "bone",
            "site_avidity": "mibg",
            "site_present_at_enrollment": True,
            "result": "neuroblastoma",
        }
    ],
    "prior_therapies": [
        {
            "category": "myelosuppressive_chemotherapy",
            "name": "induction (COG ANBL0532-like)",
            "start": "2020-09-15",
            "end": "2021-01-20",
        },
        {
            "category": "autologous_stem_cell_infusion",
            "name": "tandem autologous SCT",
            "start": "2021-02-10",
            "end": "2021-03-30",
            "myeloablative": True,
        },
        {
            "category": "radiation",
            "name": "primary site and MIBG-avid residual",
            "start": "2021-04-20",
            "end": "2021-05-10",
            "radiation_field": "other",
        },
        {
            "category": "anti_gd2_antibody",
            "name": "dinutuximab",
            "start": "2021-06-01",
            "end": "2021-11-15",
            "half_life_days": 10,
            "progressed_during": False,
        },
        {"category": "cytokine", "name": "GM-CSF", "start": "2021-06-01", "end": "2021-11-15"},
        {
            "category": "isotretinoin",
            "name": "isotretinoin",
            "start": "2021-06-01",
            "end": "2021-12-10",
        },
        {
            "category": "myelosuppressive_chemotherapy",
            "name": "irinotecan/temozolomide",
            "start": "2024-04-22",
            "end": "2024-05-10",
        },
        {"category": "cytokine", "name": "filgrastim", "start": "2024-05-12", "end": "2024-05-22"},
    ],
    "labs": [
        {"analyte": "anc", "value": 1.8, "unit": "10^9/L", "date": "2024-05-30"},
        {"analyte": "monocytes", "value": 0.4, "unit": "10^9/L", "date": "2024-05-30"},
        {"analyte": "platelets", "value": 142, "unit": "10^9/L", "date": "2024-05-30"},
        {"analyte": "hemoglobin", "value": 10.1, "unit": "g/dL", "date": "2024-05-30"},
        {"analyte": "creatinine", "value": 0.45, "unit": "mg/dL", "date": "2024-05-30"},
        {"analyte": "bilirubin", "value": 0.4, "unit": "mg/dL", "uln": 1.0, "date": "2024-05-30"},
        {"analyte": "alt", "value": 32, "unit": "U/L", "date": "2024-05-30"},
        {"analyte": "ast", "value": 41, "unit": "U/L", "uln": 50, "date": "2024-05-30"},
        {
            "analyte": "triglycerides",
            "value": 145,
            "unit": "mg/dL",
            "fasting": False,
            "date": "2024-05-30",
        },
    ],
    "transfusions": [],
    "findings": [
        {"term": "hematuria", "grade": 0, "date": "2024-05-30"},
        {"term": "proteinuria", "grade": 0, "date": "2024-05-30"},
        {"term": "hypercalcemia", "grade": 0, "date": "2024-05-30"},
        {"term": "skin_toxicity", "grade": 0, "date": "2024-05-28"},
    ],
    "performance": [{"date": "2024-05-28", "scale": "lansky", "value": 80}],
    "cardiac": [
        {
            "date": "2024-05-22",
            "method": "echo",
            "ejection_fraction": 64,
            "fractional_shortening": 34,
        }
    ],
    "dyspnea_at_rest": False,
    "active_infection": False,
    "paraben_allergy": False,
    "thromboses": [],
    "can_swallow_capsules": True,
    "companion_studies": {"nant-2004-05": {"status": "enrolled"}},
    "life_expectancy_weeks": 26,
    "recovered_from_acute_toxicity": True,
    "sos": "none",
    "other_medical_issues": {"present": False},
}


def ago(days: int) -> str:
    """The ISO date `days` before the entry date."""
    return (AS_OF - dt.timedelta(days=days)).isoformat()


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


@pytest.fixture(scope="session")
def screener() -> Screener:
    return Screener(resolve_protocol("nant-2011-04"))


Change = Callable[[dict[str, Any]], None]


def screen(
    screener: Screener,
    change: Change | None = None,
    dose_level: int | None = 2,
    as_of: dt.date = AS_OF,
) -> EligibilityResult:
    record = base()
    if change is not None:
        change(record)
    return screener.evaluate(parse_record(record), as_of, dose_level)


def verdict(
    screener: Screener, criterion: str, change: Change | None = None, dose_level: int | None = 2
) -> CriterionResult:
    return screen(screener, change, dose_level).criterion(criterion)
