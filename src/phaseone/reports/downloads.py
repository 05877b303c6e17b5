"""The trial's documents as files to hand over (the study report, the dose-escalation meeting
pack, each export as a zip), made the same way for the JSON API and the pages.

Who may have which is the services' rule (the snapshot read for the report and the exports,
the meeting pack's readers); each file made is audited by the read it makes, and the
statistician's copies are de-identified by that read.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from phaseone.errors import InputError, Problem
from phaseone.exports import snapshot
from phaseone.exports.package import KINDS, write_kind
from phaseone.store.access import EXPORTERS, Role
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.meeting import READERS as MEETING_READERS

FORMATS = ("html", "pdf")
# Who may download what: the report and the exports need the snapshot read; the meeting pack
# its own readers. Re-exported for the pages (to show a link) from the services' own sets.
REPORT_READERS = EXPORTERS
EXPORT_READERS = EXPORTERS
PACK_READERS = MEETING_READERS
ANY_READERS = REPORT_READERS | EXPORT_READERS | PACK_READERS


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    content: bytes


def any_for(role: Role) -> bool:
    """Whether a role may download any of the documents (to show it the way to them)."""
    return role in ANY_READERS


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _document(text: str, fmt: str, stem: str) -> Download:
    from phaseone.reports import render

    if fmt == "pdf":
        return Download(f"{stem}.pdf", "application/pdf", render.pdf(text))
    if fmt == "html":
        return Download(f"{stem}.html", "text/html; charset=utf-8", text.encode("utf-8"))
    raise InputError([Problem("format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")])


def export_zip(
    scope: Scope, trial: Trial, kind: str, created: dt.datetime, *, deidentify: bool = False
) -> Download:
    """One export (sdtm, adam, odm or fhir) as a zip of its files."""
    if kind not in KINDS:
        raise InputError([Problem("format", f"expected one of {', '.join(KINDS)}, got {kind!r}")])
    snap = snapshot.read(scope, trial.protocol, purpose=f"{kind} export", deidentify=deidentify)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_kind(scope, snap, kind, out, created=created)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in sorted(out.iterdir()):
                archive.write(item, item.name)
    name = f"{trial.protocol.id}-{kind}-{created:%Y%m%d}.zip"
    return Download(name, "application/zip", buffer.getvalue())


def study_report_file(
    scope: Scope,
    trial: Trial,
    as_of: dt.date,
    moment: dt.datetime,
    fmt: str,
    *,
    deidentify: bool = False,
) -> Download:
    """The final study report as of a data cut-off, as HTML or PDF."""
    from phaseone.reports import render
    from phaseone.reports.gather import study_report
    from phaseone.reports.study import frame_html

    if fmt not in FORMATS:
        raise InputError([Problem("format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")])
    report = study_report(scope, trial, as_of, deidentify=deidentify)
    text = render.html(
        "study.html",
        report=report,
        generated=_stamp(moment),
        footer=f"{report.protocol.id} study report, data as of {as_of}",
        frame_html=frame_html,
    )
    return _document(text, fmt, f"{report.protocol.id}-study-report-{as_of}")


def meeting_pack_file(
    scope: Scope,
    trial: Trial,
    as_of: dt.date,
    moment: dt.datetime,
    fmt: str,
    decision_id: int | None = None,
) -> Download:
    """The dose-escalation meeting pack for a decision (default: the one awaiting the chair)."""
    from phaseone.reports import render
    from phaseone.workflow.meeting import meeting_pack

    if fmt not in FORMATS:
        raise InputError([Problem("format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")])
    pack = meeting_pack(scope, trial, as_of, decision_id)
    text = render.html(
        "meeting.html",
        pack=pack,
        generated=_stamp(moment),
        footer=f"{pack.protocol_id} meeting pack, data as of {as_of}",
    )
    suffix = "" if decision_id is None else f"-decision-{decision_id}"
    return _document(text, fmt, f"{pack.protocol_id}-meeting{suffix}-{as_of}")
