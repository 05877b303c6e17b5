"""Controlled terms of the course workflow: delay causes and reasons treatment ends.

The lists are data (data/course_terms.yaml, with their provenance), not constants: a site
picks one id; the SDTM export maps an end reason to its CDISC disposition term.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from phaseone.errors import InputError, Problem


@dataclass(frozen=True)
class Term:
    id: str
    label: str
    all_courses: bool = False  # only once every protocol course has been started
    needs_detail: bool = False


@dataclass(frozen=True)
class CourseTerms:
    delay_causes: tuple[Term, ...]
    end_reasons: tuple[Term, ...]
    note: str


def _term(raw: dict[str, Any]) -> Term:
    return Term(
        id=str(raw["id"]),
        label=str(raw["label"]),
        all_courses=bool(raw.get("all_courses", False)),
        needs_detail=bool(raw.get("needs_detail", False)),
    )


@cache
def course_terms() -> CourseTerms:
    text = resources.files("phaseone.dosing").joinpath("data/course_terms.yaml").read_text("utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    return CourseTerms(
        delay_causes=tuple(_term(t) for t in raw["delay_causes"]),
        end_reasons=tuple(_term(t) for t in raw["end_reasons"]),
        note=str(raw["provenance"]["note"]),
    )


def pick(terms: tuple[Term, ...], value: object, path: str) -> Term:
    """The term with this id; an InputError naming `path` and the ids expected otherwise."""
    for term in terms:
        if term.id == value:
            return term
    expected = ", ".join(t.id for t in terms)
    raise InputError([Problem(path, f"expected one of: {expected}")])


def delay_cause(value: object, path: str = "delay_cause") -> Term:
    return pick(course_terms().delay_causes, value, path)


def end_reason(value: object, path: str = "reason") -> Term:
    return pick(course_terms().end_reasons, value, path)
