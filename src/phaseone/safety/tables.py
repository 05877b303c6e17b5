"""Toxicity tables as DataFrames: worst grade per patient per term, grade >= 3 counts per
dose level and overall, DLTs by dose level with the events behind them, and tolerability of
the later courses (share of full doses, delays, reductions).

Counting rule (as in the ANBL0032 report): each patient counts once per term, at the worst
grade; denominators are the patients treated at the level (or overall).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from phaseone.safety.dlt import DltDetermination, PatientWindow

OVERALL = "all"


@dataclass(frozen=True)
class CourseRecord:
    """Dosing of one patient in one course, for the tolerability table."""

    patient_id: str
    course: int
    doses_planned: int
    doses_given: int
    delay_days: int = 0
    dose_reduced: bool = False


def events_frame(patients: Iterable[PatientWindow]) -> pd.DataFrame:
    """One row per adverse event: patient, dose level, course, term, grade, onset."""
    rows = [
        {
            "patient_id": p.patient_id,
            "dose_level": p.dose_level,
            "course": e.course,
            "event_id": e.id,
            "term": e.term,
            "grade": e.grade,
            "onset": e.onset,
            "serious": e.serious,
        }
        for p in patients
        for e in p.events
    ]
    columns = [
        "patient_id",
        "dose_level",
        "course",
        "event_id",
        "term",
        "grade",
        "onset",
        "serious",
    ]
    return pd.DataFrame(rows, columns=columns)


def worst_grades(events: pd.DataFrame) -> pd.DataFrame:
    """The maximum grade per patient per term (columns: dose_level, patient_id, term, grade)."""
    if events.empty:
        return pd.DataFrame(columns=["dose_level", "patient_id", "term", "grade"])
    keys = ["dose_level", "patient_id", "term"]
    worst = events.groupby(keys)["grade"].max().reset_index()
    return worst.sort_values(["dose_level", "term", "patient_id"]).reset_index(drop=True)


def toxicity_table(
    events: pd.DataFrame, patients_per_level: dict[int, int], min_grade: int = 1
) -> pd.DataFrame:
    """Patients by worst grade per term, per dose level and overall.

    Columns: dose_level ('all' for overall), term, n_patients (the denominator), g1..g5
    (patients whose worst grade for the term is that grade), g3plus and pct_g3plus.
    """
    worst = worst_grades(events)
    worst = worst[worst["grade"] >= min_grade]
    total = sum(patients_per_level.values())
    rows: list[dict[str, object]] = []
    groups: list[tuple[object, pd.DataFrame, int]] = [
        (level, worst[worst["dose_level"] == level], n)
        for level, n in sorted(patients_per_level.items())
    ]
    groups.append((OVERALL, worst, total))
    for level, frame, n in groups:
        for term, by_term in frame.groupby("term"):
            counts = by_term["grade"].value_counts()
            row: dict[str, object] = {"dose_level": level, "term": term, "n_patients": n}
            for g in range(1, 6):
                row[f"g{g}"] = int(counts.get(g, 0))
            g3 = int((by_term["grade"] >= 3).sum())
            row["g3plus"] = g3
            row["pct_g3plus"] = round(100.0 * g3 / n, 1) if n else None
            rows.append(row)
    columns = [
        "dose_level",
        "term",
        "n_patients",
        "g1",
        "g2",
        "g3",
        "g4",
        "g5",
        "g3plus",
        "pct_g3plus",
    ]
    return pd.DataFrame(rows, columns=columns)


def grade3_counts(events: pd.DataFrame, patients_per_level: dict[int, int]) -> pd.DataFrame:
    """Only the terms with at least one grade >= 3, sorted by count (overall rows last)."""
    table = toxicity_table(events, patients_per_level)
    table = table[table["g3plus"] > 0]
    return table[["dose_level", "term", "n_patients", "g3plus", "pct_g3plus"]].reset_index(
        drop=True
    )


def dlt_table(determinations: Sequence[DltDetermination]) -> pd.DataFrame:
    """Per dose level: patients, evaluable, DLTs, and the rule/event behind each DLT."""
    rows: list[dict[str, object]] = []
    for level in sorted({d.dose_level for d in determinations}):
        at = [d for d in determinations if d.dose_level == level]
        events = [
            f"{d.patient_id}: {h.rule_id}" + (f" on {h.event_id}" if h.event_id else "")
            for d in at
            for h in d.hits
        ]
        rows.append(
            {
                "dose_level": level,
                "n_patients": len(at),
                "n_evaluable": sum(1 for d in at if d.evaluable),
                "n_pending": sum(1 for d in at if d.status == "pending"),
                "n_dlt": sum(1 for d in at if d.status == "dlt"),
                "dlt_events": "; ".join(events),
            }
        )
    columns = ["dose_level", "n_patients", "n_evaluable", "n_pending", "n_dlt", "dlt_events"]
    return pd.DataFrame(rows, columns=columns)


def tolerability(courses: Sequence[CourseRecord], first: int = 6, last: int = 12) -> pd.DataFrame:
    """Per course from `first` to `last`: patients treated, share of planned doses given,
    patients with every dose, delayed courses and dose reductions."""
    rows: list[dict[str, object]] = []
    for course in range(first, last + 1):
        at = [c for c in courses if c.course == course]
        planned = sum(c.doses_planned for c in at)
        given = sum(c.doses_given for c in at)
        rows.append(
            {
                "course": course,
                "n_patients": len(at),
                "share_doses_given": round(given / planned, 3) if planned else None,
                "n_full_doses": sum(1 for c in at if c.doses_given >= c.doses_planned),
                "n_delayed": sum(1 for c in at if c.delay_days > 0),
                "n_reduced": sum(1 for c in at if c.dose_reduced),
            }
        )
    columns = [
        "course",
        "n_patients",
        "share_doses_given",
        "n_full_doses",
        "n_delayed",
        "n_reduced",
    ]
    return pd.DataFrame(rows, columns=columns)
