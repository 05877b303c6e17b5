"""The study report's analyses, one per objective kind, each registered under the name a
protocol's objective gives (`analysis:`). Each reads the report's datasets and calls the
engine that owns the rule; none holds a rule of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phaseone.reports.findings import Finding, StudyData, Table, analysis, level_counts

if TYPE_CHECKING:
    import pandas as pd


def _events(data: StudyData) -> pd.DataFrame:
    """Treatment-emergent adverse events in the safety engine's shape."""
    adae = data.adam["ADAE"]
    emergent = adae[adae.TRTEMFL == "Y"]
    return emergent.rename(
        columns={
            "USUBJID": "patient_id",
            "TRTAN": "dose_level",
            "AVISITN": "course",
            "AEDECOD": "term",
            "ATOXGRN": "grade",
            "ASTDT": "onset",
        }
    ).assign(
        dose_level=lambda f: f.dose_level.astype(int),
        grade=lambda f: f.grade.astype(int),
        course=lambda f: f.course.fillna(0).astype(int),
    )


def _per_level(data: StudyData) -> dict[int, int]:
    treated = data.treated()
    return level_counts(treated, "TRT01AN")


NOT_TREATED = Finding(unavailable="no patient has received protocol therapy yet")


@analysis("mtd")
def mtd(data: StudyData) -> Finding:
    import pandas as pd

    state = data.state
    levels = pd.DataFrame(
        [
            {
                "dose level": s.level,
                "regimen": s.label,
                "enrolled": s.enrolled,
                "DLT-evaluable": s.evaluable,
                "DLTs": s.dlt,
                "pending": s.pending,
                "not evaluable": s.inevaluable,
                "state": s.state.label,
            }
            for s in state.levels
        ]
    )
    table = Table(
        "Patients and DLTs by dose level (the trial aggregate's count)",
        levels,
        "registrations and signed DLT determinations (store), as the design reads them",
    )
    if state.mtd is not None:
        text = (
            f"Dose level {state.mtd} was declared the maximum tolerated dose by the study "
            f"chair's signed decision ({state.design.name} design)."
        )
    else:
        selection = state.design_state.selection.dose
        level_ids = [lv.id for lv in data.protocol.dose_levels]
        current = (
            f"the design's current estimate is dose level {level_ids[selection - 1]}"
            if selection is not None
            else "the design has no dose it would select yet"
        )
        text = (
            f"Dose finding has not ended: no MTD has been declared as of {state.as_of}; "
            f"{current} ({state.design.name} design). {state.accrual_reason().capitalize()}."
        )
    return Finding((text,), (table,))


@analysis("toxicity")
def toxicity(data: StudyData) -> Finding:
    from phaseone.safety.tables import grade3_counts, toxicity_table

    per_level = _per_level(data)
    if not per_level:
        return NOT_TREATED
    events = _events(data)
    all_grades = toxicity_table(events, per_level)
    severe = grade3_counts(events, per_level)
    dlts = _dlt_table(data)
    source = "ADAE where TRTEMFL = Y; denominators ADSL where SAFFL = Y, by TRT01AN"
    text = (
        f"{len(data.treated())} patients received protocol therapy; {len(events)} "
        f"treatment-emergent adverse events were recorded. Each patient counts once per term, "
        "at the worst grade."
    )
    return Finding(
        (text,),
        (
            Table("Treatment-emergent adverse events by worst grade", all_grades, source),
            Table("Adverse events of grade 3 or more", severe, source),
            Table(
                "Dose-limiting toxicities by dose level",
                dlts,
                "ADSL (DLTEVLFL) and ADAE where DLTFL = Y",
            ),
        ),
    )


def _dlt_table(data: StudyData) -> pd.DataFrame:
    import pandas as pd

    adsl, adae = data.adam["ADSL"], data.adam["ADAE"]
    rows = []
    groups: Any = adsl[adsl.ENRLFL == "Y"].groupby("TRT01PN")
    for level, group in groups:
        events = adae[(adae.DLTFL == "Y") & adae.USUBJID.isin(group.USUBJID)]
        rows.append(
            {
                "dose level": int(level),
                "registered": len(group),
                "DLT-evaluable": int((group.DLTEVLFL == "Y").sum()),
                "patients with a DLT": events.USUBJID.nunique(),
                "DLT events": "; ".join(
                    f"{r.USUBJID}: {r.AEDECOD} grade {r.AETOXGR}" for r in events.itertuples()
                ),
            }
        )
    columns = ["dose level", "registered", "DLT-evaluable", "patients with a DLT", "DLT events"]
    return pd.DataFrame(rows, columns=columns)


@analysis("historical-toxicity")
def historical_toxicity(data: StudyData) -> Finding:
    from phaseone.safety.historical import compare_anbl0032, compare_anbl0931

    treated = data.treated()
    if treated.empty:
        return NOT_TREATED
    version = data.protocol.response.ctcae_version
    events = _events(data)
    sv = data.sdtm["SV"]
    courses = sv[(sv.VISITNUM > 0) & sv.USUBJID.isin(treated.USUBJID)]
    per_course = level_counts(courses, "VISITNUM")
    anbl0032 = compare_anbl0032(events, len(treated), version=version)
    anbl0931 = compare_anbl0931(events, per_course, version=version)
    text = (
        "Grade 3 or more toxicities of this regimen beside the published rates of COG ANBL0032 "
        "(immunotherapy arm) and ANBL0931 (per course), with exact 95% intervals and exact "
        "binomial tests against the historical rate. With few patients these are descriptive."
    )
    return Finding(
        (text,),
        (
            Table(
                "Grade 3 or more toxicities beside ANBL0032",
                anbl0032,
                "ADAE where TRTEMFL = Y; safety/data historical rates",
            ),
            Table(
                "Grade 3 or more toxicities per course beside ANBL0931",
                anbl0931,
                "ADAE where TRTEMFL = Y by AVISITN; SV for patients per course",
            ),
        ),
    )


@analysis("tolerability")
def tolerability(data: StudyData) -> Finding:
    from phaseone.safety.tables import CourseRecord
    from phaseone.safety.tables import tolerability as tolerability_table

    first, last = 6, data.protocol.course.max_courses
    late = [c for c in data.snapshot.rows("courses") if first <= c["number"] <= last]
    if not late:
        return Finding(unavailable=f"no patient has started course {first} yet")
    registered = {r["patient_id"]: r["dose_level"] for r in data.snapshot.rows("registrations")}
    doses = data.snapshot.by_patient("dose_administrations")
    records = []
    for course in late:
        level = data.protocol.dose_level(course["dose_level"])
        planned = sum(len(data.protocol.schedule_for(agent).days) for agent in level.doses)
        given = sum(
            1
            for d in doses.get(course["patient_id"], [])
            if d["course_id"] == course["id"] and d["given"]
        )
        records.append(
            CourseRecord(
                patient_id=str(course["patient_id"]),
                course=course["number"],
                doses_planned=planned,
                doses_given=given,
                dose_reduced=course["dose_level"] < registered.get(course["patient_id"], 0),
            )
        )
    return Finding(
        (f"Courses {first} to {last}: share of planned dosing days given, by course.",),
        (
            Table(
                "Tolerability of the later courses",
                tolerability_table(records, first, last),
                "courses and dose administrations (store), EX",
            ),
        ),
    )


def _awaiting(what: str) -> Finding:
    return Finding(unavailable=f"no {what} have been recorded")


@analysis("response-rate")
def response_rate(data: StudyData) -> Finding:
    return _awaiting("disease evaluations")


@analysis("event-free-survival")
def event_free_survival(data: StudyData) -> Finding:
    return _awaiting("disease evaluations or follow-up assessments of events")
