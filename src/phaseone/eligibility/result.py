"""The result of screening one record: per-criterion verdicts and the overall verdict.

The JSON form (`to_dict`, `to_json`) is documented in docs/eligibility.md and is stable:
fields are only ever added, and `format` changes if a meaning changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import compress, count
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import orjson

from phaseone.eligibility.verdict import (
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    UNKNOWN,
    Outcome,
    Status,
    passes,
)

if TYPE_CHECKING:
    import pandas as pd

RESULT_FORMAT = "phaseone.eligibility.result/1"
ROW_FORMAT = "phaseone.eligibility.row/1"
Overall = Literal["eligible", "ineligible", "incomplete"]

_WORDS: dict[Status, str] = {
    MET: "pass",
    NOT_MET: "fail",
    UNKNOWN: "unknown",
    NOT_APPLICABLE: "not_applicable",
}
# "Does the patient pass?" by (kind, status): an exclusion passes when it is not met.
OUTCOME: dict[tuple[str, Status], str] = {
    (kind, status): _WORDS[passes(status, kind)]
    for kind in ("inclusion", "exclusion")
    for status in _WORDS
}


_BY_KIND: dict[str, dict[Status, str]] = {
    kind: {status: OUTCOME[kind, status] for status in _WORDS}
    for kind in ("inclusion", "exclusion")
}
SHOWN = {"fail": True, "unknown": True, "pass": False, "not_applicable": False}
# Each criterion's outcome word in protocol order, and the positions a compact row details.
RowPlan = tuple[list[str], list[int]]


class Layout(NamedTuple):
    """The criteria in protocol order, as a compact row reads them."""

    ids: tuple[str, ...]
    words: tuple[dict[Status, str], ...]  # per criterion: its outcome word for each status
    ancestors: tuple[tuple[int, ...], ...]  # positions of the groups above each criterion
    # Per criterion and outcome word, its member of the row's `outcomes` object as JSON
    # text (`"inc-anc":"pass"`): bulk rows join these instead of building a dict.
    members: tuple[dict[str, bytes], ...]


def layout(info: Sequence[CriterionInfo]) -> Layout:
    position = {c.id: k for k, c in enumerate(info)}
    ancestors = []
    for c in info:
        above: list[int] = []
        parent = c.parent
        while parent is not None:
            above.append(position[parent])
            parent = info[position[parent]].parent
        ancestors.append(tuple(above))
    members = tuple(
        {word: orjson.dumps({c.id: word})[1:-1] for word in _WORDS.values()} for c in info
    )
    return Layout(
        tuple(c.id for c in info),
        tuple(_BY_KIND[c.kind] for c in info),
        tuple(ancestors),
        members,
    )


def row_plan(shape: Layout, statuses: Sequence[Status]) -> RowPlan:
    """What a compact row shows: each criterion's outcome, and the positions of those it
    details: not passed, not applicable, and not inside a group that passed (an
    alternative that was not needed). Mostly in C: this runs for every bulk record."""
    words = list(map(dict.__getitem__, shape.words, statuses))
    detailed = []
    for k in compress(count(), map(SHOWN.__getitem__, words)):  # failed or unknown
        for above in shape.ancestors[k]:
            if words[above] == "pass":
                break
        else:
            detailed.append(k)
    return words, detailed


class CriterionInfo(NamedTuple):
    """What a criterion is (the same for every record)."""

    id: str
    kind: str
    parent: str | None
    depth: int
    text: str
    rule: str  # the rule name, or all_of / any_of for a group
    rule_version: int | None
    applies_when: str | None


class CriterionResult(NamedTuple):
    """One criterion's verdict.

    `status` answers the criterion as worded (an exclusion that is `met` excludes);
    `outcome` answers "does the patient pass it": pass / fail / unknown / not_applicable.
    """

    id: str
    kind: str
    parent: str | None
    depth: int
    text: str
    rule: str
    rule_version: int | None
    applies_when: str | None
    status: Status
    outcome: str
    reason: str
    missing: tuple[str, ...]
    evidence: dict[str, Any]


class EligibilityResult:
    """Screening of one record against one protocol, as of one date, on one dose level."""

    __slots__ = (
        "_criteria",
        "_info",
        "_layout",
        "_outcomes",
        "_row_plan",
        "as_of",
        "dose_level",
        "engine_version",
        "failed",
        "missing",
        "overall",
        "protocol_id",
        "protocol_version",
        "record_id",
        "unknown",
    )

    def __init__(
        self,
        *,
        record_id: str,
        protocol_id: str,
        protocol_version: str,
        engine_version: str,
        as_of: dt.date,
        dose_level: int | None,
        overall: Overall,
        failed: tuple[str, ...],
        unknown: tuple[str, ...],
        missing: tuple[str, ...],
        info: tuple[CriterionInfo, ...],
        outcomes: tuple[Outcome, ...],
        row: RowPlan | None = None,
        shape: Layout | None = None,
    ) -> None:
        self.record_id = record_id
        self.protocol_id = protocol_id
        self.protocol_version = protocol_version
        self.engine_version = engine_version
        self.as_of = as_of
        self.dose_level = dose_level
        self.overall = overall
        self.failed = failed
        self.unknown = unknown
        self.missing = missing
        self._info = info
        self._outcomes = outcomes
        self._row_plan = row  # worked out by the engine, else on demand
        self._layout = shape  # the screener's, else worked out on demand
        self._criteria: tuple[CriterionResult, ...] | None = None

    def __repr__(self) -> str:
        return (
            f"EligibilityResult({self.record_id!r}, {self.overall}, failed={list(self.failed)}, "
            f"unknown={list(self.unknown)})"
        )

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        """Every criterion in protocol order (groups before their children)."""
        if self._criteria is None:
            self._criteria = tuple(
                CriterionResult(
                    *info,
                    out.status,
                    OUTCOME[info.kind, out.status],
                    out.reason,
                    out.missing,
                    out.evidence,
                )
                for info, out in zip(self._info, self._outcomes, strict=True)
            )
        return self._criteria

    def criterion(self, criterion_id: str) -> CriterionResult:
        for item in self.criteria:
            if item.id == criterion_id:
                return item
        raise KeyError(criterion_id)

    def to_dict(self, line: int | None = None) -> dict[str, Any]:
        """The documented JSON form as a dict (dates are datetime.date); `line` is set when
        the record came from a line of a JSONL file."""
        return {
            "format": RESULT_FORMAT,
            "line": line,
            "record_id": self.record_id,
            "protocol": {"id": self.protocol_id, "version": self.protocol_version},
            "engine_version": self.engine_version,
            "as_of": self.as_of,
            "dose_level": self.dose_level,
            "overall": self.overall,
            "failed": self.failed,
            "unknown": self.unknown,
            "missing": self.missing,
            "criteria": [
                {
                    "id": info.id,
                    "kind": info.kind,
                    "parent": info.parent,
                    "rule": info.rule,
                    "rule_version": info.rule_version,
                    "applies_when": info.applies_when,
                    "status": out.status,
                    "outcome": OUTCOME[info.kind, out.status],
                    "reason": out.reason,
                    "missing": out.missing,
                    "evidence": out.evidence,
                }
                for info, out in zip(self._info, self._outcomes, strict=True)
            ],
        }

    def to_row(self, line: int | None = None) -> dict[str, Any]:
        """The compact bulk form: every criterion's outcome, plus reasons, missing data and
        evidence for the criteria that did not pass (alternatives inside a group that
        passed are left out)."""
        words, _ = self._plan()
        return self._row(line, dict(zip(self._shape().ids, words, strict=True)))

    def to_row_json(self, line: int | None = None) -> bytes:
        """`to_row()` as one line of JSON text (with its newline), made faster: the
        `outcomes` object is joined from ready-made members."""
        words, _ = self._plan()
        members = b",".join(map(dict.__getitem__, self._shape().members, words))
        row = self._row(line, orjson.Fragment(b"{" + members + b"}"))
        return orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)

    def _shape(self) -> Layout:
        if self._layout is None:
            self._layout = layout(self._info)
        return self._layout

    def _plan(self) -> RowPlan:
        if self._row_plan is None:
            self._row_plan = row_plan(self._shape(), [o.status for o in self._outcomes])
        return self._row_plan

    def _row(self, line: int | None, outcomes: object) -> dict[str, Any]:
        details = []
        for k in self._plan()[1]:
            out = self._outcomes[k]
            details.append(
                {
                    "id": self._info[k].id,
                    "status": out.status,
                    "outcome": OUTCOME[self._info[k].kind, out.status],
                    "reason": out.reason,
                    "missing": out.missing,
                    "evidence": out.evidence,
                }
            )
        return {
            "format": ROW_FORMAT,
            "line": line,
            "record_id": self.record_id,
            "protocol": {"id": self.protocol_id, "version": self.protocol_version},
            "engine_version": self.engine_version,
            "as_of": self.as_of,
            "dose_level": self.dose_level,
            "overall": self.overall,
            "failed": self.failed,
            "unknown": self.unknown,
            "missing": self.missing,
            "outcomes": outcomes,
            "details": details,
        }

    def to_json(self, indent: bool = False) -> bytes:
        """The documented JSON form (dates as YYYY-MM-DD), UTF-8 encoded."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 if indent else 0)

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: id, kind, parent, depth, rule, status, outcome, reason..."""
        import pandas as pd

        frame = pd.DataFrame(
            [c._asdict() for c in self.criteria],
            columns=list(CriterionResult._fields),
        )
        frame.insert(0, "record_id", self.record_id)
        frame["missing"] = frame["missing"].map(", ".join)
        return frame
