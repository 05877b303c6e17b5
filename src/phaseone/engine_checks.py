"""Every engine's checks of a protocol's named rules, in one call.

The protocol layer validates structure; the rules it names (`rule:` + `params:`) belong to
the engines that interpret them. This module asks each engine to compile the rules it owns,
so a bad rule name or parameter is found when a protocol is validated, not when a patient
is screened or dosed.
"""

from __future__ import annotations

from collections.abc import Callable

from phaseone.dosing.rules import agent_rule, start_conditions
from phaseone.editchecks import check_problems
from phaseone.eligibility import check_rules as check_eligibility_rules
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Protocol
from phaseone.response.criteria import criteria_for
from phaseone.safety.dlt import compile_rules


def _dosing(protocol: Protocol) -> None:
    for agent in protocol.agents:
        agent_rule(protocol, agent)
    start_conditions(protocol)


def _safety(protocol: Protocol) -> None:
    compile_rules(protocol.dlt, protocol.response.ctcae_version)


def _response(protocol: Protocol) -> None:
    criteria_for(protocol.response.criteria, protocol.response.params)


def _edit_checks(protocol: Protocol) -> None:
    found = check_problems(protocol.edit_checks)
    if found:
        raise InputError([Problem(f"edit_checks[{i}].{field}", msg) for i, field, msg in found])


CHECKS: tuple[Callable[[Protocol], None], ...] = (
    check_eligibility_rules,
    _dosing,
    _safety,
    _response,
    _edit_checks,
)


def engine_problems(protocol: Protocol) -> list[Problem]:
    """Problems every engine finds in the rules this protocol names (empty when none)."""
    problems: list[Problem] = []
    for check in CHECKS:
        try:
            check(protocol)
        except InputError as exc:
            problems.extend(exc.problems)
    return problems
