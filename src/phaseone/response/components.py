"""The three INRC component responses: primary tumour, metastatic soft tissue and bone, marrow.

Each function compares one evaluation with the patient's baseline (for CR and PR) and with
the nadir of earlier measurements (for PD), under a rule set's thresholds
(phaseone.response.criteria), and returns the category, the rule that fired and the inputs
it used. Rule ids name the row of the component table they encode (standards.md §1.2-1.3:
PDQ's overall definitions, the reconstruction of Park 2017 Tables 2-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from phaseone.response.criteria import Criteria
from phaseone.response.evaluation import Evaluation, Lesion

Component = Literal["primary", "metastatic", "marrow"]
ComponentResponse = Literal["CR", "PR", "MD", "SD", "PD", "NI", "NE"]
Value = float | int | str | bool | None

_EPS = 1e-9  # diameters and percentages are compared at their recorded precision

# (scale, score, per-segment scores, Curie soft-tissue extent) of one evaluation
Scale = Literal["curie", "siopen", "pet"]
BoneScore = tuple[Scale | None, float, dict[str, int], int]


@dataclass(frozen=True)
class ComponentResult:
    """One component's response at one evaluation, explained."""

    component: Component
    response: ComponentResponse
    rule: str
    reason: str
    inputs: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """What the baseline evaluation says, read once per patient."""

    primary_ids: tuple[str, ...]
    primary_mm: float
    primary_avid: bool  # uptake at the primary at baseline: CR then needs it recorded gone
    metastatic: Mapping[str, Lesion]  # non-primary lesions at baseline, by id
    metastatic_target_mm: float
    bone_scale: Scale | None
    bone_score: float  # MIBG bone score, or the number of FDG-avid bone sites
    bone_segments: Mapping[str, int]  # per-segment scores of the scale in use
    curie_soft_tissue: int
    marrow_percent: float | None  # None: no usable baseline marrow

    @property
    def metastatic_involved(self) -> bool:
        return (
            any(lesion.diameter_mm > 0 for lesion in self.metastatic.values())
            or self.bone_score > 0
            or self.curie_soft_tissue > 0
        )

    @property
    def has_disease(self) -> bool:
        return bool(
            self.primary_mm > 0 or self.metastatic_involved or (self.marrow_percent or 0) > 0
        )


@dataclass
class Nadir:
    """Smallest earlier measurements (baseline included), the reference for growth PD."""

    primary_mm: float
    metastatic_sum_mm: float
    lesion_mm: dict[str, float]


def bone_score(e: Evaluation, c: Criteria) -> BoneScore:
    """(scale, bone score, segments, Curie soft-tissue extent) of one evaluation."""
    mibg = e.mibg
    if mibg is not None and mibg.avid:
        curie, siopen = mibg.curie, mibg.siopen
        use_curie = curie is not None and (c.mibg_scale == "curie" or siopen is None)
        if use_curie and curie is not None:
            score = curie.skeletal if c.mibg_bone_score == "skeletal" else curie.total
            return "curie", float(score), curie.skeletal_segments(), curie.soft_tissue
        if siopen is not None:
            return "siopen", float(siopen.total), siopen.skeletal_segments(), 0
        return None, 0.0, {}, 0
    if e.pet is not None:
        return "pet", float(e.pet.avid_bone_sites), {}, 0
    return None, 0.0, {}, 0


def marrow_percent(e: Evaluation, c: Criteria) -> tuple[float | None, int, int]:
    """(combined tumour %, aspirates, biopsies) of the samples read by the rule set's methods."""
    samples = [s for s in e.marrow if s.method in c.marrow_methods]
    if not samples:
        return None, 0, 0
    values = [s.tumour_percent for s in samples]
    combined = max(values) if c.marrow_combine == "highest" else sum(values) / len(values)
    aspirates = len({s.side for s in samples if s.kind == "aspirate"})
    biopsies = len({s.side for s in samples if s.kind == "biopsy"})
    return combined, aspirates, biopsies


def read_baseline(e: Evaluation, c: Criteria) -> Baseline:
    primaries = [x for x in e.lesions if x.site == "primary"]
    metastatic = {x.id: x for x in e.lesions if x.site != "primary"}
    scale, score, segments, soft = bone_score(e, c)
    return Baseline(
        primary_ids=tuple(x.id for x in primaries),
        primary_mm=sum(x.diameter_mm for x in primaries),
        primary_avid=any(x.avid for x in primaries),
        metastatic=metastatic,
        metastatic_target_mm=sum(x.diameter_mm for x in metastatic.values() if x.target),
        bone_scale=scale,
        bone_score=score,
        bone_segments=segments,
        curie_soft_tissue=soft,
        marrow_percent=marrow_percent(e, c)[0],
    )


def start_nadir(base: Baseline) -> Nadir:
    return Nadir(
        primary_mm=base.primary_mm,
        metastatic_sum_mm=base.metastatic_target_mm,
        lesion_mm={k: v.diameter_mm for k, v in base.metastatic.items()},
    )


def _grew(now: float, nadir: float, c: Criteria) -> bool:
    """Growth PD: by pd_increase over the nadir (>= or >) and by pd_absolute_mm or more."""
    limit = nadir * (1 + c.pd_increase)
    relative = now >= limit - _EPS if c.growth_pd_inclusive else now > limit + _EPS
    return relative and now - nadir >= c.pd_absolute_mm - _EPS


# --- primary tumour --------------------------------------------------------------------


def primary(e: Evaluation, base: Baseline, nadir: Nadir, c: Criteria) -> ComponentResult:
    """Primary tumour (standards.md §1.3, first table; PDQ CR/PR/PD)."""
    if not base.primary_ids or base.primary_mm <= 0:
        return ComponentResult("primary", "NI", "primary.NI", "no primary tumour at baseline")
    now = {x.id: x for x in e.lesions if x.site == "primary"}
    missing = [i for i in base.primary_ids if i not in now]
    if missing:
        return ComponentResult(
            "primary", "NE", "primary.NE", f"primary lesion {', '.join(missing)} not measured"
        )
    d = sum(now[i].diameter_mm for i in base.primary_ids)
    avid = any(now[i].avid for i in base.primary_ids)
    # An avid primary needs its uptake recorded as gone (avid: false) for CR; unknown is not.
    resolved = (
        all(now[i].avid is False for i in base.primary_ids) if base.primary_avid else not avid
    )
    inputs: dict[str, Value] = {
        "diameter_mm": d,
        "baseline_mm": base.primary_mm,
        "nadir_mm": nadir.primary_mm,
        "avid": avid,
    }
    if _grew(d, nadir.primary_mm, c):
        return ComponentResult(
            "primary",
            "PD",
            "primary.PD.growth",
            f"{d:g} mm is {_pct(d, nadir.primary_mm)} over the nadir {nadir.primary_mm:g} mm "
            f"and {d - nadir.primary_mm:g} mm larger",
            inputs,
        )
    if d < c.primary_cr_max_mm - _EPS and resolved:
        return ComponentResult(
            "primary",
            "CR",
            "primary.CR",
            f"residual {d:g} mm < {c.primary_cr_max_mm:g} mm and no uptake",
            inputs,
        )
    if d <= base.primary_mm * (1 - c.pr_decrease) + _EPS:
        return ComponentResult(
            "primary",
            "PR",
            "primary.PR",
            f"{d:g} mm is {_pct(d, base.primary_mm)} from baseline {base.primary_mm:g} mm "
            f"(PR at -{c.pr_decrease:.0%} or less)",
            inputs,
        )
    return ComponentResult(
        "primary",
        "SD",
        "primary.SD",
        f"{d:g} mm vs baseline {base.primary_mm:g} mm: neither PR nor PD",
        inputs,
    )


def _pct(now: float, ref: float) -> str:
    if ref <= 0:
        return "new"
    return f"{(now - ref) / ref:+.0%}"


# --- metastatic soft tissue and bone ---------------------------------------------------


def _new_lesions(e: Evaluation, base: Baseline, c: Criteria) -> list[str]:
    """New lesions: flagged new, or an id the baseline did not have (ids are persistent)."""
    found = []
    for x in e.lesions:
        unseen = x.id not in base.metastatic and x.id not in base.primary_ids
        if (x.new or unseen) and (c.new_lesion_pd == "any" or x.avid or x.biopsy_proven):
            found.append(f"new lesion {x.id}" + ("" if x.new else " (not at baseline)"))
    if e.new_lesion and c.new_lesion_pd == "any":
        found.append("new lesion reported")
    return found


def _new_bone_sites(e: Evaluation, base: Baseline, bone: BoneScore) -> list[str]:
    found = []
    if e.mibg is not None and e.mibg.new_avid_bone_site:
        found.append("new MIBG-avid bone site")
    if e.pet is not None and e.pet.new_avid_bone_site:
        found.append("new FDG-avid bone site")
    scale, score, segments, _ = bone
    if scale == "pet" and base.bone_scale == "pet" and score > base.bone_score:
        found.append(f"{score:g} FDG-avid bone sites, {base.bone_score:g} at baseline")
    if scale == base.bone_scale and scale in ("curie", "siopen"):
        for name, value in segments.items():
            if value > 0 and base.bone_segments.get(name, 0) == 0:
                found.append(f"new avid bone segment {name}")
    return found


def metastatic(e: Evaluation, base: Baseline, nadir: Nadir, c: Criteria) -> ComponentResult:
    """Soft-tissue and bone metastases (standards.md §1.3, second table; PDQ PD list)."""
    bone = bone_score(e, c)
    scale, score, _, soft = bone
    lesions = {x.id: x for x in e.lesions if x.id in base.metastatic and not x.new}
    target_sum = sum(lesions[i].diameter_mm for i in lesions if lesions[i].target)
    relative = score / base.bone_score if base.bone_score > 0 and scale == base.bone_scale else None
    inputs: dict[str, Value] = {
        "soft_tissue_sum_mm": target_sum,
        "baseline_sum_mm": base.metastatic_target_mm,
        "nadir_sum_mm": nadir.metastatic_sum_mm,
        "bone_scale": scale,
        "bone_score": score,
        "baseline_bone_score": base.bone_score,
        "relative_bone_score": relative,
    }
    pd = _new_lesions(e, base, c) + _new_bone_sites(e, base, bone)
    if pd:
        return ComponentResult(
            "metastatic", "PD", "metastatic.PD.new_lesion", "; ".join(pd), inputs
        )
    if relative is not None and scale != "pet" and relative >= c.mibg_pd_relative - _EPS:
        return ComponentResult(
            "metastatic",
            "PD",
            "metastatic.PD.relative_mibg",
            f"relative bone score {relative:.2f} >= {c.mibg_pd_relative:g}",
            inputs,
        )
    if c.soft_tissue_growth_basis == "lesion":
        for lid, lesion in lesions.items():
            ref = nadir.lesion_mm.get(lid)
            if ref is not None and _grew(lesion.diameter_mm, ref, c):
                return ComponentResult(
                    "metastatic",
                    "PD",
                    "metastatic.PD.lesion_growth",
                    f"lesion {lid} {lesion.diameter_mm:g} mm is {_pct(lesion.diameter_mm, ref)}"
                    f" over its nadir {ref:g} mm",
                    inputs,
                )
    elif base.metastatic_target_mm > 0 and _grew(target_sum, nadir.metastatic_sum_mm, c):
        return ComponentResult(
            "metastatic",
            "PD",
            "metastatic.PD.sum_growth",
            f"sum {target_sum:g} mm is {_pct(target_sum, nadir.metastatic_sum_mm)} over the "
            f"nadir {nadir.metastatic_sum_mm:g} mm",
            inputs,
        )
    if not base.metastatic_involved:
        return ComponentResult(
            "metastatic", "NI", "metastatic.NI", "no metastatic disease at baseline", inputs
        )
    missing = [i for i in base.metastatic if i not in lesions]
    if missing:
        return ComponentResult(
            "metastatic", "NE", "metastatic.NE", f"lesion {', '.join(missing)} not measured", inputs
        )
    if base.bone_score > 0 and scale != base.bone_scale:
        return ComponentResult(
            "metastatic",
            "NE",
            "metastatic.NE",
            f"bone disease scored by {base.bone_scale} at baseline, {scale or 'not scored'} now",
            inputs,
        )
    small = all(
        x.diameter_mm
        < (c.lymph_node_cr_max_mm if x.site == "lymph_node" else c.primary_cr_max_mm) - _EPS
        for x in lesions.values()
    )
    # Lesions avid at baseline need their uptake recorded as gone (avid: false) for CR.
    no_uptake = (
        score == 0
        and soft == 0
        and not any(x.avid for x in lesions.values())
        and all(lesions[i].avid is False for i, x in base.metastatic.items() if x.avid)
    )
    if small and no_uptake:
        return ComponentResult(
            "metastatic",
            "CR",
            "metastatic.CR",
            f"lesions < {c.primary_cr_max_mm:g} mm (nodes < {c.lymph_node_cr_max_mm:g} mm) "
            "and no uptake at non-primary sites",
            inputs,
        )
    parts = []
    if base.metastatic_target_mm > 0:
        ok = target_sum <= base.metastatic_target_mm * (1 - c.pr_decrease) + _EPS
        parts.append((ok, f"soft-tissue sum {_pct(target_sum, base.metastatic_target_mm)}"))
    if relative is not None:
        ok = relative <= c.mibg_pr_relative_max + _EPS
        parts.append((ok, f"relative bone score {relative:.2f}"))
    if parts and all(ok for ok, _ in parts):
        return ComponentResult(
            "metastatic",
            "PR",
            "metastatic.PR",
            " and ".join(text for _, text in parts)
            + f" (PR: sum -{c.pr_decrease:.0%}, bone <= {c.mibg_pr_relative_max:g})",
            inputs,
        )
    return ComponentResult(
        "metastatic",
        "SD",
        "metastatic.SD",
        "; ".join(text for _, text in parts) + ": neither PR nor PD" if parts else "persisting",
        inputs,
    )


# --- bone marrow -----------------------------------------------------------------------


def marrow(e: Evaluation, base: Baseline, c: Criteria) -> ComponentResult:
    """Bone marrow (standards.md §1.3, third table; PDQ PD and CR wording)."""
    m, aspirates, biopsies = marrow_percent(e, c)
    m0 = base.marrow_percent
    inputs: dict[str, Value] = {
        "tumour_percent": m,
        "baseline_percent": m0,
        "aspirates": aspirates,
        "biopsies": biopsies,
    }
    if m0 is None:
        return ComponentResult("marrow", "NE", "marrow.NE", "no baseline marrow", inputs)
    if m0 == 0:
        if m is None or m == 0:
            return ComponentResult("marrow", "NI", "marrow.NI", "marrow not involved", inputs)
        edge = c.marrow_md_max_percent
        is_pd = m >= edge - _EPS if c.marrow_new_involvement_pd == ">=5" else m > edge + _EPS
        if is_pd:
            return ComponentResult(
                "marrow",
                "PD",
                "marrow.PD.new_involvement",
                f"negative marrow now {m:g}% ({c.marrow_new_involvement_pd}% is PD)",
                inputs,
            )
        if c.new_low_level_marrow == "PD":
            return ComponentResult(
                "marrow",
                "PD",
                "marrow.PD.new_low_level",
                f"negative marrow now {m:g}% (new low-level involvement is PD)",
                inputs,
            )
        return ComponentResult(
            "marrow",
            "MD",
            "marrow.MD.new_low_level",
            f"negative marrow now {m:g}% (new low-level involvement is MD)",
            inputs,
        )
    if m is None:
        return ComponentResult(
            "marrow", "NE", "marrow.NE", "involved marrow not re-examined", inputs
        )
    if m >= c.marrow_pd_factor * m0 - _EPS and m > c.marrow_pd_min_percent + _EPS:
        return ComponentResult(
            "marrow",
            "PD",
            "marrow.PD.doubling",
            f"{m:g}% is at least {c.marrow_pd_factor:g}x baseline {m0:g}% and "
            f"> {c.marrow_pd_min_percent:g}%",
            inputs,
        )
    if m == 0:
        if aspirates >= c.marrow_cr_aspirates and biopsies >= c.marrow_cr_biopsies:
            return ComponentResult(
                "marrow",
                "CR",
                "marrow.CR",
                f"no tumour in {aspirates} aspirates and {biopsies} biopsies",
                inputs,
            )
        return ComponentResult(
            "marrow",
            "NE",
            "marrow.NE.samples",
            f"no tumour seen, but CR needs {c.marrow_cr_aspirates} aspirates and "
            f"{c.marrow_cr_biopsies} biopsies (got {aspirates} and {biopsies})",
            inputs,
        )
    if m <= c.marrow_md_max_percent + _EPS:
        return ComponentResult(
            "marrow",
            "MD",
            "marrow.MD",
            f"{m:g}% is minimal disease (<= {c.marrow_md_max_percent:g}%)",
            inputs,
        )
    return ComponentResult("marrow", "SD", "marrow.SD", f"still {m:g}% (baseline {m0:g}%)", inputs)
