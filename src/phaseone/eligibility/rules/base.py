"""The rule registry: named, versioned rule functions with typed parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, dataclass_transform

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass

from phaseone.eligibility.context import Context
from phaseone.eligibility.record import (
    TherapyCategory,
)
from phaseone.eligibility.verdict import (
    Outcome,
    unknown,
)

RULES_VERSION = "1"

# Comparisons of converted values allow for floating-point noise (88.4 umol/L -> 1.0 mg/dL).
_EPS = 1e-9


def at_least(value: float, limit: float) -> bool:
    return value >= limit - _EPS * max(1.0, abs(limit))


def at_most(value: float, limit: float) -> bool:
    return value <= limit + _EPS * max(1.0, abs(limit))


P = TypeVar("P", bound="Params")


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class Params:
    """Base of every rule's parameters: immutable, unknown keys are errors.

    Each subclass is made a pydantic dataclass as it is defined, not a BaseModel: rules
    read their parameters for every record screened, and a dataclass attribute read is
    several times cheaper (BaseModel's __getattr__ hook defeats the interpreter's
    attribute caches)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        pydantic_dataclass(frozen=True, kw_only=True, config=ConfigDict(extra="forbid"))(cls)


def read_params(kind: type[P], data: Any) -> P:
    """Validate a criterion's parameters (raises pydantic's ValidationError)."""
    reader = _READERS.get(kind)
    if reader is None:
        reader = _READERS[kind] = TypeAdapter(kind)
    found: P = reader.validate_python(data)
    return found


_READERS: dict[type, TypeAdapter[Any]] = {}


class NoParams(Params):
    pass


Check = Callable[[Context, Any], Outcome]


@dataclass(frozen=True)
class Rule:
    name: str
    version: int
    params: type[Params]
    check: Check
    summary: str
    # Ids of other criteria this rule reads (checked when the protocol is compiled).
    references: Callable[[Any], Sequence[str]] | None = None


RULES: dict[str, Rule] = {}


def rule(
    name: str,
    params: type[P],
    version: int = 1,
    references: Callable[[P], Sequence[str]] | None = None,
) -> Callable[[Callable[[Context, P], Outcome]], Callable[[Context, P], Outcome]]:
    """Register a rule function under `name`."""

    def register(fn: Callable[[Context, P], Outcome]) -> Callable[[Context, P], Outcome]:
        summary = (fn.__doc__ or name).strip().splitlines()[0]
        RULES[name] = Rule(name, version, params, fn, summary, references)
        return fn

    return register


Days = Annotated[int, Field(ge=0, le=3650)]
Categories = Annotated[tuple[TherapyCategory, ...], Field(min_length=1)]


class Windowed(Params):
    lookback_days: Days


# --- small helpers -----------------------------------------------------------------------


def therapies_unknown() -> Outcome:
    return unknown("prior therapies are not recorded", ["prior_therapies"])


def sites_unknown() -> Outcome:
    return unknown("disease sites are not recorded", ["disease_sites"])


def latest_dated(items: Sequence[Any], ctx: Context, lookback_days: int) -> tuple[int, Any] | None:
    best: tuple[int, Any] | None = None
    since, as_of = ctx.window_start(lookback_days), ctx.as_of
    for i, item in enumerate(items):
        if since <= item.date <= as_of and (best is None or item.date >= best[1].date):
            best = (i, item)
    return best


FOR_EACH_COLLECTIONS: dict[str, str] = {
    "soft_tissue_lesion": "disease_sites.soft_tissue_lesions",
}
