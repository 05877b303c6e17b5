"""Overall response per evaluation and best overall response per patient (INRC 2017, NANTRC).

`combine` turns the three component responses into CR, PR, MR, SD, PD or NE (standards.md
§1.4, the reconstruction of Park 2017 Table 5 checked against PDQ's overall definitions).
`evaluate_patient` walks a patient's evaluations in date order, keeps the nadirs that
growth PD is measured from, and takes the best overall response up to the first PD, with
confirmation when the rule set asks for it. Every result names the rule that fired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from phaseone.response import components as comp
from phaseone.response.components import ComponentResponse, ComponentResult
from phaseone.response.criteria import Criteria
from phaseone.response.evaluation import Evaluation, PatientEvaluations, ResponseCategory

RANK: dict[str, int] = {"CR": 5, "PR": 4, "MR": 3, "SD": 2, "PD": 1, "NE": 0}


@dataclass(frozen=True)
class Overall:
    response: ResponseCategory
    rule: str
    reason: str


def combine(
    primary: ComponentResponse,
    metastatic: ComponentResponse,
    marrow: ComponentResponse,
    c: Criteria,
    marrow_improved: bool = True,
) -> Overall:
    """The overall response from the three components.

    `marrow_improved` says whether a marrow MD is an improvement (baseline above the MD
    limit): persisting minimal disease is allowed beside a PR, as PDQ's PR reads (marrow
    0-5%), but is not by itself a response.
    """
    parts = {"primary": primary, "metastatic": metastatic, "marrow": marrow}
    values = tuple(parts.values())
    if "PD" in values:
        which = ", ".join(k for k, v in parts.items() if v == "PD")
        return Overall("PD", "overall.PD", f"{which} PD (any component PD is PD)")
    if "NE" in values:
        which = ", ".join(k for k, v in parts.items() if v == "NE")
        return Overall("NE", "overall.NE.component", f"{which} not evaluable")
    if all(v == "NI" for v in values):
        return Overall("NE", "overall.NE.no_disease", "no disease at baseline")
    if all(v in ("CR", "NI") for v in values):
        if "NI" in values and not c.cr_allows_not_involved:
            return Overall(
                "PR",
                "overall.PR.cr_with_not_involved",
                "every involved component CR, but CR needs all three CR "
                "(cr_allows_not_involved is false)",
            )
        return Overall("CR", "overall.CR", "every component CR or not involved")
    responding = [
        k for k, v in parts.items() if v in ("CR", "PR") or (v == "MD" and marrow_improved)
    ]
    if responding and all(v in ("CR", "PR", "MD", "NI") for v in values):
        return Overall(
            "PR",
            "overall.PR",
            f"{', '.join(responding)} responding; none SD or PD",
        )
    if responding and "SD" in values:
        stable = ", ".join(k for k, v in parts.items() if v == "SD")
        return Overall(
            "MR", "overall.MR", f"{', '.join(responding)} responding, {stable} SD; none PD"
        )
    return Overall("SD", "overall.SD", "no component responding; none PD")


@dataclass(frozen=True)
class EvaluationResponse:
    """The response at one evaluation, with its components and inputs."""

    patient_id: str
    date: dt.date
    label: str | None
    kind: str
    day: int  # days since the reference date
    components: tuple[ComponentResult, ...]
    overall: Overall
    investigator_response: str | None = None
    investigator_reason: str | None = None
    relative_bone_score: float | None = None
    soft_tissue_sum_mm: float | None = None

    @property
    def response(self) -> ResponseCategory:
        return self.overall.response

    @property
    def agrees(self) -> bool | None:
        """Whether the investigator's call equals the computed one (None: no call)."""
        if self.investigator_response is None:
            return None
        return self.investigator_response == self.overall.response


@dataclass(frozen=True)
class PatientResponse:
    """A patient's responses over time and the best overall response."""

    patient_id: str
    dose_level: int | None
    criteria: str
    evaluations: tuple[EvaluationResponse, ...]
    best: ResponseCategory
    best_reason: str
    best_date: dt.date | None = None
    disease_at_baseline: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def best_relative_bone_change(self) -> float | None:
        """Best (lowest) relative MIBG bone score minus 1, for the waterfall plot."""
        values = [
            e.relative_bone_score
            for e in self.evaluations
            if e.kind != "baseline" and e.relative_bone_score is not None
        ]
        return min(values) - 1 if values else None


def evaluate_patient(patient: PatientEvaluations, c: Criteria) -> PatientResponse:
    """Every evaluation of one patient, in date order, and the best overall response."""
    ordered = sorted(patient.evaluations, key=lambda e: (e.kind != "baseline", e.date))
    first = ordered[0]
    if first.kind != "baseline":
        results = tuple(_not_evaluable(patient, e, "no baseline evaluation") for e in ordered)
        return PatientResponse(
            patient.patient_id,
            patient.dose_level,
            c.id,
            results,
            "NE",
            "no baseline evaluation",
        )
    base = comp.read_baseline(first, c)
    nadir = comp.start_nadir(base)
    out = [_baseline_row(patient, first, base)]
    for e in ordered[1:]:
        out.append(_evaluate_one(patient, e, base, nadir, c))
        _update_nadir(nadir, e, base)
    best, reason, when = best_response(out[1:], c, base.has_disease)
    return PatientResponse(
        patient.patient_id,
        patient.dose_level,
        c.id,
        tuple(out),
        best,
        reason,
        when,
        disease_at_baseline=base.has_disease,
    )


def _baseline_row(
    patient: PatientEvaluations, e: Evaluation, base: comp.Baseline
) -> EvaluationResponse:
    return EvaluationResponse(
        patient.patient_id,
        e.date,
        e.label,
        e.kind,
        (e.date - patient.reference_date).days,
        (),
        Overall("NE", "baseline", "baseline evaluation"),
        relative_bone_score=1.0 if base.bone_score > 0 else None,
        soft_tissue_sum_mm=base.primary_mm + base.metastatic_target_mm,
    )


def _not_evaluable(patient: PatientEvaluations, e: Evaluation, why: str) -> EvaluationResponse:
    return EvaluationResponse(
        patient.patient_id,
        e.date,
        e.label,
        e.kind,
        (e.date - patient.reference_date).days,
        (),
        Overall("NE", "overall.NE.no_baseline", why),
        e.investigator_response,
        e.investigator_reason,
    )


def _evaluate_one(
    patient: PatientEvaluations,
    e: Evaluation,
    base: comp.Baseline,
    nadir: comp.Nadir,
    c: Criteria,
) -> EvaluationResponse:
    p = comp.primary(e, base, nadir, c)
    m = comp.metastatic(e, base, nadir, c)
    b = comp.marrow(e, base, c)
    improved = (base.marrow_percent or 0) > c.marrow_md_max_percent
    overall = combine(p.response, m.response, b.response, c, marrow_improved=improved)
    relative = m.inputs.get("relative_bone_score")
    soft = sum(x.diameter_mm for x in e.lesions if x.target and not x.new)
    return EvaluationResponse(
        patient.patient_id,
        e.date,
        e.label,
        e.kind,
        (e.date - patient.reference_date).days,
        (p, m, b),
        overall,
        e.investigator_response,
        e.investigator_reason,
        relative_bone_score=float(relative) if isinstance(relative, int | float) else None,
        soft_tissue_sum_mm=soft,
    )


def _update_nadir(nadir: comp.Nadir, e: Evaluation, base: comp.Baseline) -> None:
    now = {x.id: x.diameter_mm for x in e.lesions}
    if base.primary_ids and all(i in now for i in base.primary_ids):
        nadir.primary_mm = min(nadir.primary_mm, sum(now[i] for i in base.primary_ids))
    if base.metastatic and all(i in now for i in base.metastatic):
        total = sum(now[i] for i, x in base.metastatic.items() if x.target)
        nadir.metastatic_sum_mm = min(nadir.metastatic_sum_mm, total)
    for i in base.metastatic:
        if i in now:
            nadir.lesion_mm[i] = min(nadir.lesion_mm[i], now[i])


def best_response(
    results: Sequence[EvaluationResponse], c: Criteria, disease_at_baseline: bool = True
) -> tuple[ResponseCategory, str, dt.date | None]:
    """Best overall response up to and including the first PD; (category, reason, date)."""
    if not disease_at_baseline:
        return "NE", "no disease at baseline (not evaluable for response)", None
    if not results:
        return "NE", "no evaluation after baseline", None
    upto: list[EvaluationResponse] = []
    for r in results:
        upto.append(r)
        if r.response == "PD":
            break
    best: EvaluationResponse | None = None
    best_level: ResponseCategory = "NE"
    note = ""
    for i, r in enumerate(upto):
        level: ResponseCategory = r.response
        if c.confirmation_required and level in ("CR", "PR"):
            confirmed = _confirmed_level(r, upto[i + 1 :], c)
            if confirmed is None:
                note = f"; {level} of {r.date} not confirmed"
                level = "SD"
            else:
                level = confirmed
        if RANK[level] > RANK[best_level]:
            best, best_level = r, level
    if best is None:
        return "NE", "no evaluable evaluation after baseline", None
    reason = f"best of {len(upto)} evaluation(s): {best_level} on {best.date}"
    if c.confirmation_required and best_level in ("CR", "PR"):
        reason += f", confirmed >= {c.confirmation_min_days} days later"
    return best_level, reason + note, best.date


def _confirmed_level(
    r: EvaluationResponse, later: Iterable[EvaluationResponse], c: Criteria
) -> ResponseCategory | None:
    """The level a CR or PR keeps when a later evaluation confirms it, if any does."""
    best: ResponseCategory | None = None
    for x in later:
        if (x.date - r.date).days < c.confirmation_min_days or x.response == "PD":
            continue
        if r.response == "CR" and x.response == "CR":
            return "CR"
        if x.response in ("CR", "PR"):
            best = "PR"
    return best


def evaluate_patients(patients: Iterable[PatientEvaluations], c: Criteria) -> list[PatientResponse]:
    return [evaluate_patient(p, c) for p in patients]


def check_consistency(result: PatientResponse, c: Criteria) -> None:
    """Invariants every patient result keeps; AssertionError names the one broken.

    Tests call it after every evaluation, as escalation's selector consistency check.
    """
    upto_pd = True
    for e in result.evaluations:
        if e.kind == "baseline":
            assert not e.components, "a baseline has no components"
            continue
        comps = [x.response for x in e.components]
        if not comps:
            assert e.response == "NE", "without components the response is NE"
            continue
        assert (e.response == "PD") == ("PD" in comps), f"PD iff a component is PD: {e}"
        if e.response == "CR":
            assert all(x in ("CR", "NI") for x in comps), "CR needs every component CR or NI"
        if e.response in ("PR", "MR"):
            assert any(x in ("CR", "PR", "MD") for x in comps), f"{e.response} needs a response"
        if upto_pd and result.disease_at_baseline and not c.confirmation_required:
            assert RANK[result.best] >= RANK[e.response], "best is at least every response"
        if e.response == "PD":
            upto_pd = False
    if not result.disease_at_baseline:
        # Entered without disease (objective VII): not evaluable for response, whatever
        # follows; a later PD is an event for EFS, not a best response.
        assert result.best == "NE", "no disease at baseline: not evaluable"
