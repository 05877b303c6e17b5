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
    design_state = state.design_state
    selection = design_state.selection
    level_ids = [lv.id for lv in data.protocol.dose_levels]
    estimates = selection.estimates or design_state.estimates
    final = Table(
        f"The design's final estimates ({state.design.name})",
        pd.DataFrame(
            [
                {
                    "dose level": level_ids[k],
                    "DLT-evaluable": design_state.evaluable[k],
                    "DLTs": design_state.tox[k],
                    "estimated DLT rate": (
                        "" if k >= len(estimates) or estimates[k] is None else f"{estimates[k]:.3f}"
                    ),
                    "admissible": "yes" if design_state.admissible[k] else "no",
                    "selected": "yes" if selection.dose == k + 1 else "",
                }
                for k in range(design_state.n_doses)
            ]
        ),
        "the design fitted to the signed DLT determinations as of the cut-off",
    )
    chosen = (
        f"dose level {level_ids[selection.dose - 1]}" if selection.dose is not None else "no dose"
    )
    estimate_text = f"The design's selection ({selection.rule}): {chosen}; {selection.detail}."
    if state.mtd is not None:
        text = (
            f"Dose level {state.mtd} was declared the maximum tolerated dose by the study "
            f"chair's signed decision ({state.design.name} design); it is the recommended "
            "phase 2 dose (RP2D)."
        )
    else:
        current = (
            f"the design's current estimate of the MTD and RP2D is {chosen}"
            if selection.dose is not None
            else "the design has no dose it would select yet"
        )
        text = (
            "Dose finding has not ended: no MTD (and so no recommended phase 2 dose, RP2D) "
            f"has been declared as of {state.as_of}; "
            f"{current} ({state.design.name} design). {state.accrual_reason().capitalize()}."
        )
    return Finding((text, estimate_text), (table, final))


@analysis("toxicity")
def toxicity(data: StudyData) -> Finding:
    from phaseone.safety.tables import grade3_counts, toxicity_table

    per_level = _per_level(data)
    if not per_level:
        return NOT_TREATED
    events = _events(data)
    all_grades = toxicity_table(events, per_level)
    severe = grade3_counts(events, per_level)
    # The same tables by course: the course takes the dose level's place as the group, and
    # the patients treated in each course are its denominator.
    per_course = _per_course(data)
    by_course = events.assign(dose_level=events.course)
    course_all = toxicity_table(by_course, per_course).rename(columns={"dose_level": "course"})
    course_severe = grade3_counts(by_course, per_course).rename(columns={"dose_level": "course"})
    dlts = _dlt_table(data)
    source = "ADAE where TRTEMFL = Y; denominators ADSL where SAFFL = Y, by TRT01AN"
    course_source = (
        "ADAE where TRTEMFL = Y, by AVISITN; denominators SV (courses started) of ADSL SAFFL = Y"
    )
    text = (
        f"{len(data.treated())} patients received protocol therapy; {len(events)} "
        f"treatment-emergent adverse events were recorded. Each patient counts once per term, "
        "at the worst grade (by course: once per term in each course)."
    )
    return Finding(
        (text,),
        (
            Table(
                "Treatment-emergent adverse events by worst grade, by dose level",
                all_grades,
                source,
            ),
            Table("Adverse events of grade 3 or more, by dose level", severe, source),
            Table(
                "Treatment-emergent adverse events by worst grade, by course",
                course_all,
                course_source,
            ),
            Table("Adverse events of grade 3 or more, by course", course_severe, course_source),
            Table(
                "Dose-limiting toxicities by dose level",
                dlts,
                "ADSL (DLTEVLFL) and ADAE where DLTFL = Y",
            ),
        ),
    )


def _per_course(data: StudyData) -> dict[int, int]:
    """Treated patients who started each course (SV visits after screening)."""
    treated = data.treated()
    sv = data.sdtm["SV"]
    return level_counts(sv[(sv.VISITNUM > 0) & sv.USUBJID.isin(treated.USUBJID)], "VISITNUM")


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
    per_course = _per_course(data)
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
        (
            f"Tolerability and dose intensity in courses {first} to {last}: patients treated "
            "in each course, the share of planned dosing days given (dose intensity), patients "
            "given every planned dose, and courses given at a reduced dose level.",
        ),
        (
            Table(
                f"Tolerability and dose intensity, courses {first} to {last}",
                tolerability_table(records, first, last),
                "courses and dose administrations (store), EX",
            ),
        ),
    )
