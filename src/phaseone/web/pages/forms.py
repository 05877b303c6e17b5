"""Forms into the input models the JSON API uses: the pages' one door to validation.

A posted form becomes the same pydantic model the API reads from JSON (web/inputs.py and
the record API's correction models), so a value the API refuses is refused here too,
with the same field names. A refused form is shown again with what was typed and the
problems beside it: nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from phaseone.errors import InputError, PhaseoneError, Problem
from phaseone.store.errors import AuthenticationError
from phaseone.web.errors import STATUS
from phaseone.web.pages.session import Failed, PageUser, back, check_csrf

M = TypeVar("M", bound=BaseModel)
# The largest field a form may post (a pasted screening record is a few kilobytes).
MAX_FORM_FIELD = 1024 * 1024
# Fields every form carries that are not data.
NOT_DATA = frozenset({"csrf_token"})


async def posted(request: Request) -> dict[str, Any]:
    """The posted fields as typed (an upload where text belongs is kept as a non-text)."""
    try:
        form = await request.form(max_part_size=MAX_FORM_FIELD)
    except StarletteHTTPException:  # Starlette refuses a field over the limit
        raise HTTPException(413, f"a form field is larger than {MAX_FORM_FIELD} bytes") from None
    return {k: v if isinstance(v, str) else object() for k, v in form.multi_items()}


def _nest(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Blank fields are left out (the model's default applies); 'a.b.c' fills
    {'a': {'b': {'c'}}}, and a level whose names are all numbers ('rows.0.x', 'rows.1.x':
    a form's repeatable rows) becomes a list in that order."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in NOT_DATA or (isinstance(value, str) and not value.strip()):
            continue
        *heads, last = name.split(".")
        level = out
        for head in heads:
            level = level.setdefault(head, {})
            if not isinstance(level, dict):
                break
        else:
            level[last] = value
    nested: dict[str, Any] = _lists(out)
    return nested


def _lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {k: _lists(v) for k, v in value.items()}
    if items and all(k.isdigit() and len(k) <= 4 for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def problems_of(exc: ValidationError) -> list[Problem]:
    return [
        Problem(".".join(str(part) for part in err["loc"]), str(err["msg"])) for err in exc.errors()
    ]


def parse(model: type[M], fields: Mapping[str, Any], **fixed: Any) -> M:
    """The form as `model`; `fixed` values come from the page (the patient in the path)."""
    data = {**_nest(fields), **fixed}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_of(exc)) from None




def status_of(exc: PhaseoneError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)


def submit(
    viewer: PageUser,
    action: Callable[[], str],
    *,
    ok_url: str,
    form: str,
    fields: Mapping[str, Any],
    show_again: Callable[[Failed, int], Response],
    done: Callable[[str], Response] | None = None,
) -> Response:
    """Run one workflow step in this request's transaction. Done: back to `ok_url` with its
    message (or `done`'s page, for what must not travel in a URL, such as a one-time
    code). Refused: rolled back whole, and the form shown again as typed, with the
    problems (a failed re-authentication is kept: it counts toward lockout)."""
    session = viewer.scope.session
    try:
        token = fields.get("csrf_token")
        check_csrf(viewer, token if isinstance(token, str) else "")
        message = action()
    except AuthenticationError as exc:
        session.commit()
        return back(ok_url, error=str(exc))
    except PhaseoneError as exc:
        session.rollback()
        found = tuple(getattr(exc, "problems", ()) or (Problem("", str(exc)),))
        shown = {k: v for k, v in fields.items() if k not in NOT_DATA and "password" not in k}
        return show_again(Failed(form, shown, found), status_of(exc))
    return back(ok_url, ok=message) if done is None else done(message)
