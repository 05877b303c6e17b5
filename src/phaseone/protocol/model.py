"""The protocol as data: a frozen, validated description of one trial.

Field meanings are documented in docs/protocol-format.md. Cross-field rules (dose
levels name known agents, days fit the course, ids are unique...) are at the end of this
module and run whenever a Protocol is built; each appends a Problem naming the exact field
path, so a loader can point at the line in the file, and all are reported at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from phaseone.errors import Problem, ProtocolError
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
    # The study report's analysis that answers it (a name the report knows); none: the
    # report states that no analysis is defined for it.
    analysis: Slug | None = None


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


class SpecimenPlan(Sourced):
    """What a sampled assessment collects and how far from its nominal time a sample may be.

    `window_days` bounds the collection date around the planned day; `window_minutes` the
    clock time around the nominal time (dose time + sample hour) for timed samples.
    """

    type: Literal["blood", "marrow", "serum", "plasma", "pbmc", "buccal", "tumor"]
    lab: str = Field(min_length=1)
    window_days: int = Field(default=0, ge=0, le=30)
    window_minutes: float | None = Field(default=None, gt=0, le=24 * 60)


class Assessment(Sourced):
    id: Slug
    kind: Literal["lab", "pk", "imaging", "marrow", "exam", "immune", "biomarker", "other"]
    name: str = Field(min_length=1)
    items: tuple[str, ...] = ()
    courses: CourseSet = "all"
    days: DaySet
    agent: str | None = None
    sample_hours: tuple[Annotated[float, Field(ge=0)], ...] = ()
    specimen: SpecimenPlan | None = None
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
    # After a dose reduction, may a later course go back up (never above the registered
    # level)? NCI protocol-template practice is no.
    reescalate_after_reduction: bool = False


class Response(Sourced):
    criteria: Literal["INRC-2017", "NANTRC-1.0", "INRC-1993"]
    ctcae_version: Literal["4.03", "5.0"]
    # Overrides of the rule set's assumed parameters (phaseone.response.criteria checks
    # the names and values).
    params: dict[str, Any] = Field(default_factory=dict)
    responders: tuple[Literal["CR", "PR", "MR"], ...] = ("CR", "PR")


class FollowUpVisit(Frozen):
    """Visits every `every_months` until `until_months` after the end of protocol therapy."""

    every_months: int = Field(ge=1, le=60)
    until_months: int = Field(ge=1, le=600)


class FollowUp(Sourced):
    """The follow-up schedule after protocol therapy ends."""

    visits: tuple[FollowUpVisit, ...] = Field(min_length=1)
    window_days: int = Field(default=30, ge=0, le=365)


SurvivalEvent = Literal["progression", "relapse", "second_malignancy", "death"]


class Endpoint(Sourced):
    """A time-to-event endpoint: its origin, the events that end it, how it is censored."""

    id: Slug
    name: str = Field(min_length=1)
    origin: Literal["registration", "first_dose"] = "registration"
    events: tuple[SurvivalEvent, ...] = Field(min_length=1)
    censor_at: Literal["last_contact", "last_assessment"] = "last_contact"
    censor_at_new_therapy: bool = False


class Survival(Sourced):
    """Survival analysis settings: endpoints, strata, standard errors, landmark times."""

    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    strata: tuple[Literal["disease_at_entry", "dose_level"], ...] = ()
    se_method: Literal["greenwood", "peto"] = "greenwood"
    conf_level: float = Field(default=0.95, gt=0.5, lt=1)
    landmark_days: tuple[Annotated[int, Field(ge=1, le=36500)], ...] = (365, 730)


class ImmuneGroups(Sourced):
    """Primary objective III: which dose levels form each group of the immune comparison."""

    groups: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")],
                 tuple[int, ...]] = Field(min_length=2, max_length=2)
    # The last sample on or before this study day is the patient's baseline.
    baseline_max_day: int = 1


class HacaRules(Sourced):
    """Secondary objective V: when a HACA titre is positive, boosted, persistent."""

    positive_titre: float = Field(gt=0)
    # Treatment-boosted: positive at baseline and a later titre at least this many times
    # the baseline titre.
    boost_fold: float = Field(default=4.0, gt=1)
    # Persistent: first and last positive samples at least this many days apart, or the
    # patient's last sample positive.
    persistent_days: int = Field(default=112, ge=1)


class TldaRules(Sourced):
    """Secondary objective IX: the NB5 TaqMan array's ΔCt and positivity rules."""

    genes: tuple[str, ...] = Field(min_length=1)
    reference_genes: tuple[str, ...] = Field(min_length=1)
    # Ct given to a well with no amplification ("undetermined").
    undetected_ct: float = Field(gt=0, le=60)
    # A specimen is positive when at least this many panel genes amplify and, where a
    # cut-off is set for its specimen type, its ΔCt is at or below it.
    min_genes_detected: int = Field(default=1, ge=1)
    delta_ct_cutoff: dict[str, float] = Field(default_factory=dict)
    # A reference Ct above this makes the specimen unevaluable (degraded RNA).
    reference_ct_max: float | None = Field(default=None, gt=0)


class Correlatives(Frozen):
    immune: ImmuneGroups | None = None
    haca: HacaRules | None = None
    tlda: TldaRules | None = None


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
    follow_up: FollowUp | None = None
    survival: Survival | None = None
    correlatives: Correlatives = Field(default_factory=Correlatives)
    edit_checks: tuple[EditCheck, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        check_protocol(self)
        return self

    # --- lookups used by engines and adapters -----------------------------------------

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for endpoint in self.survival.endpoints if self.survival else ():
            if endpoint.id == endpoint_id:
                return endpoint
        raise KeyError(endpoint_id)

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


# --- cross-field rules: what pydantic cannot see field by field -----------------------

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
