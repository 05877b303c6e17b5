"""The patient record that eligibility screening reads.

Conventions (also in docs/eligibility.md):
- Every observation is dated. The engine uses only what is dated on or before `as_of`.
- A field left out (or null) means *not known*; an empty list means *known: none*. So
  `"prior_therapies": []` says the child had no prior therapy, while leaving it out makes
  every washout criterion `unknown`.
- Input is read strictly: no "yes" for true, no numbers for dates, no unknown fields,
  no date outside 1900-01-01 to 2199-12-31.
- Lab values carry their unit; the unit must be one the analyte accepts (phaseone.labs).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any, Literal, get_args, get_type_hints

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from phaseone.errors import InputError, Problem
from phaseone.labs import analytes

RECORD_SCHEMA_VERSION = 1

# Every date of a record lies in this range: anything outside it is a typing error, and
# date arithmetic near the ends of the calendar (year 1, year 9999) would overflow.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
Day = Annotated[dt.date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]
NonNegInt = Annotated[int, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
Millimetres = Annotated[float, Field(gt=0, le=2000)]


# Records are pydantic dataclasses, not BaseModels: the rules read their attributes
# hundreds of times per record, and a plain dataclass attribute read is several times
# cheaper (BaseModel's __getattr__ hook keeps the interpreter from specialising it).
_record = dataclass(
    frozen=True, slots=True, kw_only=True, config=ConfigDict(extra="forbid", strict=True)
)


class _FieldError(ValueError):
    """A problem with one field, found by a model validator; `path` is relative to it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


# --- who the child is -------------------------------------------------------------------


@_record
class Measurement:
    """Height and weight on one date."""

    date: Day
    height_cm: float | None = Field(default=None, gt=0, le=250)
    weight_kg: float | None = Field(default=None, gt=0, le=300)


@_record
class Diagnosis:
    date: Day | None = None
    histology: (
        Literal["neuroblastoma", "ganglioneuroblastoma", "ganglioneuroma", "other"] | None
    ) = None
    high_risk: bool | None = Field(default=None, description="High-risk per the treating team.")
    catecholamines_elevated: bool | None = None


# --- disease history and current disease ------------------------------------------------


@_record
class DiseaseEvent:
    """A relapse or a progression, dated."""

    date: Day
    kind: Literal["relapse", "progression"]


FrontlineResponse = Literal["CR", "VGPR", "PR", "MR", "SD", "PD"]


@_record
class DiseaseHistory:
    frontline_response: FrontlineResponse | None = Field(
        default=None, description="Best response to frontline therapy."
    )
    induction_cycles: NonNegInt | None = None
    relapses: list[DiseaseEvent] | None = Field(
        default=None,
        description="Every relapse/progression; [] = never relapsed, null = not known.",
    )


@_record
class MibgScan:
    date: Day
    avid_bone_sites: NonNegInt
    avid_soft_tissue_sites: NonNegInt = 0
    diffuse_uptake: bool = False
    curie_score: int | None = Field(default=None, ge=0, le=30)


@_record
class FdgPetScan:
    date: Day
    avid_bone_sites: NonNegInt


@_record
class SoftTissueLesion:
    id: str = Field(min_length=1)
    date: Day = Field(description="Date of the measurement.")
    site: str | None = None
    longest_diameter_mm: Millimetres | None = None
    short_axis_mm: Millimetres | None = None
    lymph_node: bool | None = None
    mibg_avid: bool | None = None
    fdg_avid: bool | None = None


@_record
class MarrowSample:
    date: Day
    side: Literal["left", "right"]
    method: Literal["aspirate", "biopsy"]
    morphology: Literal["positive", "negative"] | None = Field(
        default=None, description="Tumor cells on routine morphology."
    )
    immunocytochemistry: Literal["positive", "negative", "not_done"] = "not_done"


@_record
class DiseaseSites:
    tumor_mibg_avid: bool | None = Field(
        default=None, description="false = the tumor is known to be MIBG non-avid."
    )
    mibg_scans: list[MibgScan] = Field(default=[])
    fdg_pet_scans: list[FdgPetScan] = Field(default=[])
    soft_tissue_lesions: list[SoftTissueLesion] | None = None
    marrow_samples: list[MarrowSample] = Field(default=[])
    only_radiated_sites: bool | None = Field(
        default=None, description="Every current site of disease has received radiation."
    )


@_record
class Biopsy:
    date: Day
    site: Literal["bone_marrow", "bone", "soft_tissue"]
    lesion_id: str | None = None
    site_avidity: Literal["mibg", "fdg", "non_avid"] | None = None
    site_present_at_enrollment: bool | None = None
    result: Literal["neuroblastoma", "ganglioneuroblastoma", "negative", "other"]


@_record
class HeadImaging:
    date: Day
    modality: Literal["CT", "MRI"]
    active_cns_metastases: bool


@_record
class CnsHistory:
    prior_cns_metastases: bool | None = None
    skull_lesion_intracranial_extension: bool | None = None
    head_imaging: list[HeadImaging] = Field(default=[])


# --- prior therapy -----------------------------------------------------------------------

TherapyCategory = Literal[
    "myelosuppressive_chemotherapy",
    "biologic",
    "retinoid",
    "isotretinoin",
    "lenalidomide",
    "monoclonal_antibody",
    "anti_gd2_antibody",
    "radiation",
    "autologous_stem_cell_infusion",
    "allogeneic_transplant",
    "mibg_therapy",
    "cytokine",
    "other_anticancer",
]
RadiationField = Literal[
    "small_port",
    "total_body",
    "craniospinal",
    "whole_abdomen",
    "total_lung",
    "over_half_marrow",
    "other_substantial_marrow",
    "other",
]
_ANTIBODIES = ("monoclonal_antibody", "anti_gd2_antibody")


@_record
class Therapy:
    category: TherapyCategory
    name: str | None = None
    start: Day | None = None
    end: Day | None = Field(default=None, description="Last dose; null while ongoing.")
    metronomic: bool | None = None
    half_life_days: float | None = Field(default=None, gt=0, le=365)
    radiation_field: RadiationField | None = None
    myeloablative: bool | None = None
    progressed_during: bool | None = None

    @model_validator(mode="after")
    def _fits_category(self) -> Therapy:
        start, end = self.start, self.end
        if start is not None and end is not None and end < start:
            raise _FieldError("end", f"end {end} is before start {start}")
        for name in _NOT_FOR[self.category]:
            if getattr(self, name) is not None:
                raise _FieldError(name, f"does not apply to category {self.category!r}")
        return self


# The category-specific fields of a therapy, and the categories each belongs to.
_ONLY_FOR: dict[str, tuple[str, ...]] = {
    "half_life_days": _ANTIBODIES,
    "radiation_field": ("radiation",),
    "myeloablative": ("autologous_stem_cell_infusion",),
    "progressed_during": ("anti_gd2_antibody",),
    "metronomic": ("myelosuppressive_chemotherapy",),
}
# Per category, the fields it must leave empty (worked out once: checked for every therapy).
_NOT_FOR: dict[str, tuple[str, ...]] = {
    category: tuple(name for name, allowed in _ONLY_FOR.items() if category not in allowed)
    for category in get_args(TherapyCategory)
}


# --- measurements on and before the day of entry --------------------------------------


@_record
class Lab:
    analyte: str
    value: float = Field(ge=0)
    unit: str
    date: Day
    uln: float | None = Field(
        default=None, gt=0, description="Upper limit of normal for age, in the same unit."
    )
    fasting: bool | None = None

    @model_validator(mode="after")
    def _known_unit(self) -> Lab:
        _factor(self.analyte, self.unit)
        return self

    @property
    def canonical_value(self) -> float:
        """The value in the analyte's canonical unit (see phaseone.labs)."""
        return self.value * _factor(self.analyte, self.unit)

    @property
    def canonical_uln(self) -> float | None:
        return None if self.uln is None else self.uln * _factor(self.analyte, self.unit)


@lru_cache(maxsize=1024)
def _factor(analyte_id: str, unit: str) -> float:
    """The factor from `unit` to the analyte's canonical unit; errors name the field."""
    spec = analytes().get(analyte_id)
    if spec is None:
        raise _FieldError(
            "analyte",
            f"unknown analyte {analyte_id!r}; expected one of: " + ", ".join(sorted(analytes())),
        )
    try:
        return spec.to_canonical(1.0, unit)
    except InputError as exc:
        raise _FieldError("unit", exc.problems[0].message) from None


@_record
class Transfusion:
    date: Day
    product: Literal["platelets", "red_cells", "plasma", "other"]


Finding = Literal["hematuria", "proteinuria", "hypercalcemia", "skin_toxicity"]


@_record
class GradedFinding:
    """A CTCAE-graded finding on a date (grade 0 = examined, absent)."""

    term: Finding
    grade: int = Field(ge=0, le=5)
    date: Day


@_record
class PerformanceScore:
    date: Day
    scale: Literal["lansky", "karnofsky"]
    value: int = Field(ge=0, le=100, multiple_of=10)


@_record
class CardiacStudy:
    date: Day
    method: Literal["echo", "muga"]
    ejection_fraction: Percent | None = None
    fractional_shortening: Percent | None = None


@_record
class PregnancyTest:
    date: Day
    specimen: Literal["serum", "urine"]
    sensitivity_miu_ml: float | None = Field(default=None, gt=0)
    result: Literal["negative", "positive"]


@_record
class ContraceptionMethod:
    kind: Literal["highly_effective", "additional"]
    name: str | None = None
    start: Day


@_record
class Contraception:
    agrees_effective_contraception: bool | None = None
    abstinence_committed: bool | None = None
    methods: list[ContraceptionMethod] = Field(default=[])
    agrees_ongoing_pregnancy_testing: bool | None = None
    agrees_latex_condom: bool | None = None


@_record
class Thrombosis:
    date: Day
    kind: Literal["venous", "arterial"]
    central_line_related: bool | None = None


@_record
class CompanionStudy:
    """Enrolment on a companion study a protocol requires (e.g. a biology study).

    Which study is a fact the protocol declares (its criterion names the study's id); the
    record holds the child's status on it, keyed by that id.
    """

    status: Literal["enrolled", "will_enroll", "declined"] | None = None
    site_exemption: bool | None = None


@_record
class OtherMedicalIssues:
    present: bool | None = None
    chair_approved: bool | None = None


# --- the record --------------------------------------------------------------------------


@_record
class PatientRecord:
    """Everything eligibility criteria read about one child, with dates."""

    schema_version: Literal[1] = 1
    id: str = Field(min_length=1, max_length=128)
    site: str | None = None
    birth_date: Day
    sex: Literal["female", "male"]
    post_menarchal: bool | None = None
    childbearing_potential: bool | None = Field(
        default=None,
        description="Females: of childbearing potential. Males: of reproductive age.",
    )
    measurements: list[Measurement] = Field(default=[])
    diagnosis: Diagnosis | None = None
    disease_history: DiseaseHistory | None = None
    disease_sites: DiseaseSites | None = None
    cns: CnsHistory | None = None
    biopsies: list[Biopsy] | None = None
    prior_therapies: list[Therapy] | None = None
    labs: list[Lab] = Field(default=[])
    transfusions: list[Transfusion] | None = None
    findings: list[GradedFinding] = Field(default=[])
    performance: list[PerformanceScore] = Field(default=[])
    cardiac: list[CardiacStudy] = Field(default=[])
    dyspnea_at_rest: bool | None = None
    pregnancy_tests: list[PregnancyTest] = Field(default=[])
    contraception: Contraception | None = None
    breastfeeding: bool | None = None
    active_infection: bool | None = Field(default=None, description="Active or uncontrolled.")
    paraben_allergy: bool | None = None
    paraben_free_isotretinoin_available: bool | None = None
    thromboses: list[Thrombosis] | None = None
    can_swallow_capsules: bool | None = Field(
        default=None, description="Can swallow lenalidomide capsules whole."
    )
    companion_studies: dict[str, CompanionStudy] | None = Field(
        default=None,
        description="Enrolment on companion studies, keyed by the study id the protocol names.",
    )
    life_expectancy_weeks: float | None = Field(
        default=None, ge=0, description="The investigator's judgement."
    )
    recovered_from_acute_toxicity: bool | None = None
    sos: Literal["none", "stable", "improving", "worsening"] | None = Field(
        default=None, description="Sinusoidal obstruction syndrome: none or its course."
    )
    other_medical_issues: OtherMedicalIssues | None = None

    @model_validator(mode="after")
    def _nothing_before_birth(self) -> PatientRecord:
        birth = self.birth_date
        if _any_before(self, birth):
            for where, when in _dates(self):
                if when < birth:
                    raise _FieldError(_path(where), f"{when} is before birth_date {birth}")
        return self


# Boolean fields a criterion may read directly (the `flag` rule checks names against this).
FLAG_FIELDS: tuple[str, ...] = tuple(
    name for name, kind in get_type_hints(PatientRecord).items() if kind == (bool | None)
)


_DATED_LISTS = (
    "measurements",
    "biopsies",
    "labs",
    "transfusions",
    "findings",
    "performance",
    "cardiac",
    "pregnancy_tests",
    "thromboses",
)
_SITE_LISTS = ("mibg_scans", "fdg_pet_scans", "soft_tissue_lesions", "marrow_samples")
_SITE_PATHS = {name: f"disease_sites.{name}" for name in _SITE_LISTS}
Where = tuple[str, int, str]  # (list, index, field), made into a path only for an error


def _path(where: Where) -> str:
    name, index, field = where
    return f"{name}.{field}" if index < 0 else f"{name}[{index}].{field}"


def _dates(r: PatientRecord) -> Iterator[tuple[Where, dt.date]]:
    """Every clinical date of a record with where it is, in the order a problem is reported
    (`_any_before` reads the same dates)."""
    for name in _DATED_LISTS:
        for i, item in enumerate(getattr(r, name) or ()):
            yield (name, i, "date"), item.date
    for i, t in enumerate(r.prior_therapies or ()):
        if t.start is not None:
            yield ("prior_therapies", i, "start"), t.start
        if t.end is not None:
            yield ("prior_therapies", i, "end"), t.end
    if r.diagnosis is not None and r.diagnosis.date is not None:
        yield ("diagnosis", -1, "date"), r.diagnosis.date
    if r.disease_history is not None:
        for i, e in enumerate(r.disease_history.relapses or ()):
            yield ("disease_history.relapses", i, "date"), e.date
    if r.disease_sites is not None:
        for name in _SITE_LISTS:
            for i, item in enumerate(getattr(r.disease_sites, name) or ()):
                yield (_SITE_PATHS[name], i, "date"), item.date
    if r.cns is not None:
        for i, h in enumerate(r.cns.head_imaging):
            yield ("cns.head_imaging", i, "date"), h.date
    if r.contraception is not None:
        for i, m in enumerate(r.contraception.methods):
            yield ("contraception.methods", i, "start"), m.start


def _any_before(r: PatientRecord, day: dt.date) -> bool:
    """Whether any date `_dates` yields is before `day`: the same dates, read in plain loops
    (this runs for every record read; `_dates` only for the rare record where one is)."""
    for name in _DATED_LISTS:
        for item in getattr(r, name) or ():
            if item.date < day:
                return True
    for t in r.prior_therapies or ():
        if (t.start is not None and t.start < day) or (t.end is not None and t.end < day):
            return True
    if r.diagnosis is not None and r.diagnosis.date is not None and r.diagnosis.date < day:
        return True
    if r.disease_history is not None:
        for e in r.disease_history.relapses or ():
            if e.date < day:
                return True
    if r.disease_sites is not None:
        for name in _SITE_LISTS:
            for item in getattr(r.disease_sites, name) or ():
                if item.date < day:
                    return True
    if r.cns is not None:
        for h in r.cns.head_imaging:
            if h.date < day:
                return True
    if r.contraception is not None:
        for m in r.contraception.methods:
            if m.start < day:
                return True
    return False


_READER = TypeAdapter(PatientRecord)


# --- parsing, with errors that name the field --------------------------------------------


def parse_record(data: str | bytes | dict[str, Any], *, line: int | None = None) -> PatientRecord:
    """Validate one record (JSON text or a dict); InputError names each bad field."""
    try:
        if isinstance(data, dict):
            data = json.dumps(data, default=_json_default)
        return _READER.validate_json(data)
    except ValidationError as exc:
        raise InputError(_problems(exc, line)) from None


def _json_default(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a patient record")


def _problems(exc: ValidationError, line: int | None) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        message = str(err["msg"])
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, _FieldError):
            loc.extend(_split_path(cause.path))
            message = str(cause)
        elif err["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        elif err["type"] == "json_invalid":
            message = f"not valid JSON: {err.get('ctx', {}).get('error', message)}"
        elif err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = "unknown field"
        elif err["type"] == "missing":
            message = "required field is missing"
        else:
            message = f"{message[:1].lower()}{message[1:]}; got {_describe(err.get('input'))}"
        problems.append(Problem(_format_loc(loc), message, line=line))
    return problems


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value) if isinstance(value, (str, int, float, bool)) else repr(value)


def _split_path(path: str) -> list[str | int]:
    out: list[str | int] = []
    for chunk in path.split("."):
        name, *indexes = chunk.replace("]", "").split("[")
        out.append(name)
        out.extend(int(i) for i in indexes)
    return out


def _format_loc(loc: list[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def record_data(record: PatientRecord) -> dict[str, Any]:
    """A record as JSON data, leaving out what is not known (null) so that it reads as the
    record was written; `parse_record` reads it back to an equal record."""
    data = _drop_unknown(_READER.dump_python(record, mode="json"))
    assert isinstance(data, dict)
    return data


def _drop_unknown(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_unknown(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_unknown(v) for v in value]
    return value


def record_schema() -> dict[str, Any]:
    """The JSON Schema of a patient record."""
    schema = _READER.json_schema()
    schema["$id"] = f"https://phaseone.dev/schemas/patient-record/{RECORD_SCHEMA_VERSION}"
    return schema
