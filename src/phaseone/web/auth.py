"""Request plumbing: one transaction per request, and who is asking.

A request is authenticated by an API token (`Authorization: Bearer po_...`) or by the
session cookie set at login. Cookie-authenticated requests that change anything must also
send the session's CSRF token in the `X-CSRF-Token` header (synchronizer token, stored with
the session); bearer tokens are not sent by browsers on their own, so they need none.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import anyio
from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from phaseone.store.access import Source
from phaseone.store.accounts import NewLogin, actor_for, resolve_api_token, resolve_session
from phaseone.store.db import Database
from phaseone.store.errors import AuthenticationError
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.web.errors import CsrfError
from phaseone.workflow import Trial

SESSION_COOKIE = "phaseone_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def set_session_cookie(response: Response, login: NewLogin, rules: SecurityPolicy) -> None:
    """The session cookie, the same for the pages and the API: not readable by scripts,
    sent only to this site, HTTPS-only unless the policy says otherwise."""
    response.set_cookie(
        SESSION_COOKIE,
        login.cookie,
        max_age=rules.session_max_hours * 3600,
        httponly=True,
        secure=rules.cookie_secure,
        samesite="strict",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def policy(request: Request) -> SecurityPolicy:
    found: SecurityPolicy = request.app.state.policy
    return found


def trial_of(request: Request) -> Trial:
    """The trial this service runs (protocol, design, slot policy)."""
    found: Trial = request.app.state.trial
    return found


def now(request: Request) -> dt.datetime:
    """The time (UTC) a workflow step happens, from the service's clock."""
    clock: Callable[[], dt.datetime] = request.app.state.clock
    return clock()


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _roll_back_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def _unit_of_work(request: Request) -> AsyncIterator[Session]:
    """The request's one transaction: committed when the endpoint returns, else rolled back.

    Async so that opening the session, which does no I/O (it connects on first use), takes
    no worker thread; the commit (or rollback) and close do, in one. Shielded: a request
    cancelled meanwhile still ends its transaction and gives its connection back."""
    session = database(request).factory()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_roll_back_and_close, session)
        raise
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(_commit_and_close, session)


DbSession = Annotated[Session, Depends(_unit_of_work, scope="function")]


def _bearer(request: Request, session: Session) -> Scope | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("use 'Authorization: Bearer <API token>'")
    user = resolve_api_token(session, token.strip())
    if user is None:
        raise AuthenticationError("invalid, expired or revoked API token")
    return Scope(session, actor_for(user, Source.api, client_ip(request)))


def _check_csrf(request: Request, expected: str) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError(f"missing or wrong CSRF token (send the {CSRF_HEADER} header)")


def authenticated(request: Request, session: DbSession) -> Scope:
    """The caller as an audited actor, or 401."""
    by_token = _bearer(request, session)
    if by_token is not None:
        return by_token
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationError("not logged in")
    found = resolve_session(session, cookie, policy(request))
    if found is None:
        raise AuthenticationError("session expired or ended; log in again")
    user, login = found
    _check_csrf(request, login.csrf_token)
    request.state.login = login
    return Scope(session, actor_for(user, Source.api, client_ip(request)))


Caller = Annotated[Scope, Depends(authenticated)]


@contextmanager
def keeping_failed_reauthentication(scope: Scope) -> Iterator[None]:
    """Run a step that re-asks for a password; if the password is wrong, keep the audited
    failure (it counts toward lockout) although the request itself fails and writes nothing
    else."""
    try:
        yield
    except AuthenticationError:
        scope.session.commit()
        raise
