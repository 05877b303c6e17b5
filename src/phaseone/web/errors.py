"""Errors as JSON: `{"errors": [{"path": ..., "message": ...}]}` with a fitting status code.

Messages never echo submitted values, and unexpected errors are logged by type only, so no
log line holds data that some role may not see.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from phaseone.errors import InputError, NotFoundError, PhaseoneError
from phaseone.store.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDenied,
    ThrottledError,
)

log = logging.getLogger("phaseone.web")

# First match wins: a subclass comes before its base.
STATUS = {
    ThrottledError: 429,
    InputError: 422,
    NotFoundError: 404,
    PermissionDenied: 403,
    AuthenticationError: 401,
    ConflictError: 409,
}


class CsrfError(PermissionDenied):
    """A cookie-authenticated change without the session's CSRF token."""


def problem_response(
    status: int, problems: list[tuple[str, str]], headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"path": path, "message": message} for path, message in problems]}
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, headers=headers)


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [(_path(tuple(err.get("loc", ()))), str(err.get("msg", ""))) for err in exc.errors()]
    return problem_response(422, problems)


async def _phaseone(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PhaseoneError)
    if isinstance(exc, InputError):
        # A problem in an uploaded file also names its file and line.
        errors = [
            {
                "path": p.path,
                "message": p.message,
                **({"file": p.file} if p.file is not None else {}),
                **({"line": p.line} if p.line is not None else {}),
            }
            for p in exc.problems
        ]
        return JSONResponse({"errors": errors}, status_code=422)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ThrottledError) else None
    return problem_response(status, [("", str(exc))], headers)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem_response(exc.status_code, [("", str(exc.detail))])


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    route = request.scope.get("route")
    where = getattr(route, "path", "?")
    log.error("internal error %s in %s %s", type(exc).__name__, request.method, where)
    return problem_response(500, [("", "internal error; nothing was saved")])


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database could not be reached or dropped the connection (a restart, a failover):
    503, and the client may retry. A change whose commit was under way may or may not have
    been saved, so the message does not promise either."""
    route = request.scope.get("route")
    log.warning(
        "database unavailable (%s) in %s %s",
        type(exc).__name__,
        request.method,
        getattr(route, "path", "?"),
    )
    return problem_response(
        503, [("", "the database is unavailable; try again shortly")], {"Retry-After": "1"}
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(PhaseoneError, _phaseone)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
