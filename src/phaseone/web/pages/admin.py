"""The administrator's pages: accounts (invite, role and site, deactivate, unlock, a reset
code), sites, and what each person did lately; and the page where a person sets their own
password with a one-time code. Every step is a workflow/administration.py call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import PhaseoneError, Problem
from phaseone.store import onetime
from phaseone.store.access import SITE_ROLES, Role, Source
from phaseone.store.errors import AuthenticationError, PermissionDenied
from phaseone.web.admin_inputs import (
    AccountChangeIn,
    InviteIn,
    RedeemIn,
    ResetCodeIn,
    SiteIn,
    UnlockIn,
)
from phaseone.web.auth import DbSession, client_ip, policy
from phaseone.web.pages import present
from phaseone.web.pages.forms import parse, posted, status_of, submit
from phaseone.web.pages.session import NOTHING_FAILED, ROLE_LABELS, Failed, Viewer, back, render
from phaseone.workflow import administration

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]
NOT_ADMIN = "Account administration is for administrators."


def _roles() -> list[tuple[str, str, bool]]:
    return [(r.value, ROLE_LABELS[r], r in SITE_ROLES) for r in Role]


def show_users(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    scope = viewer.scope
    try:
        rows = administration.list_accounts(scope)
    except PermissionDenied:
        return present.not_found(request, viewer, NOT_ADMIN)
    return render(
        request,
        "admin_users.html",
        viewer,
        status_code=status_code,
        rows=rows,
        roles=_roles(),
        sites=administration.list_sites(scope),
        failed=failed,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_users(request, viewer)


def _code_page(request: Request, viewer: Viewer, user: Any, issued: Any) -> HTMLResponse:
    """The code, shown this once (the page is not cached and the code is in no URL)."""
    return render(request, "admin_code.html", viewer, user=user, issued=issued)


@router.post("/admin/users")
def invite(request: Request, viewer: Viewer, fields: Fields) -> Response:
    made: list[Any] = []

    def act() -> str:
        data = parse(InviteIn, fields)
        made.extend(
            administration.invite(
                viewer.scope,
                username=data.username,
                full_name=data.full_name,
                role=data.role,
                site_id=data.site_id,
                email=data.email,
                admin_password=data.admin_password,
                policy=policy(request),
            )
        )
        return "Account added."

    return submit(
        viewer,
        act,
        ok_url="/admin/users",
        form="invite",
        fields=fields,
        show_again=lambda failed, code: show_users(request, viewer, failed, code),
        done=lambda _: _code_page(request, viewer, made[0], made[1]),
    )


def show_user(
    request: Request,
    viewer: Viewer,
    user_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    scope = viewer.scope
    try:
        row = administration.account(scope, user_id)
        recent = administration.activity(scope, user_id)
    except (PermissionDenied, PhaseoneError):
        return present.not_found(request, viewer, NOT_ADMIN)
    return render(
        request,
        "admin_user.html",
        viewer,
        status_code=status_code,
        row=row,
        recent=recent.entries,
        roles=_roles(),
        sites=administration.list_sites(scope),
        failed=failed,
    )


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, viewer: Viewer, user_id: int) -> HTMLResponse:
    return show_user(request, viewer, user_id)


def _submit_on_user(
    request: Request,
    viewer: Viewer,
    user_id: int,
    act: Callable[[], str],
    *,
    form: str,
    fields: dict[str, Any],
    **options: Any,
) -> Response:
    """A form of the user's page: back to it with the message, or the page again with the
    refused form filled in as typed."""
    return submit(
        viewer,
        act,
        ok_url=f"/admin/users/{user_id}",
        form=form,
        fields=fields,
        show_again=lambda failed, code: show_user(request, viewer, user_id, failed, code),
        **options,
    )


@router.post("/admin/users/{user_id}/change")
def change(request: Request, viewer: Viewer, user_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(AccountChangeIn, fields)
        changes = data.model_dump(include=data.model_fields_set - {"reason"})
        administration.change_account(viewer.scope, user_id, changes, data.reason)
        return "Account changed."

    return _submit_on_user(request, viewer, user_id, act, form="change", fields=fields)


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, viewer: Viewer, user_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(UnlockIn, fields)
        administration.unlock(viewer.scope, user_id, data.reason)
        return "Account unlocked."

    return _submit_on_user(request, viewer, user_id, act, form="unlock", fields=fields)


@router.post("/admin/users/{user_id}/reset-code")
def reset_code(request: Request, viewer: Viewer, user_id: int, fields: Fields) -> Response:
    made: list[Any] = []

    def act() -> str:
        data = parse(ResetCodeIn, fields)
        made.append(
            administration.reset_code(
                viewer.scope,
                user_id,
                admin_password=data.admin_password,
                reason=data.reason,
                policy=policy(request),
            )
        )
        return "Code issued."

    return _submit_on_user(
        request,
        viewer,
        user_id,
        act,
        form="reset",
        fields=fields,
        done=lambda _: _code_page(
            request, viewer, administration.account(viewer.scope, user_id).user, made[0]
        ),
    )


def show_sites(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    if not viewer.may(administration.SITE_MANAGERS):
        return present.not_found(request, viewer, NOT_ADMIN)
    return render(
        request,
        "admin_sites.html",
        viewer,
        status_code=status_code,
        sites=administration.list_sites(viewer.scope),
        failed=failed,
    )


@router.get("/admin/sites", response_class=HTMLResponse)
def sites_page(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_sites(request, viewer)


@router.post("/admin/sites")
def add_site(request: Request, viewer: Viewer, fields: Fields) -> Response:
    def act() -> str:
        data = parse(SiteIn, fields)
        administration.add_site(
            viewer.scope,
            site_id=data.id,
            name=data.name,
            country=data.country,
            city=data.city,
            state=data.state,
        )
        return f"Site {data.id} added."

    return submit(
        viewer,
        act,
        ok_url="/admin/sites",
        form="site",
        fields=fields,
        show_again=lambda failed, code: show_sites(request, viewer, failed, code),
    )


# --- setting one's own password with a code (no login) --------------------------------------


def _set_form(
    request: Request, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    return render(request, "set_password.html", None, status_code=status_code, failed=failed)


@router.get("/password/set", response_class=HTMLResponse)
def set_password_form(request: Request) -> HTMLResponse:
    return _set_form(request)


@router.post("/password/set")
def set_password(request: Request, session: DbSession, fields: Fields) -> Response:
    shown = {k: v for k, v in fields.items() if k == "username"}
    try:
        data = parse(RedeemIn, fields)
        onetime.redeem(
            session,
            data.username,
            data.code,
            data.new_password,
            source=Source.page,
            client_ip=client_ip(request),
            policy=policy(request),
        )
    except AuthenticationError as exc:
        session.commit()  # the audited failure counts toward the back-off
        return _set_form(request, Failed("set", shown, (Problem("code", str(exc)),)), 401)
    except PhaseoneError as exc:
        session.rollback()
        problems = tuple(getattr(exc, "problems", ()) or (Problem("", str(exc)),))
        return _set_form(request, Failed("set", shown, problems), status_of(exc))
    return back("/login", ok="Password set: log in with it.")
