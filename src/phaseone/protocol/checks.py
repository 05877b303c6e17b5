"""Cross-field rules of a protocol: what pydantic cannot see field by field.

Each rule appends a Problem naming the exact field path, so a loader can point at
the line in the file. All problems are reported at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from phaseone.errors import Problem, ProtocolError

if TYPE_CHECKING:
    from phaseone.protocol.model import Criterion, Protocol

_UNIT_BASIS = {"bsa": "/m2/", "weight": "/kg/"}


def _duplicates(ids: Iterable[object]) -> list[object]:
    return [value for value, count in Counter(ids).items() if count > 1]


def _unique(problems: list[Problem], path: str, items: Iterable[object], what: str) -> None:
    ids = list(items)
    for dup in _duplicates(ids):
        index = ids.index(dup, ids.index(dup) + 1)
        problems.append(Problem(f"{path}[{index}].id", f"duplicate {what} id {dup!r}"))


def check_protocol(protocol: Protocol) -> None:
    """Raise ProtocolError listing every cross-field problem, or return None."""
    problems: list[Problem] = []
    agent_ids = [a.id for a in protocol.agents]
    known = set(agent_ids)
    expected_agents = ", ".join(agent_ids)

    def unknown_agent(path: str, name: str) -> None:
        problems.append(
            Problem(path, f"unknown agent {name!r}; expected one of: {expected_agents}")
        )

    _unique(problems, "agents", agent_ids, "agent")
    _unique(problems, "dose_levels", (d.id for d in protocol.dose_levels), "dose level")
    _unique(problems, "sites", (s.id for s in protocol.sites), "site")
    _unique(problems, "objectives", (o.id for o in protocol.objectives), "objective")
    _unique(problems, "assessments", (a.id for a in protocol.assessments), "assessment")
    _unique(problems, "dlt.rules", (r.id for r in protocol.dlt.rules), "DLT rule")

    # Dose levels give only known agents, in units that match each agent's basis.
    for i, level in enumerate(protocol.dose_levels):
        for name, dose in level.doses.items():
            path = f"dose_levels[{i}].doses.{name}"
            if name not in known:
                unknown_agent(path, name)
                continue
            basis = protocol.agent(name).dose_basis
            if dose.basis != basis:
                problems.append(
                    Problem(
                        f"{path}.unit",
                        f"unit {dose.unit!r} does not fit agent {name!r}, which is dosed by "
                        f"{basis}; expected a unit with {_UNIT_BASIS.get(basis, 'mg/day')!r}",
                    )
                )

    # The course: every scheduled agent is known, days fit the course, infusions are IV.
    length = protocol.course.length_days
    scheduled: set[str] = set()
    for i, item in enumerate(protocol.course.schedule):
        path = f"course.schedule[{i}]"
        if item.agent not in known:
            unknown_agent(f"{path}.agent", item.agent)
            continue
        if item.agent in scheduled:
            problems.append(Problem(f"{path}.agent", f"agent {item.agent!r} is scheduled twice"))
        scheduled.add(item.agent)
        _days_fit(problems, f"{path}.days", item.days, length)
        route = protocol.agent(item.agent).route
        if route == "IV" and item.infusion_hours is None:
            problems.append(
                Problem(f"{path}.infusion_hours", f"IV agent {item.agent!r} needs infusion_hours")
            )
        if route != "IV" and item.infusion_hours is not None:
            problems.append(
                Problem(
                    f"{path}.infusion_hours",
                    f"agent {item.agent!r} is given {route}, so infusion_hours does not apply",
                )
            )
    for i, level in enumerate(protocol.dose_levels):
        for name in level.doses:
            if name in known and name not in scheduled:
                problems.append(
                    Problem(
                        f"dose_levels[{i}].doses.{name}",
                        f"agent {name!r} has a dose but no entry in course.schedule",
                    )
                )

    # Assessments fit the course and the number of courses.
    for i, assessment in enumerate(protocol.assessments):
        path = f"assessments[{i}]"
        _days_fit(problems, f"{path}.days", assessment.days, length)
        if assessment.courses != "all":
            _courses_fit(
                problems, f"{path}.courses", assessment.courses, protocol.course.max_courses
            )
        if assessment.agent is not None and assessment.agent not in known:
            unknown_agent(f"{path}.agent", assessment.agent)
        if assessment.kind == "pk" and assessment.agent is None:
            problems.append(Problem(f"{path}.agent", "a PK assessment must name its agent"))

    # Eligibility: unique ids across the whole tree; dose-level conditions name agents.
    flat: list[tuple[str, Criterion]] = []
    for i, criterion in enumerate(protocol.eligibility):
        _flatten(f"eligibility[{i}]", criterion, flat)
    seen: set[str] = set()
    for path, criterion in flat:
        if criterion.id in seen:
            problems.append(Problem(f"{path}.id", f"duplicate criterion id {criterion.id!r}"))
        seen.add(criterion.id)
        cond = criterion.applies_when
        if cond is not None:
            for field in ("dose_level_includes", "dose_level_excludes"):
                name = getattr(cond, field)
                if name is not None and name not in known:
                    unknown_agent(f"{path}.applies_when.{field}", name)

    # DLT window and evaluability.
    window = protocol.dlt.window
    if window.course > protocol.course.max_courses:
        problems.append(
            Problem(
                "dlt.window.course",
                f"course {window.course} is past max_courses ({protocol.course.max_courses})",
            )
        )
    if window.last_day < window.first_day:
        problems.append(
            Problem("dlt.window.last_day", "last_day is before first_day of the DLT window")
        )
    elif window.last_day > length:
        problems.append(
            Problem(
                "dlt.window.last_day",
                f"day {window.last_day} is outside the {length}-day course; expected 1-{length}",
            )
        )
    if protocol.evaluability.agent not in known:
        unknown_agent("evaluability.agent", protocol.evaluability.agent)

    # The design: starts on a known level; a CRM skeleton has one value per level.
    level_ids = [d.id for d in protocol.dose_levels]
    design = protocol.design
    if design.starting_dose_level not in level_ids:
        problems.append(
            Problem(
                "design.starting_dose_level",
                f"unknown dose level {design.starting_dose_level}; expected one of: "
                + ", ".join(map(str, level_ids)),
            )
        )
    skeleton = getattr(design.params, "skeleton", None)
    if skeleton is not None and len(skeleton) != len(level_ids):
        problems.append(
            Problem(
                "design.params.skeleton",
                f"skeleton has {len(skeleton)} values but the protocol has "
                f"{len(level_ids)} dose levels; expected one value per level",
            )
        )

    _check_correlatives(problems, protocol)

    if problems:
        raise ProtocolError(problems)


def _check_correlatives(problems: list[Problem], protocol: Protocol) -> None:
    """Immune groups name known, distinct dose levels; TLDA genes and references differ."""
    immune = protocol.correlatives.immune
    if immune is not None:
        level_ids = {level.id for level in protocol.dose_levels}
        seen: dict[int, str] = {}
        for name, levels in immune.groups.items():
            path = f"correlatives.immune.groups.{name}"
            if not levels:
                problems.append(Problem(path, "expected at least one dose level"))
            for level in levels:
                if level not in level_ids:
                    problems.append(Problem(path, f"unknown dose level {level}; expected one "
                                                  f"of {', '.join(map(str, sorted(level_ids)))}"))
                elif level in seen:
                    problems.append(Problem(path, f"dose level {level} is already in group "
                                                  f"{seen[level]!r}"))
                else:
                    seen[level] = name
    tlda = protocol.correlatives.tlda
    if tlda is not None:
        both = sorted(set(tlda.genes) & set(tlda.reference_genes))
        if both:
            problems.append(Problem("correlatives.tlda.reference_genes",
                                    f"{', '.join(both)} is also a panel gene"))


def _days_fit(problems: list[Problem], path: str, days: tuple[int, ...], length: int) -> None:
    bad = [d for d in days if not 1 <= d <= length]
    if bad:
        problems.append(
            Problem(
                path,
                f"day {bad[0]} is outside the {length}-day course; expected days 1-{length}",
            )
        )


def _courses_fit(problems: list[Problem], path: str, courses: tuple[int, ...], most: int) -> None:
    bad = [c for c in courses if not 1 <= c <= most]
    if bad:
        problems.append(Problem(path, f"course {bad[0]} is outside 1-{most} (course.max_courses)"))


def _flatten(path: str, criterion: Criterion, out: list[tuple[str, Criterion]]) -> None:
    out.append((path, criterion))
    for j, child in enumerate(criterion.children):
        _flatten(f"{path}.children[{j}]", child, out)
