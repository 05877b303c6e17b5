"""Logging in to the pages, the page user, CSRF on forms, and messages after a step.

Every form that changes something posts the session's CSRF token; the step itself is run
by forms.submit, in the request's one transaction.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from phaseone.errors import Problem
from phaseone.store import accounts
from phaseone.store.access import Role, Source
from phaseone.store.errors import AuthenticationError
from phaseone.store.scope import Scope
from phaseone.web.auth import (
    SESSION_COOKIE,
    DbSession,
    clear_session_cookie,
    client_ip,
    policy,
    set_session_cookie,
)
from phaseone.web.pages import nav
from phaseone.workflow import Trial

router = APIRouter(include_in_schema=False)

_TEMPLATE_DIR = str(resources.files("phaseone.web").joinpath("templates"))
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(_TEMPLATE_DIR), autoescape=select_autoescape(["html"]))
)

ROLE_LABELS = {
    Role.admin: "administrator",
    Role.study_chair: "study chair",
    Role.site_investigator: "site investigator",
    Role.site_coordinator: "site coordinator",
    Role.statistician: "statistician",
    Role.monitor: "monitor",
}


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PageForbidden(Exception):
    """A page of the menu opened by a role the menu does not show it to (answered 403)."""

    def __init__(self, viewer: PageUser) -> None:
        self.viewer = viewer


@dataclass
class PageUser:
    """The signed-in viewer: their scope, account and login session (store rows, read only)."""

    scope: Scope
    user: Any
    login: Any

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def csrf(self) -> str:
        return str(self.login.csrf_token)

    def may(self, roles: frozenset[Role]) -> bool:
        """Whether the viewer's role is in one of the store's role sets (to show a form)."""
        return self.role in roles


@dataclass(frozen=True)
class Failed:
    """A form that was refused: which one, what was typed, and why."""

    form: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def value(self, form: str, name: str, default: Any = "") -> Any:
        """What to show in a field: what was typed if this form was refused, else default."""
        if form != self.form:
            return default
        typed = self.values.get(name, "")
        return typed if isinstance(typed, str) else ""

    def problem(self, form: str, name: str) -> str:
        if form != self.form:
            return ""
        return "; ".join(p.message for p in self.problems if p.path == name)

    def of(self, form: str) -> tuple[Problem, ...]:
        return self.problems if form == self.form else ()


NOTHING_FAILED = Failed()


def trial_of(request: Request) -> Trial:
    found: Trial = request.app.state.trial
    return found


def page_user(request: Request, session: DbSession) -> PageUser:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = accounts.resolve_session(session, cookie, policy(request)) if cookie else None
    if found is None:
        raise LoginRequired(str(request.url.path))
    user, login = found
    scope = Scope(session, accounts.actor_for(user, Source.page, client_ip(request)))
    viewer = PageUser(scope, user, login)
    if request.method in ("GET", "HEAD") and not nav.may_open(viewer.role, request.url.path):
        # The request's transaction ends with the refusal; the page that says so still
        # needs the viewer's name and token, so they leave the session as they are.
        session.expunge(user)
        session.expunge(login)
        raise PageForbidden(viewer)
    return viewer


Viewer = Annotated[PageUser, Depends(page_user)]


def check_csrf(viewer: PageUser, token: str) -> None:
    if not token or not hmac.compare_digest(token.encode(), viewer.csrf.encode()):
        raise AuthenticationError("the form is out of date (CSRF token); reload the page")


def render(
    request: Request,
    template: str,
    viewer: PageUser | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.update(
        request=request,
        viewer=viewer,
        role_label=ROLE_LABELS.get(viewer.role) if viewer else None,
        ok=request.query_params.get("ok"),
        error=request.query_params.get("error"),
        failed=context.get("failed") or NOTHING_FAILED,
        trial=trial_of(request),
        nav_links=nav.links_for(viewer.role) if viewer else (),
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def back(url: str, **message: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in message.items() if v})
    sep = "&" if "?" in url else "?"
    return RedirectResponse(url + (sep + query if query else ""), status_code=303)


# --- login and logout ---------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", None, next=request.query_params.get("next", "/"))


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next_url: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    rules = policy(request)
    outcome = accounts.authenticate(
        session,
        username,
        password,
        source=Source.page,
        client_ip=client_ip(request),
        policy=rules,
    )
    if outcome.user is None:
        session.commit()
        message = (
            f"Too many failed logins: try again in {outcome.retry_after} seconds."
            if outcome.throttled
            else "Invalid username or password."
        )
        query = urlencode({"error": message, "next": next_url})
        return RedirectResponse(f"/login?{query}", status_code=303)
    new = accounts.start_session(session, outcome.user, rules, client_ip(request))
    target = next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, new, rules)
    return response


@router.post("/logout")
def logout(viewer: Viewer, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(viewer, csrf_token)
    accounts.end_session(viewer.scope, viewer.login)
    response = RedirectResponse("/login?ok=" + quote("Logged out."), status_code=303)
    clear_session_cookie(response)
    return response


def install(app: FastAPI) -> None:
    async def _to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)

    async def _forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        message = "This page is not for your role."
        return render(request, "error.html", exc.viewer, status_code=403, message=message)

    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(PageForbidden, _forbidden)
