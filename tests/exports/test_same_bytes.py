"""Every file of the SDTM, ADaM, ODM and FHIR exports keeps its bytes: two exports of the
same database, with the same cut-off and creation time, are the same file for file. Only the
clock time at which the audit trail and the signatures were written (ODM `DateTimeStamp`)
is masked, and the per-patient date shifts, drawn at random, are fixed.

When the writers were rewritten to stream (ODM one subject at a time, datasets derived once
per snapshot), this test held the new writers to the hashes the old ones gave on the same
demo trial; that trial has since gained specimens, evaluations and their domains, so it now
holds every writer to itself across exports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from phaseone.demo.build import build_demo
from phaseone.exports import snapshot
from phaseone.exports.package import write, write_fhir, write_odm
from phaseone.protocol import resolve_protocol
from phaseone.store.access import Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import Patient
from phaseone.store.scope import Scope

TODAY = dt.date(2026, 3, 1)
CREATED = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
STAMP = re.compile(rb"<DateTimeStamp>[^<]*</DateTimeStamp>")



@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("demo")
    db = Database(f"sqlite:///{folder / 'demo.sqlite3'}")
    build_demo(db, resolve_protocol("nant-2011-04"), TODAY, "a demo password of some length")
    # Each patient's date shift is drawn at random when the patient is created; fixed here so
    # the de-identified files are the same from one build to the next.
    with db.transaction() as session:
        session.execute(update(Patient).values(date_shift_days=-(Patient.id * 7 % 29) - 3))
    yield db
    db.dispose()


def _export(db: Database, out: Path, deidentify: bool) -> dict[str, str]:
    protocol = resolve_protocol("nant-2011-04")
    with db.transaction() as session:
        scope = Scope(session, system_actor("test", Source.cli))
        snap = snapshot.read(scope, protocol, purpose="test", deidentify=deidentify)
        for kind in ("sdtm", "adam"):
            write(snap, kind, out / kind, created=CREATED)
        write_odm(scope, snap, out / "odm", created=CREATED)
        write_fhir(snap, out / "fhir", created=CREATED)
    hashes = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = STAMP.sub(b"<DateTimeStamp/>", path.read_bytes())
            hashes[str(path.relative_to(out)).replace(protocol.id, "*")] = hashlib.sha256(
                data
            ).hexdigest()
    return hashes


@pytest.mark.parametrize("deidentify", [False, True], ids=["identified", "deidentified"])
def test_every_export_file_keeps_its_bytes(
    demo: Database, tmp_path: Path, deidentify: bool
) -> None:
    first = _export(demo, tmp_path / "first", deidentify)
    second = _export(demo, tmp_path / "second", deidentify)
    assert {"sdtm/dm.xpt", "sdtm/pc.xpt", "adam/adsl.xpt", "odm/*.odm.xml"} <= set(first)
    assert first == second
