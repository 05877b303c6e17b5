"""The protocol as data: a frozen, validated description of one trial.

Field meanings are documented in docs/protocol-format.md. Cross-field rules (dose
levels name known agents, days fit the course, ids are unique...) live in checks.py
and run whenever a Protocol is built.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from phaseone.protocol.designs import (
    BOINParams,
    CRMParams,
    IntervalKeyParams,
    RollingSixParams,
    ThreePlusThreeParams,
    TITECRMParams,
)
from phaseone.protocol.fields import AgeYears, CourseSet, DaySet, DoseValue
from phaseone.protocol.provenance import Frozen, Sourced

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]


# --- identity and sites ----------------------------------------------------------------


class OtherId(Frozen):
    id: str = Field(min_length=1)
    type: str | None = None


class Person(Frozen):
    name: str = Field(min_length=1)
    affiliation: str | None = None
    role: str | None = None


class Identity(Sourced):
    nct_id: str = Field(pattern=r"^NCT\d{8}$")
    other_ids: tuple[OtherId, ...] = ()
    official_title: str | None = None
    brief_title: str = Field(min_length=1)
    acronym: str | None = None
    phases: tuple[str, ...] = Field(min_length=1)
    study_type: str = "INTERVENTIONAL"
    status: str | None = None
    sponsor: str = Field(min_length=1)
    collaborators: tuple[str, ...] = ()
    study_chair: Person | None = None
    target_enrollment: int | None = Field(default=None, ge=1)
    start_date: dt.date | None = None
    completion_date: dt.date | None = None
    record_updated: dt.date | None = None
    conditions: tuple[str, ...] = ()
    min_age_years: AgeYears | None = None
    max_age_years: AgeYears | None = None
    sex: Literal["ALL", "FEMALE", "MALE"] = "ALL"
    healthy_volunteers: bool = False


class Site(Sourced):
    id: Slug
    name: str = Field(min_length=1)
    city: str | None = None
    state: str | None = None
    country: str = Field(min_length=1)


class Objective(Sourced):
    id: Slug
    kind: Literal["primary", "secondary", "exploratory"]
    text: str = Field(min_length=1)


# --- agents and dose levels ------------------------------------------------------------


class Formulation(Sourced):
    form: Literal["capsule", "tablet", "vial", "liquid", "powder"]
    strengths_mg: tuple[Annotated[float, Field(gt=0)], ...] = Field(min_length=1)
    volume_ml: float | None = Field(default=None, gt=0)
    may_open: bool = False
    excipients: tuple[str, ...] = ()
    note: str | None = None


class WeightRule(Sourced):
    """Dose a child at or below a body weight on another basis (e.g. mg/kg)."""

    at_or_below_kg: float = Field(gt=0)
    dose: DoseValue


class RuleRef(Sourced):
    """A named rule with parameters; the engine that owns the rule validates them."""

    rule: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class Infusion(Sourced):
    """How an IV agent runs: rate limits per m2 and the concentration of the bag.

    `final_concentration_mg_ml` is the diluted concentration hung at the bedside; when it
    is absent, volumes and mL/h are given for the undiluted vial concentration.
    """

    max_rate_mg_m2_h: float | None = Field(default=None, gt=0)
    initial_rate_mg_m2_h: float | None = Field(default=None, gt=0)
    initial_minutes: float | None = Field(default=None, gt=0, le=600)
    final_concentration_mg_ml: float | None = Field(default=None, gt=0)


class Agent(Sourced):
    id: Slug
    name: str = Field(min_length=1)
    synonyms: tuple[str, ...] = ()
    role: Literal["escalated", "fixed"] = "fixed"
    route: Literal["PO", "IV", "SC", "IM"]
    formulations: tuple[Formulation, ...] = ()
    dose_basis: Literal["bsa", "weight", "flat"]
    weight_rules: tuple[WeightRule, ...] = ()
    rounding: RuleRef | None = None
    infusion: Infusion | None = None


class DoseLevel(Sourced):
    id: int = Field(ge=-9, le=99)
    label: str | None = None
    doses: dict[str, DoseValue] = Field(min_length=1)


# --- the course and assessments --------------------------------------------------------


class AgentSchedule(Sourced):
    agent: str
    days: DaySet
    times_per_day: int = Field(default=1, ge=1, le=6)
    infusion_hours: float | None = Field(default=None, gt=0, le=96)
    note: str | None = None


class Course(Sourced):
    length_days: int = Field(ge=1, le=366)
    max_courses: int = Field(ge=1, le=200)
    schedule: tuple[AgentSchedule, ...] = Field(min_length=1)
    start_requirements: tuple[RuleRef, ...] = ()


class Assessment(Sourced):
    id: Slug
    kind: Literal["lab", "pk", "imaging", "marrow", "exam", "immune", "biomarker", "other"]
    name: str = Field(min_length=1)
    items: tuple[str, ...] = ()
    courses: CourseSet = "all"
    days: DaySet
    agent: str | None = None
    sample_hours: tuple[Annotated[float, Field(ge=0)], ...] = ()
    note: str | None = None


# --- eligibility -----------------------------------------------------------------------


class AppliesWhen(Frozen):
    """A condition on the proposed dose level, e.g. only where isotretinoin is given."""

    dose_level_includes: str | None = None
    dose_level_excludes: str | None = None


class Criterion(Sourced):
    """One criterion of the record: a leaf with a rule, or a group of criteria.

    `for_each` makes an `all_of` group hold when a single item of a collection of the
    patient record (e.g. one soft-tissue lesion) meets every child; the eligibility
    engine names the collections and validates `rule` and `params`.
    """

    id: Slug
    kind: Literal["inclusion", "exclusion"]
    text: str = Field(min_length=1)
    combine: Literal["all_of", "any_of"] | None = None
    for_each: Slug | None = None
    children: tuple[Criterion, ...] = ()
    rule: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    applies_when: AppliesWhen | None = None

    @model_validator(mode="after")
    def _group_or_leaf(self) -> Criterion:
        if self.children and self.combine is None:
            raise ValueError("a criterion with children needs 'combine: all_of' or 'any_of'")
        if self.combine is not None and not self.children:
            raise ValueError("'combine' is set but the criterion has no children")
        if self.children and self.rule is not None:
            raise ValueError("a group criterion has children, not its own 'rule'")
        if self.for_each is not None and self.combine != "all_of":
            raise ValueError("'for_each' needs a group with 'combine: all_of'")
        return self

    def walk(self) -> list[Criterion]:
        """This criterion and every criterion nested under it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


# --- safety: DLT and evaluability ------------------------------------------------------

Attribution = Literal["unrelated", "unlikely", "possible", "probable", "definite"]


class DltRule(Sourced):
    id: Slug
    category: Literal["hematologic", "non_hematologic", "dinutuximab_expected", "other"]
    text: str = Field(min_length=1)
    rule: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class DltWindow(Sourced):
    course: int = Field(default=1, ge=1)
    first_day: int = Field(default=1, ge=1)
    last_day: int = Field(ge=1)


class Dlt(Sourced):
    """The DLT definition. Rule names and params are validated by phaseone.safety.dlt."""

    window: DltWindow
    min_attribution: Attribution = "possible"
    hematologic_terms: tuple[str, ...] = ()
    rules: tuple[DltRule, ...] = ()


class Evaluability(Sourced):
    agent: str
    min_dose_fraction: float = Field(gt=0, le=1)
    marrow_disease_excludes_hematologic: bool = True


# --- escalation design -----------------------------------------------------------------


class _DesignBase(Sourced):
    starting_dose_level: int
    max_patients: int | None = Field(default=None, ge=1)


class ThreePlusThreeDesign(_DesignBase):
    name: Literal["three_plus_three"]
    params: ThreePlusThreeParams = ThreePlusThreeParams()


class RollingSixDesign(_DesignBase):
    name: Literal["rolling_six"]
    params: RollingSixParams = RollingSixParams()


class BOINDesign(_DesignBase):
    name: Literal["boin"]
    params: BOINParams


class CRMDesign(_DesignBase):
    name: Literal["crm"]
    params: CRMParams


class TITECRMDesign(_DesignBase):
    name: Literal["tite_crm"]
    params: TITECRMParams


class MTPI2Design(_DesignBase):
    name: Literal["mtpi2"]
    params: IntervalKeyParams


class KeyboardDesign(_DesignBase):
    name: Literal["keyboard"]
    params: IntervalKeyParams


DesignSpec = Annotated[
    ThreePlusThreeDesign
    | RollingSixDesign
    | BOINDesign
    | CRMDesign
    | TITECRMDesign
    | MTPI2Design
    | KeyboardDesign,
    Field(discriminator="name"),
]


# --- dosing, response, the whole protocol ---------------------------------------------


class Dosing(Sourced):
    bsa_formula: Literal["mosteller", "dubois", "haycock", "gehan_george"] = "mosteller"
    bsa_decimals: int = Field(default=2, ge=1, le=4)
    recalculate_each_course: bool = True
    recalculate_weight_change: float | None = Field(default=0.10, gt=0, lt=1)
    dose_tolerance: float = Field(default=0.10, gt=0, lt=1)


class Response(Sourced):
    criteria: Literal["INRC-2017", "NANTRC-1.0", "INRC-1993"]
    ctcae_version: Literal["4.03", "5.0"]


class EditCheck(Sourced):
    """A data-quality rule applied when a record is entered or corrected (in the manner of
    REDCap's data-quality rules); `kind` and `params` are read by phaseone.editchecks."""

    id: Slug
    kind: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    message: str = Field(min_length=1)


class Protocol(Frozen):
    """One trial, as data. Build it with phaseone.protocol.load_protocol()."""

    schema_version: Literal[1] = 1
    id: Slug
    version: str = Field(min_length=1)
    identity: Identity
    sites: tuple[Site, ...] = ()
    objectives: tuple[Objective, ...] = ()
    agents: tuple[Agent, ...] = Field(min_length=1)
    dose_levels: tuple[DoseLevel, ...] = Field(min_length=1)
    course: Course
    assessments: tuple[Assessment, ...] = ()
    eligibility: tuple[Criterion, ...] = ()
    dlt: Dlt
    evaluability: Evaluability
    design: DesignSpec
    dosing: Dosing
    response: Response
    edit_checks: tuple[EditCheck, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        from phaseone.protocol.checks import check_protocol

        check_protocol(self)
        return self

    # --- lookups used by engines and adapters -----------------------------------------

    def agent(self, agent_id: str) -> Agent:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(agent_id)

    def dose_level(self, level_id: int) -> DoseLevel:
        for level in self.dose_levels:
            if level.id == level_id:
                return level
        raise KeyError(level_id)

    def schedule_for(self, agent_id: str) -> AgentSchedule:
        for item in self.course.schedule:
            if item.agent == agent_id:
                return item
        raise KeyError(agent_id)

    def levels_with(self, agent_id: str) -> tuple[int, ...]:
        """Ids of the dose levels that give this agent."""
        return tuple(level.id for level in self.dose_levels if agent_id in level.doses)

    def all_criteria(self) -> list[Criterion]:
        out: list[Criterion] = []
        for criterion in self.eligibility:
            out.extend(criterion.walk())
        return out


# Needed because Criterion refers to itself.
Criterion.model_rebuild()
