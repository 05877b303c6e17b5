"""What every response carries and what the log never does: security headers, no caching
of patient data, and errors logged by type only (no traceback, no submitted value)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phaseone.web.errors import problem_response

log = logging.getLogger("phaseone.web")
access = logging.getLogger("phaseone.web.access")

# Scripts and styles come from /static only: no inline script, no other origin, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The interactive API documentation (no patient data) is the one page whose generated HTML
# has an inline script and loads Swagger UI from its CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS_MAX_AGE = 31_536_000  # one year, as the HSTS preload list asks


@dataclass(frozen=True)
class WebSettings:
    """How the service meets the network. `hsts`: "auto" sends Strict-Transport-Security
    when the request came over HTTPS (directly, or through a trusted proxy's
    X-Forwarded-Proto), "always" on every response, "off" never."""

    max_body_bytes: int = 1_048_576
    hsts: Literal["auto", "always", "off"] = "auto"
    docs_path: str = "/api/v1/docs"


def _too_large(limit: int) -> str:
    return f"request body too large: at most {limit} bytes are accepted"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class Hardening:
    """ASGI middleware: headers on every response; request bodies over the limit refused
    with 413 (by their declared length before anything runs, else as they stream in);
    unexpected errors answered as a 500 without the traceback reaching the server's log."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path == self.settings.docs_path else CSP
        headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if not path.startswith("/static/"):
            # Pages and API answers may hold patient data: never kept by a browser or proxy.
            headers.append((b"cache-control", b"no-store"))
        secure = scope.get("scheme") == "https"
        if self.settings.hsts == "always" or (self.settings.hsts == "auto" and secure):
            headers.append((b"strict-transport-security", f"max-age={HSTS_MAX_AGE}".encode()))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._headers(scope)
        names = {name for name, _ in added}
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + added
            await send(message)

        limit = self.settings.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await problem_response(413, [("", _too_large(limit))])(
                scope, receive, send_with_headers
            )
            access.info("%s %s 413", scope["method"], scope.get("path", ""))
            return
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        try:
            await self.app(scope, receive_limited, send_with_headers)
        except Exception as exc:
            route = scope.get("route")
            where = getattr(route, "path", "?")
            log.error("internal error %s in %s %s", type(exc).__name__, scope["method"], where)
            if status:
                return  # the answer had begun; the client sees it cut short
            response = problem_response(500, [("", "internal error; nothing was saved")])
            await response(scope, receive, send_with_headers)
        finally:
            # The path only: a query string may hold values (lab values, messages).
            access.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope.get("path", ""),
                status,
                (time.perf_counter() - started) * 1000,
            )
