"""The input models of every workflow write, shared by the JSON API and the pages.

The API reads them from a JSON body, the pages from a form (web/pages/forms.py); both get
the same checks and the same field names in their errors. Field types come from
web/api/types.py (finite numbers, dates in the stores' range, no control characters,
bounded text).
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated, Literal

from pydantic import Field

from phaseone.response.evaluation import Evaluation
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import (
    INT32_MAX,
    ClinicalDate,
    DoseLevel,
    EngineData,
    LabValue,
    Measure,
    Name,
    Note,
    Reason,
    ShortText,
    Slug,
)
from phaseone.workflow import treatment

Course = Annotated[int, Field(ge=1, le=99, description="Course number.")]
BodyWeight = Annotated[float, Field(gt=0, le=500, allow_inf_nan=False)]
Override = Annotated[
    Note | None,
    Field(
        description="Why an edit check's warning is accepted (a dose above the plan, a second "
        "administration on a day): stored with the record and listed for monitoring."
    ),
]


class ScreeningIn(Body):
    record: EngineData = Field(
        description="The patient's screening record as the eligibility engine reads it "
        "(the format of `phaseone screen`). Birth date, sex and site come from the "
        "registered patient: leave them out, or give the same values."
    )
    as_of: ClinicalDate = Field(description="The screening date.")
    dose_level: DoseLevel | None = Field(
        default=None,
        description="Screen for this dose level; default the level open now, which is the "
        "one registration needs.",
    )


class SignerIn(Body):
    username: ShortText = Field(description="Your own username, entered again.")
    password: str = Field(min_length=1, max_length=1024, description="Your password.")


class SlotRequestIn(Body):
    reference: ShortText = Field(
        description="The site's own pseudonymous label for the request (no patient data)."
    )
    site_id: Slug | None = Field(
        default=None,
        description="The site asking; site staff ask for their own site (the default), the "
        "study chair on a site's behalf.",
    )


class ReleaseIn(Body):
    reason: Reason


class PriorityIn(Body):
    priority: int = Field(ge=-1000, le=1000, description="Higher goes first on the waitlist.")
    reason: Reason


class RegistrationRequest(Body):
    """No dose level: the server assigns the level open now, from the trial's state."""

    slot_request_id: int = Field(
        ge=1, le=INT32_MAX, description="The slot your site holds (POST /slot-requests)."
    )
    start_date: ClinicalDate = Field(description="Day 1 of protocol therapy (today or later).")
    height_cm: BodyWeight = Field(description="Height in cm, for the body surface area.")
    weight_kg: BodyWeight = Field(description="Weight in kg, for the body surface area.")


class DoseIn(Body):
    course: Course = 1
    day: int = Field(ge=1, le=366, description="Course day.")
    agent_id: Slug
    given: bool = True
    given_mg: Measure | None = Field(
        default=None, description="Amount given in mg; default the planned amount."
    )
    reason: Note | None = Field(
        default=None, description="Required when the dose was not given as planned."
    )
    how_taken: Literal["swallowed", "chewed", "opened", "infused", "other"] | None = None
    override: Override = None


class LabIn(Body):
    analyte: ShortText
    value: LabValue
    unit: ShortText
    collected_on: ClinicalDate
    course: Course | None = None
    lower_normal: LabValue | None = Field(
        default=None, description="Default: the pediatric normal range for age and sex."
    )
    upper_normal: LabValue | None = None


class AdverseEventReport(Body):
    term: Name = Field(description="The CTCAE term (the protocol's CTCAE version).")
    grade: int = Field(ge=1, le=5)
    onset: ClinicalDate
    attribution: dict[Slug, Slug] = Field(
        default_factory=dict,
        max_length=20,
        description="Per agent: unrelated, unlikely, possible, probable, definite.",
    )
    verbatim: Note | None = None
    resolved: ClinicalDate | None = None
    serious: bool = False
    course: Course | None = None


class OffTreatmentIn(Body):
    ended_on: ClinicalDate
    reason: Slug = Field(description="One of: " + ", ".join(treatment.OFF_TREATMENT_REASONS))
    detail: Note | None = None


class ClinicalEventReport(Body):
    kind: Literal[
        "progression", "relapse", "second_malignancy", "death", "new_therapy", "off_study"
    ]
    event_date: ClinicalDate
    cause: Name | None = Field(default=None, description="Required for going off study.")
    detail: Note | None = None


class FollowUpReport(Body):
    contact_date: ClinicalDate
    vital_status: Literal["alive", "dead", "unknown"]
    disease_status: ShortText | None = None
    notes: Note | None = None


class EvaluationIn(Body):
    """A disease evaluation: the response engine's own input model, so that the page, the
    API and an evaluations file are checked by one definition."""

    evaluation: Evaluation
    course: Course | None = Field(
        default=None, description="For a scheduled evaluation: the course it follows."
    )
    disease_at_entry: Literal["measurable", "evaluable", "complete_response"] | None = Field(
        default=None, description="At the baseline evaluation: disease status at study entry."
    )


class EvaluationCorrectionIn(EvaluationIn):
    reason: Reason
