"""The bulk path's status pass, compiled to one straight-line Python function per dose level.

Screening 100,000 records means running the same ~80 steps (a rule, or a group combining
its children) 100,000 times. Interpreting the plan costs more per step than most rules do:
a loop, tuple unpacking, dictionary writes, a frozenset per group. So the plan is written
out once as source code, one line per step, each status held in a local variable:

    o12 = c12(ctx, p12)                    # 'inc-anc'
    s12 = o12[0]
    s9 = ALL_OF[BIT[s10] | BIT[s11] | BIT[s12]]   # 'inc-hematology' (all_of)

and compiled with `compile()`. The generated text only ever holds identifiers made here
and criterion ids as `repr()` literals; `StatusPass.source` keeps it for reading. The
interpreted path (`Screener.evaluate(..., brief=False)`) stays the reference: the tests
compare the two on every example, thousands of generated and mutated records, every level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from phaseone.eligibility.verdict import (
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    UNKNOWN,
    Outcome,
    Status,
    combine,
    passes,
)

# Each status as one bit, so that a group's children combine with `|` and one lookup.
BIT: dict[Status, int] = {MET: 1, NOT_MET: 2, UNKNOWN: 4, NOT_APPLICABLE: 8}
_BY_BIT = (MET, NOT_MET, UNKNOWN, NOT_APPLICABLE)


def _mask_table(mode: str) -> tuple[Status, ...]:
    """combine() for every set of child statuses, indexed by the OR of their bits
    (index 0, no children, never occurs: every group has children)."""
    return tuple(
        combine(mode, (s for bit, s in enumerate(_BY_BIT) if mask >> bit & 1)) if mask else UNKNOWN
        for mask in range(16)
    )


TABLES = {"all_of": _mask_table("all_of"), "any_of": _mask_table("any_of")}
# The statuses with which a criterion passes (an exclusion passes when it is not met).
PASSING = {
    kind: tuple(s for s in _BY_BIT if passes(s, kind) in (MET, NOT_APPLICABLE))
    for kind in ("inclusion", "exclusion")
}


@dataclass(frozen=True, slots=True)
class Step:
    """What the compiler needs of one planned step (see Screener.status_passes)."""

    id: str
    kind: str
    check: Callable[[Any, Any], Outcome] | None  # a rule's; None for a group
    params: Any
    node: Any  # handed back to for_each / pending_level
    children: tuple[str, ...]
    combine: str
    descendants: tuple[str, ...]  # for a per-item group: evaluated with it


# The per-item group evaluator: (node, ctx, outcomes) -> Outcome, outcomes filled in for
# the group and everything below it.
ForEach = Callable[[Any, Any, dict[str, Outcome]], Outcome]
Pending = Callable[[Any, Outcome], Outcome]


class StatusPass:
    """`run(ctx, statuses, outcomes)` -> (every criterion's status in protocol order, and
    per position the outcome its rule returned: None for groups and skipped criteria).

    `skipped` criteria do not apply on the level (not_applicable); `pending` ones depend
    on a level not yet given (unknown unless they pass). `statuses` receives the criteria
    that rules read through `ctx.verdict_of`; `outcomes` receives the full outcomes of
    per-item groups and their descendants."""

    def __init__(
        self,
        steps: Iterable[Step],
        ids: Sequence[str],
        skipped: Iterable[str],
        referenced: Iterable[str],
        pending: Iterable[str],
        for_each: ForEach,
        pending_level: Pending,
    ) -> None:
        position = {cid: k for k, cid in enumerate(ids)}
        not_here = {position[cid] for cid in skipped}
        shared = set(referenced)
        waits = set(pending)
        namespace: dict[str, Any] = {
            "ALL_OF": TABLES["all_of"],
            "ANY_OF": TABLES["any_of"],
            "BIT": BIT,
            "NA": NOT_APPLICABLE,
            "UNKNOWN": UNKNOWN,
            "for_each": for_each,
            "pending_level": pending_level,
        }
        lines = ["def run(ctx, statuses, outcomes):"]
        lines += [f"    statuses[{ids[k]!r}] = NA" for k in sorted(not_here) if ids[k] in shared]
        done: set[int] = set()
        ruled: set[int] = set()  # steps that are rules: their outcomes are returned too

        def var(cid: str) -> str:
            return f"s{position[cid]}"

        def bit(cid: str) -> str:
            k = position[cid]
            if k in done:
                return f"BIT[s{k}]"
            if k in not_here:
                return str(BIT[NOT_APPLICABLE])
            raise ValueError(f"step order: {cid!r} is needed before it is evaluated")

        for step in steps:
            k = position[step.id]
            s = var(step.id)
            namespace[f"n{k}"] = step.node
            label = f"  # {step.id!r}"
            if step.check is not None:
                namespace[f"c{k}"], namespace[f"p{k}"] = step.check, step.params
                lines.append(f"    o{k} = c{k}(ctx, p{k}){label}")
                lines.append(f"    {s} = o{k}[0]")
                ruled.add(k)
            elif step.descendants:
                lines += [
                    "    ctx.brief = False",
                    f"    o = for_each(n{k}, ctx, outcomes){label} (per item)",
                    "    ctx.brief = True",
                ]
                if step.id in waits:
                    lines.append(f"    o = pending_level(n{k}, o)")
                lines += [f"    outcomes[{step.id!r}] = o", f"    {s} = o.status"]
                for d in step.descendants:
                    lines.append(f"    {var(d)} = outcomes[{d!r}].status")
                    done.add(position[d])
                    if d in shared:
                        lines.append(f"    statuses[{d!r}] = {var(d)}")
            else:
                table = "ALL_OF" if step.combine == "all_of" else "ANY_OF"
                mask = " | ".join(bit(c) for c in step.children)
                lines.append(f"    {s} = {table}[{mask}]{label} ({step.combine})")
            if step.id in waits:
                namespace[f"ok{k}"] = PASSING[step.kind]
                lines.append(f"    if {s} not in ok{k}:\n        {s} = UNKNOWN")
            if step.id in shared:
                lines.append(f"    statuses[{step.id!r}] = {s}")
            done.add(k)
        if done | not_here != set(range(len(ids))):
            raise ValueError("step order: some criteria are neither evaluated nor skipped")
        values = ", ".join(f"s{k}" if k in done else "NA" for k in range(len(ids)))
        outs = ", ".join(f"o{k}" if k in ruled else "None" for k in range(len(ids)))
        lines.append(f"    return [{values}], ({outs},)")
        self.source = "\n".join(lines) + "\n"
        exec(compile(self.source, "<eligibility status pass>", "exec"), namespace)
        self.run = cast(
            Callable[
                [Any, dict[str, Status], dict[str, Outcome]],
                tuple[list[Status], tuple[Outcome | None, ...]],
            ],
            namespace["run"],
        )
