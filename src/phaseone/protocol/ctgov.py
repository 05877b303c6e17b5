"""Draft a protocol from a ClinicalTrials.gov API v2 study record (read from a file).

The record gives identity, sites, outcomes, interventions and the eligibility text. It
never gives dose levels, the escalation design, DLT rules or dosing rules: the draft
leaves those as `{todo: ...}` markers, which `protocol validate` reports until resolved.
No network access happens here: the caller supplies the JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phaseone.errors import InputError, Problem
from phaseone.protocol.load import find_todos

_DRUG_TYPES = {"DRUG", "BIOLOGICAL", "COMBINATION_PRODUCT"}
_HEADING = re.compile(r"^\s*(inclusion|exclusion)\s+criteria\s*:?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^(?P<indent>\s*)(?:[*\-•+]|\d{1,2}[.)]|[a-z][.)])\s+(?P<text>.*)$")
_ANY_OF = re.compile(
    r"\b(at least one|one of the following|any of the following|either)\b", re.IGNORECASE
)
_ROUTE = re.compile(r"\bgiven\s+(PO|IV|SC|IM)\b", re.IGNORECASE)
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>=^~|])")


def todo(what: str) -> dict[str, str]:
    return {"todo": what}


@dataclass
class Draft:
    """A protocol draft: the data to write, and what is still to be decided."""

    data: dict[str, Any]
    skipped_interventions: list[str] = field(default_factory=list)

    @property
    def yaml_text(self) -> str:
        nct = self.data["identity"]["nct_id"]
        header = (
            f"# Draft protocol imported from the ClinicalTrials.gov record {nct}.\n"
            "# Values marked {todo: ...} are not in the record; decide them, then run\n"
            "# `phaseone protocol validate` on this file.\n"
        )
        body = yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)
        return header + body

    @property
    def agents(self) -> list[str]:
        agents = self.data.get("agents")
        return [a["name"] for a in agents] if isinstance(agents, list) else []

    @property
    def n_sites(self) -> int:
        return len(self.data.get("sites", []))

    @property
    def n_criteria(self) -> int:
        def count(items: Iterable[dict[str, Any]]) -> int:
            return sum(1 + count(c.get("children", [])) for c in items)

        return count(self.data.get("eligibility", []))

    @property
    def n_todos(self) -> int:
        return sum(1 for _ in find_todos(self.data))


def draft_from_file(path: Path, protocol_id: str | None = None) -> Draft:
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem("", f"{path}:{exc.lineno}: not valid JSON: {exc.msg}")]
        ) from None
    return draft_from_study(study, protocol_id=protocol_id)


def draft_from_study(study: Any, protocol_id: str | None = None) -> Draft:
    """Build a draft from one study in the API v2 shape (`{"protocolSection": {...}}`)."""
    if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
        raise InputError(
            [Problem("protocolSection", "expected a study object with a 'protocolSection'")]
        )
    section: dict[str, Any] = study["protocolSection"]
    ident = _module(section, "identificationModule")
    nct = ident.get("nctId")
    if not isinstance(nct, str) or not re.fullmatch(r"NCT\d{8}", nct):
        raise InputError(
            [
                Problem(
                    "protocolSection.identificationModule.nctId",
                    f"expected an NCT id like NCT01711554, got {nct!r}",
                )
            ]
        )
    status = _module(section, "statusModule")
    draft = Draft(data={})
    data = draft.data
    data["schema_version"] = 1
    data["id"] = protocol_id or nct.lower()
    data["version"] = str(
        status.get("lastUpdatePostDateStruct", {}).get("date") or "draft-from-registry"
    )
    data["identity"] = _identity(section, nct)
    data["sites"] = _sites(section)
    data["objectives"] = _objectives(section)
    data["agents"] = _agents(section, draft.skipped_interventions) or todo(
        "the record lists no drug or biological interventions"
    )
    data["dose_levels"] = todo("dose levels are not in the registry record")
    data["course"] = todo("course length, days and schedule per agent")
    data["assessments"] = []
    data["eligibility"] = parse_eligibility(
        _module(section, "eligibilityModule").get("eligibilityCriteria") or ""
    )
    data["dlt"] = todo("DLT window and rules are not in the registry record")
    data["evaluability"] = todo("evaluability rule")
    data["design"] = todo("escalation design and its parameters")
    data["dosing"] = todo("BSA formula and dose recalculation rules")
    data["response"] = todo("response criteria and CTCAE version")
    return draft


def _module(section: dict[str, Any], name: str) -> dict[str, Any]:
    value = section.get(name)
    return value if isinstance(value, dict) else {}


def _identity(section: dict[str, Any], nct: str) -> dict[str, Any]:
    ident = _module(section, "identificationModule")
    status = _module(section, "statusModule")
    sponsors = _module(section, "sponsorCollaboratorsModule")
    design = _module(section, "designModule")
    elig = _module(section, "eligibilityModule")
    contacts = _module(section, "contactsLocationsModule")
    conditions = _module(section, "conditionsModule")

    out: dict[str, Any] = {"provenance": "registry", "nct_id": nct}
    other = []
    org_id = ident.get("orgStudyIdInfo", {}).get("id")
    if org_id:
        other.append({"id": org_id, "type": "org_study_id"})
    for item in ident.get("secondaryIdInfos", []) or []:
        if item.get("id"):
            entry = {"id": item["id"]}
            if item.get("type"):
                entry["type"] = item["type"]
            other.append(entry)
    if other:
        out["other_ids"] = other
    if ident.get("officialTitle"):
        out["official_title"] = ident["officialTitle"]
    out["brief_title"] = ident.get("briefTitle") or todo("the record has no brief title")
    if ident.get("acronym"):
        out["acronym"] = ident["acronym"]
    phases = design.get("phases")
    out["phases"] = phases if phases else todo("the record gives no phase")
    if design.get("studyType"):
        out["study_type"] = design["studyType"]
    if status.get("overallStatus"):
        out["status"] = status["overallStatus"]
    sponsor = sponsors.get("leadSponsor", {}).get("name")
    out["sponsor"] = sponsor or todo("the record names no lead sponsor")
    collaborators = [c["name"] for c in sponsors.get("collaborators", []) or [] if c.get("name")]
    if collaborators:
        out["collaborators"] = collaborators
    officials = contacts.get("overallOfficials", []) or []
    if officials and officials[0].get("name"):
        chair = {k: officials[0][k] for k in ("name", "affiliation", "role") if officials[0].get(k)}
        out["study_chair"] = chair
    count = design.get("enrollmentInfo", {}).get("count")
    if isinstance(count, int) and count > 0:
        out["target_enrollment"] = count
    dates = (("start_date", "startDateStruct"), ("completion_date", "completionDateStruct"))
    for key, struct in dates:
        date = status.get(struct, {}).get("date")
        if isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            out[key] = date  # a month-only date ("2013-02") is not turned into a day
    if conditions.get("conditions"):
        out["conditions"] = [str(c) for c in conditions["conditions"]]
    for key, source in (("min_age_years", "minimumAge"), ("max_age_years", "maximumAge")):
        age = elig.get(source)
        if isinstance(age, str) and age.strip().upper() not in ("", "N/A"):
            out[key] = age.lower()
    sex = str(elig.get("sex", "ALL")).upper()
    out["sex"] = sex if sex in ("ALL", "FEMALE", "MALE") else "ALL"
    if isinstance(elig.get("healthyVolunteers"), bool):
        out["healthy_volunteers"] = elig["healthyVolunteers"]
    return out


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug or "x")[:48].strip("-")


def _sites(section: dict[str, Any]) -> list[dict[str, Any]]:
    sites = []
    seen: set[str] = set()
    for loc in _module(section, "contactsLocationsModule").get("locations", []) or []:
        name = loc.get("facility")
        if not name:
            continue
        sid = base = _slug(name)
        n = 2
        while sid in seen:
            sid, n = f"{base}-{n}", n + 1
        seen.add(sid)
        site: dict[str, Any] = {"id": sid, "name": name}
        for key in ("city", "state"):
            if loc.get(key):
                site[key] = loc[key]
        site["country"] = loc.get("country") or todo("the record gives no country")
        site["provenance"] = "registry"
        sites.append(site)
    return sites


def _objectives(section: dict[str, Any]) -> list[dict[str, Any]]:
    outcomes = _module(section, "outcomesModule")
    out = []
    for kind, key in (("primary", "primaryOutcomes"), ("secondary", "secondaryOutcomes")):
        for i, item in enumerate(outcomes.get(key, []) or [], start=1):
            text = " ".join(str(item.get("measure", "")).split())
            if item.get("timeFrame"):
                text += f" (time frame: {' '.join(str(item['timeFrame']).split())})"
            if text:
                out.append({"id": f"{kind}-{i}", "kind": kind, "text": text,
                            "provenance": "registry"})
    return out


def _agents(section: dict[str, Any], skipped: list[str]) -> list[dict[str, Any]]:
    agents = []
    seen: set[str] = set()
    module = _module(section, "armsInterventionsModule")
    for item in module.get("interventions", []) or []:
        name = item.get("name")
        if not name:
            continue
        if str(item.get("type", "")).upper() not in _DRUG_TYPES:
            skipped.append(name)
            continue
        aid = _slug(name)
        if aid in seen:
            continue
        seen.add(aid)
        agent: dict[str, Any] = {"id": aid, "name": name}
        if item.get("otherNames"):
            agent["synonyms"] = list(item["otherNames"])
        route = _ROUTE.search(str(item.get("description", "")))
        agent["route"] = route.group(1).upper() if route else todo("route of administration")
        agent["dose_basis"] = todo("dosed by body surface area, weight or flat dose?")
        agent["provenance"] = "registry"
        agents.append(agent)
    return agents


# --- eligibility text -------------------------------------------------------------------


def unescape(text: str) -> str:
    """Remove the markdown backslash escapes the registry puts in criteria text."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)


@dataclass
class _Item:
    indent: int
    text: str
    kind: str
    children: list[_Item] = field(default_factory=list)


def parse_eligibility(text: str) -> list[dict[str, Any]]:
    """Split the registry's eligibility text into nested criteria (drafts: rules are TODO)."""
    roots: list[_Item] = []
    stack: list[_Item] = []
    kind = "inclusion"
    for raw in unescape(text).splitlines():
        if not raw.strip():
            continue
        heading = _HEADING.match(raw)
        if heading:
            kind = heading.group(1).lower()
            stack = []
            continue
        bullet = _BULLET.match(raw.expandtabs(4))
        if bullet is None:
            if stack:  # a continuation line of the previous bullet
                stack[-1].text += " " + raw.strip()
                continue
            bullet_indent, bullet_text = 0, raw.strip()
        else:
            bullet_indent, bullet_text = len(bullet.group("indent")), bullet.group("text")
        item = _Item(bullet_indent, bullet_text.strip(), kind)
        while stack and stack[-1].indent >= item.indent:
            stack.pop()
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    numbering: dict[str, int] = {}
    out = []
    for item in roots:
        numbering[item.kind] = numbering.get(item.kind, 0) + 1
        out.append(_criterion(item, f"{item.kind[:3]}-{numbering[item.kind]}"))
    return out


def _criterion(item: _Item, cid: str) -> dict[str, Any]:
    node: dict[str, Any] = {"id": cid, "kind": item.kind, "text": " ".join(item.text.split())}
    if item.children:
        node["combine"] = "any_of" if _ANY_OF.search(item.text) else "all_of"
        node["provenance"] = "registry"
        node["field_provenance"] = {
            "combine": {
                "source": "assumed",
                "note": "inferred from the wording of the criterion",
            }
        }
        node["children"] = [
            _criterion(child, f"{cid}-{j}") for j, child in enumerate(item.children, start=1)
        ]
    else:
        node["rule"] = todo("which rule computes this criterion, with its parameters")
        node["provenance"] = "registry"
    return node
