"""Logging in and out, the current user, API tokens and password changes."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phaseone.store import accounts, onetime
from phaseone.store.access import Source
from phaseone.store.errors import AuthenticationError, PermissionDenied, ThrottledError
from phaseone.web.admin_inputs import RedeemIn
from phaseone.web.api.types import INT32_MAX, Name, Reason
from phaseone.web.auth import (
    Caller,
    DbSession,
    clear_session_cookie,
    client_ip,
    keeping_failed_reauthentication,
    policy,
    set_session_cookie,
)

router = APIRouter(tags=["session"])

LOGIN_REFUSED = "invalid username or password"


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    role: str
    site_id: str | None
    active: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send as X-CSRF-Token on every change in this session.")
    expires_at: dt.datetime


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    expires_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    reason: Reason = "password change by the account holder"


def _token_view(token: Any) -> dict[str, Any]:
    return {
        name: getattr(token, name)
        for name in ("id", "name", "created_at", "expires_at", "last_used_at", "revoked_at")
    }


@router.post("/auth/login", response_model=LoginOut, summary="Log in (sets the session cookie)")
def login(data: LoginIn, request: Request, response: Response, session: DbSession) -> Any:
    rules = policy(request)
    outcome = accounts.authenticate(
        session,
        data.username,
        data.password,
        source=Source.api,
        client_ip=client_ip(request),
        policy=rules,
    )
    if outcome.user is None:
        # Record the failure even though the request fails.
        session.commit()
        if outcome.throttled:
            raise ThrottledError(
                f"too many failed logins: try again in {outcome.retry_after} s",
                outcome.retry_after,
            )
        raise AuthenticationError(LOGIN_REFUSED)
    new = accounts.start_session(session, outcome.user, rules, client_ip(request))
    set_session_cookie(response, new, rules)
    return {
        "user": accounts.user_view(outcome.user),
        "csrf_token": new.csrf_token,
        "expires_at": new.expires_at,
    }


@router.post("/auth/logout", status_code=204, summary="End this browser session")
def logout(scope: Caller, request: Request, response: Response) -> Response:
    login_session = getattr(request.state, "login", None)
    if login_session is None:
        raise PermissionDenied("log out ends a browser session; revoke API tokens instead")
    accounts.end_session(scope, login_session)
    clear_session_cookie(response)
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=UserOut, summary="The logged-in user")
def me(scope: Caller) -> Any:
    assert scope.actor.user_id is not None
    return accounts.user_view(accounts.get_user(scope.session, scope.actor.user_id))


@router.post("/auth/password", status_code=204, summary="Change your own password")
def change_password(scope: Caller, data: PasswordIn, request: Request) -> Response:
    """A wrong current password is audited and counts toward the back-off; a change ends
    every session and revokes every API token of the account."""
    with keeping_failed_reauthentication(scope):
        accounts.change_own_password(
            scope, data.current_password, data.new_password, data.reason, policy(request)
        )
    return Response(status_code=204)


@router.get("/auth/tokens", response_model=list[TokenOut], summary="Your API tokens")
def list_tokens(scope: Caller) -> Any:
    assert scope.actor.user_id is not None
    return [_token_view(t) for t in accounts.list_api_tokens(scope.session, scope.actor.user_id)]


@router.post(
    "/auth/tokens", status_code=201, response_model=NewTokenOut, summary="Create an API token"
)
def create_token(scope: Caller, data: TokenIn) -> Any:
    assert scope.actor.user_id is not None
    user = accounts.get_user(scope.session, scope.actor.user_id)
    token, plain = accounts.create_api_token(scope, user, data.name, data.expires_days)
    return {**_token_view(token), "token": plain}


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="Revoke one of your tokens")
def revoke_token(scope: Caller, token_id: Annotated[int, Field(ge=1, le=INT32_MAX)]) -> Response:
    accounts.revoke_api_token(scope, token_id)
    return Response(status_code=204)


@router.post(
    "/auth/set-password",
    status_code=204,
    summary="Set your password with a one-time code from the administrator",
)
def set_password_with_code(data: RedeemIn, request: Request, session: DbSession) -> Response:
    """No login needed: the code is the proof. A wrong, used or expired code is audited and
    slows the address down like a failed login."""
    try:
        onetime.redeem(
            session,
            data.username,
            data.code,
            data.new_password,
            source=Source.api,
            client_ip=client_ip(request),
            policy=policy(request),
        )
    except AuthenticationError:
        session.commit()  # keep the audited failure: it counts toward the back-off
        raise
    return Response(status_code=204)
