"""Disease evaluations: captured as measurements, read back as the response engine's input.

A site enters an evaluation (MIBG scores per segment, FDG-PET, CT/MRI lesions, marrow
samples, the investigator's own call) through the engine's own input model
(`phaseone.response.Evaluation`), so the page, the API and a file are checked alike. The
store keeps the measurements only; every response shown is computed by the engine from
them, so a correction re-derives it. Each row is written through phaseone.store.records:
site scoping, roles and the audit trail live there; corrections carry a reason.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import lazyload
from sqlalchemy.orm.util import identity_key

from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Assessment, Protocol
from phaseone.response import (
    Criteria,
    Evaluation,
    PatientEvaluations,
    PatientResponse,
    Rate,
    criteria_for,
    evaluate_patient,
    parse_patient,
    response_rates,
)
from phaseone.response.evaluation import CURIE_SKELETAL
from phaseone.store import records
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.errors import ConflictError
from phaseone.store.models import (
    DiseaseEvaluation,
    LesionMeasurement,
    MarrowSample,
    MibgScore,
    Patient,
    Registration,
)
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial

EVALUATIONS = records.EntitySpec(
    "disease_evaluations", "disease evaluation", DiseaseEvaluation, CLINICAL_WRITERS
)
_CHILD_REF = {"evaluation_id": DiseaseEvaluation}
MIBG_SCORES = records.EntitySpec(
    "mibg_scores", "MIBG score", MibgScore, CLINICAL_WRITERS, references=_CHILD_REF
)
LESIONS = records.EntitySpec(
    "lesion_measurements", "lesion measurement", LesionMeasurement, CLINICAL_WRITERS,
    references=_CHILD_REF,
)
MARROW = records.EntitySpec(
    "marrow_samples", "marrow sample", MarrowSample, CLINICAL_WRITERS, references=_CHILD_REF
)
CHILDREN = (MIBG_SCORES, LESIONS, MARROW)

DISEASE_AT_ENTRY = ("measurable", "evaluable", "complete_response")
CURIE_SEGMENTS = (*CURIE_SKELETAL, "soft_tissue")


# --- the schedule ---------------------------------------------------------------------------


def evaluation_assessments(trial: Trial) -> tuple[Assessment, ...]:
    """The protocol's disease evaluations (its imaging assessments)."""
    return tuple(a for a in trial.protocol.assessments if a.kind == "imaging")


def scheduled_assessments(trial: Trial) -> dict[int, Assessment]:
    """Course number -> the assessment that schedules a disease evaluation after it."""
    out: dict[int, Assessment] = {}
    max_courses = trial.protocol.course.max_courses
    for a in evaluation_assessments(trial):
        numbers = range(1, max_courses + 1) if a.courses == "all" else a.courses
        for n in numbers:
            out.setdefault(int(n), a)
    return dict(sorted(out.items()))


def scheduled_courses(trial: Trial) -> dict[int, str]:
    """Course number -> the id of the assessment that schedules an evaluation after it."""
    return {n: a.id for n, a in scheduled_assessments(trial).items()}


# --- reading --------------------------------------------------------------------------------


Row = Mapping[str, Any]


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation's stored values (as the actor may see them) and the engine's input."""

    row: Row
    evaluation: Evaluation


def as_engine(row: Row, scores: Sequence[Row], lesions: Sequence[Row],
              marrow: Sequence[Row]) -> Evaluation:
    """Stored measurements (column values, as a view or a snapshot gives them) as the
    engine's input; segment totals are the engine's to derive."""
    scales: dict[str, dict[str, int]] = defaultdict(dict)
    for s in scores:
        scales[s["scale"]][s["segment"]] = s["score"]
    mibg = None
    if row["mibg_avid"] is not None:
        mibg = {
            "avid": row["mibg_avid"],
            "curie": scales.get("curie"),
            "siopen": scales.get("siopen"),
            "new_avid_bone_site": row["mibg_new_avid_bone_site"],
        }
    pet = None
    if row["pet_avid_bone_sites"] is not None:
        pet = {
            "avid_bone_sites": row["pet_avid_bone_sites"],
            "new_avid_bone_site": row["pet_new_avid_bone_site"],
        }
    return Evaluation.model_validate(
        {
            "date": row["evaluated_on"],
            "kind": row["kind"],
            "label": row["label"],
            "mibg": mibg,
            "pet": pet,
            "lesions": [
                {
                    "id": m["lesion_code"],
                    "site": m["site"],
                    "diameter_mm": m["diameter_mm"],
                    "target": m["target"],
                    "avid": m["avid"],
                    "new": m["new"],
                    "biopsy_proven": m["biopsy_proven"],
                }
                for m in lesions
            ],
            "marrow": [
                {k: m[k] for k in ("side", "kind", "method", "tumour_percent")}
                for m in sorted(marrow, key=lambda m: m["sample_number"])
            ],
            "new_lesion": row["new_lesion"],
            "investigator_response": row["investigator_response"],
            "investigator_reason": row["investigator_reason"],
        }
    )


def _by(rows: Iterable[Row], key: str) -> dict[Any, list[Row]]:
    out: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def stored_from_rows(tables: Mapping[str, Sequence[Row]]) -> dict[int, list[StoredEvaluation]]:
    """Evaluations by patient id, in date order, from their tables' rows (the store's
    view or an export snapshot: one reading for the service and the report)."""
    scores = _by(tables.get("mibg_scores", ()), "evaluation_id")
    lesions = _by(tables.get("lesion_measurements", ()), "evaluation_id")
    marrow = _by(tables.get("marrow_samples", ()), "evaluation_id")
    rows = sorted(tables.get("disease_evaluations", ()),
                  key=lambda r: (r["evaluated_on"], r["id"]))
    out: dict[int, list[StoredEvaluation]] = defaultdict(list)
    for r in rows:
        engine = as_engine(r, scores[r["id"]], lesions[r["id"]], marrow[r["id"]])
        out[r["patient_id"]].append(StoredEvaluation(r, engine))
    return dict(out)


def evaluations_from_rows(
    tables: Mapping[str, Sequence[Row]],
) -> list[tuple[int, PatientEvaluations]]:
    """The engine's input per registered patient with an evaluation, in subject-code
    order, from the tables' rows (patients, registrations and the evaluation tables)."""
    stored = stored_from_rows(tables)
    regs = {r["patient_id"]: r for r in tables.get("registrations", ())}
    codes = {r["id"]: r["subject_code"] for r in tables.get("patients", ())}
    out = []
    for pid, evals in stored.items():
        reg = regs.get(pid)
        if reg is None or pid not in codes:
            continue
        out.append((pid, _engine_patient(codes[pid], reg, [s.evaluation for s in evals])))
    out.sort(key=lambda pair: pair[1].patient_id)
    return out


def _engine_patient(code: str, reg: Row, evaluations: Sequence[Evaluation]) -> PatientEvaluations:
    return PatientEvaluations(
        patient_id=code,
        reference_date=reg["registered_on"],
        dose_level=reg["dose_level"],
        evaluations=tuple(evaluations),
    )


def _view(scope: Scope, obj: Any, as_entered: bool) -> dict[str, Any]:
    if as_entered:
        return {**records.content(obj), "id": obj.id}
    return records.view(obj, scope.actor)


def read_tables(
    scope: Scope,
    patient_ids: Iterable[int] | None = None,
    *,
    as_entered: bool = False,
    evaluated_only: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """The evaluation tables, registrations and patients the actor may see (not voided),
    as the actor may see them (de-identified for the statistician) or, for the service's
    own checks, as entered. One query per table; with `evaluated_only`, none after the
    evaluations when there is none (a view of evaluations needs nothing else then)."""
    ids = None if patient_ids is None else list(patient_ids)
    out: dict[str, list[dict[str, Any]]] = {}
    specs = (EVALUATIONS, *CHILDREN, records.SPECS["registrations"], records.SPECS["patients"])
    # Patients this transaction has already read (one patient's page) are found in the
    # session; the rows need not join them again.
    known = ids is not None and all(
        identity_key(Patient, i) in scope.session.identity_map for i in ids
    )
    for spec in specs:
        model: Any = spec.model
        stmt = records.visible(scope, spec).where(model.voided.is_(False))
        if known and model is not Patient:
            stmt = stmt.options(lazyload(model.patient))
        if ids is not None:
            column = model.id if model is Patient else model.patient_id
            stmt = stmt.where(column.in_(ids))
        found = scope.session.scalars(stmt.order_by(model.id))
        out[spec.name] = [_view(scope, obj, as_entered) for obj in found]
        if evaluated_only and not out[EVALUATIONS.name]:
            return {spec.name: [] for spec in specs}
    return out


def stored_evaluations(
    scope: Scope, patient_ids: Iterable[int] | None = None
) -> dict[int, list[StoredEvaluation]]:
    """Every evaluation the actor may see, by patient id, in date order (voided left out)."""
    return stored_from_rows(read_tables(scope, patient_ids))


def evaluations_of(scope: Scope, patient_id: int) -> list[StoredEvaluation]:
    """One patient's evaluations (NotFoundError for a patient the actor may not see)."""
    records.get(scope, records.SPECS["patients"], patient_id)
    return stored_evaluations(scope, [patient_id]).get(patient_id, [])


def _registration(scope: Scope, patient_id: int) -> Registration | None:
    stmt = records.visible(scope, records.SPECS["registrations"]).where(
        Registration.voided.is_(False), Registration.patient_id == patient_id
    )
    found: Registration | None = scope.session.scalar(stmt)
    return found


def criteria_of(protocol: Protocol) -> Criteria:
    """The protocol's rule set with its parameter overrides."""
    return criteria_for(protocol.response.criteria, protocol.response.params)


def criteria(trial: Trial) -> Criteria:
    return criteria_of(trial.protocol)


def responses_from_rows(
    protocol: Protocol, tables: Mapping[str, Sequence[Row]]
) -> list[tuple[int, PatientResponse]]:
    """Each patient's computed responses from the tables' rows."""
    rules = criteria_of(protocol)
    return [(pid, evaluate_patient(e, rules)) for pid, e in evaluations_from_rows(tables)]


def responses(
    scope: Scope, trial: Trial, patient_ids: Iterable[int] | None = None
) -> list[tuple[int, PatientResponse]]:
    """Each patient's computed responses (component, overall, best so far), by patient id."""
    return responses_from_rows(trial.protocol, read_tables(scope, patient_ids))


def disease_at_entry_from_rows(tables: Mapping[str, Sequence[Row]]) -> dict[int, str]:
    """Patient id -> disease status at entry, from the baseline evaluation."""
    return {
        r["patient_id"]: str(r["disease_at_entry"])
        for r in tables.get("disease_evaluations", ())
        if r["kind"] == "baseline" and r["disease_at_entry"] is not None
    }


# --- writing --------------------------------------------------------------------------------


def _row_values(
    evaluation: Evaluation,
    *,
    assessment_id: str | None,
    course: int | None,
    disease_at_entry: str | None,
) -> dict[str, Any]:
    mibg, pet = evaluation.mibg, evaluation.pet
    return {
        "evaluated_on": evaluation.date,
        "kind": evaluation.kind,
        "label": evaluation.label,
        "assessment_id": assessment_id,
        "course_number": course,
        "disease_at_entry": disease_at_entry,
        "mibg_avid": None if mibg is None else mibg.avid,
        "mibg_new_avid_bone_site": bool(mibg and mibg.new_avid_bone_site),
        "pet_avid_bone_sites": None if pet is None else pet.avid_bone_sites,
        "pet_new_avid_bone_site": bool(pet and pet.new_avid_bone_site),
        "new_lesion": evaluation.new_lesion,
        "investigator_response": evaluation.investigator_response,
        "investigator_reason": evaluation.investigator_reason,
    }


def _child_values(evaluation: Evaluation) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Each measurement keyed by its identity within the evaluation."""
    scores: dict[tuple[Any, ...], dict[str, Any]] = {}
    mibg = evaluation.mibg
    if mibg is not None:
        for scale, given in (("curie", mibg.curie), ("siopen", mibg.siopen)):
            if given is None:
                continue
            for segment, score in given.model_dump().items():
                scores[(scale, segment)] = {"scale": scale, "segment": segment, "score": score}
    lesions = {
        (lesion.id,): {
            "lesion_code": lesion.id,
            "site": lesion.site,
            "diameter_mm": lesion.diameter_mm,
            "target": lesion.target,
            "avid": lesion.avid,
            "new": lesion.new,
            "biopsy_proven": lesion.biopsy_proven,
        }
        for lesion in evaluation.lesions
    }
    marrow = {
        (i,): {"sample_number": i, **sample.model_dump()}
        for i, sample in enumerate(evaluation.marrow, start=1)
    }
    return {"mibg_scores": scores, "lesion_measurements": lesions, "marrow_samples": marrow}


def _child_key(spec: records.EntitySpec, row: Any) -> tuple[Any, ...]:
    if spec is MIBG_SCORES:
        return (row.scale, row.segment)
    if spec is LESIONS:
        return (row.lesion_code,)
    return (row.sample_number,)


def _check(
    scope: Scope,
    trial: Trial,
    patient_id: int,
    evaluation: Evaluation,
    *,
    course: int | None,
    disease_at_entry: str | None,
    today: dt.date | None,
    replacing: int | None = None,
) -> tuple[str | None, int | None]:
    """The service's checks over the engine's own: registration, the patient's dates and one
    baseline (the engine's date rule over all the patient's evaluations), the schedule,
    lesion identity. Returns the assessment and course the evaluation stands for."""
    reg = _registration(scope, patient_id)
    if reg is None:
        raise ConflictError("the patient is not registered; evaluations follow registration")
    problems: list[Problem] = []
    if today is not None and evaluation.date > today:
        problems.append(Problem("evaluation.date", f"{evaluation.date} is in the future"))
    if evaluation.kind == "baseline":
        if disease_at_entry is None:
            problems.append(
                Problem(
                    "disease_at_entry",
                    "the baseline evaluation needs the disease status at entry: one of "
                    + ", ".join(DISEASE_AT_ENTRY),
                )
            )
    elif disease_at_entry is not None:
        problems.append(Problem("disease_at_entry", "given at the baseline evaluation only"))
    assessment_id = None
    schedule = scheduled_courses(trial)
    if evaluation.kind == "scheduled":
        if course is None or course not in schedule:
            shown = ", ".join(str(n) for n in schedule)
            problems.append(
                Problem("course", f"a scheduled evaluation follows course {shown}; got {course}")
            )
        else:
            assessment_id = schedule[course]
    if problems:
        raise InputError(problems)
    others = [s for s in stored_as_entered(scope, patient_id) if s.row["id"] != replacing]
    reg_row = {"registered_on": reg.registered_on, "dose_level": reg.dose_level}
    all_evals = [s.evaluation for s in others] + [evaluation]
    patient = _engine_patient(reg.patient.subject_code, reg_row, all_evals)
    try:
        parse_patient(patient.model_dump(mode="json"))
    except InputError as exc:
        last = f"evaluations[{len(all_evals) - 1}]."
        mine = [
            Problem("evaluation." + p.path.removeprefix(last), p.message)
            for p in exc.problems
            if p.path.startswith(last)
        ]
        raise InputError(
            mine or [Problem("evaluation.date", p.message) for p in exc.problems]
        ) from None
    _check_lesion_identity(others, evaluation)
    _check_investigator(trial, patient, evaluation)
    if evaluation.kind == "scheduled" and course is not None:
        for s in others:
            if s.row["kind"] == "scheduled" and s.row["course_number"] == course:
                raise ConflictError(
                    f"the evaluation after course {course} is already recorded "
                    f"(evaluation {s.row['id']}); correct it instead"
                )
    return assessment_id, course


def _check_investigator(trial: Trial, patient: PatientEvaluations, evaluation: Evaluation) -> None:
    """An investigator's call that differs from the computed response needs its reason."""
    given = evaluation.investigator_response
    if given is None or evaluation.kind == "baseline" or evaluation.investigator_reason:
        return
    result = evaluate_patient(patient, criteria(trial))
    index = sorted(
        range(len(patient.evaluations)),
        key=lambda i: (patient.evaluations[i].kind != "baseline", patient.evaluations[i].date),
    ).index(len(patient.evaluations) - 1)
    computed = result.evaluations[index].response
    if computed != given:
        raise InputError(
            [
                Problem(
                    "evaluation.investigator_reason",
                    f"the investigator's {given} differs from the computed {computed}: "
                    "say why",
                )
            ]
        )


def stored_as_entered(scope: Scope, patient_id: int) -> list[StoredEvaluation]:
    """A patient's evaluations with real dates (for the service's own checks)."""
    tables = read_tables(scope, [patient_id], as_entered=True)
    return stored_from_rows(tables).get(patient_id, [])


def _check_lesion_identity(others: Sequence[StoredEvaluation], evaluation: Evaluation) -> None:
    """A lesion keeps its site across evaluations (its code is its identity)."""
    known = {lesion.id: lesion.site for s in others for lesion in s.evaluation.lesions}
    problems = [
        Problem(
            f"evaluation.lesions[{i}].site",
            f"lesion {lesion.id!r} was recorded as {known[lesion.id]}; a lesion keeps its site",
        )
        for i, lesion in enumerate(evaluation.lesions)
        if lesion.id in known and known[lesion.id] != lesion.site
    ]
    if problems:
        raise InputError(problems)


def record(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    evaluation: Evaluation,
    course: int | None = None,
    disease_at_entry: str | None = None,
    today: dt.date | None = None,
) -> DiseaseEvaluation:
    """Record one evaluation with its measurements (each row audited as created)."""
    records.get(scope, records.SPECS["patients"], patient_id)  # scoping first
    scope.require_role(EVALUATIONS.writers, "record disease evaluations")
    assessment_id, course = _check(
        scope, trial, patient_id, evaluation, course=course,
        disease_at_entry=disease_at_entry, today=today,
    )
    values = _row_values(
        evaluation, assessment_id=assessment_id, course=course, disease_at_entry=disease_at_entry
    )
    row: DiseaseEvaluation = records.create(scope, EVALUATIONS, {"patient_id": patient_id,
                                                                 **values})
    for spec in CHILDREN:
        for child in _child_values(evaluation)[spec.name].values():
            records.create(scope, spec, {"patient_id": patient_id, "evaluation_id": row.id,
                                         **child})
    return row


def correct(
    scope: Scope,
    trial: Trial,
    *,
    evaluation_id: int,
    evaluation: Evaluation,
    reason: str | None,
    course: int | None = None,
    disease_at_entry: str | None = None,
    today: dt.date | None = None,
) -> DiseaseEvaluation:
    """Replace an evaluation's measurements with corrected ones. Each changed value is
    audited old -> new with the reason; a measurement taken out is voided, one added is
    created; the response is re-derived from what is stored."""
    row: DiseaseEvaluation = records.get(scope, EVALUATIONS, evaluation_id)
    scope.require_role(EVALUATIONS.writers, "correct disease evaluations")
    if reason is None or not reason.strip():
        raise InputError([Problem("reason", "a reason is required for any change after saving")])
    if row.voided:
        raise ConflictError(f"disease evaluation {evaluation_id} is voided and cannot be changed")
    assessment_id, course = _check(
        scope, trial, row.patient_id, evaluation, course=course,
        disease_at_entry=disease_at_entry, today=today, replacing=row.id,
    )
    values = _row_values(
        evaluation, assessment_id=assessment_id, course=course, disease_at_entry=disease_at_entry
    )
    current = records.content(row)
    changes = {k: v for k, v in values.items() if current.get(k) != v}
    if changes:
        records.update(scope, EVALUATIONS, row.id, changes, reason)
    wanted = _child_values(evaluation)
    stored = _child_objects(scope, row.id)
    for spec in CHILDREN:
        want = wanted[spec.name]
        have = {_child_key(spec, child): child for child in stored[spec.name]}
        for key, child in have.items():
            if key not in want:
                records.void(scope, spec, child.id, reason)
                continue
            now = records.content(child)
            diff = {k: v for k, v in want[key].items() if now.get(k) != v}
            if diff:
                records.update(scope, spec, child.id, diff, reason)
        for key, values in want.items():
            if key not in have:
                records.create(scope, spec, {"patient_id": row.patient_id,
                                             "evaluation_id": row.id, **values})
    return row


def _child_objects(scope: Scope, evaluation_id: int) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for spec in CHILDREN:
        model: Any = spec.model
        stmt = records.visible(scope, spec).where(
            model.evaluation_id == evaluation_id, model.voided.is_(False)
        )
        out[spec.name] = list(scope.session.scalars(stmt.order_by(model.id)))
    return out


def void(scope: Scope, *, evaluation_id: int, reason: str | None) -> DiseaseEvaluation:
    """Withdraw an evaluation entered in error, with its measurements (rows kept, audited)."""
    row: DiseaseEvaluation = records.get(scope, EVALUATIONS, evaluation_id)
    children = _child_objects(scope, row.id)
    records.void(scope, EVALUATIONS, row.id, reason)
    for spec in CHILDREN:
        for child in children[spec.name]:
            records.void(scope, spec, child.id, reason)
    return row


# --- presenting -----------------------------------------------------------------------------


def present(
    scope: Scope, trial: Trial, patient_id: int
) -> dict[str, Any]:
    """A patient's evaluations with the computed component and overall responses and the
    best response so far (the API's and the patient page's view)."""
    records.get(scope, records.SPECS["patients"], patient_id)
    # Read once, for the rows and their responses.
    tables = read_tables(scope, [patient_id], evaluated_only=True)
    evals = stored_from_rows(tables).get(patient_id, [])
    found = responses_from_rows(trial.protocol, tables)
    result = found[0][1] if found else None
    rows = []
    by_date = _responses_by_row(evals, result)
    for s in evals:
        e = s.evaluation
        computed = by_date.get(s.row["id"])
        rows.append(
            {
                "id": s.row["id"],
                "date": e.date,
                "kind": e.kind,
                "label": e.label,
                "course": s.row["course_number"],
                "disease_at_entry": s.row["disease_at_entry"],
                "curie_total": e.mibg.curie.total if e.mibg and e.mibg.curie else None,
                "siopen_total": e.mibg.siopen.total if e.mibg and e.mibg.siopen else None,
                "measurements": e.model_dump(mode="json"),
                "components": []
                if computed is None
                else [
                    {"component": c.component, "response": c.response, "rule": c.rule,
                     "reason": c.reason}
                    for c in computed.components
                ],
                "overall": None if computed is None else computed.overall.response,
                "overall_rule": None if computed is None else computed.overall.rule,
                "overall_reason": None if computed is None else computed.overall.reason,
                "investigator_response": e.investigator_response,
                "agrees": None if computed is None else computed.agrees,
            }
        )
    return {
        "patient_id": patient_id,
        "criteria": criteria(trial).id,
        "evaluations": rows,
        "best_response": None if result is None else result.best,
        "best_reason": None if result is None else result.best_reason,
        "best_date": None if result is None else result.best_date,
    }


def _responses_by_row(
    evals: Sequence[StoredEvaluation], result: PatientResponse | None
) -> dict[int, Any]:
    """The engine's result for each stored row (the engine orders baseline first, then by
    date; rows with the same date and kind are matched in entry order)."""
    if result is None:
        return {}
    ordered = sorted(evals, key=lambda s: (s.evaluation.kind != "baseline", s.evaluation.date))
    return {s.row["id"]: r for s, r in zip(ordered, result.evaluations, strict=False)}


def rates(scope: Scope, trial: Trial) -> list[Rate]:
    """Response rates per dose level and overall (exact intervals) over the patients the
    actor may see; responders are the protocol's (`response.responders`)."""
    found = [r for _, r in responses(scope, trial)]
    return response_rates(found, tuple(trial.protocol.response.responders))
