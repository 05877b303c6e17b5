"""CTCAE grading of laboratory values (v4.03 and v5.0), with the thresholds as data.

The rules of each version live in data/ctcae_<version>.yaml, one entry per (term, analyte),
each with the NCI table text it encodes. A value is converted to the analyte's canonical
unit (phaseone.labs, the one conversion table), rounded to significant digits, and compared
with the rules from the highest grade down. The result says which rule applied, against
which LLN/ULN/baseline, and whether a clinical condition came from the AE record or was
assumed as the worst case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from phaseone.errors import InputError, Problem
from phaseone.labs import analyte as lookup_analyte

Version = Literal["4.03", "5.0"]
VERSIONS: tuple[Version, ...] = ("4.03", "5.0")
Op = Literal["<", "<=", ">", ">="]
Ref = Literal["lln", "uln", "baseline"]
Flag = Literal["symptomatic", "intervention", "fasting"]

_OPS: dict[str, Any] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def signif(x: float, digits: int) -> float:
    """Round to `digits` significant digits (as R's signif), so 3.0000000000000004 == 3."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


@dataclass(frozen=True)
class Rule:
    """One row condition of a CTCAE term: `value op threshold` gives `grade`."""

    grade: int
    op: Op
    value: float | None = None
    ref: Ref | None = None
    times: float = 1.0
    baseline: Literal["normal", "abnormal"] | None = None
    requires: Flag | None = None
    when_unknown: Literal["match", "skip"] = "match"

    def describe(self, unit: str) -> str:
        if self.ref is None:
            threshold = f"{self.value:g} {unit}"
        else:
            ref = self.ref.upper() if self.ref != "baseline" else "baseline"
            threshold = ref if self.times == 1 else f"{self.times:g} x {ref}"
        text = f"G{self.grade}: {self.op} {threshold}"
        if self.baseline is not None:
            text += f" ({self.baseline} baseline)"
        if self.requires is not None:
            text += f" and {self.requires}"
        return text


@dataclass(frozen=True)
class TermRules:
    """The grading rules for one CTCAE term measured by one analyte."""

    term: str
    analyte: str
    unit: str
    meddra: int
    soc: str
    table: Mapping[int, str]
    rules: tuple[Rule, ...]
    lab_max_grade: int | None = None
    # Said instead of the generic "needs clinical review" when a grade above lab_max_grade
    # can only come from clinical information (e.g. v5.0 hyperglycemia, graded clinically).
    review_note: str | None = None

    def citation(self, version: str) -> str:
        return f"CTCAE v{version}, {self.soc}: {self.term} (MedDRA {self.meddra})"


@dataclass(frozen=True)
class CtcaeTable:
    version: Version
    source_url: str
    signif_digits: int
    terms: tuple[TermRules, ...]

    def for_analyte(self, analyte_id: str) -> tuple[TermRules, ...]:
        return tuple(t for t in self.terms if t.analyte == analyte_id)

    def analytes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.analyte for t in self.terms))


def check_version(version: str, path: str = "ctcae_version") -> Version:
    for known in VERSIONS:
        if version == known:
            return known
    raise InputError(
        [Problem(path, f"unknown CTCAE version {version!r}; expected one of: 4.03, 5.0")]
    )


@cache
def ctcae_table(version: str) -> CtcaeTable:
    """The lab grading rules of one CTCAE version, loaded from the package data."""
    checked = check_version(version)
    name = f"data/ctcae_{checked}.yaml"
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("phaseone.safety").joinpath(name).read_text("utf-8")
    )
    terms: list[TermRules] = []
    for i, spec in enumerate(raw["terms"]):
        canonical = lookup_analyte(spec["analyte"], path=f"{name}: terms[{i}].analyte").unit
        if canonical != spec["unit"]:  # the data file and phaseone.labs must agree
            raise InputError([Problem(f"terms[{i}].unit", f"expected {canonical!r}", file=name)])
        terms.append(
            TermRules(
                term=spec["term"],
                analyte=spec["analyte"],
                unit=spec["unit"],
                meddra=int(spec["meddra"]),
                soc=spec["soc"],
                table={int(k): str(v) for k, v in spec["table"].items()},
                rules=tuple(Rule(**r) for r in spec["rules"]),
                lab_max_grade=spec.get("lab_max_grade"),
                review_note=spec.get("review_note"),
            )
        )
    return CtcaeTable(
        version=checked,
        source_url=raw["source"]["url"],
        signif_digits=int(raw["signif_digits"]),
        terms=tuple(terms),
    )


@dataclass(frozen=True)
class Clinical:
    """Clinical conditions some grades depend on, from the linked AE record and the sample.

    None means the record does not say; the grader then takes the documented worst case
    (or, for a rule marked `when_unknown: skip`, does not apply the rule and says so).
    `fasting` is a property of the sample (v4.03 hyperglycemia grades 1-2 need a fasting
    value).
    """

    symptomatic: bool | None = None
    intervention: bool | None = None
    fasting: bool | None = None

    def get(self, flag: Flag) -> bool | None:
        return {
            "symptomatic": self.symptomatic,
            "intervention": self.intervention,
            "fasting": self.fasting,
        }[flag]


@dataclass(frozen=True)
class LabGrade:
    """One graded lab value and everything needed to explain the grade."""

    version: Version
    analyte: str
    term: str | None  # None when the value is within every term's range (grade 0)
    grade: int
    value: float  # in `unit`, after conversion and rounding
    unit: str
    rule: str  # the rule that fired, or why none did
    citation: str | None
    lln: float | None
    uln: float | None
    baseline: float | None
    baseline_status: Literal["normal", "abnormal", "unknown"]
    clinical_basis: str | None  # e.g. "symptomatic: from AE record" / "worst case"
    clinical_review: bool  # a higher grade is possible only from clinical information
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def grade_value(
    analyte_id: str,
    value: float,
    unit: str,
    *,
    version: str,
    lln: float | None = None,
    uln: float | None = None,
    baseline: float | None = None,
    baseline_uln: float | None = None,
    clinical: Clinical | None = None,
    path: str = "",
) -> LabGrade:
    """Grade one lab value against every CTCAE term its analyte measures.

    `lln`, `uln`, `baseline` and `baseline_uln` are in the same `unit` as `value`. The
    baseline is abnormal when it exceeds `baseline_uln` (default: `uln`). A negative value
    or a unit the analyte does not accept is an InputError naming the field.
    """
    table = ctcae_table(version)
    prefix = f"{path}." if path else ""
    spec = lookup_analyte(analyte_id, path=f"{prefix}analyte")
    entries = table.for_analyte(spec.id)
    if not entries:
        raise InputError(
            [
                Problem(
                    f"{prefix}analyte",
                    f"CTCAE v{table.version} has no laboratory grading for {spec.id!r}; "
                    f"expected one of: {', '.join(table.analytes())}",
                )
            ]
        )
    if not math.isfinite(value) or value < 0:
        raise InputError(
            [Problem(f"{prefix}value", f"expected a non-negative number, got {value!r}")]
        )
    digits = table.signif_digits

    def canon(x: float | None, field: str) -> float | None:
        if x is None:
            return None
        if not math.isfinite(x) or x < 0:
            raise InputError(
                [Problem(f"{prefix}{field}", f"expected a non-negative number, got {x!r}")]
            )
        return signif(spec.to_canonical(x, unit, path=f"{prefix}unit"), digits)

    v = canon(value, "value")
    assert v is not None
    lo, hi = canon(lln, "lln"), canon(uln, "uln")
    base, base_hi = canon(baseline, "baseline"), canon(baseline_uln, "baseline_uln")
    if lo is not None and hi is not None and lo > hi:
        raise InputError([Problem(f"{prefix}lln", f"LLN {lln} is above ULN {uln}")])
    status: Literal["normal", "abnormal", "unknown"] = "unknown"
    limit = base_hi if base_hi is not None else hi
    if base is not None and limit is not None:
        status = "abnormal" if base > limit else "normal"
    clin = clinical or Clinical()

    best: LabGrade | None = None
    missing: list[str] = []
    for entry in entries:
        result, needed = _grade_entry(entry, table, v, lo, hi, base, status, clin)
        missing.extend(needed)
        # Highest grade wins; at equal grades a term whose rule matched (e.g. "above the ULN,
        # graded clinically") says more than "within range".
        if best is None or (result.grade, result.term is not None) > (
            best.grade,
            best.term is not None,
        ):
            best = result
    assert best is not None
    if missing and best.grade == 0:
        # The value may be abnormal against a limit we were not given: no silent grade 0.
        ref = missing[0]
        raise InputError(
            [
                Problem(
                    f"{prefix}{ref}",
                    f"the {ref.upper()} is needed to grade {spec.id} = {value:g} {unit} "
                    "but none was given (nor found in a normal-range table)",
                )
            ]
        )
    return best


def _grade_entry(
    entry: TermRules,
    table: CtcaeTable,
    v: float,
    lo: float | None,
    hi: float | None,
    base: float | None,
    status: Literal["normal", "abnormal", "unknown"],
    clin: Clinical,
) -> tuple[LabGrade, list[str]]:
    digits = table.signif_digits
    refs: dict[str, float | None] = {"lln": lo, "uln": hi, "baseline": base}
    # Conditions a higher grade needed but the record did not meet, e.g. "fasting: not
    # recorded" (a v4.03 hyperglycemia grade 1-2 needs a fasting value).
    skipped: list[str] = []
    missing: list[str] = []  # normal limits a rule needed but the caller did not give
    for rule in entry.rules:
        if rule.baseline == "abnormal" and status != "abnormal":
            continue
        if rule.baseline == "normal" and status == "abnormal":
            continue
        known = clin.get(rule.requires) if rule.requires is not None else None
        # A rule the record rules out (flag false; or unknown, for a `skip` rule) is only
        # worth a note when the value would meet it: never ask for a limit it would need.
        ruled_out = rule.requires is not None and (
            known is False or (known is None and rule.when_unknown == "skip")
        )
        if ruled_out and rule.ref is not None and refs[rule.ref] is None:
            continue
        if rule.ref is None:
            assert rule.value is not None
            threshold = rule.value
        else:
            ref_value = refs[rule.ref]
            if ref_value is None:
                if rule.ref != "baseline":  # a baseline rule without a baseline cannot apply
                    missing.append(rule.ref)
                continue
            threshold = signif(rule.times * ref_value, digits)
        if not _OPS[rule.op](v, threshold):
            continue
        basis = None
        if ruled_out:
            if rule.when_unknown == "skip":
                state = "not recorded" if known is None else "recorded as no"
                skipped.append(f"G{rule.grade} needs {rule.requires} ({state})")
            continue
        if rule.requires is not None:
            if known is None:
                basis = f"{rule.requires}: not recorded, worst case assumed"
            else:
                basis = f"{rule.requires}: from {_FLAG_SOURCE[rule.requires]}"
        by_lab_limit = entry.lab_max_grade is not None and rule.grade >= entry.lab_max_grade
        review = bool(skipped) or by_lab_limit
        return LabGrade(
            version=table.version,
            analyte=entry.analyte,
            term=entry.term,
            grade=rule.grade,
            value=v,
            unit=entry.unit,
            rule=f"{rule.describe(entry.unit)} (threshold {threshold:g})",
            citation=entry.citation(table.version),
            lln=lo,
            uln=hi,
            baseline=base,
            baseline_status=status,
            clinical_basis=basis,
            clinical_review=review,
            note=_review_note(entry, rule.grade, skipped, by_lab_limit) if review else None,
        ), missing
    return LabGrade(
        version=table.version,
        analyte=entry.analyte,
        term=entry.term if skipped else None,
        grade=0,
        value=v,
        unit=entry.unit,
        rule="no lab grade: " + "; ".join(skipped) if skipped else "within range: no rule matched",
        citation=entry.citation(table.version) if skipped else None,
        lln=lo,
        uln=hi,
        baseline=base,
        baseline_status=status,
        clinical_basis=None,
        clinical_review=bool(skipped),
        note=_review_note(entry, 0, skipped, False) if skipped else None,
    ), missing


_FLAG_SOURCE: dict[str, str] = {
    "symptomatic": "AE record",
    "intervention": "AE record",
    "fasting": "lab record",
}


def _review_note(entry: TermRules, grade: int, skipped: list[str], by_lab_limit: bool) -> str:
    if by_lab_limit and entry.review_note:
        return entry.review_note
    if skipped:
        return f"lab grade <= {grade}; {entry.term} " + "; ".join(skipped)
    return f"lab grade <= {grade}; a higher grade needs clinical review"


@dataclass(frozen=True)
class CalciumCorrection:
    factor: float
    reference_albumin_g_dl: float
    note: str


@cache
def calcium_correction() -> CalciumCorrection:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("phaseone.safety")
        .joinpath("data/calcium_correction.yaml")
        .read_text("utf-8")
    )
    return CalciumCorrection(
        factor=float(raw["factor"]),
        reference_albumin_g_dl=float(raw["reference_albumin_g_dl"]),
        note=str(raw["provenance"]["note"]),
    )


def corrected_calcium(
    calcium: float, calcium_unit: str, albumin: float, albumin_unit: str
) -> float:
    """Albumin-corrected total calcium in mg/dL (formula in data/calcium_correction.yaml)."""
    ca = lookup_analyte("calcium").to_canonical(calcium, calcium_unit, path="calcium.unit")
    alb = lookup_analyte("albumin").to_canonical(albumin, albumin_unit, path="albumin.unit")
    corr = calcium_correction()
    return ca + corr.factor * (corr.reference_albumin_g_dl - alb)
