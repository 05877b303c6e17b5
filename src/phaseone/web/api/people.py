"""Accounts and sites. Accounts are managed by the administrator; sites are read by all."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select

from phaseone.errors import NotFoundError
from phaseone.store import accounts, sites
from phaseone.store.access import ACCOUNT_MANAGERS, Role
from phaseone.store.models import Site, User
from phaseone.web.admin_inputs import InviteIn, ResetCodeIn, SiteIn
from phaseone.web.api.audit import AuditPage
from phaseone.web.api.session import UserOut
from phaseone.web.api.types import INT32_MAX, Name, Reason, Slug
from phaseone.web.auth import Caller, keeping_failed_reauthentication, policy
from phaseone.workflow import administration

router = APIRouter()

UserId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Email = Annotated[
    str,
    StringConstraints(max_length=200, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[A-Za-z]{2,}$"),
]


class SiteOut(BaseModel):
    id: str
    name: str
    city: str | None
    state: str | None
    country: str
    active: bool


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._@-]{1,63}$")
    full_name: Name = Field(description="Printed name shown on this user's signatures.")
    email: Email | None = None
    role: Role
    site_id: Slug | None = Field(default=None, description="Required for site roles only.")
    password: str = Field(min_length=1, max_length=1024)


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: Name | None = None
    email: Email | None = None
    role: Role | None = None
    site_id: Slug | None = None
    active: bool | None = None
    reason: Reason


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


def _site_view(site: Site) -> dict[str, Any]:
    return {
        name: getattr(site, name) for name in ("id", "name", "city", "state", "country", "active")
    }


@router.get("/sites", response_model=list[SiteOut], tags=["sites"], summary="The trial's sites")
def list_sites(scope: Caller) -> Any:
    return [_site_view(s) for s in sites.list_sites(scope.session)]


@router.get("/sites/{site_id}", response_model=SiteOut, tags=["sites"], summary="One site")
def read_site(scope: Caller, site_id: Slug) -> Any:
    site = scope.session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"no site {site_id!r}")
    return _site_view(site)


@router.get("/users", response_model=UserPage, tags=["users"], summary="Accounts (admin)")
def list_users(
    scope: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Any:
    scope.require_role(ACCOUNT_MANAGERS, "list accounts")
    total = scope.session.scalar(select(func.count()).select_from(User)) or 0
    rows = scope.session.scalars(select(User).order_by(User.id).limit(limit).offset(offset))
    end = offset + limit
    return {
        "items": [accounts.user_view(u) for u in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": end if end < total else None,
    }


@router.post(
    "/users", status_code=201, response_model=UserOut, tags=["users"], summary="Add an account"
)
def add_user(scope: Caller, data: UserIn, request: Request) -> Any:
    user = accounts.add_user(
        scope,
        username=data.username,
        full_name=data.full_name,
        role=data.role,
        password=data.password,
        site_id=data.site_id,
        email=data.email,
        policy=policy(request),
    )
    return accounts.user_view(user)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"], summary="One account")
def read_user(scope: Caller, user_id: UserId) -> Any:
    if scope.actor.user_id != user_id:
        scope.require_role(ACCOUNT_MANAGERS, "read other accounts")
    return accounts.user_view(accounts.get_user(scope.session, user_id))


@router.patch(
    "/users/{user_id}", response_model=UserOut, tags=["users"], summary="Change an account"
)
def change_user(scope: Caller, user_id: UserId, data: UserChange) -> Any:
    changes = data.model_dump(include=data.model_fields_set - {"reason"})
    user = accounts.update_user(scope, user_id, changes, data.reason)
    return accounts.user_view(user)


@router.post("/users/{user_id}/unlock", response_model=UserOut, tags=["users"], summary="Unlock")
def unlock_user(scope: Caller, user_id: UserId, data: UnlockIn) -> Any:
    accounts.unlock_user(scope, user_id, data.reason)
    return accounts.user_view(accounts.get_user(scope.session, user_id))


class CodeOut(BaseModel):
    code: str = Field(description="Shown once; only its hash is stored. Give it to the person.")
    expires_at: dt.datetime
    purpose: str


class InvitedOut(BaseModel):
    user: UserOut
    one_time_code: CodeOut


def _code_view(issued: Any) -> dict[str, Any]:
    return {"code": issued.code, "expires_at": issued.expires_at, "purpose": issued.purpose}


@router.post(
    "/users/invitations",
    status_code=201,
    response_model=InvitedOut,
    tags=["users"],
    summary="Add an account without a password; its holder sets one with the code",
)
def invite_user(scope: Caller, data: InviteIn, request: Request) -> Any:
    with keeping_failed_reauthentication(scope):
        user, issued = administration.invite(
            scope,
            username=data.username,
            full_name=data.full_name,
            role=data.role,
            site_id=data.site_id,
            email=data.email,
            admin_password=data.admin_password,
            policy=policy(request),
        )
    return {"user": accounts.user_view(user), "one_time_code": _code_view(issued)}


@router.post(
    "/users/{user_id}/reset-code",
    status_code=201,
    response_model=CodeOut,
    tags=["users"],
    summary="A one-time code to set a new password (ends the account's sessions)",
)
def reset_code(scope: Caller, user_id: UserId, data: ResetCodeIn, request: Request) -> Any:
    with keeping_failed_reauthentication(scope):
        issued = administration.reset_code(
            scope,
            user_id,
            admin_password=data.admin_password,
            reason=data.reason,
            policy=policy(request),
        )
    return _code_view(issued)


@router.get(
    "/users/{user_id}/activity",
    response_model=AuditPage,
    tags=["users"],
    summary="What one person did lately, newest first (audited read)",
)
def user_activity(
    scope: Caller, user_id: UserId, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> Any:
    page = administration.activity(scope, user_id, limit)
    return {"items": [e.as_dict() for e in page.entries], "older": page.older, "newer": None}


@router.post(
    "/sites", status_code=201, response_model=SiteOut, tags=["sites"], summary="Add a site"
)
def add_site(scope: Caller, data: SiteIn) -> Any:
    site = administration.add_site(
        scope,
        site_id=data.id,
        name=data.name,
        country=data.country,
        city=data.city,
        state=data.state,
    )
    return _site_view(site)
