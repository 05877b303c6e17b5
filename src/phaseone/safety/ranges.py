"""Normal ranges (LLN/ULN) by analyte, age and sex, as data.

CTCAE thresholds are written against the reporting laboratory's range. A result that
carries its own range uses it; otherwise the range comes from a site laboratory table
(same file shape as data/normal_ranges_pediatric.yaml) or, last, from the default pediatric
table, which is an assumption and says so. Every lookup records which table it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from phaseone.errors import InputError, Problem
from phaseone.labs import analyte as lookup_analyte

Sex = Literal["M", "F"]


class _Band(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    age: tuple[float, float | None]
    sex: Sex | None = None
    lln: float = Field(ge=0)
    uln: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> _Band:
        if self.lln > self.uln:
            raise ValueError("lln is above uln")
        lo, hi = self.age
        if lo < 0 or (hi is not None and hi <= lo):
            raise ValueError("age must be [from, to) with 0 <= from < to")
        return self


class _AnalyteRanges(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: str
    note: str | None = None
    bands: tuple[_Band, ...] = Field(min_length=1)


class _RangeFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provenance: dict[str, str]
    ranges: dict[str, _AnalyteRanges]


@dataclass(frozen=True)
class NormalRange:
    lln: float
    uln: float
    unit: str  # the analyte's canonical unit
    source: str  # which table (and whether it is assumed)


@dataclass(frozen=True)
class RangeTable:
    """Age/sex bands per analyte, values in canonical units."""

    name: str
    assumed: bool
    bands: dict[str, tuple[tuple[float, float, Sex | None, float, float], ...]]

    def lookup(self, analyte_id: str, age_years: float, sex: str | None) -> NormalRange | None:
        found = self.bands.get(analyte_id)
        if found is None:
            return None
        for lo, hi, band_sex, lln, uln in found:
            if lo <= age_years < hi and (band_sex is None or band_sex == sex):
                unit = lookup_analyte(analyte_id).unit
                label = f"{self.name} (assumed)" if self.assumed else self.name
                return NormalRange(lln=lln, uln=uln, unit=unit, source=label)
        return None


def _parse(raw: Any, name: str) -> RangeTable:
    try:
        parsed = _RangeFile.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in err["loc"]), err["msg"], file=name)
            for err in exc.errors()
        ]
        raise InputError(problems) from None
    bands: dict[str, tuple[tuple[float, float, Sex | None, float, float], ...]] = {}
    for aid, spec in parsed.ranges.items():
        found = lookup_analyte(aid, path=f"{name}: ranges.{aid}")
        rows = []
        for i, band in enumerate(spec.bands):
            path = f"{name}: ranges.{aid}.bands[{i}]"
            lln = found.to_canonical(band.lln, spec.unit, path=f"{name}: ranges.{aid}.unit")
            uln = found.to_canonical(band.uln, spec.unit, path=path)
            hi = math.inf if band.age[1] is None else band.age[1]
            rows.append((band.age[0], hi, band.sex, lln, uln))
        bands[aid] = tuple(rows)
    return RangeTable(name=name, assumed=parsed.provenance.get("source") == "assumed", bands=bands)


@cache
def default_ranges() -> RangeTable:
    """The default pediatric table shipped with phaseone (labelled assumed)."""
    text = (
        resources.files("phaseone.safety")
        .joinpath("data/normal_ranges_pediatric.yaml")
        .read_text("utf-8")
    )
    return _parse(yaml.safe_load(text), "default pediatric ranges")


def load_ranges(path: str | Path) -> RangeTable:
    """A site laboratory's range table from a YAML file."""
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem("", f"cannot read range table: {exc}", file=str(file))]) from None
    return _parse(raw, str(file))


def resolve_range(
    analyte_id: str,
    age_years: float | None,
    sex: str | None,
    tables: tuple[RangeTable, ...],
    path: str = "",
) -> NormalRange | None:
    """The first table (site first, default last) with a band for this patient."""
    if age_years is None:
        return None
    if age_years < 0:
        raise InputError([Problem(f"{path}age_years", f"expected age >= 0, got {age_years}")])
    for table in tables:
        found = table.lookup(analyte_id, age_years, sex)
        if found is not None:
            return found
    return None


RangePosition = Literal["LOW", "NORMAL", "HIGH"]


def position(value: float, lln: float | None, uln: float | None) -> RangePosition | None:
    """Where a value lies against its normal range; None when the range has no limit at all.

    A value equal to a limit is within the range.
    """
    if lln is not None and value < lln:
        return "LOW"
    if uln is not None and value > uln:
        return "HIGH"
    if lln is None and uln is None:
        return None
    return "NORMAL"
