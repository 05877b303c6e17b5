"""DLT determination per patient, from the protocol's DLT rules (data, not code).

Each protocol rule names an engine rule (`rule`) with `params`; compile_rules() validates
both and reports a bad one as an InputError naming the field (dlt.rules[i].params.x).
determine() applies the rules to one patient's DLT-window record and says which rule fired
on which event, or, for every event, why none did. It also decides evaluability.

Engine rules:
- grade_at_least: events at or above `min_grade` (optionally limited to `terms`, a `scope`,
  minus `exclude_terms`), unless an exception holds for the event.
- grade_for_days: events at or above `min_grade` that stayed there `min_days` or more.
- repeated_lab: a lab value below a limit, or a transfusion, on `occurrences` separate days
  within `within_days`.
- course_delay: the next course started more than `more_than_days` late for `cause`.
- expected_toxicity: for terms expected with an agent (e.g. dinutuximab pain), a DLT only at
  `dlt_grade` or above, or at the `conditional` grade when a flag is set or it lasted too
  long. Terms covered here are judged by this rule only.

Durations are counted in whole days from the dates on the record (72 hours = 3 days).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from phaseone.errors import InputError, Problem
from phaseone.labs import analyte as lookup_analyte
from phaseone.protocol.model import Dlt, DltRule, Evaluability, Protocol
from phaseone.safety.events import AdverseEvent, attribution_rank, parse_events
from phaseone.safety.terms import find_term

Status = Literal["dlt", "no_dlt", "pending"]


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _days(days: int | None, hours: int | None) -> int | None:
    """A duration in whole days; hours round up (72 h = 3 days, 30 h = 2 days)."""
    if days is not None:
        return days
    return None if hours is None else math.ceil(hours / 24)


class ExceptionSpec(_Params):
    id: str = Field(min_length=1)
    text: str | None = None
    terms: tuple[str, ...] = ()
    socs: tuple[str, ...] = ()
    max_grade: int = Field(ge=1, le=5)
    shorter_than_days: int | None = Field(default=None, ge=1)
    shorter_than_hours: int | None = Field(default=None, ge=1)
    resolves_to_grade: int | None = Field(default=None, ge=0, le=4)
    within_days: int | None = Field(default=None, ge=0)
    within_hours: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> ExceptionSpec:
        if not self.terms and not self.socs:
            raise ValueError("an exception needs 'terms' or 'socs'")
        if (
            self.resolves_to_grade is not None
            and _days(self.within_days, self.within_hours) is None
        ):
            raise ValueError("'resolves_to_grade' needs 'within_days' or 'within_hours'")
        return self


class GradeAtLeast(_Params):
    min_grade: int = Field(ge=1, le=5)
    scope: Literal["hematologic", "non_hematologic", "any"] = "any"
    terms: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()
    exceptions: tuple[ExceptionSpec, ...] = ()


class GradeForDays(_Params):
    terms: tuple[str, ...] = Field(min_length=1)
    min_grade: int = Field(ge=1, le=5)
    min_days: int = Field(ge=1)


class RepeatedLab(_Params):
    analyte: str
    below: float = Field(gt=0)
    unit: str
    transfusion: str | None = None
    occurrences: int = Field(ge=2)
    within_days: int = Field(ge=1)


class CourseDelay(_Params):
    cause: str = Field(min_length=1)
    more_than_days: int = Field(ge=0)


class Conditional(_Params):
    grade: int = Field(ge=1, le=5)
    flag: str | None = None
    lasting_more_than_days: int | None = Field(default=None, ge=0)
    lasting_more_than_hours: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _has_condition(self) -> Conditional:
        if self.flag is None and self.lasting_days is None:
            raise ValueError("a conditional needs 'flag' or 'lasting_more_than_days/hours'")
        return self

    @property
    def lasting_days(self) -> int | None:
        return _days(self.lasting_more_than_days, self.lasting_more_than_hours)


class ExpectedToxicity(_Params):
    terms: tuple[str, ...] = Field(min_length=1)
    dlt_grade: int | None = Field(default=None, ge=1, le=5)
    conditional: Conditional | None = None

    @model_validator(mode="after")
    def _something_fires(self) -> ExpectedToxicity:
        if self.dlt_grade is None and self.conditional is None:
            raise ValueError("needs 'dlt_grade' or 'conditional' (else it could never fire)")
        return self


RULE_PARAMS: dict[str, type[_Params]] = {
    "grade_at_least": GradeAtLeast,
    "grade_for_days": GradeForDays,
    "repeated_lab": RepeatedLab,
    "course_delay": CourseDelay,
    "expected_toxicity": ExpectedToxicity,
}


@dataclass(frozen=True)
class CompiledRule:
    spec: DltRule
    params: _Params


def compile_rules(dlt: Dlt, version: str) -> tuple[CompiledRule, ...]:
    """Validate every rule name, its params and the CTCAE terms it names."""
    problems: list[Problem] = []
    compiled: list[CompiledRule] = []
    for i, rule in enumerate(dlt.rules):
        path = f"dlt.rules[{i}]"
        kind = RULE_PARAMS.get(rule.rule)
        if kind is None:
            problems.append(
                Problem(
                    f"{path}.rule",
                    f"unknown DLT rule {rule.rule!r}; expected one of: {', '.join(RULE_PARAMS)}",
                )
            )
            continue
        try:
            params = kind.model_validate(rule.params)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(Problem(f"{path}.params" + (f".{loc}" if loc else ""), msg))
            continue
        problems.extend(_check_terms(params, version, f"{path}.params"))
        if isinstance(params, RepeatedLab):
            try:
                lookup_analyte(params.analyte, path=f"{path}.params.analyte").to_canonical(
                    params.below, params.unit, path=f"{path}.params.unit"
                )
            except InputError as exc:
                problems.extend(exc.problems)
        compiled.append(CompiledRule(rule, params))
    for j, term in enumerate(dlt.hematologic_terms):
        if find_term(term, version) is None:
            problems.append(
                Problem(f"dlt.hematologic_terms[{j}]", f"unknown CTCAE v{version} term {term!r}")
            )
    if problems:
        raise InputError(problems)
    return tuple(compiled)


def _check_terms(params: _Params, version: str, path: str) -> list[Problem]:
    out: list[Problem] = []
    lists: list[tuple[str, tuple[str, ...]]] = []
    for name in ("terms", "exclude_terms"):
        if hasattr(params, name):
            lists.append((name, getattr(params, name)))
    if isinstance(params, GradeAtLeast):
        for k, exc in enumerate(params.exceptions):
            lists.append((f"exceptions[{k}].terms", exc.terms))
    for name, names in lists:
        for j, term in enumerate(names):
            if find_term(term, version) is None:
                out.append(
                    Problem(f"{path}.{name}[{j}]", f"unknown CTCAE v{version} term {term!r}")
                )
    return out


# --- the patient's record --------------------------------------------------------------


class LabPoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    analyte: str
    value: float = Field(ge=0)
    unit: str


class Transfusion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    product: str


class PatientWindow(BaseModel):
    """What the DLT determination needs about one patient's DLT course."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str = Field(min_length=1)
    dose_level: int
    course_start: dt.date
    marrow_disease: bool = False
    doses_planned: int = Field(ge=1)
    doses_given: int = Field(ge=0)
    off_treatment: dt.date | None = None
    off_treatment_reason: str | None = None
    next_course_delay_days: int | None = Field(default=None, ge=0)
    delay_cause: str | None = None
    labs: tuple[LabPoint, ...] = ()
    transfusions: tuple[Transfusion, ...] = ()
    events: tuple[AdverseEvent, ...] = ()

    @model_validator(mode="after")
    def _doses(self) -> PatientWindow:
        if self.doses_given > self.doses_planned:
            raise ValueError(
                f"doses_given ({self.doses_given}) exceeds doses_planned ({self.doses_planned})"
            )
        return self


# --- the determination -----------------------------------------------------------------


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    rule_text: str
    event_id: str | None  # None for rules on labs, transfusions or delays
    reason: str


@dataclass(frozen=True)
class EventNote:
    event_id: str
    term: str
    grade: int
    finding: str  # why this event is, is not, or may yet be a DLT


@dataclass(frozen=True)
class DltDetermination:
    patient_id: str
    dose_level: int
    status: Status
    hits: tuple[RuleHit, ...]
    notes: tuple[EventNote, ...]
    evaluable: bool | None  # None while the window is still open
    evaluability_reason: str
    hematologic_evaluable: bool
    window: tuple[dt.date, dt.date]
    assumed_rules: bool = field(default=True)

    def explain(self) -> str:
        lines = [f"patient {self.patient_id} (dose level {self.dose_level}): {self.status}"]
        lines += [f"  DLT by {h.rule_id} on {h.event_id or '-'}: {h.reason}" for h in self.hits]
        lines += [f"  {n.event_id} {n.term} G{n.grade}: {n.finding}" for n in self.notes]
        lines.append(f"  evaluable: {self.evaluable} ({self.evaluability_reason})")
        return "\n".join(lines)


@dataclass
class _Verdict:
    fired: bool = False
    pending: bool = False
    reason: str = ""


def determine(
    patient: PatientWindow,
    protocol: Protocol,
    *,
    version: str,
    as_of: dt.date,
    rules: Sequence[CompiledRule] | None = None,
) -> DltDetermination:
    """The DLT determination and evaluability of one patient, as of a date."""
    dlt = protocol.dlt
    compiled = tuple(rules) if rules is not None else compile_rules(dlt, version)
    agents = {a.id for a in protocol.agents}
    parse_events([e.model_dump() for e in patient.events], version=version, agents=agents)
    start = patient.course_start + dt.timedelta(days=dlt.window.first_day - 1)
    end = patient.course_start + dt.timedelta(days=dlt.window.last_day - 1)
    heme_terms = {t.lower() for t in dlt.hematologic_terms}
    heme_excluded = (
        patient.marrow_disease and protocol.evaluability.marrow_disease_excludes_hematologic
    )
    expected_terms = {
        t.lower()
        for r in compiled
        if isinstance(r.params, ExpectedToxicity)
        for t in r.params.terms
    }
    need = attribution_rank(dlt.min_attribution)
    hits: list[RuleHit] = []
    notes: list[EventNote] = []
    pending = False

    for event in patient.events:
        is_heme = event.term.lower() in heme_terms
        if event.onset < start or event.onset > end:
            notes.append(_note(event, f"onset {event.onset} outside the DLT window {start}..{end}"))
            continue
        if event.onset > as_of:
            notes.append(_note(event, f"onset after the determination date {as_of}"))
            continue
        attribution = event.max_attribution(agents)
        if attribution is None or attribution_rank(attribution) < need:
            notes.append(
                _note(
                    event,
                    f"attribution {attribution or 'not recorded'} is below "
                    f"{dlt.min_attribution}: not a DLT",
                )
            )
            continue
        if is_heme and heme_excluded:
            notes.append(
                _note(event, "marrow disease: not evaluable for hematologic DLT (registry rule)")
            )
            continue
        findings: list[str] = []
        fired = False
        for rule in compiled:
            verdict = _apply(
                rule.params, event, is_heme, event.term.lower() in expected_terms, version, as_of
            )
            if verdict is None:
                continue
            if verdict.fired:
                hits.append(RuleHit(rule.spec.id, rule.spec.text, event.id, verdict.reason))
                notes.append(_note(event, f"DLT by rule {rule.spec.id}: {verdict.reason}"))
                fired = True
                break
            if verdict.pending:
                pending = True
            findings.append(f"{rule.spec.id}: {verdict.reason}")
        if not fired:
            notes.append(_note(event, "; ".join(findings) or "no DLT rule covers this event"))

    for rule in compiled:
        params = rule.params
        if isinstance(params, RepeatedLab) and not heme_excluded:
            reason = _repeated_lab(params, patient, start, min(end, as_of))
            if reason is not None:
                hits.append(RuleHit(rule.spec.id, rule.spec.text, None, reason))
        elif isinstance(params, CourseDelay):
            delay = patient.next_course_delay_days
            heme_cause = params.cause == "myelosuppression"
            if (
                delay is not None
                and delay > params.more_than_days
                and patient.delay_cause == params.cause
                and not (heme_cause and heme_excluded)
            ):
                hits.append(
                    RuleHit(
                        rule.spec.id,
                        rule.spec.text,
                        None,
                        f"next course delayed {delay} days (> {params.more_than_days}) "
                        f"for {params.cause}",
                    )
                )

    has_dlt = bool(hits)
    status: Status = "dlt" if has_dlt else ("pending" if pending or as_of < end else "no_dlt")
    evaluable, why = _evaluability(patient, protocol.evaluability, has_dlt, end, as_of)
    if status == "no_dlt" and evaluable is None:
        status = "pending"
    return DltDetermination(
        patient_id=patient.patient_id,
        dose_level=patient.dose_level,
        status=status,
        hits=tuple(hits),
        notes=tuple(notes),
        evaluable=evaluable,
        evaluability_reason=why,
        hematologic_evaluable=not heme_excluded,
        window=(start, end),
        assumed_rules=dlt.provenance.is_assumed,
    )


def _note(event: AdverseEvent, finding: str) -> EventNote:
    return EventNote(event.id, event.term, event.grade, finding)


def _term_in(event: AdverseEvent, terms: tuple[str, ...]) -> bool:
    return event.term.lower() in {t.lower() for t in terms}


def _apply(
    params: _Params,
    event: AdverseEvent,
    is_heme: bool,
    is_expected: bool,
    version: str,
    as_of: dt.date,
) -> _Verdict | None:
    """A rule's verdict on one event; None when the rule does not cover the event."""
    if isinstance(params, ExpectedToxicity):
        if not _term_in(event, params.terms):
            return None
        if params.dlt_grade is not None and event.grade >= params.dlt_grade:
            return _Verdict(True, reason=f"grade {event.grade} >= {params.dlt_grade}")
        cond = params.conditional
        if cond is not None and event.grade == cond.grade:
            if cond.flag is not None and cond.flag in event.flags:
                return _Verdict(True, reason=f"grade {event.grade} with {cond.flag}")
            limit = cond.lasting_days
            if limit is not None:
                days, ongoing = event.days_at_or_above(cond.grade, as_of)
                if days > limit:
                    return _Verdict(True, reason=f"grade {cond.grade} for {days} days (> {limit})")
                if ongoing:
                    return _Verdict(
                        pending=True,
                        reason=f"grade {cond.grade} ongoing after {days} days (DLT if > {limit})",
                    )
                return _Verdict(
                    reason=f"expected toxicity; grade {cond.grade} lasted {days} days (<= {limit})"
                )
            return _Verdict(reason=f"expected toxicity; grade {cond.grade} without {cond.flag}")
        return _Verdict(reason=f"expected toxicity at grade {event.grade}: not a DLT")
    if is_expected:
        return None  # expected toxicities are judged only by their own rule
    if isinstance(params, GradeAtLeast):
        if params.terms and not _term_in(event, params.terms):
            return None
        if params.exclude_terms and _term_in(event, params.exclude_terms):
            return None
        if params.scope == "hematologic" and not is_heme:
            return None
        if params.scope == "non_hematologic" and is_heme:
            return None
        if event.grade < params.min_grade:
            return _Verdict(reason=f"grade {event.grade} < {params.min_grade}")
        for exc in params.exceptions:
            verdict = _exception(exc, event, version, as_of)
            if verdict is not None:
                return verdict
        return _Verdict(True, reason=f"grade {event.grade} >= {params.min_grade}")
    if isinstance(params, GradeForDays):
        if not _term_in(event, params.terms):
            return None
        if event.grade < params.min_grade:
            return _Verdict(reason=f"grade {event.grade} < {params.min_grade}")
        days, ongoing = event.days_at_or_above(params.min_grade, as_of)
        if days >= params.min_days:
            return _Verdict(
                True, reason=f"grade >= {params.min_grade} for {days} days (>= {params.min_days})"
            )
        if ongoing:
            return _Verdict(
                pending=True, reason=f"grade >= {params.min_grade} ongoing after {days} days"
            )
        return _Verdict(reason=f"grade >= {params.min_grade} for {days} days (< {params.min_days})")
    return None


def _exception(
    exc: ExceptionSpec, event: AdverseEvent, version: str, as_of: dt.date
) -> _Verdict | None:
    """A 'no DLT' verdict when the exception holds, pending when it may, else None."""
    entry = find_term(event.term, version)
    soc = entry.soc if entry is not None else None
    if not (_term_in(event, exc.terms) or (soc is not None and soc in exc.socs)):
        return None
    if event.grade > exc.max_grade:
        return None
    label = f"exception {exc.id} holds"
    shorter = _days(exc.shorter_than_days, exc.shorter_than_hours)
    if shorter is not None:
        days, ongoing = event.days_at_or_above(event.grade, as_of)
        if days < shorter and not ongoing:
            return _Verdict(reason=f"{label}: lasted {days} days (< {shorter})")
        if days < shorter:
            return _Verdict(
                pending=True, reason=f"exception {exc.id} pending: ongoing after {days} days"
            )
        return None
    if exc.resolves_to_grade is not None:
        within = _days(exc.within_days, exc.within_hours)
        assert within is not None
        days, ongoing = event.days_at_or_above(exc.resolves_to_grade + 1, as_of)
        if not ongoing and days <= within:
            return _Verdict(
                reason=f"{label}: back to grade <= {exc.resolves_to_grade} "
                f"in {days} days (<= {within})"
            )
        if ongoing and days <= within:
            return _Verdict(
                pending=True, reason=f"exception {exc.id} pending: not yet back after {days} days"
            )
        return None
    return _Verdict(reason=f"{label}: grade {event.grade} {event.term} is excepted")


def _repeated_lab(
    params: RepeatedLab, patient: PatientWindow, start: dt.date, end: dt.date
) -> str | None:
    spec = lookup_analyte(params.analyte)
    limit = spec.to_canonical(params.below, params.unit)
    days: set[dt.date] = set()
    for i, lab in enumerate(patient.labs):
        if lab.analyte == params.analyte and start <= lab.date <= end:
            value = spec.to_canonical(lab.value, lab.unit, path=f"labs[{i}].unit")
            if value < limit:
                days.add(lab.date)
    if params.transfusion is not None:
        days |= {
            t.date
            for t in patient.transfusions
            if t.product == params.transfusion and start <= t.date <= end
        }
    ordered = sorted(days)
    for i in range(len(ordered) - params.occurrences + 1):
        first, last = ordered[i], ordered[i + params.occurrences - 1]
        if (last - first).days < params.within_days:
            shown = ", ".join(str(d) for d in ordered[i : i + params.occurrences])
            return (
                f"{params.analyte} < {params.below:g} {params.unit} or "
                f"{params.transfusion or 'no'} transfusion on {params.occurrences} days "
                f"within {params.within_days} days ({shown})"
            )
    return None


def _evaluability(
    patient: PatientWindow,
    rule: Evaluability,
    has_dlt: bool,
    window_end: dt.date,
    as_of: dt.date,
) -> tuple[bool | None, str]:
    if has_dlt:
        return True, "had a DLT"
    share = patient.doses_given / patient.doses_planned
    off_early = patient.off_treatment is not None and patient.off_treatment < window_end
    if off_early:
        return False, (
            f"off treatment on {patient.off_treatment} before the window ended, without a DLT"
            + (f" ({patient.off_treatment_reason})" if patient.off_treatment_reason else "")
        )
    if as_of < window_end:
        return None, f"window open until {window_end}"
    if share + 1e-12 < rule.min_dose_fraction:
        return False, (
            f"received {patient.doses_given}/{patient.doses_planned} {rule.agent} doses "
            f"({share:.0%} < {rule.min_dose_fraction:.0%})"
        )
    return True, (
        f"completed the window with {patient.doses_given}/{patient.doses_planned} "
        f"{rule.agent} doses ({share:.0%} >= {rule.min_dose_fraction:.0%})"
    )


def parse_patients(
    records: Sequence[dict[str, Any]], *, version: str, protocol: Protocol, path: str = "patients"
) -> tuple[PatientWindow, ...]:
    """Validate raw patient records (as in an EVENTS.json); all problems at once."""
    agents = {a.id for a in protocol.agents}
    problems: list[Problem] = []
    out: list[PatientWindow] = []
    for i, raw in enumerate(records):
        here = f"{path}[{i}]"
        raw_events = raw.get("events", []) if isinstance(raw, dict) else []
        try:
            events = parse_events(raw_events, version=version, agents=agents, path=f"{here}.events")
        except InputError as exc:
            problems.extend(exc.problems)
            events = ()
        try:
            patient = PatientWindow.model_validate({**raw, "events": events})
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(Problem(f"{here}.{loc}" if loc else here, msg))
            continue
        out.append(patient)
    if problems:
        raise InputError(problems)
    return tuple(out)
