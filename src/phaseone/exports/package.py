"""An SDTM package on disk: one transport file per domain, define.xml, and a manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from phaseone.errors import InputError, Problem
from phaseone.exports import define, sdtm, xpt
from phaseone.exports.metadata import sdtm as sdtm_definitions
from phaseone.exports.snapshot import Snapshot


@dataclass(frozen=True)
class Written:
    path: Path
    records: int
    sha256: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sdtm(snapshot: Snapshot, directory: Path, *, created: dt.datetime) -> list[Written]:
    """Check every dataset, then write them all; a failed check writes nothing."""
    frames = sdtm.build(snapshot)
    definitions = sdtm_definitions().domains
    problems: list[Problem] = []
    for name, frame in frames.items():
        problems.extend(xpt.check(definitions[name], frame))
    if problems:
        raise InputError(problems)
    directory.mkdir(parents=True, exist_ok=True)
    written = [
        Written(path, len(frames[name]), "")
        for name in frames
        for path in [xpt.write(definitions[name], frames[name], directory, created)]
    ]
    study = snapshot.protocol.id.upper()
    tree = define.build(study, snapshot.protocol.identity.brief_title, frames, created)
    written.append(Written(define.write(directory / "define.xml", tree), 0, ""))
    written = [Written(w.path, w.records, _sha256(w.path)) for w in written]
    manifest = {
        "study": study,
        "created": created.isoformat(),
        "deidentified": snapshot.deidentified,
        "files": [{"file": w.path.name, "records": w.records, "sha256": w.sha256} for w in written],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return written
