"""The trial's specimen results as the correlative engines' records.

One read of the store (`exports.snapshot`: scoped to what the actor may see, de-identified
for the statistician or when asked, with a data cut-off) and one conversion, used by
`phaseone correlatives ... --database-url`, the Python API and the study report alike:

- a numeric result (a count, a cytokine, a titre, a concentration, a Ct; an undetected Ct
  is infinity) becomes a `Measurement` on the patient's study day (SDTM's: day 1 is the
  first dose of protocol therapy, no day 0), its specimen type and label id;
- a typing call becomes a `GenotypeCall`;
- each registered patient becomes a `PatientGroup` at the level of registration, with the
  best overall response computed from the stored disease evaluations
  (`workflow/evaluations.responses_from_rows`, the reading the report and the exports use;
  a best of NE counts as not responding, as in the response rates).

Patients are named by their subject code, as in every export. `write_csv` writes the same
records in the CSV form `phaseone correlatives` reads, so any result can be reproduced
outside the service.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from phaseone.correlatives.records import GenotypeCall, Measurement, PatientGroup
from phaseone.exports import snapshot as snapshots
from phaseone.exports.sdtm import study_day
from phaseone.exports.snapshot import Snapshot
from phaseone.protocol.model import Protocol
from phaseone.store.access import Actor
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.evaluations import responses_from_rows

if TYPE_CHECKING:
    from phaseone.correlatives.api import ImmuneReport

MEASUREMENT_COLUMNS = ("patient", "specimen_type", "study_day", "analyte", "value", "unit",
                       "specimen_id")
TYPING_COLUMNS = ("patient", "gene", "call", "specimen_id")
PATIENT_COLUMNS = ("patient", "dose_level", "best_response")


@dataclass(frozen=True)
class Sample:
    """A measurement with the protocol assessment its specimen was planned for."""

    assessment_id: str
    measurement: Measurement


@dataclass(frozen=True)
class CorrelativeData:
    samples: tuple[Sample, ...]
    calls: tuple[GenotypeCall, ...]
    patients: tuple[PatientGroup, ...]
    deidentified: bool
    as_of: dt.date | None

    def measurements(self, assessments: Iterable[str] | None = None,
                     analytes: Iterable[str] | None = None) -> list[Measurement]:
        """The numeric results, of some assessments and analytes if named."""
        wanted_a = None if assessments is None else set(assessments)
        wanted_x = None if analytes is None else set(analytes)
        return [s.measurement for s in self.samples
                if (wanted_a is None or s.assessment_id in wanted_a)
                and (wanted_x is None or s.measurement.analyte in wanted_x)]


def first_doses(snap: Snapshot) -> dict[int, dt.date]:
    """Each treated patient's first day of protocol therapy (a given dose), by patient id."""
    first: dict[int, dt.date] = {}
    for d in snap.rows("dose_administrations"):
        on = d["administered_on"]
        if d["given"] and on is not None and (d["patient_id"] not in first
                                              or on < first[d["patient_id"]]):
            first[d["patient_id"]] = on
    return first


def from_snapshot(snap: Snapshot) -> CorrelativeData:
    """The snapshot's collected specimens' results as engine records (pure)."""
    codes = {p["id"]: p["subject_code"] for p in snap.rows("patients")}
    day_one = first_doses(snap)
    specimens = {s["id"]: s for s in snap.rows("specimens")
                 if s["collected_on"] is not None}
    samples: list[Sample] = []
    calls: list[GenotypeCall] = []
    for r in snap.rows("specimen_results"):
        s = specimens.get(r["specimen_id"])
        if s is None:  # not collected, or collected after the data cut-off
            continue
        patient = codes[r["patient_id"]]
        if r["call"] is not None:
            calls.append(GenotypeCall(patient, r["analyte"], r["call"], s["code"]))
            continue
        day = study_day(s["collected_on"], day_one.get(r["patient_id"]))
        if day is None:  # no dose given yet: no study day to place it on
            continue
        value = math.inf if r["undetected"] else float(r["value"])
        samples.append(Sample(s["assessment_id"], Measurement(
            patient, s["specimen_type"], day, r["analyte"], value, r["unit"] or "",
            s["code"])))
    samples.sort(key=lambda x: (x.measurement.patient, x.measurement.study_day,
                                x.measurement.analyte, x.measurement.specimen_id or ""))
    calls.sort(key=lambda c: (c.patient, c.gene, c.specimen_id or ""))
    best = {pid: r.best for pid, r in responses_from_rows(snap.protocol, snap.tables)}
    patients = sorted((PatientGroup(codes[r["patient_id"]], int(r["dose_level"]),
                                    best.get(r["patient_id"]))
                       for r in snap.rows("registrations")), key=lambda p: p.patient)
    return CorrelativeData(tuple(samples), tuple(calls), tuple(patients), snap.deidentified,
                           snap.as_of)


def read(scope: Scope, trial: Trial, *, as_of: dt.date | None = None,
         deidentify: bool = False) -> CorrelativeData:
    """The correlative records the actor may see (the read is audited, for the roles that
    may export the trial's data; always de-identified for the statistician)."""
    snap = snapshots.read(scope, trial.protocol, purpose="correlative analyses",
                          deidentify=deidentify, as_of=as_of)
    return from_snapshot(snap)


def _cell(value: object) -> object:
    if isinstance(value, float) and math.isinf(value):
        return "undetermined"
    return "" if value is None else value


def write_csv(data: CorrelativeData, protocol: Protocol, directory: Path) -> dict[str, Path]:
    """immune.csv, haca.csv, tlda.csv, typing.csv and patients.csv: each analysis's records
    in the form `phaseone correlatives` reads (HACA troughs under the analyte name
    'dinutuximab trough', for --trough)."""
    directory.mkdir(parents=True, exist_ok=True)

    Table = tuple[tuple[str, ...], list[tuple[object, ...]]]

    def numbers(rows: list[Measurement]) -> Table:
        return MEASUREMENT_COLUMNS, [(m.patient, m.specimen_type, m.study_day, m.analyte,
                                      m.value, m.unit, m.specimen_id) for m in rows]

    tables: dict[str, Table] = {
        "immune": numbers(immune_results(data, protocol)),
        "haca": numbers(haca_results(data, protocol)),
        "tlda": numbers(tlda_results(data, protocol)),
        "typing": (TYPING_COLUMNS, [(c.patient, c.gene, c.call, c.specimen_id)
                                    for c in data.calls]),
        "patients": (PATIENT_COLUMNS, [(p.patient, p.dose_level, p.best_response)
                                       for p in data.patients]),
    }
    out: dict[str, Path] = {}
    for name, (columns, rows) in tables.items():
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([_cell(v) for v in row] for row in rows)
        out[name] = path
    return out


# --- which results each analysis reads (from the protocol's own names) --------------------

HACA_ANALYTE = "haca"  # the core-lab catalogue's name
TROUGH = "dinutuximab trough"


def _agents(protocol: Protocol) -> set[str]:
    return {s.agent for s in protocol.course.schedule}


def immune_results(data: CorrelativeData, protocol: Protocol) -> list[Measurement]:
    """Immune panels: every numeric result that is not a drug concentration, a HACA titre
    or a TLDA well."""
    tlda = protocol.correlatives.tlda
    wells = set() if tlda is None else {*tlda.genes, *tlda.reference_genes}
    other = _agents(protocol) | wells | {HACA_ANALYTE}
    return [m for m in data.measurements() if m.analyte not in other]


def haca_results(data: CorrelativeData, protocol: Protocol) -> list[Measurement]:
    """HACA titres, with dinutuximab troughs (the agent's results of trough assessments)
    under the analyte name `TROUGH`."""
    troughs = [a.id for a in protocol.assessments
               if a.agent == "dinutuximab" and a.id.endswith("trough")]
    out = data.measurements(analytes=(HACA_ANALYTE,))
    out += [replace(m, analyte=TROUGH)
            for m in data.measurements(assessments=troughs, analytes=("dinutuximab",))]
    return out


def tlda_results(data: CorrelativeData, protocol: Protocol) -> list[Measurement]:
    """The panel's and reference genes' Ct wells."""
    tlda = protocol.correlatives.tlda
    if tlda is None:
        return []
    return data.measurements(analytes=(*tlda.genes, *tlda.reference_genes))


def fcgr_calls(data: CorrelativeData) -> list[GenotypeCall]:
    """The Fc gamma receptor genotypes."""
    from phaseone.correlatives.fcgr import POLYMORPHISMS

    return [c for c in data.calls if c.gene.upper() in POLYMORPHISMS]


def kir_calls(data: CorrelativeData) -> list[GenotypeCall]:
    """HLA typing and KIR gene presence: every call that is not an FcγR genotype."""
    fcgr = set(map(id, fcgr_calls(data)))
    return [c for c in data.calls if id(c) not in fcgr]


def evaluated(data: CorrelativeData) -> tuple[PatientGroup, ...] | None:
    """The patients with their best responses, once any is evaluated (None before: no
    association with response can be given yet)."""
    return data.patients if any(p.best_response for p in data.patients) else None


def immune_report(data: CorrelativeData, protocol: Protocol) -> ImmuneReport | str:
    """Immune monitoring, low vs high dose (the protocol's groups), or why it cannot be
    given yet."""
    from phaseone.correlatives import api

    rows = immune_results(data, protocol)
    if not rows:
        return "no immune monitoring results have been imported"
    report = api.immune(rows, data.patients, protocol)
    if report.changes.empty:
        return "no patient has both a baseline and a later immune monitoring result"
    return report


def immune(scope: Scope, trial: Trial, *, as_of: dt.date | None = None) -> ImmuneReport | str:
    """The immune comparison for the roles that may read the trial's data (audited read;
    de-identified for the statistician), as the pages and the API show it."""
    return immune_report(read(scope, trial, as_of=as_of), trial.protocol)


def from_database(url: str | None, protocol: Protocol, *, as_of: dt.date | None = None,
                  deidentify: bool = False, actor: Actor | None = None) -> CorrelativeData:
    """The trial database's correlative records (for the command line and notebooks: the
    operator as a system actor unless one is given; the read is audited)."""
    import getpass

    from phaseone.store.access import Source, system_actor
    from phaseone.store.db import Database

    db = Database(url)
    try:
        with db.transaction() as session:
            who = actor or system_actor(f"cli:{getpass.getuser()}", Source.cli)
            return read(Scope(session, who), Trial.from_protocol(protocol), as_of=as_of,
                        deidentify=deidentify)
    finally:
        db.dispose()
