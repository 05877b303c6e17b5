"""The study report and every export, on the demo trial and on a trial of N patients.

    python bench/bench_reports.py [--patients 2000]

The demo trial (12 patients) is built as `phaseone demo` builds it. The large trial repeats
the demo's patients, each copy with its own subject code and every record the original has
(screening, registration, course, doses, labs, adverse events, determinations), written
through the store's repositories so the audit trail grows as it would. Then each document is
timed from the database: the study report (gathered and rendered to HTML, then PDF), the
meeting pack, and the SDTM, ADaM, ODM and FHIR exports. Goals: the demo's report < 10 s;
the report and all exports of 2,000 patients < 60 s. Peak resident memory is printed.
No peer tool produces these documents, so the table has ours only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy import func, select

from phaseone.demo.build import build_demo
from phaseone.exports.package import write_kind
from phaseone.protocol import resolve_protocol
from phaseone.protocol.designs import BOINParams
from phaseone.protocol.model import BOINDesign
from phaseone.reports import render
from phaseone.reports.gather import read_for_report, study_report
from phaseone.reports.study import frame_html
from phaseone.store import records
from phaseone.store.access import Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import BOOKKEEPING, PATIENT_OWNED, Patient
from phaseone.store.scope import Scope
from phaseone.workflow import Trial

CREATED = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
# Children before the records that point at them.
ORDER = (
    "screening_evaluations",
    "registrations",
    "courses",
    "dose_administrations",
    "lab_results",
    "adverse_events",
    "dlt_determinations",
    "clinical_events",
    "follow_ups",
)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grow(db: Database, copies: int) -> int:
    """Copy every demo patient `copies` times with all its records; returns patients added."""
    actor = system_actor("bench", Source.cli)
    added = 0
    with db.transaction() as session:
        originals = list(session.scalars(select(Patient).order_by(Patient.id)))
        owned = {
            name: list(session.scalars(select(model).where(model.voided.is_(False))))
            for name, model in PATIENT_OWNED.items()
        }
        plain = [
            (p, {name: [r for r in rows if r.patient_id == p.id] for name, rows in owned.items()})
            for p in originals
        ]
        keep = {c.key for c in Patient.__table__.columns} - BOOKKEEPING - {"subject_code"}
        template = [
            (
                {k: getattr(p, k) for k in keep},
                p.subject_code,
                {
                    name: [
                        {
                            c.key: getattr(r, c.key)
                            for c in r.__table__.columns
                            if c.key == "id" or c.key not in BOOKKEEPING
                        }
                        for r in rows
                    ]
                    for name, rows in children.items()
                },
            )
            for p, children in plain
        ]
    for copy in track(range(copies), description="copying the demo's patients"):
        with db.transaction() as session:
            scope = Scope(session, actor)
            for base, code, children in template:
                patient = records.create(
                    scope, records.SPECS["patients"], {**base, "subject_code": f"{code}-{copy:04d}"}
                )
                ids: dict[tuple[str, int], int] = {}
                for name in ORDER:
                    for row in children[name]:
                        data = {
                            k: v for k, v in row.items() if k not in ("id", "patient_id", "site_id")
                        }
                        data["patient_id"] = patient.id
                        for ref, target in (
                            ("course_id", "courses"),
                            ("adverse_event_id", "adverse_events"),
                        ):
                            if data.get(ref) is not None:
                                data[ref] = ids[(target, data[ref])]
                        if name == "screening_evaluations":
                            data.pop("criteria", None)
                        made = records.create(scope, records.SPECS[name], data)
                        ids[(name, row["id"])] = made.id
                added += 1
    return added


Row = tuple[str, float, float, float]  # document, wall s, CPU s, peak RSS MiB


def timed(label: str, fn: Callable[[], Any], rows: list[Row]) -> Any:
    """Run `fn`, noting wall and CPU time (CPU time says more on a shared machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    rows.append((label, time.perf_counter() - start, time.process_time() - cpu, peak_mib()))
    return value


def measure(db: Database, trial: Trial, out: Path, as_of: dt.date) -> list[Row]:
    """Each document from one read of the store, as `phaseone export --format all` makes
    them: the snapshot (as of the cut-off) is read once and its SDTM and ADaM datasets are
    derived once, then shared by the report and every export."""
    rows: list[Row] = []
    actor = system_actor("bench", Source.cli)
    with db.transaction() as session:
        scope = Scope(session, actor)
        snap = timed(
            "snapshot of the store (read once)",
            lambda: read_for_report(scope, trial, as_of),
            rows,
        )

        def report_html() -> str:
            report = study_report(scope, trial, as_of, snap=snap)
            return render.html(
                "study.html",
                report=report,
                generated="bench",
                footer="bench",
                frame_html=frame_html,
            )

        document = timed("study report: analyses and HTML", report_html, rows)
        timed("study report: PDF from the HTML", lambda: render.pdf(document), rows)
        for kind in ("sdtm", "adam", "odm", "fhir"):

            def export(kind: str = kind) -> None:
                write_kind(scope, snap, kind, out / kind, created=CREATED)

            timed(f"export {kind}", export, rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument(
        "--database",
        type=Path,
        help=(
            "SQLite file to keep the grown trial in; when it exists already, the documents "
            "are measured on it without building it again (the demo column is then empty)"
        ),
    )
    args = parser.parse_args()
    console = Console()
    protocol = resolve_protocol("nant-2011-04")
    # No phase I design takes 2,000 patients: the large trial is read through BOIN with room
    # for them (the documents, not the design, are what is measured).
    roomy = BOINDesign(
        name="boin",
        starting_dose_level=1,
        params=BOINParams(target=0.3, max_cohorts=1000, early_stop_n=5000),
        provenance=protocol.design.provenance,
    )
    trial = Trial.from_protocol(protocol.model_copy(update={"design": roomy}))
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        path = args.database or Path(folder) / "bench.sqlite3"
        reuse = path.exists()
        db = Database(f"sqlite:///{path}")
        as_of = dt.date.today()
        demo_rows: list[Row] | None = None
        if not reuse:
            build_demo(db, protocol, as_of, "a bench password of some length")
            demo_rows = measure(db, trial, Path(folder) / "demo", as_of)
            grow(db, max(0, args.patients // 12 - 1))
        with db.transaction() as session:
            n = session.scalar(select(func.count()).select_from(Patient)) or 0
        big_rows = measure(db, trial, Path(folder) / "big", as_of)
        db.dispose()
    table = Table(
        title=(
            f"Documents from the trial database ({os.cpu_count()} cores, "
            f"load average {load:.1f} at the start)"
        )
    )
    table.add_column("document")
    table.add_column("demo, 12 patients: wall / CPU (s)", justify="right")
    table.add_column(f"{n} patients: wall (s)", justify="right")
    table.add_column("CPU (s)", justify="right")
    table.add_column("peak RSS after it (MiB)", justify="right")
    for i, (label, wall, cpu, rss) in enumerate(big_rows):
        small = "" if demo_rows is None else f"{demo_rows[i][1]:.2f} / {demo_rows[i][2]:.2f}"
        table.add_row(label, small, f"{wall:.2f}", f"{cpu:.2f}", f"{rss:.0f}")
    table.add_row(
        "all of the above",
        ""
        if demo_rows is None
        else f"{sum(r[1] for r in demo_rows):.2f} / {sum(r[2] for r in demo_rows):.2f}",
        f"{sum(r[1] for r in big_rows):.2f}",
        f"{sum(r[2] for r in big_rows):.2f}",
        f"{peak_mib():.0f}",
    )
    console.print(table)


if __name__ == "__main__":
    main()
