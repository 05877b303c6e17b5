"""Response rule sets as data: the thresholds and assumed choices of INRC 2017 and NANTRC.

Each rule set is a versioned file in data/ whose entries carry a value, a confidence and a
source. `Criteria` is the frozen, typed view the engine reads; a protocol may override the
entries under `parameters` (the points primary text could not confirm), never the
confirmed thresholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from phaseone.errors import InputError, Problem

CRITERIA_FILES: dict[str, str] = {"INRC-2017": "inrc-2017.yaml", "NANTRC-1.0": "nantrc-1.0.yaml"}

MarrowMethod = Literal["morphology", "immunocytology", "histology", "immunohistochemistry"]


@dataclass(frozen=True)
class Entry:
    """One value of a rule set with where it came from."""

    name: str
    value: Any
    confidence: Literal["confirmed", "not_confirmed"]
    source: str
    note: str = ""
    choices: tuple[Any, ...] = ()

    @property
    def assumed(self) -> bool:
        return self.confidence != "confirmed"


@dataclass(frozen=True)
class Criteria:
    """The thresholds and parameters one response evaluation uses."""

    id: str
    version: int
    # thresholds (confirmed or reconstructed; not overridable)
    primary_cr_max_mm: float
    pr_decrease: float
    pd_increase: float
    pd_absolute_mm: float
    mibg_pr_relative_max: float
    mibg_pd_relative: float
    marrow_md_max_percent: float
    marrow_pd_factor: float
    marrow_pd_min_percent: float
    marrow_cr_aspirates: int
    marrow_cr_biopsies: int
    # parameters (not confirmed; a protocol may override them)
    marrow_new_involvement_pd: Literal[">=5", ">5"]
    new_low_level_marrow: Literal["MD", "PD"]
    lymph_node_cr_max_mm: float
    cr_allows_not_involved: bool
    confirmation_required: bool
    confirmation_min_days: int
    marrow_combine: Literal["highest", "mean"]
    mibg_bone_score: Literal["skeletal", "total"]
    growth_pd_inclusive: bool
    soft_tissue_growth_basis: Literal["lesion", "sum"]
    new_lesion_pd: Literal["any", "avid_or_biopsy"]
    mibg_scale: Literal["curie", "siopen"]
    marrow_methods: tuple[MarrowMethod, ...]
    entries: Mapping[str, Entry] = dataclasses.field(default_factory=dict, compare=False)
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(name for name, e in self.entries.items() if e.choices or e.assumed)

    def source_of(self, name: str) -> str:
        """The URL behind one threshold or parameter."""
        entry = self.entries[name]
        return self.sources.get(entry.source, entry.source)

    def with_params(self, params: Mapping[str, Any], where: str = "params") -> Criteria:
        """A copy with named parameters overridden; unknown names or values are errors."""
        problems: list[Problem] = []
        changes: dict[str, Any] = {}
        overridable = set(_PARAMETERS)
        for name, value in params.items():
            if name not in overridable:
                problems.append(
                    Problem(
                        f"{where}.{name}",
                        "not a parameter of "
                        + self.id
                        + "; expected one of: "
                        + ", ".join(sorted(overridable)),
                    )
                )
                continue
            entry = self.entries[name]
            if name == "marrow_methods":
                value = tuple(value) if isinstance(value, list | tuple) else value
                allowed = _METHODS
                if not isinstance(value, tuple) or not value or not set(value) <= allowed:
                    problems.append(
                        Problem(
                            f"{where}.{name}",
                            f"expected a non-empty list of: {', '.join(sorted(allowed))}",
                        )
                    )
                    continue
            elif entry.choices and value not in entry.choices:
                problems.append(
                    Problem(
                        f"{where}.{name}",
                        f"{value!r} is not allowed; expected one of: "
                        + ", ".join(repr(c) for c in entry.choices),
                    )
                )
                continue
            elif name == "confirmation_min_days" and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365
            ):
                problems.append(Problem(f"{where}.{name}", "expected whole days 1..365"))
                continue
            changes[name] = value
        if problems:
            raise InputError(problems)
        entries = dict(self.entries)
        for name, value in changes.items():
            entries[name] = dataclasses.replace(entries[name], value=value)
        return dataclasses.replace(self, entries=entries, **changes)

    def assumptions(self) -> list[tuple[str, Any, str]]:
        """(name, value in use, note) for every entry that is not confirmed."""
        return [(e.name, e.value, e.note) for e in self.entries.values() if e.assumed]


_THRESHOLDS = (
    "primary_cr_max_mm",
    "pr_decrease",
    "pd_increase",
    "pd_absolute_mm",
    "mibg_pr_relative_max",
    "mibg_pd_relative",
    "marrow_md_max_percent",
    "marrow_pd_factor",
    "marrow_pd_min_percent",
    "marrow_cr_aspirates",
    "marrow_cr_biopsies",
)
_PARAMETERS = (
    "marrow_new_involvement_pd",
    "new_low_level_marrow",
    "lymph_node_cr_max_mm",
    "cr_allows_not_involved",
    "confirmation_required",
    "confirmation_min_days",
    "marrow_combine",
    "mibg_bone_score",
    "growth_pd_inclusive",
    "soft_tissue_growth_basis",
    "new_lesion_pd",
    "mibg_scale",
    "marrow_methods",
)
_METHODS = {"morphology", "immunocytology", "histology", "immunohistochemistry"}


@cache
def load_criteria(criteria_id: str) -> Criteria:
    """The bundled rule set `criteria_id` (INRC-2017 or NANTRC-1.0)."""
    file = CRITERIA_FILES.get(criteria_id)
    if file is None:
        raise InputError(
            [
                Problem(
                    "response.criteria",
                    f"no rule set {criteria_id!r} is shipped; expected one of: "
                    + ", ".join(CRITERIA_FILES),
                )
            ]
        )
    text = resources.files("phaseone.response").joinpath("data", file).read_text("utf-8")
    raw = yaml.safe_load(text)
    entries: dict[str, Entry] = {}
    for section in ("thresholds", "parameters"):
        for name, spec in raw[section].items():
            entries[name] = Entry(
                name=name,
                value=tuple(spec["value"]) if isinstance(spec["value"], list) else spec["value"],
                confidence=spec["confidence"],
                source=spec["source"],
                note=str(spec.get("note", "")).strip(),
                choices=tuple(spec.get("choices", ())),
            )
    values = {name: entries[name].value for name in (*_THRESHOLDS, *_PARAMETERS)}
    return Criteria(
        id=raw["id"],
        version=int(raw["version"]),
        entries=entries,
        sources=dict(raw["sources"]),
        **values,
    )


def criteria_for(criteria_id: str, params: Mapping[str, Any] | None = None) -> Criteria:
    """A bundled rule set with a protocol's parameter overrides applied."""
    base = load_criteria(criteria_id)
    return base.with_params(params, where="response.params") if params else base
