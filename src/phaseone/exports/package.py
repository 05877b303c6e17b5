"""A CDISC package on disk: one transport file per dataset, define.xml, and a manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from phaseone.errors import InputError, Problem
from phaseone.exports import adam, define, fhir, odm, sdtm, xpt
from phaseone.exports.metadata import Standard, adam_parameters, terminology
from phaseone.exports.metadata import adam as adam_definitions
from phaseone.exports.metadata import sdtm as sdtm_definitions
from phaseone.exports.snapshot import Snapshot
from phaseone.store.scope import Scope

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("sdtm", "adam", "odm", "fhir")


@dataclass(frozen=True)
class Written:
    path: Path
    records: int
    sha256: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tabulation(snapshot: Snapshot) -> dict[str, pd.DataFrame]:
    """The SDTM datasets of a snapshot, built once however many documents read them."""
    return snapshot.derived("sdtm", lambda: sdtm.build(snapshot))


def analysis(snapshot: Snapshot) -> dict[str, pd.DataFrame]:
    """The ADaM datasets of a snapshot, derived from its SDTM datasets, built once."""
    return snapshot.derived("adam", lambda: adam.build(tabulation(snapshot), snapshot))


def datasets(snapshot: Snapshot, kind: str) -> tuple[Standard, dict[str, pd.DataFrame]]:
    """The datasets of one kind, with their definitions; ADaM is derived from SDTM."""
    if kind == "sdtm":
        return sdtm_definitions(), tabulation(snapshot)
    if kind == "adam":
        return adam_definitions(), analysis(snapshot)
    raise InputError([Problem("format", f"expected one of {', '.join(KINDS)}, got {kind!r}")])


def _assumptions(kind: str) -> tuple[str, ...]:
    """What define.xml states as assumed beside the CT release: for SDTM the terminology
    choices marked assumed (exports/data/terminology.yaml), for ADaM the analysis
    conventions."""
    if kind == "sdtm":
        return tuple(
            f"{name}: assumed ({section['provenance']['note']})"
            for name, section in terminology().items()
            if isinstance(section, dict)
            and isinstance(section.get("provenance"), dict)
            and section["provenance"].get("source") == "assumed"
        )
    if kind != "adam":
        return ()
    return tuple(
        f"{name} = {p['value']} (assumed: {p['note']})"
        for name, p in adam_parameters().items()
        if p.get("provenance") == "assumed"
    )


def write(snapshot: Snapshot, kind: str, directory: Path, *, created: dt.datetime) -> list[Written]:
    """Check every dataset, then write them all; a failed check writes nothing."""
    standard, frames = datasets(snapshot, kind)
    problems: list[Problem] = []
    for name, frame in frames.items():
        problems.extend(xpt.check(standard.domains[name], frame))
    if problems:
        raise InputError(problems)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [
        xpt.write_checked(standard.domains[n], f, directory, created) for n, f in frames.items()
    ]
    study = snapshot.protocol.id.upper()
    tree = define.build(
        standard,
        study,
        snapshot.protocol.identity.brief_title,
        frames,
        created,
        _assumptions(kind),
    )
    paths.append(define.write(directory / "define.xml", tree))
    counts = [len(f) for f in frames.values()] + [0]
    written = [Written(p, n, _sha256(p)) for p, n in zip(paths, counts, strict=True)]
    manifest = {
        "study": study,
        "standard": f"{standard.name} {standard.version}",
        "created": created.isoformat(),
        "deidentified": snapshot.deidentified,
        "files": [{"file": w.path.name, "records": w.records, "sha256": w.sha256} for w in written],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return written


def write_odm(
    scope: Scope, snapshot: Snapshot, directory: Path, *, created: dt.datetime
) -> list[Written]:
    """The clinical data, metadata, signatures and audit records as one ODM 1.3.2 file."""
    extras = odm.read_extras(scope, snapshot)
    directory.mkdir(parents=True, exist_ok=True)
    path = odm.write(directory / f"{snapshot.protocol.id}.odm.xml", snapshot, extras, created)
    return [Written(path, sum(len(v) for v in snapshot.tables.values()), _sha256(path))]


def write_fhir(snapshot: Snapshot, directory: Path, *, created: dt.datetime) -> list[Written]:
    """The study, sites, patients, lab results and responses as one FHIR R5 collection Bundle
    (JSON). Compact UTF-8 JSON from orjson: keys in the order the resources are built, so the
    same snapshot gives the same bytes."""
    import orjson

    content = fhir.bundle(snapshot, created)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{snapshot.protocol.id}.fhir.json"
    path.write_bytes(orjson.dumps(content, option=orjson.OPT_APPEND_NEWLINE))
    return [Written(path, len(content["entry"]), _sha256(path))]


def write_kind(
    scope: Scope, snapshot: Snapshot, kind: str, directory: Path, *, created: dt.datetime
) -> list[Written]:
    """One export of any kind (sdtm, adam, odm or fhir) into `directory`."""
    if kind == "odm":
        return write_odm(scope, snapshot, directory, created=created)
    if kind == "fhir":
        return write_fhir(snapshot, directory, created=created)
    return write(snapshot, kind, directory, created=created)


def write_sdtm(snapshot: Snapshot, directory: Path, *, created: dt.datetime) -> list[Written]:
    return write(snapshot, "sdtm", directory, created=created)
