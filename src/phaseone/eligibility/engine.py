"""Evaluate a patient record against a protocol's eligibility criteria.

`Screener(protocol)` compiles the criteria once (rule lookup, parameter validation,
references between criteria); `screener.evaluate(record, as_of, dose_level)` then does
only per-record work. `evaluate(...)` is the one-call form.

Groups combine their children with three-valued logic (verdict.combine). A criterion
with `applies_when` is not applicable on a dose level without the agent; with no dose
level given it is evaluated, and if it would not pass it becomes `unknown` (it depends
on the level that will be assigned).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from phaseone.eligibility.context import Context
from phaseone.eligibility.record import EARLIEST_DATE, LATEST_DATE, PatientRecord
from phaseone.eligibility.result import (
    CriterionInfo,
    EligibilityResult,
    Overall,
    RowPlan,
    layout,
    row_plan,
)
from phaseone.eligibility.rules import FOR_EACH_COLLECTIONS, RULES, RULES_VERSION, Params, Rule
from phaseone.eligibility.rules.base import read_params
from phaseone.eligibility.verdict import (
    BIT,
    COMBINED,
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    UNKNOWN,
    Outcome,
    Status,
    combine,
    passes,
)
from phaseone.errors import InputError, Problem, ProtocolError
from phaseone.protocol.model import Criterion, Protocol

ENGINE_VERSION = f"1.{RULES_VERSION}"


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled criterion: its rule resolved and its parameters validated."""

    id: str
    kind: str
    text: str
    parent: str | None
    depth: int
    combine: str | None
    for_each: str | None
    children: tuple[Node, ...]
    rule: Rule | None
    params: Params | None
    includes: str | None
    excludes: str | None

    @property
    def condition(self) -> str | None:
        if self.includes:
            return f"dose level includes {self.includes}"
        if self.excludes:
            return f"dose level excludes {self.excludes}"
        return None


def _compile(
    criterion: Criterion, path: str, parent: str | None, depth: int, problems: list[Problem]
) -> Node:
    rule: Rule | None = None
    params: Params | None = None
    if not criterion.children:
        if criterion.rule is None:
            problems.append(
                Problem(
                    f"{path}.rule",
                    "criterion has no rule; expected one of: " + ", ".join(sorted(RULES)),
                )
            )
        elif criterion.rule not in RULES:
            problems.append(
                Problem(
                    f"{path}.rule",
                    f"unknown rule {criterion.rule!r}; expected "
                    "one of: " + ", ".join(sorted(RULES)),
                )
            )
        else:
            rule = RULES[criterion.rule]
            try:
                params = read_params(rule.params, criterion.params)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    where = ".".join(str(p) for p in err["loc"])
                    message = str(err["msg"]).removeprefix("Value error, ")
                    if err["type"] == "unexpected_keyword_argument":  # a key no rule reads
                        message = "extra inputs are not permitted"
                    problems.append(
                        Problem(
                            f"{path}.params" + (f".{where}" if where else ""),
                            message[:1].lower() + message[1:],
                        )
                    )
    if criterion.for_each is not None and criterion.for_each not in FOR_EACH_COLLECTIONS:
        problems.append(
            Problem(
                f"{path}.for_each",
                f"unknown collection {criterion.for_each!r}; "
                "expected one of: " + ", ".join(FOR_EACH_COLLECTIONS),
            )
        )
    children = tuple(
        _compile(child, f"{path}.children[{j}]", criterion.id, depth + 1, problems)
        for j, child in enumerate(criterion.children)
    )
    cond = criterion.applies_when
    return Node(
        id=criterion.id,
        kind=criterion.kind,
        text=criterion.text,
        parent=parent,
        depth=depth,
        combine=criterion.combine,
        for_each=criterion.for_each,
        children=children,
        rule=rule,
        params=params,
        includes=cond.dose_level_includes if cond else None,
        excludes=cond.dose_level_excludes if cond else None,
    )


def _walk(nodes: Iterable[Node]) -> Iterable[Node]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


class Screener:
    """A protocol's criteria, compiled once, ready to evaluate many records."""

    def __init__(self, protocol: Protocol) -> None:
        problems: list[Problem] = []
        self.protocol = protocol
        self.roots = tuple(
            _compile(c, f"eligibility[{i}]", None, 0, problems)
            for i, c in enumerate(protocol.eligibility)
        )
        self.order = tuple(_walk(self.roots))
        self.by_id = {n.id: n for n in self.order}
        paths = _paths(protocol)
        inside_each = {d.id for n in self.order if n.for_each for d in _walk(n.children)}
        references: dict[str, tuple[str, ...]] = {}
        for node in self.order:
            if node.rule is None or node.rule.references is None or node.params is None:
                continue
            refs = tuple(node.rule.references(node.params))
            references[node.id] = refs
            for ref in refs:
                if ref not in self.by_id:
                    problems.append(
                        Problem(f"{paths[node.id]}.params", f"refers to unknown criterion {ref!r}")
                    )
                elif ref in inside_each:
                    problems.append(
                        Problem(
                            f"{paths[node.id]}.params",
                            f"refers to {ref!r}, which is evaluated per item of a for_each group",
                        )
                    )
        if problems:
            raise ProtocolError(problems)
        self.plan = self._plan(references, inside_each, paths)
        self.static = tuple(
            CriterionInfo(
                n.id,
                n.kind,
                n.parent,
                n.depth,
                n.text,
                n.rule.name if n.rule else n.combine or "",
                n.rule.version if n.rule else None,
                n.condition,
            )
            for n in self.order
        )
        self.ids = tuple(n.id for n in self.order)
        self.levels = {level.id: frozenset(level.doses) for level in protocol.dose_levels}
        # What does not apply on each dose level (a node and everything under it), and what
        # waits for a level when none is given; worked out once.
        self.skipped: dict[int | None, frozenset[str]] = {
            level: frozenset(
                d.id
                for n in self.order
                if self.applies(n, level) is False
                for d in (n, *_walk(n.children))
            )
            for level in self.levels
        }
        self.skipped[None] = frozenset()
        # Per dose level: the nodes to evaluate, and the ready-made not-applicable outcomes.
        self.plans = {
            level: tuple(n for n in self.plan if n.id not in skipped)
            for level, skipped in self.skipped.items()
        }
        # The full path's loop reads plain tuples: (id, rule function, params, node, child ids).
        self.steps = {
            level: tuple(
                (
                    n.id,
                    n.rule.check if n.rule else None,
                    n.params,
                    n,
                    tuple(c.id for c in n.children),
                )
                for n in plan
            )
            for level, plan in self.plans.items()
        }
        self.skip_outcomes = {
            level: {
                cid: Outcome(
                    NOT_APPLICABLE,
                    f"applies only when {self._condition_above(self.by_id[cid])}; "
                    f"level {level} does not",
                )
                for cid in skipped
            }
            for level, skipped in self.skipped.items()
        }
        self.below = {n.id: tuple(_walk(n.children)) for n in self.order}
        self.descendants = {nid: tuple(d.id for d in below) for nid, below in self.below.items()}
        # In protocol order, for deciding what a compact row details.
        self.layout = layout(self.static)
        self.position = {n.id: k for k, n in enumerate(self.order)}
        self.root_positions = tuple(self.position[n.id] for n in self.roots)
        # Criteria that answer for themselves when they fail: rules, per-item groups and
        # alternatives (a failed any_of has no single child to blame).
        self.decisive = tuple(
            n.rule is not None or n.for_each is not None or n.combine == "any_of"
            for n in self.order
        )
        self.child_positions = tuple(
            tuple(self.position[c.id] for c in n.children) for n in self.order
        )
        self.pending: dict[int | None, frozenset[str]] = dict.fromkeys(self.levels, frozenset())
        self.pending[None] = frozenset(n.id for n in self.order if self.applies(n, None) is None)

    def _plan(
        self, references: dict[str, tuple[str, ...]], inside_each: set[str], paths: dict[str, str]
    ) -> tuple[Node, ...]:
        """Nodes in an order where children and referenced criteria come first."""
        plan: list[Node] = []
        state: dict[str, int] = {}  # 1 = in progress, 2 = done

        def visit(node: Node) -> None:
            if state.get(node.id) == 2:
                return
            if state.get(node.id) == 1:
                raise ProtocolError(
                    [Problem(f"{paths[node.id]}.params", "criteria refer to each other in a cycle")]
                )
            state[node.id] = 1
            if node.for_each is None:
                for child in node.children:
                    visit(child)
            for ref in references.get(node.id, ()):
                visit(self.by_id[ref])
            state[node.id] = 2
            plan.append(node)

        for node in self.order:
            if node.id not in inside_each:
                visit(node)
        return tuple(plan)

    # --- evaluation -------------------------------------------------------------------

    def evaluate(
        self,
        record: PatientRecord,
        as_of: dt.date,
        dose_level: int | None = None,
    ) -> EligibilityResult:
        """Evaluate one record as of the first day of protocol therapy.

        The one evaluation of a record: the single-record screen, the result documents and
        the bulk rows (phaseone.eligibility.bulk, in worker processes or on a cluster) all
        come from it."""
        if dose_level is not None and dose_level not in self.levels:
            raise InputError(
                [
                    Problem(
                        "dose_level",
                        f"unknown dose level {dose_level}; expected one of: "
                        + ", ".join(map(str, self.levels)),
                    )
                ]
            )
        check_entry_date(as_of)
        if as_of < record.birth_date:
            raise InputError(
                [Problem("as_of", f"{as_of} is before birth_date {record.birth_date}")]
            )
        outcomes = dict(self.skip_outcomes[dose_level])
        ctx = Context(record, as_of, lambda cid: outcomes[cid].status)
        pending = self.pending[dose_level]
        for nid, check, params, node, child_ids in self.steps[dose_level]:
            if check is not None:
                out = check(ctx, params)
            elif node.for_each is not None:
                out = _for_each(node, self.below[nid], ctx, record, outcomes)
            else:
                out = _group(node, [outcomes[c] for c in child_ids])
            if pending and nid in pending:
                out = self._pending_level(node, out)
            outcomes[nid] = out
        final = tuple([outcomes[i] for i in self.ids])
        row = row_plan(self.layout, [o.status for o in final])
        return self._result(record, as_of, dose_level, final, row)

    def _culprits(self, k: int, word: str, words: list[str]) -> list[str]:
        """The most specific criteria that make the criterion at position k fail (or stay
        unknown); `word` and `words` are outcomes (fail, unknown), not statuses."""
        if self.decisive[k]:
            return [self.ids[k]]
        out: list[str] = []
        for j in self.child_positions[k]:
            if words[j] == word:
                out.extend(self._culprits(j, word, words))
        return out or [self.ids[k]]

    def applies(self, node: Node, dose_level: int | None) -> bool | None:
        """Whether a node's own condition holds on a dose level (None: no level given)."""
        if node.includes is None and node.excludes is None:
            return True
        if dose_level is None:
            return None
        agents = self.levels[dose_level]
        if node.includes is not None and node.includes not in agents:
            return False
        return not (node.excludes is not None and node.excludes in agents)

    def levels_where(self, node: Node) -> list[int]:
        return [level for level in self.levels if self.applies(node, level)]

    def _condition_above(self, node: Node) -> str:
        current: Node | None = node
        while current is not None and current.condition is None:
            current = self.by_id[current.parent] if current.parent else None
        return current.condition if current and current.condition else "its condition holds"

    def _pending_level(self, node: Node, out: Outcome) -> Outcome:
        """No dose level given: a criterion that depends on it passes or stays unknown."""
        levels = ", ".join(map(str, self.levels_where(node)))
        if passes(out.status, node.kind) in (MET, NOT_APPLICABLE):
            return Outcome(
                out.status, out.reason, {**out.evidence, "applies_on_levels": levels}, out.missing
            )
        reason = f"applies only on levels {levels} ({node.condition}), and there {out.reason}"
        return Outcome(
            UNKNOWN,
            reason,
            {**out.evidence, "status_if_applied": out.status},
            (*out.missing, "dose_level"),
        )

    def _result(
        self,
        record: PatientRecord,
        as_of: dt.date,
        dose_level: int | None,
        outcomes: tuple[Outcome, ...],
        row: RowPlan,
    ) -> EligibilityResult:
        failed: list[str] = []
        pending: list[str] = []
        missing: dict[str, None] = {}
        words = row[0]  # each criterion's outcome: pass, fail, unknown or not_applicable
        for k in self.root_positions:
            word = words[k]
            if word == "fail":
                failed.extend(self._culprits(k, "fail", words))
            elif word == "unknown":
                pending.extend(self._culprits(k, "unknown", words))
                missing.update(dict.fromkeys(outcomes[k].missing))
        overall: Overall = "ineligible" if failed else "incomplete" if pending else "eligible"
        return EligibilityResult(
            record_id=record.id,
            protocol_id=self.protocol.id,
            protocol_version=self.protocol.version,
            engine_version=ENGINE_VERSION,
            as_of=as_of,
            dose_level=dose_level,
            overall=overall,
            failed=tuple(failed),
            unknown=tuple(pending),
            missing=tuple(missing),
            info=self.static,
            outcomes=outcomes,
            row=row,
            shape=self.layout,
        )


def check_entry_date(as_of: dt.date, path: str = "as_of") -> None:
    """An entry date must lie in the range every record date lies in."""
    if not EARLIEST_DATE <= as_of <= LATEST_DATE:
        message = f"{as_of} is outside {EARLIEST_DATE} to {LATEST_DATE}, the range of record dates"
        raise InputError([Problem(path, message)])


def _paths(protocol: Protocol) -> dict[str, str]:
    out: dict[str, str] = {}

    def visit(c: Criterion, path: str) -> None:
        out[c.id] = path
        for j, child in enumerate(c.children):
            visit(child, f"{path}.children[{j}]")

    for i, c in enumerate(protocol.eligibility):
        visit(c, f"eligibility[{i}]")
    return out


def _for_each(
    node: Node,
    descendants: tuple[Node, ...],
    ctx: Context,
    record: PatientRecord,
    outcomes: dict[str, Outcome],
) -> Outcome:
    """An all_of group met when one item of a collection meets every child."""
    collection = FOR_EACH_COLLECTIONS[node.for_each or ""]
    items = _resolve(record, collection)
    if items is None or not items:
        if items is None:
            out = Outcome(UNKNOWN, f"{collection} not recorded", {}, (collection,))
        else:
            out = Outcome(NOT_MET, f"none recorded ({collection} is empty)")
        for d in descendants:
            outcomes[d.id] = out
        return out
    per_item: dict[str, dict[str, Outcome]] = {}
    item_status: dict[str, Status] = {}
    for index, item in enumerate(items):
        label = str(getattr(item, "id", index))
        ctx.item = (index, item)
        found: dict[str, Outcome] = {}
        item_status[label] = _item_status(node, ctx, found)
        per_item[label] = found
    ctx.item = None
    for child in descendants:
        by_item = {label: per_item[label][child.id] for label in per_item}
        status = combine("any_of", (o.status for o in by_item.values()))
        chosen = next((o for o in by_item.values() if o.status == status), None)
        missing = tuple(dict.fromkeys(m for o in by_item.values() for m in o.missing))
        outcomes[child.id] = Outcome(
            status,
            chosen.reason if chosen else "",
            {"per_item": {label: o.status for label, o in by_item.items()}},
            missing if status == UNKNOWN else (),
        )
    status = combine("any_of", item_status.values())
    winners = [label for label, s in item_status.items() if s == status]
    missing_all: tuple[str, ...] = ()
    if status == MET:
        reason = f"{winners[0]} meets every condition"
    elif status == UNKNOWN:
        reason = f"undecided for {', '.join(winners)}"
        missing_all = tuple(
            dict.fromkeys(m for w in winners for o in per_item[w].values() for m in o.missing)
        )
    else:
        reason = "no single item meets every condition"
    return Outcome(status, reason, {"per_item": item_status}, missing_all)


def _item_status(node: Node, ctx: Context, found: dict[str, Outcome]) -> Status:
    if node.rule is not None:
        out = node.rule.check(ctx, node.params)
    else:
        for child in node.children:
            _item_status(child, ctx, found)
        out = _group(node, [found[c.id] for c in node.children])
    found[node.id] = out
    return out.status


def _group(node: Node, children: list[Outcome]) -> Outcome:
    """Combine children (three-valued logic), naming the ones that decided."""
    mode = node.combine or "all_of"
    mask = 0
    for o in children:
        mask |= BIT[o[0]]
    if mask == _ALL_MET:
        return _ALL_MET_OUTCOME if mode == "all_of" else _first_met(node, children)
    status = COMBINED[mode][mask]
    if status == MET:
        if mode == "all_of":
            return Outcome(MET, "all met")
        first = next(c.id for c, o in zip(node.children, children, strict=True) if o.status == MET)
        return Outcome(MET, f"met: {first}")
    if status == NOT_APPLICABLE:
        return Outcome(NOT_APPLICABLE, "not applicable")
    if status == NOT_MET and mode == "any_of":
        return Outcome(NOT_MET, "none met")
    ids = [c.id for c, o in zip(node.children, children, strict=True) if o.status == status]
    if status == NOT_MET:
        return Outcome(NOT_MET, "not met: " + ", ".join(ids))
    missing = tuple(dict.fromkeys(m for o in children if o.status == UNKNOWN for m in o.missing))
    return Outcome(UNKNOWN, "unknown: " + ", ".join(ids), {}, missing)


def _first_met(node: Node, children: list[Outcome]) -> Outcome:
    return Outcome(MET, "met: " + node.children[0].id)


def _resolve(record: PatientRecord, dotted: str) -> list[Any] | None:
    value: Any = record
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return list(value)


_ALL_MET = BIT[MET]
_PASSING = (MET, NOT_APPLICABLE)
_ALL_MET_OUTCOME = Outcome(MET, "all met")


# --- one-call API ----------------------------------------------------------------------------

_SCREENERS: dict[int, tuple[Protocol, Screener]] = {}


def screener_for(protocol: Protocol) -> Screener:
    """The compiled screener of a protocol, cached per protocol object."""
    cached = _SCREENERS.get(id(protocol))
    if cached is None or cached[0] is not protocol:
        cached = (protocol, Screener(protocol))
        _SCREENERS[id(protocol)] = cached
    return cached[1]


def evaluate(
    protocol: Protocol, record: PatientRecord, as_of: dt.date, dose_level: int | None = None
) -> EligibilityResult:
    """Evaluate one record against a protocol's eligibility criteria."""
    return screener_for(protocol).evaluate(record, as_of, dose_level)


def check_rules(protocol: Protocol) -> None:
    """Raise ProtocolError if any criterion names an unknown rule or bad parameters."""
    Screener(protocol)
