"""Parity with the R packages dfcrm 0.2-2.1 and BOIN 2.7.2, run by hand; the recorded
outputs and how they were produced are in tests/designs/data/ (README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from phaseone.designs import BOIN, CRM, TITECRM, Outcomes, get_prior
from phaseone.designs.interval import isotonic_selection

DATA = json.loads((Path(__file__).parent / "data" / "r_reference.json").read_text())


def outcomes_from(
    level: list[int], tox: list[int], followup: list[float] | None = None, window: float = 0
) -> Outcomes:
    rows = []
    for i, (d, t) in enumerate(zip(level, tox, strict=True)):
        days = None if followup is None else followup[i]
        status = "T" if t else ("P" if days is not None and days < window else "N")
        rows.append({"dose": d, "dlt": status, "followup_days": days})
    return Outcomes.from_records(rows)


@pytest.mark.parametrize("case", DATA["crm"], ids=lambda c: c["id"])
def test_dfcrm_crm(case: dict[str, Any]) -> None:
    design = CRM(
        skeleton=tuple(case["skeleton"]),
        target_rate=case["target"],
        model=case["model"],
        method=case["method"],
        prior_sd=case["scale"],
        intercept=case["intercept"],
        restrict=False,
    )
    state = design.fit(outcomes_from(case["level"], case["tox"]))
    tol = 1e-6 if case["method"] == "bayes" else 1e-3  # dfcrm's optimize() runs to tol 1e-4
    assert state.details["estimate"] == pytest.approx(case["estimate"], abs=tol)
    assert state.estimates == pytest.approx(case["ptox"], abs=tol)
    assert state.recommended_dose == case["mtd"]
    if case["method"] == "bayes":
        assert state.details["posterior_var"] == pytest.approx(case["post_var"], abs=1e-6)
        fit = design.fit_model(*design.observations(state.outcomes))
        lower, upper = design.normal_intervals(fit)
        assert lower == pytest.approx(case["ptoxL"], abs=1e-6)
        assert upper == pytest.approx(case["ptoxU"], abs=1e-6)


@pytest.mark.parametrize("case", DATA["getprior"], ids=lambda c: c["id"])
def test_dfcrm_getprior(case: dict[str, Any]) -> None:
    got = get_prior(case["halfwidth"], case["target"], case["nu"], case["nlevel"], case["model"])
    assert got == pytest.approx(case["skeleton"], abs=1e-10)


@pytest.mark.parametrize("case", DATA["titecrm"], ids=lambda c: c["id"])
def test_dfcrm_titecrm(case: dict[str, Any]) -> None:
    design = TITECRM(
        skeleton=tuple(case["skeleton"]),
        target_rate=case["target"],
        window_days=case["obswin"],
        weights=case["scheme"],
        restrict=False,
    )
    state = design.fit(outcomes_from(case["level"], case["tox"], case["followup"], case["obswin"]))
    assert state.details["estimate"] == pytest.approx(case["estimate"], abs=1e-6)
    assert state.estimates == pytest.approx(case["ptox"], abs=1e-6)
    assert state.recommended_dose == case["mtd"]


@pytest.mark.parametrize("case", DATA["boin_boundary"], ids=lambda c: f"target={c['target']}")
def test_boin_get_boundary(case: dict[str, Any]) -> None:
    design = BOIN(target_rate=case["target"], doses=5)
    assert design.lambdas == pytest.approx((case["lambda_e"], case["lambda_d"]), abs=1e-10)
    frame = design.decision_table(30).boundaries()
    assert list(frame["escalate_if_y_le"]) == case["escalate"]
    assert list(frame["deescalate_if_y_ge"]) == case["deescalate"]
    # R's NA (no elimination for n < 3) is recorded as -1
    assert list(frame["eliminate_if_y_ge"]) == [None if v < 0 else v for v in case["eliminate"]]


@pytest.mark.parametrize("case", DATA["boin_select_mtd"], ids=lambda c: c["id"])
def test_boin_select_mtd(case: dict[str, Any]) -> None:
    design = BOIN(target_rate=case["target"], doses=len(case["npts"]), bound_mtd=case["bound_mtd"])
    n = np.array(case["npts"], dtype=np.int64)
    y = np.array(case["ntox"], dtype=np.int64)
    assert isotonic_selection(design, n, y).dose == case["mtd"]
