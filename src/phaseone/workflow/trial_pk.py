"""Pharmacokinetics from the trial's own records: concentrations of captured specimens at
their actual clock times, and the doses actually given at theirs, into the NCA engine.

The tables built here are the same long tables `phaseone nca` reads from CSV (subject,
time, conc, analyte; subject, time, dose, route, duration, analyte), so a result can be
reproduced outside the service from an export. Times are hours from 0 h on day 1 of
course 1, each course placed on the nominal timeline of phaseone.pk.trial (a delayed
course keeps its own day numbering).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from phaseone.errors import InputError, Problem
from phaseone.pk import read_concentrations, read_doses
from phaseone.pk.nca import NCAResult
from phaseone.pk.options import NCAOptions
from phaseone.pk.proportionality import PowerModel, power_model
from phaseone.pk.trial import (
    PeakTrough,
    day_start,
    dinutuximab_peak_trough,
    isotretinoin_steady_state,
    lenalidomide_single_dose,
)
from phaseone.protocol.model import Protocol
from phaseone.store import records
from phaseone.store.models import Course, DoseAdministration, Specimen, SpecimenResult
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.specimens import SPECIMENS, at_clock

CONC_COLUMNS = ["subject", "time", "conc", "analyte", "specimen_id", "assessment_id", "course",
                "dose_level"]
DOSE_COLUMNS = ["subject", "time", "dose", "route", "duration", "analyte", "method", "course",
                "day"]


Row = dict[str, Any]
# The bundled protocol's PK assessments, per agent (dinutuximab: peak and trough).
PK_ASSESSMENTS: dict[str, tuple[str, ...]] = {
    "lenalidomide": ("pk-lenalidomide",),
    "isotretinoin": ("pk-isotretinoin-ss",),
    "dinutuximab": ("pk-dinutuximab-peak", "pk-dinutuximab-trough"),
}


def _hours(course: Row, moment: dt.datetime, course_days: int) -> float:
    origin = dt.datetime.combine(course["start_date"], dt.time(0, 0))
    return day_start(course["number"], 1, course_days) + (moment - origin).total_seconds() / 3600


@dataclass(frozen=True)
class PKTables:
    conc: pd.DataFrame
    doses: pd.DataFrame
    conc_unit: str


def _row(obj: Any) -> Row:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def pk_tables(
    scope: Scope, trial: Trial, assessment_ids: tuple[str, ...], *, with_doses: bool = True
) -> PKTables:
    """Concentrations and doses of the patients the actor may see, for sampled PK
    assessments of one agent (read here, tabulated by `tables_from_rows`)."""
    stmt = (
        records.visible(scope, SPECIMENS)
        .add_columns(SpecimenResult)
        .join(SpecimenResult, SpecimenResult.specimen_id == Specimen.id)
        .where(
            Specimen.assessment_id.in_(assessment_ids),
            Specimen.voided.is_(False),
            SpecimenResult.voided.is_(False),
        )
    )
    specimens: dict[int, Row] = {}
    found: list[Row] = []
    codes: dict[int, str] = {}
    for specimen, result in scope.session.execute(stmt):
        specimens[specimen.id] = _row(specimen)
        found.append(_row(result))
        codes[specimen.patient_id] = specimen.patient.subject_code
    course_ids = {s["course_id"] for s in specimens.values()}
    courses = [_row(c) for c in scope.session.scalars(select(Course).where(
        Course.id.in_(course_ids)))]
    doses = [_row(d) for d in scope.session.scalars(select(DoseAdministration).where(
        DoseAdministration.course_id.in_(course_ids),
        DoseAdministration.voided.is_(False)))] if with_doses else []
    return tables_from_rows(trial.protocol, assessment_ids, specimens=list(specimens.values()),
                            results=found, courses=courses, doses=doses, subject_codes=codes,
                            with_doses=with_doses)


def tables_from_rows(
    protocol: Protocol,
    assessment_ids: tuple[str, ...],
    *,
    specimens: list[Row],
    results: list[Row],
    courses: list[Row],
    doses: list[Row],
    subject_codes: dict[int, str],
    with_doses: bool = True,
) -> PKTables:
    """The PK tables from plain records (the store's, or an export snapshot's): the agent's
    results of collected specimens of the PK assessments, and the doses of their courses.
    An oral agent's doses are those of the sampled days, one row per intake: a day's
    recorded amount split evenly over the protocol's intakes per day, the first at the
    recorded clock time and the others 24 / intakes hours apart."""
    plans = {a.id: a for a in protocol.assessments
             if a.specimen is not None and a.id in assessment_ids}
    agents = {a.agent for a in plans.values()}
    if len(plans) != len(assessment_ids) or len(agents) != 1 or None in agents:
        raise InputError([Problem("assessment_id", "expected PK assessments of one agent")])
    agent = str(agents.pop())
    course_days = protocol.course.length_days
    by_id = {s["id"]: s for s in specimens
             if s["assessment_id"] in assessment_ids and not s.get("voided")}
    course_of = {c["id"]: c for c in courses}
    problems: list[Problem] = []
    conc_rows, units, used = [], set(), set()
    pairs = [(by_id[r["specimen_id"]], r) for r in results
             if r["specimen_id"] in by_id and r["analyte"] == agent and not r.get("voided")]
    pairs.sort(key=lambda p: (p[0]["patient_id"], p[0]["collected_on"] or dt.date.min,
                              p[0]["collected_time"] or ""))
    for specimen, result in pairs:
        at = at_clock(specimen["collected_on"], specimen["collected_time"]) \
            if specimen["collected_on"] else None
        if at is None:
            problems.append(Problem(f"specimens.{specimen['code']}.collected_time",
                                    "a PK concentration needs its collection date and time"))
            continue
        course = course_of[specimen["course_id"]]
        used.add(course["id"])
        units.add(result["unit"])
        conc_rows.append({
            "subject": subject_codes[specimen["patient_id"]],
            "time": _hours(course, at, course_days),
            "conc": result["value"], "analyte": agent, "specimen_id": specimen["code"],
            "assessment_id": specimen["assessment_id"],
            "course": course["number"], "dose_level": course["dose_level"],
        })
    if len(units) > 1:
        problems.append(Problem("unit", f"{agent} results are in several units: "
                                f"{', '.join(sorted(str(u) for u in units))}"))
    schedule = next((s for s in protocol.course.schedule if s.agent == agent), None)
    infusion = schedule.infusion_hours if schedule is not None else None
    days = {d for a in plans.values() for d in a.days}
    intakes = schedule.times_per_day if schedule is not None else 1
    given = sorted((d for d in doses if d["course_id"] in used and d["agent_id"] == agent
                    and d["given"] and not d.get("voided")), key=lambda d: d["id"])
    dose_rows = []
    for dose in given if with_doses else ():
        if infusion is None and dose["course_day"] not in days:
            continue  # oral PK: the doses of the sampled days
        course = course_of[dose["course_id"]]
        at = at_clock(dose["administered_on"], dose["administered_time"])
        if at is None:
            problems.append(Problem(f"dose_administrations.{dose['id']}.administered_time",
                                    f"{agent} on course {course['number']} day "
                                    f"{dose['course_day']} needs its clock time for PK"))
            continue
        for k in range(1 if infusion else intakes):
            amount = dose["given_dose"] if infusion or dose["given_dose"] is None \
                else dose["given_dose"] / intakes
            dose_rows.append({
                "subject": subject_codes[dose["patient_id"]],
                "time": _hours(course, at, course_days) + k * 24 / intakes,
                "dose": amount, "route": "iv-infusion" if infusion else "extravascular",
                "duration": infusion or 0.0, "analyte": agent,
                "method": dose["how_taken"] or "", "course": course["number"],
                "day": dose["course_day"],
            })
    if problems:
        raise InputError(problems)
    return PKTables(pd.DataFrame(conc_rows, columns=CONC_COLUMNS),
                    pd.DataFrame(dose_rows, columns=DOSE_COLUMNS),
                    units.pop() if units else "ng/mL")


def _inputs(tables: PKTables) -> tuple[object, tuple[object, ...]]:
    if tables.conc.empty:
        raise InputError([Problem("specimens", "no concentrations recorded yet")])
    conc = read_concentrations(tables.conc, analyte="analyte", conc_unit=tables.conc_unit)
    doses = read_doses(tables.doses, analyte="analyte", method="method") \
        if not tables.doses.empty else ()
    return conc, doses


@dataclass(frozen=True)
class LenalidomidePK:
    """Course-1 single-dose parameters, by dose level, and dose proportionality."""

    tables: PKTables
    nca: NCAResult
    by_level: pd.DataFrame
    proportionality: dict[str, PowerModel]


def _geomean(values: pd.Series) -> float:
    v = values.dropna().to_numpy(dtype=float)
    v = v[v > 0]
    return float(math.exp(sum(math.log(x) for x in v) / len(v))) if len(v) else math.nan


def lenalidomide(scope: Scope, trial: Trial, options: NCAOptions | None = None) -> LenalidomidePK:
    return lenalidomide_from(pk_tables(scope, trial, PK_ASSESSMENTS["lenalidomide"]), options)


def lenalidomide_from(tables: PKTables, options: NCAOptions | None = None) -> LenalidomidePK:
    conc, doses = _inputs(tables)
    result = lenalidomide_single_dose(conc, doses, options)  # type: ignore[arg-type]
    wide = result.wide().reset_index()
    given = tables.doses.groupby("subject")["dose"].first()
    level = tables.conc.groupby("subject")["dose_level"].first()
    wide["dose_level"] = wide["subject"].map(level)
    wide["dose_mg"] = wide["subject"].map(given)
    for code in ("CMAX", "AUCLST", "AUCIFO"):
        if code in wide:
            wide[f"{code}_per_mg"] = wide[code] / wide["dose_mg"]
    rows = []
    for lv, group in wide.groupby("dose_level", sort=True):
        row: dict[str, object] = {"dose_level": int(str(lv)), "n": len(group)}
        for code in ("CMAX", "AUCIFO", "CMAX_per_mg", "AUCIFO_per_mg"):
            if code in group:
                row[f"{code}_geomean"] = _geomean(group[code])
        rows.append(row)
    power = {code: power_model(wide["dose_mg"].tolist(), wide[code].tolist())
             for code in ("CMAX", "AUCIFO") if code in wide}
    return LenalidomidePK(tables, result, pd.DataFrame(rows), power)


def isotretinoin(scope: Scope, trial: Trial) -> NCAResult:
    tables = pk_tables(scope, trial, PK_ASSESSMENTS["isotretinoin"])
    return isotretinoin_from(tables, trial.protocol.course.length_days)


def isotretinoin_from(tables: PKTables, course_days: int) -> NCAResult:
    conc, doses = _inputs(tables)
    return isotretinoin_steady_state(
        conc,  # type: ignore[arg-type]
        doses,  # type: ignore[arg-type]
        course_days=course_days,
    )


def dinutuximab(scope: Scope, trial: Trial) -> PeakTrough:
    tables = pk_tables(scope, trial, PK_ASSESSMENTS["dinutuximab"], with_doses=False)
    return dinutuximab_from(tables, trial.protocol.course.length_days)


def dinutuximab_from(tables: PKTables, course_days: int) -> PeakTrough:
    if tables.conc.empty:
        raise InputError([Problem("specimens", "no concentrations recorded yet")])
    samples = tables.conc.assign(role=tables.conc["assessment_id"].str.rsplit("-", n=1).str[-1])
    return dinutuximab_peak_trough(samples[["subject", "time", "conc", "role"]],
                                   course_days=course_days, conc_unit=tables.conc_unit)
