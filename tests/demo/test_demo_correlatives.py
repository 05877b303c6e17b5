"""The demo trial's specimens and results fill the report's correlative and PK sections."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from phaseone.demo.build import build_demo
from phaseone.protocol import resolve_protocol
from phaseone.reports.gather import study_report
from phaseone.reports.study import StudyReport
from phaseone.store import accounts
from phaseone.store.access import Source
from phaseone.store.db import Database
from phaseone.store.models import (
    AuditRecord,
    DoseAdministration,
    ResultImport,
    Specimen,
    SpecimenResult,
    User,
)
from phaseone.store.scope import Scope
from phaseone.workflow import Trial

pytestmark = pytest.mark.slow
TODAY = dt.date(2026, 3, 2)
FILLED = ("primary-3", "secondary-1", "secondary-3", "secondary-4", "secondary-5",
          "secondary-8", "secondary-9")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = Database(f"sqlite:///{path}")
    build_demo(db, resolve_protocol("nant-2011-04"), TODAY, "correct horse battery staple")
    yield db
    db.dispose()


def _report(db: Database, username: str) -> StudyReport:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        scope = Scope(session, accounts.actor_for(user, Source.page, "127.0.0.1"))
        return study_report(scope, Trial.from_protocol(resolve_protocol("nant-2011-04")), TODAY)


def test_results_came_through_the_workflow(demo: Database) -> None:
    with demo.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ResultImport)) == 1
        assert session.scalar(select(func.count()).select_from(SpecimenResult)) > 300
        actions = set(session.scalars(select(AuditRecord.action).where(
            AuditRecord.entity.in_(("result_imports", "specimen_results", "specimens")))))
        assert {"import", "create", "update"} <= actions


def test_the_report_sections_are_filled_with_tables_and_figures(demo: Database) -> None:
    report = _report(demo, "chair")
    sections = {s.objective.id: s.finding for s in report.sections}
    for objective in FILLED:
        assert sections[objective].unavailable is None, objective
        assert sections[objective].tables, objective
    assert sections["secondary-2"].unavailable == (
        "no isotretinoin concentrations have been imported")
    with_figures = {o for o in FILLED if any(t.figure for t in sections[o].tables)}
    assert with_figures == {"primary-3", "secondary-1", "secondary-4", "secondary-5",
                            "secondary-9"}
    # The same data draw the same figures (no dates or random ids in the SVG).
    again = {s.objective.id: s.finding for s in _report(demo, "chair").sections}
    assert [t.figure for t in again["primary-3"].tables] == [
        t.figure for t in sections["primary-3"].tables]


def test_lenalidomide_cmax_and_tmax_read_by_hand(demo: Database) -> None:
    """Cmax is the highest stored concentration and Tmax its clock time after the 08:00
    dose, read straight from the specimens, for every patient."""
    with demo.transaction() as session:
        rows = session.execute(
            select(Specimen.patient_id, Specimen.collected_on, Specimen.collected_time,
                   SpecimenResult.value)
            .join(SpecimenResult, SpecimenResult.specimen_id == Specimen.id)
            .where(SpecimenResult.analyte == "lenalidomide")).all()
        starts = dict(session.execute(
            select(DoseAdministration.patient_id, DoseAdministration.administered_on).where(
                DoseAdministration.course_day == 1,
                DoseAdministration.agent_id == "lenalidomide")).all())
    best: dict[int, tuple[float, float]] = {}
    for patient, on, clock, value in rows:
        hours = (dt.datetime.combine(on, dt.time.fromisoformat(clock))
                 - dt.datetime.combine(starts[patient], dt.time(8, 0))).total_seconds() / 3600
        if patient not in best or value > best[patient][0]:
            best[patient] = (value, hours)
    report = _report(demo, "chair")
    [pk] = [s.finding for s in report.sections if s.objective.id == "secondary-1"]
    summary = pk.tables[0].frame.set_index("PPTESTCD")
    cmax = [v for v, _ in best.values()]
    geomean = float(pd_exp_mean_log(cmax))
    # Eleven profiles: the newest patient's collection times are still to be entered.
    assert summary.loc["CMAX", "n"] == len(best) == 11
    assert summary.loc["CMAX", "center"] == pytest.approx(geomean, abs=1e-3)
    assert summary.loc["TMAX", "center"] == pytest.approx(
        statistics.median(h for _, h in best.values()), abs=1e-3)


def pd_exp_mean_log(values: list[float]) -> float:
    import math

    return math.exp(sum(math.log(v) for v in values) / len(values))


def test_the_statistician_sees_the_same_numbers_without_real_dates(demo: Database) -> None:
    chair = {s.objective.id: s.finding for s in _report(demo, "chair").sections}
    stats_report = _report(demo, "stats")
    assert stats_report.deidentified
    stats = {s.objective.id: s.finding for s in stats_report.sections}
    for objective in ("primary-3", "secondary-4", "secondary-9"):
        assert stats[objective].tables[0].frame.equals(chair[objective].tables[0].frame)
