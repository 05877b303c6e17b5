"""The input models of audit browsing, account and site administration and operations
reports, shared by the JSON API (query strings and bodies) and the pages (forms)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from phaseone.store.access import Role
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import ClinicalDate, Id, Name, Reason, ShortText, Slug

TableName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,64}$")]
RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._@-]{1,63}$")]
Email = Annotated[
    str,
    StringConstraints(max_length=200, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[A-Za-z]{2,}$"),
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class AuditQueryIn(Body):
    """Filters of the audit trail and a keyset cursor (the sequence number of an entry)."""

    patient_id: Id | None = Field(default=None, description="Entries about this patient.")
    site_id: Slug | None = None
    user_id: Id | None = None
    username: Username | None = Field(default=None, description="Entries made by this user.")
    entity: TableName | None = Field(default=None, description="Record type, e.g. lab_results.")
    entity_id: RecordId | None = None
    action: TableName | None = Field(default=None, description="e.g. create, update, sign.")
    since: ClinicalDate | None = Field(default=None, description="First UTC day, inclusive.")
    until: ClinicalDate | None = Field(default=None, description="Last UTC day, inclusive.")
    before: Id | None = Field(default=None, description="Entries older than this one.")
    after: Id | None = Field(default=None, description="Entries newer than this one.")
    limit: int = Field(default=50, ge=1, le=500)


class AuditExportIn(AuditQueryIn):
    format: Literal["csv", "jsonl"] = "jsonl"


class Reauthenticated(Body):
    admin_password: Password = Field(description="Your own password, entered again.")


class InviteIn(Reauthenticated):
    """A new account without a password: the person sets their own with a one-time code."""

    username: Username
    full_name: Name = Field(description="Printed name shown on this user's signatures.")
    email: Email | None = None
    role: Role
    site_id: Slug | None = Field(default=None, description="Required for site roles only.")


class AccountChangeIn(Body):
    role: Role | None = None
    site_id: Slug | None = None
    active: bool | None = None
    reason: Reason


class ResetCodeIn(Reauthenticated):
    reason: Reason = "password reset by the administrator"


class UnlockIn(Body):
    reason: Reason


class RedeemIn(Body):
    username: ShortText
    code: Annotated[str, Field(min_length=1, max_length=64)]
    new_password: Password


class SiteIn(Body):
    id: Slug
    name: Name
    city: ShortText | None = None
    state: ShortText | None = None
    country: ShortText
