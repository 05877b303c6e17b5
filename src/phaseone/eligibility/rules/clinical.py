"""Rules about performance, judgement, reproduction and the exclusions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from phaseone.eligibility.context import Context, completed_months, completed_years
from phaseone.eligibility.record import FLAG_FIELDS, DiseaseSites
from phaseone.eligibility.rules.base import (
    Days,
    NoParams,
    Params,
    Windowed,
    at_least,
    at_most,
    latest_dated,
    rule,
    sites_unknown,
)
from phaseone.eligibility.verdict import (
    NOT_MET,
    UNKNOWN,
    Outcome,
    Status,
    combine,
    met,
    not_applicable,
    not_met,
    unknown,
)

# --- performance and judgement -------------------------------------------------------------


class LifeExpectancyParams(Params):
    min_weeks: float = Field(gt=0)


@rule("life_expectancy", LifeExpectancyParams)
def life_expectancy(ctx: Context, p: LifeExpectancyParams) -> Outcome:
    """The investigator's life-expectancy estimate reaches the minimum."""
    weeks = ctx.record.life_expectancy_weeks
    if weeks is None:
        return unknown("life expectancy not given", ["life_expectancy_weeks"])
    if at_least(weeks, p.min_weeks):
        return met(f"{weeks:g} weeks", weeks=weeks)
    return not_met(f"{weeks:g} weeks < {p.min_weeks:g}", weeks=weeks)


class PerformanceParams(Windowed):
    lansky_through_age_years: int = Field(ge=0, le=30)
    min_score: int = Field(ge=0, le=100)


@rule("performance", PerformanceParams)
def performance(ctx: Context, p: PerformanceParams) -> Outcome:
    """Lansky up to the age cut-off, Karnofsky above it; score at least the floor."""
    best = None
    since, as_of = ctx.window_start(p.lookback_days), ctx.as_of
    for score in ctx.record.performance:
        if not since <= score.date <= as_of:
            continue
        age = completed_years(ctx.record.birth_date, score.date)
        scale = "lansky" if age <= p.lansky_through_age_years else "karnofsky"
        if score.scale == scale and (best is None or score.date >= best.date):
            best = score
    if best is None:
        needed_now = (
            "lansky"
            if completed_years(ctx.record.birth_date, ctx.as_of) <= (p.lansky_through_age_years)
            else "karnofsky"
        )
        return unknown(
            f"no {needed_now.title()} score in the {p.lookback_days} days before entry",
            ["performance"],
        )
    ev = {"scale": best.scale, "score": best.value, "date": best.date}
    if best.value >= p.min_score:
        return met(f"{best.scale.title()} {best.value} ({best.date})", **ev)
    return not_met(f"{best.scale.title()} {best.value} < {p.min_score}", **ev)


class FlagParams(Params):
    field: str
    expected: bool
    sexes: tuple[Literal["female", "male"], ...] | None = None

    @model_validator(mode="after")
    def _known(self) -> FlagParams:
        if self.field not in FLAG_FIELDS:
            raise ValueError(
                f"field {self.field!r} is not a yes/no field of the patient record; "
                f"expected one of: {', '.join(FLAG_FIELDS)}"
            )
        return self


@rule("flag", FlagParams)
def flag(ctx: Context, p: FlagParams) -> Outcome:
    """A yes/no fact of the record has the expected value."""
    if p.sexes is not None and ctx.record.sex not in p.sexes:
        return not_applicable(f"applies to {', '.join(p.sexes)} patients")
    value = getattr(ctx.record, p.field)
    if value is None:
        return unknown(f"{p.field} not recorded", [p.field])
    word = "yes" if value else "no"
    if value == p.expected:
        return met(f"{p.field}: {word}", **{p.field: value})
    return not_met(f"{p.field}: {word}", **{p.field: value})


class FieldInParams(Params):
    field: Literal["sos"]
    allowed: Annotated[tuple[str, ...], Field(min_length=1)]


@rule("field_in", FieldInParams)
def field_in(ctx: Context, p: FieldInParams) -> Outcome:
    """A coded fact of the record is one of the allowed values."""
    value = getattr(ctx.record, p.field)
    if value is None:
        return unknown(f"{p.field} not recorded", [p.field])
    if value in p.allowed:
        return met(f"{p.field}: {value}", **{p.field: value})
    return not_met(f"{p.field}: {value} (allowed: {', '.join(p.allowed)})", **{p.field: value})


# --- reproduction ----------------------------------------------------------------------------


def _fcbp(ctx: Context) -> Outcome | None:
    """None when the patient is a female of childbearing potential; otherwise the outcome."""
    if ctx.record.sex != "female":
        return not_applicable("applies to females of childbearing potential")
    if ctx.record.childbearing_potential is None:
        return unknown("childbearing potential not recorded", ["childbearing_potential"])
    if not ctx.record.childbearing_potential:
        return not_applicable("not of childbearing potential")
    return None


@rule("hcg_post_menarchal", Windowed)
def hcg_post_menarchal(ctx: Context, p: Windowed) -> Outcome:
    """Post-menarchal females: the latest beta-HCG is negative."""
    if ctx.record.sex != "female":
        return not_applicable("applies to post-menarchal females")
    if ctx.record.post_menarchal is None:
        return unknown("menarche not recorded", ["post_menarchal"])
    if not ctx.record.post_menarchal:
        return not_applicable("pre-menarchal")
    found = latest_dated(ctx.record.pregnancy_tests, ctx, p.lookback_days)
    if found is None:
        return unknown(
            f"no beta-HCG in the {p.lookback_days} days before entry", ["pregnancy_tests"]
        )
    _, test = found
    ev = {"date": test.date, "specimen": test.specimen, "result": test.result}
    if test.result == "negative":
        return met(f"negative {test.specimen} beta-HCG on {test.date}", **ev)
    return not_met(f"POSITIVE {test.specimen} beta-HCG on {test.date}", **ev)


# Fixed outcomes (the same for every record that reaches them) are made once, here and below.
_NOT_REPRODUCTIVE = not_applicable("not of reproductive potential")


@rule("contraception_agreed", NoParams)
def contraception_agreed(ctx: Context, p: NoParams) -> Outcome:
    """Patients of reproductive potential agree to effective contraception."""
    if ctx.record.childbearing_potential is None:
        return unknown("reproductive potential not recorded", ["childbearing_potential"])
    if not ctx.record.childbearing_potential:
        return _NOT_REPRODUCTIVE
    c = ctx.record.contraception
    value = None if c is None else c.agrees_effective_contraception
    if value is None:
        return unknown(
            "contraception agreement not recorded", ["contraception.agrees_effective_contraception"]
        )
    return (
        met("agrees to effective contraception")
        if value
        else not_met("does not agree to contraception")
    )


class PregnancyTestParams(Params):
    sensitivity_miu_ml: float = Field(gt=0)
    first_test_days_before: tuple[int, int]
    second_test_days_before: tuple[int, int]

    @model_validator(mode="after")
    def _ordered(self) -> PregnancyTestParams:
        for name in ("first_test_days_before", "second_test_days_before"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ValueError(
                    f"{name} must be [earliest, latest] days with 0 <= earliest <= latest"
                )
        return self


@rule("fcbp_pregnancy_tests", PregnancyTestParams)
def fcbp_pregnancy_tests(ctx: Context, p: PregnancyTestParams) -> Outcome:
    """Two negative sensitive pregnancy tests in the two windows, and ongoing testing."""
    gate = _fcbp(ctx)
    if gate is not None:
        return gate
    missing: list[str] = []
    ev: dict[str, Any] = {}
    for label, (lo, hi) in (
        ("first", p.first_test_days_before),
        ("second", p.second_test_days_before),
    ):
        tests = [t for t in ctx.record.pregnancy_tests if lo <= ctx.days_before(t.date) <= hi]
        positive = [t for t in tests if t.result == "positive"]
        if positive:
            return not_met(
                f"POSITIVE pregnancy test on {positive[0].date}", positive=positive[0].date
            )
        # "A sensitivity of at least 25 mIU/mL": the test detects hCG at 25 mIU/mL or less.
        good = [
            t
            for t in tests
            if t.sensitivity_miu_ml is not None
            and at_most(t.sensitivity_miu_ml, p.sensitivity_miu_ml)
        ]
        if good:
            ev[f"{label}_test"] = good[-1].date
        elif any(t.sensitivity_miu_ml is None for t in tests):
            missing.append("pregnancy_tests.sensitivity_miu_ml")
        else:
            missing.append(f"pregnancy_tests ({lo}-{hi} days before entry)")
    c = ctx.record.contraception
    agrees = None if c is None else c.agrees_ongoing_pregnancy_testing
    if agrees is False:
        return not_met("does not agree to ongoing pregnancy testing", **ev)
    if agrees is None:
        missing.append("contraception.agrees_ongoing_pregnancy_testing")
    if missing:
        return unknown("pregnancy testing incomplete", missing, **ev)
    return met(f"negative tests on {ev['first_test']} and {ev['second_test']}", **ev)


class BirthControlParams(Params):
    min_days_before: Days


@rule("fcbp_birth_control", BirthControlParams)
def fcbp_birth_control(ctx: Context, p: BirthControlParams) -> Outcome:
    """Abstinence, or one highly effective and one additional method, begun in time."""
    gate = _fcbp(ctx)
    if gate is not None:
        return gate
    c = ctx.record.contraception
    if c is None:
        return unknown("contraception not recorded", ["contraception"])
    if c.abstinence_committed:
        return met("commits to abstinence")
    latest = ctx.as_of - dt.timedelta(days=p.min_days_before)
    kinds = {m.kind for m in c.methods if m.start <= latest}
    ev = {"methods_started_by": latest, "kinds": sorted(kinds)}
    if {"highly_effective", "additional"} <= kinds:
        return met(f"two methods begun by {latest}", **ev)
    if c.abstinence_committed is None:
        return unknown(
            "two methods not begun in time; abstinence not recorded",
            ["contraception.abstinence_committed"],
            **ev,
        )
    return not_met(f"needs a highly effective and an additional method begun by {latest}", **ev)


_NOT_REPRODUCTIVE_AGE = not_applicable("not of reproductive age")


@rule("male_condom", NoParams)
def male_condom(ctx: Context, p: NoParams) -> Outcome:
    """Males of reproductive age agree to use a latex condom."""
    if ctx.record.sex != "male":
        return not_applicable("applies to males")
    if ctx.record.childbearing_potential is None:
        return unknown("reproductive potential not recorded", ["childbearing_potential"])
    if not ctx.record.childbearing_potential:
        return _NOT_REPRODUCTIVE_AGE
    c = ctx.record.contraception
    value = None if c is None else c.agrees_latex_condom
    if value is None:
        return unknown("condom agreement not recorded", ["contraception.agrees_latex_condom"])
    return met("agrees to a latex condom") if value else not_met("does not agree to a latex condom")


# --- other inclusions and the exclusions -----------------------------------------------------


_NO_OTHER_ISSUES = met("no other serious medical issues")


@rule("chair_approval", NoParams)
def chair_approval(ctx: Context, p: NoParams) -> Outcome:
    """Other serious medical issues are approved by the study chair."""
    issues = ctx.record.other_medical_issues
    if issues is None or issues.present is None:
        return unknown(
            "other serious medical issues not recorded", ["other_medical_issues.present"]
        )
    if not issues.present:
        return _NO_OTHER_ISSUES
    if issues.chair_approved is None:
        return unknown("chair's approval not recorded", ["other_medical_issues.chair_approved"])
    if issues.chair_approved:
        return met("other medical issues approved by the study chair")
    return not_met("other medical issues not approved by the study chair")


class MaxAgeParams(Params):
    max_completed_years: int = Field(ge=0, le=120)


@rule("max_age", MaxAgeParams)
def max_age(ctx: Context, p: MaxAgeParams) -> Outcome:
    """Age in completed years on the entry date is at most the maximum."""
    months = completed_months(ctx.record.birth_date, ctx.as_of)
    years = months // 12
    ev = {"age_years": years, "age_months": months}
    if years <= p.max_completed_years:
        return met(f"age {years}y{months % 12}m", **ev)
    return not_met(f"age {years}y{months % 12}m > {p.max_completed_years} years", **ev)


_NO_PARABEN_ALLERGY = not_met("no paraben allergy")


@rule("paraben", NoParams)
def paraben(ctx: Context, p: NoParams) -> Outcome:
    """Excluded: paraben allergy with no paraben-free isotretinoin available."""
    allergy = ctx.record.paraben_allergy
    if allergy is None:
        return unknown("paraben allergy not recorded", ["paraben_allergy"])
    if not allergy:
        return _NO_PARABEN_ALLERGY
    alternative = ctx.record.paraben_free_isotretinoin_available
    if alternative is None:
        return unknown(
            "paraben allergy; paraben-free preparation?", ["paraben_free_isotretinoin_available"]
        )
    if alternative:
        return not_met("paraben allergy; a paraben-free preparation is available")
    return met("paraben allergy and no paraben-free isotretinoin")


class ThrombosisParams(Params):
    before_age_years: int = Field(gt=0, le=120)


_NO_THROMBOSIS = not_met("no thrombosis")
_NO_EXCLUDING_THROMBOSIS = not_met("no thrombosis that excludes")


@rule("thrombosis", ThrombosisParams)
def thrombosis(ctx: Context, p: ThrombosisParams) -> Outcome:
    """Excluded: thrombosis before the age limit not associated with a central line."""
    events = ctx.record.thromboses
    if events is None:
        return unknown("thrombosis history not recorded", ["thromboses"])
    doubts = []
    for i, e in enumerate(events):
        if e.date > ctx.as_of:
            continue
        age = completed_years(ctx.record.birth_date, e.date)
        if age >= p.before_age_years or e.central_line_related:
            continue
        if e.central_line_related is None:
            doubts.append(f"thromboses[{i}].central_line_related")
            continue
        return met(f"{e.kind} thrombosis on {e.date} (age {age}), not line-related", event=i)
    if doubts:
        return unknown("not known whether a thrombosis was line-related", doubts)
    return _NO_EXCLUDING_THROMBOSIS if events else _NO_THROMBOSIS


_NO_CNS_HISTORY = not_met("no CNS metastases or skull lesions with intracranial extension")


@rule("cns_history", Windowed)
def cns_history(ctx: Context, p: Windowed) -> Outcome:
    """Excluded: CNS history without head CT/MRI at entry showing no active CNS disease."""
    cns = ctx.record.cns
    if cns is None:
        return unknown("CNS history not recorded", ["cns"])
    flags = (cns.prior_cns_metastases, cns.skull_lesion_intracranial_extension)
    if True not in flags:
        if None in flags:
            return unknown(
                "CNS history incomplete",
                [
                    f"cns.{n}"
                    for n, v in zip(
                        ("prior_cns_metastases", "skull_lesion_intracranial_extension"),
                        flags,
                        strict=True,
                    )
                    if v is None
                ],
            )
        return _NO_CNS_HISTORY
    found = latest_dated(cns.head_imaging, ctx, p.lookback_days)
    if found is None:
        return unknown(
            f"CNS history: head CT/MRI needed in the {p.lookback_days} days before entry",
            ["cns.head_imaging"],
        )
    _, scan = found
    ev = {"date": scan.date, "modality": scan.modality, "active": scan.active_cns_metastases}
    if scan.active_cns_metastases:
        return met(f"active CNS metastases on head {scan.modality} {scan.date}", **ev)
    return not_met(f"head {scan.modality} {scan.date}: no active CNS metastases", **ev)


@rule("biology_study_declined", NoParams)
def biology_study_declined(ctx: Context, p: NoParams) -> Outcome:
    """Excluded: declines the biology study, unless the site holds an exemption."""
    study = ctx.record.biology_study
    if study is None or study.status is None:
        return unknown("biology study enrolment not recorded", ["biology_study.status"])
    if study.status != "declined":
        return not_met(f"biology study: {study.status.replace('_', ' ')}")
    if study.site_exemption is None:
        return unknown("declined; site exemption not recorded", ["biology_study.site_exemption"])
    if study.site_exemption:
        return not_met("declined, but the site holds an exemption")
    return met("declines the biology study; no site exemption")


class MarrowDiseaseParams(Windowed):
    hematology_criteria: Annotated[tuple[str, ...], Field(min_length=1)]


@rule("marrow_disease_counts", MarrowDiseaseParams, references=lambda p: p.hematology_criteria)
def marrow_disease_counts(ctx: Context, p: MarrowDiseaseParams) -> Outcome:
    """Known marrow disease: eligible if the blood counts pass; not evaluable for
    hematologic toxicity."""
    sites = ctx.record.disease_sites
    if sites is None:
        return sites_unknown()
    if not _marrow_involved(ctx, sites, p.lookback_days):
        return not_applicable("no known marrow disease")
    statuses: list[Status] = [ctx.verdict_of(c) for c in p.hematology_criteria]
    status = combine("all_of", statuses)
    ev = {"hematologic_toxicity_evaluable": False}
    reason = "marrow disease: not evaluable for hematologic toxicity"
    if status == UNKNOWN:
        pending = [c for c, s in zip(p.hematology_criteria, statuses, strict=True) if s == UNKNOWN]
        return unknown(f"{reason}; counts pending", pending, **ev)
    if status == NOT_MET:
        return not_met(f"{reason}; counts not met", **ev)
    return met(f"{reason}; counts met", **ev)


def _marrow_involved(ctx: Context, sites: DiseaseSites, lookback_days: int) -> bool:
    """Tumor cells in a marrow sample within the window, by morphology or ICC."""
    since, as_of = ctx.window_start(lookback_days), ctx.as_of
    for s in sites.marrow_samples:
        if since <= s.date <= as_of and (
            s.morphology == "positive" or s.immunocytochemistry == "positive"
        ):
            return True
    return False
