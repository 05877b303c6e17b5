"""Rules about the diagnosis, the disease status and the sites of evaluable disease."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field, model_validator

from phaseone.eligibility.context import Context, add_months
from phaseone.eligibility.record import (
    FrontlineResponse,
    SoftTissueLesion,
)
from phaseone.eligibility.rules.base import (
    Categories,
    Days,
    Params,
    Windowed,
    at_least,
    latest_dated,
    rule,
    sites_unknown,
    therapies_unknown,
)
from phaseone.eligibility.verdict import (
    MET,
    UNKNOWN,
    Outcome,
    met,
    not_applicable,
    not_met,
    unknown,
)

# --- diagnosis and disease status ---------------------------------------------------------


class DiagnosisParams(Params):
    histologies: Annotated[tuple[str, ...], Field(min_length=1)]


@rule("diagnosis", DiagnosisParams)
def diagnosis(ctx: Context, p: DiagnosisParams) -> Outcome:
    """High-risk status with an accepted histology."""
    dx = ctx.record.diagnosis
    if dx is None:
        return unknown("no diagnosis recorded", ["diagnosis"])
    ev = {"high_risk": dx.high_risk, "histology": dx.histology}
    if dx.high_risk is False:
        return not_met("not high-risk", **ev)
    if dx.histology is not None and dx.histology not in p.histologies:
        return not_met(f"histology {dx.histology} is not one of {', '.join(p.histologies)}", **ev)
    missing = [f"diagnosis.{f}" for f in ("high_risk", "histology") if ev[f] is None]
    if missing:
        return unknown("diagnosis incomplete", missing, **ev)
    return met(f"high-risk {dx.histology}", **ev)


class StatusDefinitions(Params):
    refractory_responses: Annotated[tuple[FrontlineResponse, ...], Field(min_length=1)]
    persistent_responses: Annotated[tuple[FrontlineResponse, ...], Field(min_length=1)]
    min_induction_cycles: int = Field(ge=0, le=20)

    @cached_property
    def key(self) -> tuple[Any, ...]:
        """Equal definitions (one per criterion that reads them) share one finding."""
        return (
            "status",
            self.refractory_responses,
            self.persistent_responses,
            self.min_induction_cycles,
        )

    @model_validator(mode="after")
    def _disjoint(self) -> StatusDefinitions:
        both = set(self.refractory_responses) & set(self.persistent_responses)
        if both:
            raise ValueError(f"responses {sorted(both)} are both refractory and persistent")
        return self


DiseaseStatus = Literal["recurrent", "refractory", "persistent", "none"]


class StatusFinding(NamedTuple):
    status: DiseaseStatus | None  # None = cannot tell
    reason: str
    missing: tuple[str, ...]
    evidence: dict[str, Any]


def disease_status_of(ctx: Context, d: StatusDefinitions) -> StatusFinding:
    """Recurrent (any relapse/progression so far), refractory or persistent (never relapsed,
    by frontline response after enough induction cycles), or none of these."""
    found: StatusFinding | None = ctx.cache.get(d.key)
    if found is None:
        found = ctx.cache[d.key] = _classify(ctx, d)
    return found


def _classify(ctx: Context, d: StatusDefinitions) -> StatusFinding:
    history = ctx.record.disease_history
    if history is None:
        return StatusFinding(None, "no disease history recorded", ("disease_history",), {})
    events = ctx.relapses()
    if events is None:
        return StatusFinding(None, "relapses are not recorded", ("disease_history.relapses",), {})
    if events:
        first = min(e.date for e in events)
        ev = {"relapses": len(events), "first_relapse": first}
        return StatusFinding("recurrent", f"relapse/progression on {first}", (), ev)
    ev = {
        "relapses": 0,
        "frontline_response": history.frontline_response,
        "induction_cycles": history.induction_cycles,
    }
    missing = tuple(
        f"disease_history.{f}"
        for f in ("frontline_response", "induction_cycles")
        if getattr(history, f) is None
    )
    cycles = history.induction_cycles
    if cycles is not None and cycles < d.min_induction_cycles:
        return StatusFinding(
            "none", f"{cycles} induction cycles, fewer than {d.min_induction_cycles}", (), ev
        )
    if missing:
        return StatusFinding(None, "frontline course incomplete", missing, ev)
    response = history.frontline_response
    if response in d.refractory_responses:
        return StatusFinding("refractory", f"never relapsed; frontline response {response}", (), ev)
    if response in d.persistent_responses:
        return StatusFinding("persistent", f"never relapsed; frontline response {response}", (), ev)
    return StatusFinding("none", f"never relapsed; frontline response {response}", (), ev)


class DiseaseStatusParams(Params):
    statuses: Annotated[
        tuple[Literal["recurrent", "refractory", "persistent"], ...], Field(min_length=1)
    ]
    definitions: StatusDefinitions


@rule("disease_status", DiseaseStatusParams)
def disease_status(ctx: Context, p: DiseaseStatusParams) -> Outcome:
    """Disease status is one of the listed routes."""
    found = disease_status_of(ctx, p.definitions)
    ev = {"disease_status": found.status, **found.evidence}
    if found.status is None:
        return unknown(found.reason, found.missing, **ev)
    if found.status in p.statuses:
        return met(f"{found.status}: {found.reason}", **ev)
    return not_met(f"{found.status}: {found.reason}", **ev)


# --- evaluable disease ---------------------------------------------------------------------


class BiopsyParams(Params):
    histologies: Annotated[tuple[str, ...], Field(min_length=1)]
    min_days_after_last_therapy: Days
    therapy_categories: Categories
    site_avidity: tuple[Literal["mibg", "fdg", "non_avid"], ...] | None = None


def confirming_biopsy(ctx: Context, p: BiopsyParams) -> Outcome:
    """A biopsy showing an accepted histology, at a site present at entry, taken at least
    `min_days_after_last_therapy` after the most recent prior therapy."""
    biopsies = ctx.record.biopsies
    if biopsies is None:
        return unknown("biopsies are not recorded", ["biopsies"])
    last: dt.date | None = None
    therapy_known = ctx.record.prior_therapies is not None
    ongoing = False
    if therapy_known:
        for _, t, _ in ctx.therapies(p.therapy_categories):
            end = ctx.last_dose(t)
            if end is None:
                ongoing = True
            elif last is None or end > last:
                last = end
    earliest = None if last is None else last + dt.timedelta(days=p.min_days_after_last_therapy)
    ev: dict[str, Any] = {"last_therapy": last, "biopsy_from": earliest}
    doubts: list[str] = []
    for i, b in enumerate(biopsies):
        if b.date > ctx.as_of or b.result not in p.histologies:
            continue
        path = f"biopsies[{i}]"
        if p.site_avidity is not None:
            if b.site_avidity is None:
                doubts.append(f"{path}.site_avidity")
                continue
            if b.site_avidity not in p.site_avidity:
                continue
        if b.site_present_at_enrollment is False:
            continue
        if ongoing or (earliest is not None and b.date < earliest):
            continue
        if not therapy_known:
            doubts.append("prior_therapies")
            continue
        if b.site_present_at_enrollment is None:
            doubts.append(f"{path}.site_present_at_enrollment")
            continue
        return met(f"biopsy {b.date} ({b.site}) shows {b.result}", biopsy=b.date, **ev)
    if doubts:
        return unknown("a biopsy may confirm the disease", dict.fromkeys(doubts), **ev)
    if ongoing:
        return not_met("no confirming biopsy: therapy is still being given", **ev)
    when = f" on or after {earliest}" if earliest else ""
    return not_met(f"no confirming biopsy{when}", **ev)


# Fixed outcomes (the same for every record that reaches them) are made once, here and below.
_MIBG_NON_AVID = not_met("tumor is known to be MIBG non-avid")
_MIBG_AVID = not_met("tumor is MIBG-avid (this route is for MIBG non-avid tumors)")


@rule("mibg_bone", Windowed)
def mibg_bone(ctx: Context, p: Windowed) -> Outcome:
    """At least one MIBG-avid bone site, or diffuse uptake, on the latest MIBG scan."""
    sites = ctx.record.disease_sites
    if sites is None:
        return sites_unknown()
    if sites.tumor_mibg_avid is False:
        return _MIBG_NON_AVID
    found = latest_dated(sites.mibg_scans, ctx, p.lookback_days)
    if found is None:
        return unknown(
            f"no MIBG scan in the {p.lookback_days} days before entry",
            ["disease_sites.mibg_scans"],
        )
    _, scan = found
    ev = {
        "scan": scan.date,
        "avid_bone_sites": scan.avid_bone_sites,
        "diffuse": scan.diffuse_uptake,
    }
    if scan.avid_bone_sites >= 1 or scan.diffuse_uptake:
        what = (
            "diffuse uptake" if scan.diffuse_uptake else f"{scan.avid_bone_sites} avid bone site(s)"
        )
        return met(f"MIBG {scan.date}: {what}", **ev)
    return not_met(f"MIBG {scan.date}: no avid bone site", **ev)


class PersistentBiopsyParams(Windowed):
    definitions: StatusDefinitions
    no_biopsy_min_lesions: int = Field(ge=1)
    no_biopsy_min_curie: int = Field(ge=1, le=30)
    biopsy: BiopsyParams


def _persistent_needs(ctx: Context, p: PersistentBiopsyParams) -> Outcome:
    """For persistent disease: enough MIBG-avid lesions or Curie score, else a biopsy."""
    sites = ctx.record.disease_sites
    if sites is None:
        return sites_unknown()
    found = latest_dated(sites.mibg_scans, ctx, p.lookback_days)
    if found is None:
        return unknown("no recent MIBG scan to count lesions", ["disease_sites.mibg_scans"])
    _, scan = found
    lesions = scan.avid_bone_sites + scan.avid_soft_tissue_sites
    ev: dict[str, Any] = {"scan": scan.date, "avid_lesions": lesions, "curie": scan.curie_score}
    if lesions >= p.no_biopsy_min_lesions:
        return met(f"{lesions} MIBG-avid lesions: no biopsy needed", **ev)
    if scan.curie_score is not None and scan.curie_score >= p.no_biopsy_min_curie:
        return met(f"Curie score {scan.curie_score}: no biopsy needed", **ev)
    biopsy = confirming_biopsy(ctx, p.biopsy)
    ev.update(biopsy.evidence)
    if biopsy.status == MET:
        return met(f"{lesions} avid lesion(s); {biopsy.reason}", **ev)
    if scan.curie_score is None:
        missing = ("disease_sites.mibg_scans.curie_score", *biopsy.missing)
        return unknown(f"{lesions} avid lesion(s), Curie score not given", missing, **ev)
    if biopsy.status == UNKNOWN:
        return unknown(biopsy.reason, biopsy.missing, **ev)
    return not_met(
        f"{lesions} avid lesion(s), Curie {scan.curie_score}: biopsy needed; {biopsy.reason}", **ev
    )


@rule("persistent_biopsy", PersistentBiopsyParams)
def persistent_biopsy(ctx: Context, p: PersistentBiopsyParams) -> Outcome:
    """Persistent disease with >= 3 MIBG lesions / Curie >= 3, or a confirming biopsy."""
    found = disease_status_of(ctx, p.definitions)
    if found.status is None:
        return unknown(found.reason, found.missing)
    if found.status != "persistent":
        return not_met(f"applies to persistent disease; status is {found.status}")
    return _persistent_needs(ctx, p)


class FdgBoneParams(Windowed):
    biopsy: BiopsyParams


@rule("fdg_bone", FdgBoneParams)
def fdg_bone(ctx: Context, p: FdgBoneParams) -> Outcome:
    """MIBG non-avid tumor with an FDG-PET-avid bone site and a confirming biopsy."""
    sites = ctx.record.disease_sites
    if sites is None:
        return sites_unknown()
    if sites.tumor_mibg_avid is None:
        return unknown(
            "not known whether the tumor is MIBG-avid", ["disease_sites.tumor_mibg_avid"]
        )
    if sites.tumor_mibg_avid:
        return _MIBG_AVID
    found = latest_dated(sites.fdg_pet_scans, ctx, p.lookback_days)
    if found is None:
        return unknown(
            f"no FDG-PET in the {p.lookback_days} days before entry",
            ["disease_sites.fdg_pet_scans"],
        )
    _, scan = found
    ev: dict[str, Any] = {"scan": scan.date, "fdg_avid_bone_sites": scan.avid_bone_sites}
    if scan.avid_bone_sites < 1:
        return not_met(f"FDG-PET {scan.date}: no avid bone site", **ev)
    biopsy = confirming_biopsy(ctx, p.biopsy)
    ev.update(biopsy.evidence)
    return Outcome(biopsy.status, f"FDG-avid bone site(s); {biopsy.reason}", ev, biopsy.missing)


@rule("marrow_morphology", Windowed)
def marrow_morphology(ctx: Context, p: Windowed) -> Outcome:
    """Tumor cells on routine morphology in at least one bilateral marrow sample."""
    sites = ctx.record.disease_sites
    if sites is None:
        return sites_unknown()
    negative: set[tuple[str, str]] = set()
    since, as_of = ctx.window_start(p.lookback_days), ctx.as_of
    for sample in sites.marrow_samples:
        if not since <= sample.date <= as_of:
            continue
        if sample.morphology == "positive":
            return met(
                f"tumor cells by morphology, {sample.side} {sample.method} {sample.date}",
                sample=sample.date,
            )
        if sample.morphology == "negative":
            negative.add((sample.side, sample.method))
    if len(negative) == 4:
        return not_met("bilateral aspirates and biopsies negative by morphology")
    return unknown(
        "bilateral aspirates and biopsies not all read by morphology",
        ["disease_sites.marrow_samples"],
        negative_samples=len(negative),
    )


def _lesion(ctx: Context) -> tuple[int, SoftTissueLesion]:
    assert ctx.item is not None, "lesion rules run inside a for_each group"
    index, lesion = ctx.item
    assert isinstance(lesion, SoftTissueLesion)
    return index, lesion


class LesionSizeParams(Windowed):
    min_longest_diameter_mm: float = Field(gt=0)
    min_node_short_axis_mm: float = Field(gt=0)


@rule("lesion_size", LesionSizeParams)
def lesion_size(ctx: Context, p: LesionSizeParams) -> Outcome:
    """Measurable: longest diameter >= limit, or a lymph node's short axis >= limit."""
    i, lesion = _lesion(ctx)
    path = f"disease_sites.soft_tissue_lesions[{i}]"
    if not ctx.in_window(lesion.date, p.lookback_days):
        return unknown(
            f"lesion {lesion.id} measured {lesion.date}, not in the {p.lookback_days} days "
            "before entry",
            [f"{path}.date"],
        )
    if lesion.lymph_node is None:
        return unknown(f"lesion {lesion.id}: lymph node or not?", [f"{path}.lymph_node"])
    if lesion.lymph_node:
        size, limit, what = lesion.short_axis_mm, p.min_node_short_axis_mm, "short axis"
    else:
        size, limit, what = (
            lesion.longest_diameter_mm,
            p.min_longest_diameter_mm,
            "longest diameter",
        )
    field = "short_axis_mm" if lesion.lymph_node else "longest_diameter_mm"
    if size is None:
        return unknown(f"lesion {lesion.id}: {what} not measured", [f"{path}.{field}"])
    ev = {"lesion": lesion.id, what.replace(" ", "_") + "_mm": size, "min_mm": limit}
    if at_least(size, limit):
        return met(f"lesion {lesion.id}: {what} {size:g} mm >= {limit:g}", **ev)
    return not_met(f"lesion {lesion.id}: {what} {size:g} mm < {limit:g}", **ev)


@rule("lesion_mibg", PersistentBiopsyParams)
def lesion_mibg(ctx: Context, p: PersistentBiopsyParams) -> Outcome:
    """MIBG-avid lesion; for persistent disease, lesion count / Curie score or a biopsy."""
    i, lesion = _lesion(ctx)
    if lesion.mibg_avid is None:
        return unknown(
            f"lesion {lesion.id}: MIBG avidity not recorded",
            [f"disease_sites.soft_tissue_lesions[{i}].mibg_avid"],
        )
    if not lesion.mibg_avid:
        return not_met(f"lesion {lesion.id} is not MIBG-avid")
    found = disease_status_of(ctx, p.definitions)
    if found.status is None:
        return unknown(f"lesion {lesion.id} MIBG-avid; {found.reason}", found.missing)
    if found.status != "persistent":
        return met(f"lesion {lesion.id} MIBG-avid ({found.status}: no biopsy needed)")
    out = _persistent_needs(ctx, p)
    return Outcome(
        out.status, f"lesion {lesion.id} MIBG-avid; {out.reason}", out.evidence, out.missing
    )


class LesionBiopsyParams(Params):
    biopsy: BiopsyParams


@rule("lesion_fdg", LesionBiopsyParams)
def lesion_fdg(ctx: Context, p: LesionBiopsyParams) -> Outcome:
    """FDG-avid lesion of an MIBG non-avid tumor, with a biopsy of an FDG-avid site."""
    i, lesion = _lesion(ctx)
    sites = ctx.record.disease_sites
    assert sites is not None
    if sites.tumor_mibg_avid is None:
        return unknown(
            "not known whether the tumor is MIBG-avid", ["disease_sites.tumor_mibg_avid"]
        )
    if sites.tumor_mibg_avid:
        return _MIBG_AVID
    if lesion.fdg_avid is None:
        return unknown(
            f"lesion {lesion.id}: FDG avidity not recorded",
            [f"disease_sites.soft_tissue_lesions[{i}].fdg_avid"],
        )
    if not lesion.fdg_avid:
        return not_met(f"lesion {lesion.id} is not FDG-avid")
    out = confirming_biopsy(ctx, p.biopsy)
    return Outcome(
        out.status, f"lesion {lesion.id} FDG-avid; {out.reason}", out.evidence, out.missing
    )


@rule("lesion_non_avid", LesionBiopsyParams)
def lesion_non_avid(ctx: Context, p: LesionBiopsyParams) -> Outcome:
    """Lesion avid to neither MIBG nor FDG, with a biopsy of a non-avid lesion."""
    i, lesion = _lesion(ctx)
    path = f"disease_sites.soft_tissue_lesions[{i}]"
    if lesion.mibg_avid or lesion.fdg_avid:
        return not_met(f"lesion {lesion.id} is avid")
    missing = [f"{path}.{f}" for f in ("mibg_avid", "fdg_avid") if getattr(lesion, f) is None]
    if missing:
        return unknown(f"lesion {lesion.id}: avidity not recorded", missing)
    out = confirming_biopsy(ctx, p.biopsy)
    return Outcome(
        out.status, f"lesion {lesion.id} non-avid; {out.reason}", out.evidence, out.missing
    )


class RecentTreatmentParams(Params):
    max_months_off_treatment: int = Field(ge=0, le=120)
    therapy_categories: Categories


@rule("recent_treatment_after_progression", RecentTreatmentParams)
def recent_treatment_after_progression(ctx: Context, p: RecentTreatmentParams) -> Outcome:
    """Prior progressive disease and off treatment no longer than the limit."""
    relapses = ctx.relapses()
    if relapses is None:
        return unknown("relapses are not recorded", ["disease_history.relapses"])
    if not relapses:
        return not_met("no prior progressive disease")
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    last: dt.date | None = None  # the latest last dose: the one with the fewest days off
    fewest = 0
    for _, t, off in ctx.therapies(p.therapy_categories):
        if off is None:
            return met("prior progressive disease; still on treatment", off_treatment_since=None)
        if last is None or off < fewest:
            last, fewest = t.end, off
    if last is None:
        return not_met("prior progressive disease but no treatment recorded")
    deadline = add_months(last, p.max_months_off_treatment)
    ev = {"off_treatment_since": last, "eligible_until": deadline}
    if ctx.as_of <= deadline:
        return met(f"off treatment since {last} (until {deadline})", **ev)
    return not_met(
        f"off treatment since {last}, more than {p.max_months_off_treatment} months", **ev
    )


class RadiatedSitesParams(Params):
    sites_criterion: str


_NOT_ALL_RADIATED = not_applicable("not every site of disease has been radiated")


@rule("radiated_sites", RadiatedSitesParams, references=lambda p: [p.sites_criterion])
def radiated_sites(ctx: Context, p: RadiatedSitesParams) -> Outcome:
    """Only radiated sites (no progression history): a lesion must meet the site criteria."""
    sites = ctx.record.disease_sites
    if sites is None or sites.only_radiated_sites is None:
        return unknown(
            "not known whether every site has been radiated", ["disease_sites.only_radiated_sites"]
        )
    if not sites.only_radiated_sites:
        return _NOT_ALL_RADIATED
    relapses = ctx.relapses()
    if relapses is None:
        return unknown("relapses are not recorded", ["disease_history.relapses"])
    if relapses:
        return not_applicable("history of progressive disease: the exception applies")
    status = ctx.verdict_of(p.sites_criterion)
    reason = f"only radiated sites; {p.sites_criterion} is {status}"
    if status == UNKNOWN:
        return unknown(reason, [p.sites_criterion])
    return Outcome(status, reason, {"sites_criterion": status})
