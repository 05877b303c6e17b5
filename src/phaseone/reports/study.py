"""The final study report: every objective of the protocol, in its order, with its analysis
or the reason it cannot be given yet; disposition, demographics, the escalation history, the
assumed protocol values, and an appendix naming each table's source.

Built from the same snapshot and the same SDTM/ADaM datasets the exports write, so every
number in the report can be found in the exported data. Analyses are registered by name
(`@analysis`) beside their code; the protocol says which analysis answers which objective.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from phaseone import __version__
from phaseone.errors import InputError, Problem
from phaseone.exports.package import analysis, tabulation
from phaseone.exports.snapshot import Snapshot
from phaseone.protocol.model import Objective, Protocol
from phaseone.protocol.summary import AssumedValue, assumed_values
from phaseone.reports import (
    analyses,  # noqa: F401  (registers the analyses)
    correlative_analyses,  # noqa: F401  (and these)
    figures,
    outcome_analyses,  # noqa: F401  (registers the analyses)
)
from phaseone.reports.findings import ANALYSES, Decision, Finding, StudyData, Table
from phaseone.trial import TrialState

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Section:
    objective: Objective
    finding: Finding


@dataclass(frozen=True)
class Figure:
    number: int
    title: str
    svg: str
    source: str


@dataclass(frozen=True)
class StudyReport:
    protocol: Protocol
    as_of: dt.date
    deidentified: bool
    engine_version: str
    disposition: dict[str, int]
    off_treatment: dict[str, int]
    demographics: Table
    escalation: Table
    sections: tuple[Section, ...]
    assumed: tuple[AssumedValue, ...]
    tables: tuple[Table, ...] = field(default=())  # every table, numbered, for the appendix
    figures: tuple[Figure, ...] = field(default=())  # every figure, numbered


def build(
    protocol: Protocol,
    snapshot: Snapshot,
    state: TrialState,
    decisions: tuple[Decision, ...],
    as_of: dt.date,
) -> StudyReport:
    """Run every objective's analysis over one snapshot of the trial."""
    unknown = [
        Problem(f"objectives.{o.id}.analysis", f"no analysis named {o.analysis!r}")
        for o in protocol.objectives
        if o.analysis is not None and o.analysis not in ANALYSES
    ]
    if unknown:
        raise InputError(unknown)
    data = StudyData(protocol, snapshot, tabulation(snapshot), analysis(snapshot), state, decisions)
    counter = itertools.count(1)

    def numbered(table: Table) -> Table:
        return replace(table, number=next(counter))

    demographics = numbered(_demographics(data))
    escalation = numbered(_escalation(decisions))
    sections = []
    for objective in protocol.objectives:
        if objective.analysis is None:
            finding = Finding(unavailable="the protocol names no analysis for this objective")
        else:
            finding = ANALYSES[objective.analysis](data)
        finding = replace(finding, tables=tuple(numbered(t) for t in finding.tables))
        sections.append(Section(objective, finding))
    every = [demographics, escalation, *(t for s in sections for t in s.finding.tables)]
    disposition, off_treatment = _disposition(data), _off_treatment(data)
    flow = Figure(
        1,
        "Flow of patients through the trial (CONSORT-style)",
        figures.consort(disposition, off_treatment),
        "patients and screening evaluations (store); ADSL ENRLFL, SAFFL, DLTEVLFL, EOTSTT, DCTREAS",
    )
    return StudyReport(
        protocol,
        as_of,
        snapshot.deidentified,
        __version__,
        disposition,
        off_treatment,
        demographics,
        escalation,
        tuple(sections),
        tuple(assumed_values(protocol)),
        tuple(every),
        (flow,),
    )


def _disposition(data: StudyData) -> dict[str, int]:
    """The CONSORT-style counts, each a subset of the one before."""
    adsl = data.adam["ADSL"]
    screened = {r["patient_id"] for r in data.snapshot.rows("screening_evaluations")}
    eligible = {
        r["patient_id"]
        for r in data.snapshot.rows("screening_evaluations")
        if r["overall"] == "eligible"
    }
    return {
        "consented": len(data.snapshot.rows("patients")),
        "screened": len(screened),
        "eligible": len(eligible),
        "registered": int((adsl.ENRLFL == "Y").sum()),
        "treated": int((adsl.SAFFL == "Y").sum()),
        "dlt_evaluable": int((adsl.DLTEVLFL == "Y").sum()),
        "on_treatment": int((adsl.EOTSTT == "ONGOING").sum()),
        "completed": int((adsl.EOTSTT == "COMPLETED").sum()),
        "discontinued": int((adsl.EOTSTT == "DISCONTINUED").sum()),
    }


def _off_treatment(data: StudyData) -> dict[str, int]:
    adsl = data.adam["ADSL"]
    reasons = adsl[adsl.EOTSTT == "DISCONTINUED"].DCTREAS.value_counts()
    return {str(k): int(v) for k, v in sorted(reasons.items())}


def _demographics(data: StudyData) -> Table:
    import pandas as pd

    treated = data.treated()
    rows = []
    groups = [(f"Level {lv:g}", g) for lv, g in treated.groupby("TRT01AN")]
    groups.append(("All", treated))
    for name, group in groups:
        ages = group.AGE.dropna()
        rows.append(
            {
                "group": name,
                "patients": len(group),
                "age median (range), years": (
                    f"{ages.median():g} ({ages.min():g}-{ages.max():g})" if len(ages) else ""
                ),
                "female": int((group.SEX == "F").sum()),
                "male": int((group.SEX == "M").sum()),
                "sites": group.SITEID.nunique(),
            }
        )
    return Table(
        "Demographics of the treated patients, by dose level",
        pd.DataFrame(rows),
        "ADSL where SAFFL = Y (AGE at consent, SEX, SITEID, TRT01AN)",
    )


def _escalation(decisions: tuple[Decision, ...]) -> Table:
    import pandas as pd

    rows = [
        {
            "date": d.decided_on.isoformat(),
            "from level": _level(d.from_level),
            "decision": d.action,
            "to level": _level(d.to_level),
            "the design's recommendation": d.summary,
            "design": d.design,
            "confirmed by": d.signed_by or "not signed",
            "signed (UTC)": d.signed_at.strftime("%Y-%m-%d %H:%M") if d.signed_at else "",
        }
        for d in decisions
    ]
    columns = [
        "date",
        "from level",
        "decision",
        "to level",
        "the design's recommendation",
        "design",
        "confirmed by",
        "signed (UTC)",
    ]
    return Table(
        "Escalation decisions: the design's recommendation and the study chair's signature",
        pd.DataFrame(rows, columns=columns),
        "escalation decisions (the design's state and proposal as recorded) and their "
        "electronic signatures (store), not voided",
    )


def _level(level: int | None) -> str:
    return "" if level is None else str(level)


def frame_html(frame: pd.DataFrame) -> str:
    """A table as HTML with the report's classes (numbers right-aligned)."""
    return str(frame.to_html(index=False, classes="data", border=0, na_rep="", escape=True))


def as_dict(report: StudyReport) -> dict[str, Any]:
    """The report's numbers as plain data (tables as records), for tools and tests."""
    return {
        "protocol": report.protocol.id,
        "as_of": report.as_of.isoformat(),
        "disposition": report.disposition,
        "sections": {
            s.objective.id: {
                "unavailable": s.finding.unavailable,
                "tables": {t.number: t.frame.to_dict("records") for t in s.finding.tables},
            }
            for s in report.sections
        },
    }
