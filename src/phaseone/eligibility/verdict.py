"""What a rule returns, and how verdicts combine (three-valued logic)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

Status = Literal["met", "not_met", "unknown", "not_applicable"]
MET: Status = "met"
NOT_MET: Status = "not_met"
UNKNOWN: Status = "unknown"
NOT_APPLICABLE: Status = "not_applicable"


class Outcome(NamedTuple):
    """A rule's answer for one patient: the status, why, what is missing, the evidence.

    `status` is about the criterion's condition as worded: an exclusion criterion that
    is `met` excludes the patient. (A NamedTuple: immutable and cheap to make; the
    evidence dict is never changed after the outcome is built.)
    """

    status: Status
    reason: str
    evidence: dict[str, Any] = {}  # noqa: RUF012 - shared empty default, never mutated
    missing: tuple[str, ...] = ()


def met(reason: str, **evidence: Any) -> Outcome:
    return Outcome(MET, reason, evidence)


def not_met(reason: str, **evidence: Any) -> Outcome:
    return Outcome(NOT_MET, reason, evidence)


def unknown(reason: str, missing: Iterable[str], **evidence: Any) -> Outcome:
    return Outcome(UNKNOWN, reason, evidence, tuple(missing))


def not_applicable(reason: str, **evidence: Any) -> Outcome:
    return Outcome(NOT_APPLICABLE, reason, evidence)


def combine(mode: str, statuses: Iterable[Status]) -> Status:
    """Kleene's three-valued AND (all_of) / OR (any_of); not-applicable parts drop out."""
    seen = {s for s in statuses if s != NOT_APPLICABLE}
    if not seen:
        return NOT_APPLICABLE
    if mode == "all_of":
        if NOT_MET in seen:
            return NOT_MET
        return UNKNOWN if UNKNOWN in seen else MET
    if MET in seen:
        return MET
    return UNKNOWN if UNKNOWN in seen else NOT_MET


def passes(status: Status, kind: str) -> Status:
    """The status of 'the patient passes this criterion': an exclusion passes when not met."""
    if kind == "exclusion" and status in (MET, NOT_MET):
        return NOT_MET if status == MET else MET
    return status


# Each status as one bit, so that a group's child statuses combine with `|`, and
# combine() for every set of them, indexed by that OR (the engine's group step).
BIT: dict[Status, int] = {MET: 1, NOT_MET: 2, UNKNOWN: 4, NOT_APPLICABLE: 8}
COMBINED: dict[str, tuple[Status, ...]] = {
    mode: tuple(combine(mode, [s for s, bit in BIT.items() if mask & bit]) for mask in range(16))
    for mode in ("all_of", "any_of")
}
