"""Disease evaluations as input: MIBG (Curie, SIOPEN), FDG-PET, CT/MRI lesions, bone marrow.

Frozen pydantic models with a JSON Schema (`phaseone schema evaluation`); capture in the
trial service maps onto them. Scores are stored per segment and totals derived, so serial
scans compare segment by segment. Every bound is checked at the door: a Curie segment of
4, a diameter of -3 mm or a marrow of 140% is an error naming its field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from phaseone.errors import InputError, Problem

CurieExtent = Annotated[int, Field(ge=0, le=3)]
SiopenExtent = Annotated[int, Field(ge=0, le=6)]
Percent = Annotated[float, Field(ge=0, le=100)]
Millimetres = Annotated[float, Field(ge=0, le=2000)]
ResponseCategory = Literal["CR", "PR", "MR", "SD", "PD", "NE"]
# Text without control characters (tabs and line breaks aside): databases refuse NUL.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]

# Dates are clinical: 1900..2199, as elsewhere in phaseone.
_EARLIEST = dt.date(1900, 1, 1)
_LATEST = dt.date(2199, 12, 31)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CurieScores(_Model):
    """Curie extent per segment, 0 none, 1 one site, 2 more than one site, 3 diffuse."""

    head: CurieExtent = 0
    cervical_thoracic_spine: CurieExtent = 0
    ribs_sternum: CurieExtent = 0
    lumbar_sacral_spine: CurieExtent = 0
    pelvis: CurieExtent = 0
    upper_arms: CurieExtent = 0
    forearms_hands: CurieExtent = 0
    thighs: CurieExtent = 0
    legs_feet: CurieExtent = 0
    soft_tissue: CurieExtent = 0

    # Derived once per scan (frozen models): the engine reads them at every comparison.
    @cached_property
    def skeletal(self) -> int:
        """Segments 1-9 (max 27)."""
        return sum(self._skeletal.values())

    @cached_property
    def total(self) -> int:
        """All ten segments (max 30)."""
        return self.skeletal + self.soft_tissue

    @cached_property
    def _skeletal(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in CURIE_SKELETAL}

    def skeletal_segments(self) -> dict[str, int]:
        return dict(self._skeletal)


class SiopenScores(_Model):
    """SIOPEN extent per skeletal segment, 0-6 (bone only; max 72)."""

    skull: SiopenExtent = 0
    thoracic_cage: SiopenExtent = 0
    right_upper_limb_proximal: SiopenExtent = 0
    right_upper_limb_distal: SiopenExtent = 0
    left_upper_limb_proximal: SiopenExtent = 0
    left_upper_limb_distal: SiopenExtent = 0
    spine: SiopenExtent = 0
    pelvis: SiopenExtent = 0
    right_lower_limb_proximal: SiopenExtent = 0
    right_lower_limb_distal: SiopenExtent = 0
    left_lower_limb_proximal: SiopenExtent = 0
    left_lower_limb_distal: SiopenExtent = 0

    @cached_property
    def total(self) -> int:
        return sum(self._skeletal.values())

    @cached_property
    def _skeletal(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in SIOPEN_SEGMENTS}

    def skeletal_segments(self) -> dict[str, int]:
        return dict(self._skeletal)


CURIE_SKELETAL = tuple(n for n in CurieScores.model_fields if n != "soft_tissue")
SIOPEN_SEGMENTS = tuple(SiopenScores.model_fields)


class Mibg(_Model):
    """123I-MIBG scintigraphy."""

    avid: bool = Field(description="Is the tumour MIBG-avid? If not, FDG-PET is used.")
    curie: CurieScores | None = None
    siopen: SiopenScores | None = None
    new_avid_bone_site: bool = Field(
        False, description="A new avid bone site seen by the reader (besides new segments)."
    )


class Pet(_Model):
    """FDG-PET, used for MIBG-non-avid disease."""

    avid_bone_sites: int = Field(ge=0, le=500)
    new_avid_bone_site: bool = False


class Lesion(_Model):
    """A CT/MRI lesion; `id` is kept across evaluations."""

    id: Text = Field(min_length=1, max_length=64)
    site: Literal["primary", "soft_tissue", "lymph_node"]
    diameter_mm: Millimetres = Field(
        description="Longest diameter; short axis for lymph nodes; 0 when no longer seen."
    )
    target: bool = True
    avid: bool | None = Field(None, description="MIBG (or FDG if non-avid) uptake at the lesion.")
    new: bool = Field(False, description="Not present at baseline.")
    biopsy_proven: bool = False


class MarrowSample(_Model):
    """One bone-marrow sample."""

    side: Literal["left", "right"]
    kind: Literal["aspirate", "biopsy"]
    method: Literal["morphology", "immunocytology", "histology", "immunohistochemistry"] = (
        "morphology"
    )
    tumour_percent: Percent


class Evaluation(_Model):
    """One disease evaluation at one time point."""

    date: dt.date
    kind: Literal["baseline", "scheduled", "unscheduled"] = "scheduled"
    label: Text | None = Field(None, max_length=80, description="e.g. 'after course 2'")
    mibg: Mibg | None = None
    pet: Pet | None = None
    lesions: tuple[Lesion, ...] = ()
    marrow: tuple[MarrowSample, ...] = ()
    new_lesion: bool = Field(False, description="Any other new lesion (clinical, imaging).")
    investigator_response: ResponseCategory | None = None
    investigator_reason: Text | None = Field(None, max_length=500)

    @field_validator("date")
    @classmethod
    def _in_range(cls, day: dt.date) -> dt.date:
        if not _EARLIEST <= day <= _LATEST:
            raise ValueError("date must lie in 1900-01-01..2199-12-31")
        return day

    @model_validator(mode="after")
    def _check(self) -> Evaluation:
        ids = [lesion.id for lesion in self.lesions]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"lesion id(s) repeated: {', '.join(dup)}")
        return self


class PatientEvaluations(_Model):
    """A patient's disease evaluations: one baseline, then the evaluations on study."""

    patient_id: str = Field(min_length=1, max_length=64)
    reference_date: dt.date = Field(
        description="Registration (study entry); no evaluation after baseline may precede it."
    )
    dose_level: int | None = Field(None, ge=-9, le=99)
    evaluations: tuple[Evaluation, ...] = Field(min_length=1)


def _problems(exc: ValidationError, prefix: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            message += f" (got {err.get('input')!r})"
        out.append(Problem(path, message))
    return out


def _dates(patient: PatientEvaluations, prefix: str) -> list[Problem]:
    """Dates in order: one baseline; no later evaluation before it or before registration."""
    problems: list[Problem] = []
    baselines = [i for i, e in enumerate(patient.evaluations) if e.kind == "baseline"]
    if len(baselines) > 1:
        problems.append(
            Problem(f"{prefix}evaluations[{baselines[1]}].kind", "more than one baseline")
        )
    base = patient.evaluations[baselines[0]].date if baselines else None
    for i, e in enumerate(patient.evaluations):
        if e.kind == "baseline":
            continue
        if base is not None and e.date < base:
            problems.append(
                Problem(
                    f"{prefix}evaluations[{i}].date",
                    f"{e.date} is before the baseline evaluation ({base})",
                )
            )
        elif e.date < patient.reference_date:
            problems.append(
                Problem(
                    f"{prefix}evaluations[{i}].date",
                    f"{e.date} is before the reference date {patient.reference_date} "
                    "(only the baseline may precede registration)",
                )
            )
    return problems


def parse_patient(data: Any, prefix: str = "") -> PatientEvaluations:
    """One patient's evaluations from JSON-like data; every problem names its field."""
    try:
        patient = PatientEvaluations.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems(exc, prefix.rstrip("."))) from None
    problems = _dates(patient, prefix)
    if problems:
        raise InputError(problems)
    return patient


def parse_patients(data: Any) -> list[PatientEvaluations]:
    """A list of patients (or one patient) from JSON-like data; all problems at once."""
    items: Iterable[Any] = data if isinstance(data, list) else [data]
    many = isinstance(data, list)
    out: list[PatientEvaluations] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            patient = parse_patient(item, prefix=f"[{i}]." if many else "")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if patient.patient_id in seen:
            problems.append(Problem(f"[{i}].patient_id", f"{patient.patient_id!r} repeated"))
        seen.add(patient.patient_id)
        out.append(patient)
    if problems:
        raise InputError(problems)
    return out


def parse_evaluations_json(text: str | bytes) -> list[PatientEvaluations]:
    """Patients from a JSON document (a patient object or a list of them)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError([Problem("", f"not valid JSON: {exc}")]) from None
    return parse_patients(data)


def evaluation_schema() -> dict[str, Any]:
    """The JSON Schema of one patient's evaluations (the input of `phaseone response`)."""
    schema = PatientEvaluations.model_json_schema()
    schema["title"] = "phaseone disease evaluations (one patient)"
    return schema
