"""Small builders for hand-worked response cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from phaseone.response import PatientEvaluations, parse_patient

REF = dt.date(2014, 3, 3)


def lesion(lid: str, mm: float, site: str = "soft_tissue", **kw: Any) -> dict[str, Any]:
    return {"id": lid, "site": site, "diameter_mm": mm, **kw}


def marrow(*percents: float, full: bool = True) -> list[dict[str, Any]]:
    """Samples: with `full`, bilateral aspirates and biopsies all at the given percents."""
    out = []
    sides = ("left", "right")
    kinds = ("aspirate", "biopsy") if full else ("aspirate",)
    for value in percents or (0,):
        for side in sides:
            for kind in kinds:
                out.append({"side": side, "kind": kind, "tumour_percent": value})
    return out


def curie(skeletal: dict[str, int] | None = None, soft: int = 0) -> dict[str, Any]:
    return {"avid": True, "curie": {**(skeletal or {}), "soft_tissue": soft}}


def evaluation(day: int, **kw: Any) -> dict[str, Any]:
    kind = "baseline" if day <= 0 else "scheduled"
    return {"date": (REF + dt.timedelta(days=day)).isoformat(), "kind": kind, **kw}


def patient(
    *evaluations: dict[str, Any], level: int | None = 1, pid: str = "P1"
) -> PatientEvaluations:
    return parse_patient(
        {
            "patient_id": pid,
            "reference_date": REF.isoformat(),
            "dose_level": level,
            "evaluations": list(evaluations),
        }
    )
