"""Rules about laboratory values, CTCAE-graded findings and cardiac studies."""

from __future__ import annotations

import datetime as dt
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from phaseone.eligibility.context import Context, completed_months
from phaseone.eligibility.record import Lab
from phaseone.eligibility.rules.base import (
    Days,
    Params,
    Windowed,
    at_least,
    at_most,
    rule,
)
from phaseone.eligibility.verdict import (
    Outcome,
    met,
    not_met,
    unknown,
)
from phaseone.errors import InputError
from phaseone.labs import analyte as lookup_analyte

# --- laboratory values ---------------------------------------------------------------------


class LabParams(Windowed):
    analyte: str
    unit: str

    def canonical(self, value: float, field: str) -> float:
        return lookup_analyte(self.analyte).to_canonical(value, self.unit, path=field)

    @cached_property
    def canonical_unit(self) -> str:
        return lookup_analyte(self.analyte).unit

    @field_validator("analyte")
    @classmethod
    def _known_analyte(cls, value: str) -> str:
        return _checked_analyte(value)

    @field_validator("unit")
    @classmethod
    def _unit_fits(cls, value: str, info: ValidationInfo) -> str:
        analyte = info.data.get("analyte")
        if analyte is not None:
            try:
                lookup_analyte(analyte).to_canonical(1.0, value)
            except InputError as exc:
                raise ValueError(exc.problems[0].message) from None
        return value


def _checked_analyte(value: str) -> str:
    try:
        lookup_analyte(value)
    except InputError as exc:
        raise ValueError(exc.problems[0].message) from None
    return value


class LabMinParams(LabParams):
    min: float = Field(ge=0)
    sum_of: tuple[str, ...] | None = None
    transfusion_product: Literal["platelets", "red_cells"] | None = None
    transfusion_free_days: Days | None = None

    @cached_property
    def limit(self) -> float:
        return self.canonical(self.min, "min")

    @cached_property
    def parts(self) -> tuple[str, ...]:
        """The analytes whose same-day sum also gives the value (none if sum_of repeats one)."""
        if self.sum_of and len(set(self.sum_of)) == len(self.sum_of):
            return self.sum_of
        return ()


def _latest_value(ctx: Context, p: LabMinParams) -> tuple[float, dt.date, int | None] | None:
    """The latest value (canonical unit), its date and the index of its lab (None: the
    sum of the parts)."""
    found = ctx.latest_lab(p.analyte, p.lookback_days)
    best: tuple[float, dt.date, int | None] | None = None
    if found is not None:
        i, lab = found
        best = (lab.canonical_value, lab.date, i)
    if p.parts:
        summed = _latest_sum(ctx, p.parts, p.lookback_days)
        if summed is not None and (best is None or summed[1] > best[1]):
            best = (summed[0], summed[1], None)
    return best


def _latest_sum(
    ctx: Context, parts: tuple[str, ...], lookback: int
) -> tuple[float, dt.date] | None:
    """The sum on the latest day within the window on which every part was measured (a
    part measured twice that day: its last value in date order). Kept per record: the
    bulk path asks again, in full, for a criterion it reports."""
    key = ("sum", parts, lookback)
    if key in ctx.cache:
        found: tuple[float, dt.date] | None = ctx.cache[key]
        return found
    since = ctx.as_of - dt.timedelta(days=lookback)
    # Per part, its last lab of each day in the window (labs(): oldest first).
    by_day = [{lab.date: lab for _, lab in ctx.labs(part) if lab.date >= since} for part in parts]
    days = set(by_day[0]).intersection(*by_day[1:])
    found = None
    if days:
        day = max(days)
        found = (sum([labs[day].canonical_value for labs in by_day]), day)
    ctx.cache[key] = found
    return found


@lru_cache(maxsize=256)
def _no_lab(analyte: str, lookback_days: int) -> Outcome:
    """The same for every record: made once (a missing lab is common, and reported)."""
    return unknown(f"no {analyte} in the {lookback_days} days before entry", [f"labs.{analyte}"])


@rule("lab_min", LabMinParams)
def lab_min(ctx: Context, p: LabMinParams) -> Outcome:
    """The latest value within the window is at least the minimum."""
    found = _latest_value(ctx, p)
    if found is None:
        return _no_lab(p.analyte, p.lookback_days)
    value, day, i = found
    limit, unit = p.limit, p.canonical_unit
    source = " + ".join(p.parts) if i is None else f"labs[{i}]"
    ev: dict[str, Any] = {"value": value, "unit": unit, "date": day, "source": source, "min": limit}
    text = f"{p.analyte} {value:g} {unit} on {day}"
    if not at_least(value, limit):
        return not_met(f"{text} < {limit:g}", **ev)
    if p.transfusion_product is not None and p.transfusion_free_days is not None:
        transfusions = ctx.record.transfusions
        if transfusions is None:
            return unknown(f"{text}; transfusions not recorded", ["transfusions"], **ev)
        for t in transfusions:
            gap = (day - t.date).days
            if t.product == p.transfusion_product and 0 <= gap < p.transfusion_free_days:
                ev["transfusion"] = t.date
                return not_met(f"{text}, {gap} days after a {t.product} transfusion", **ev)
    return met(f"{text} >= {limit:g}", **ev)


class LabMaxParams(LabParams):
    max: float = Field(ge=0)

    @cached_property
    def limit(self) -> float:
        return self.canonical(self.max, "max")


@rule("lab_max", LabMaxParams)
def lab_max(ctx: Context, p: LabMaxParams) -> Outcome:
    """The latest value within the window is at most the maximum."""
    found = ctx.latest_lab(p.analyte, p.lookback_days)
    if found is None:
        return _no_lab(p.analyte, p.lookback_days)
    i, lab = found
    limit, unit = p.limit, p.canonical_unit
    value = lab.canonical_value
    ev = {"value": value, "unit": unit, "date": lab.date, "source": f"labs[{i}]", "max": limit}
    text = f"{p.analyte} {value:g} {unit} on {lab.date}"
    if at_most(value, limit):
        return met(f"{text} <= {limit:g}", **ev)
    return not_met(f"{text} > {limit:g}", **ev)


class LabUlnParams(Windowed):
    analyte: str
    max_uln: float = Field(gt=0)

    @cached_property
    def canonical_unit(self) -> str:
        return lookup_analyte(self.analyte).unit

    @field_validator("analyte")
    @classmethod
    def _known_analyte(cls, value: str) -> str:
        return _checked_analyte(value)


@rule("lab_max_uln", LabUlnParams)
def lab_max_uln(ctx: Context, p: LabUlnParams) -> Outcome:
    """The latest value is at most a multiple of its own upper limit of normal for age."""
    found = ctx.latest_lab(p.analyte, p.lookback_days)
    if found is None:
        return _no_lab(p.analyte, p.lookback_days)
    i, lab = found
    if lab.canonical_uln is None:
        return unknown(
            f"{p.analyte} on {lab.date} has no upper limit of normal", [f"labs[{i}].uln"]
        )
    limit = p.max_uln * lab.canonical_uln
    value = lab.canonical_value
    unit = p.canonical_unit
    ev = {
        "value": value,
        "unit": unit,
        "date": lab.date,
        "uln": lab.canonical_uln,
        "limit": limit,
        "source": f"labs[{i}]",
    }
    text = f"{p.analyte} {value:g} {unit} (ULN {lab.canonical_uln:g}) on {lab.date}"
    if at_most(value, limit):
        return met(f"{text} <= {p.max_uln:g} x ULN", **ev)
    return not_met(f"{text} > {p.max_uln:g} x ULN = {limit:g}", **ev)


@rule("triglycerides", LabMaxParams)
def triglycerides(ctx: Context, p: LabMaxParams) -> Outcome:
    """At most the limit; a high non-fasting value needs a fasting retest, which decides."""
    limit, unit = p.limit, p.canonical_unit
    lab = _latest_fasting(ctx, p.analyte, p.lookback_days)
    if lab is None:
        return _no_lab(p.analyte, p.lookback_days)
    value = lab.canonical_value
    ev = {"value": value, "unit": unit, "date": lab.date, "fasting": lab.fasting, "max": limit}
    text = (
        f"{'fasting' if lab.fasting else 'non-fasting'} {p.analyte} {value:g} {unit} on {lab.date}"
    )
    if at_most(value, limit):
        return met(f"{text} <= {limit:g}", **ev)
    if lab.fasting:
        return not_met(f"{text} > {limit:g}", **ev)
    return unknown(
        f"{text} > {limit:g}: a fasting value decides", [f"labs.{p.analyte}.fasting"], **ev
    )


def _latest_fasting(ctx: Context, analyte: str, lookback_days: int) -> Lab | None:
    """The latest fasting value within the window, else the latest value."""
    since = ctx.window_start(lookback_days)
    latest = None
    for _, lab in reversed(ctx.labs(analyte)):  # newest first: the window is a suffix
        if lab.date < since:
            break
        if lab.fasting:
            return lab
        if latest is None:
            latest = lab
    return latest


class CreatinineBand(Params):
    from_months: int = Field(ge=0)
    to_months: int | None = Field(gt=0)
    male: float = Field(gt=0)
    female: float = Field(gt=0)


class CreatinineParams(LabParams):
    analyte: str = "creatinine"
    values_are_limits: bool
    normal_multiplier: float = Field(gt=0)
    bands: Annotated[tuple[CreatinineBand, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _contiguous(self) -> CreatinineParams:
        for a, b in zip(self.bands, self.bands[1:], strict=False):
            if a.to_months is None or a.to_months != b.from_months:
                raise ValueError("bands must be contiguous: each to_months is the next from_months")
        for band in self.bands:
            if band.to_months is not None and band.to_months <= band.from_months:
                raise ValueError(f"band from {band.from_months} months ends before it starts")
        return self

    def band(self, months: int) -> CreatinineBand | None:
        """The first band holding an age in months."""
        for start, end, band in self.spans:
            if start <= months and (end is None or months < end):
                return band
        return None

    @cached_property
    def spans(self) -> tuple[tuple[int, int | None, CreatinineBand], ...]:
        return tuple((b.from_months, b.to_months, b) for b in self.bands)

    @cached_property
    def limits(self) -> dict[int, dict[str, float]]:
        """Limit per band (by from_months) and sex, in the canonical unit."""
        scale = 1.0 if self.values_are_limits else self.normal_multiplier
        return {
            b.from_months: {
                "male": self.canonical(scale * b.male, "bands"),
                "female": self.canonical(scale * b.female, "bands"),
            }
            for b in self.bands
        }


@rule("creatinine_for_age", CreatinineParams)
def creatinine_for_age(ctx: Context, p: CreatinineParams) -> Outcome:
    """Serum creatinine within the age- and sex-specific limit on the sample date."""
    found = ctx.latest_lab(p.analyte, p.lookback_days)
    if found is None:
        return _no_lab("creatinine", p.lookback_days)
    i, lab = found
    months = completed_months(ctx.record.birth_date, lab.date)
    band = p.band(months)
    if band is None:
        return unknown(
            f"no creatinine limit for age {months} months", ["labs.gfr"], age_months=months
        )
    limit = p.limits[band.from_months][ctx.record.sex]
    value = lab.canonical_value
    ev = {
        "value": value,
        "unit": p.canonical_unit,
        "date": lab.date,
        "age_months": months,
        "sex": ctx.record.sex,
        "band_months": [band.from_months, band.to_months],
        "limit": limit,
        "source": f"labs[{i}]",
    }
    text = f"creatinine {value:g} mg/dL at {months // 12}y{months % 12}m ({ctx.record.sex})"
    if at_most(value, limit):
        return met(f"{text} <= {limit:g}", **ev)
    return not_met(f"{text} > {limit:g}", **ev)


class GradeParams(Windowed):
    term: Literal["hematuria", "proteinuria", "hypercalcemia", "skin_toxicity"]
    max_grade: int = Field(ge=0, le=5)


@rule("max_grade", GradeParams)
def max_grade(ctx: Context, p: GradeParams) -> Outcome:
    """The latest CTCAE grade of a finding is at most the maximum."""
    day: dt.date | None = None
    grade = -1
    since, as_of, term = ctx.window_start(p.lookback_days), ctx.as_of, p.term
    for f in ctx.record.findings:
        if f.term != term or not since <= f.date <= as_of:
            continue
        if day is None or f.date > day:
            day, grade = f.date, f.grade
        elif f.date == day:
            grade = max(grade, f.grade)
    if day is None:
        return unknown(
            f"no {p.term} grade in the {p.lookback_days} days before entry", [f"findings.{p.term}"]
        )
    ev = {"grade": grade, "date": day, "max_grade": p.max_grade}
    if grade <= p.max_grade:
        return met(f"{p.term} grade {grade} on {day}", **ev)
    return not_met(f"{p.term} grade {grade} > {p.max_grade}", **ev)


class CardiacParams(Windowed):
    measure: Literal["ejection_fraction", "fractional_shortening"]
    min: float = Field(ge=0, le=100)
    methods: Annotated[tuple[Literal["echo", "muga"], ...], Field(min_length=1)]


@rule("cardiac", CardiacParams)
def cardiac(ctx: Context, p: CardiacParams) -> Outcome:
    """The latest study by an accepted method shows the measure at least the minimum."""
    best = None
    since, as_of = ctx.window_start(p.lookback_days), ctx.as_of
    for study in ctx.record.cardiac:
        if study.method not in p.methods or getattr(study, p.measure) is None:
            continue
        if since <= study.date <= as_of and (best is None or study.date >= best.date):
            best = study
    if best is None:
        name = p.measure.replace("_", " ")
        return unknown(
            f"no {name} by {'/'.join(p.methods)} in the {p.lookback_days} days before entry",
            [f"cardiac.{p.measure}"],
        )
    value = float(getattr(best, p.measure))
    name = p.measure.replace("_", " ")
    ev = {"value": value, "method": best.method, "date": best.date, "min": p.min}
    if at_least(value, p.min):
        return met(f"{name} {value:g}% ({best.method}, {best.date})", **ev)
    return not_met(f"{name} {value:g}% < {p.min:g}%", **ev)
