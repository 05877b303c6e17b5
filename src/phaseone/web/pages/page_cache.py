"""Pages kept once rendered: a page opened again with nothing changed is not built again.

A page is a function of the committed data, the day, the address and who views it. The
committed data is versioned by `audit.committed_version` (PostgreSQL's snapshot, or the
audit trail's head on SQLite), which moves with every committed change anywhere and never
comes back. The viewer is their login session (its CSRF token is in the page's forms) and
their account's name, role and site. A page is kept under all of these and
served again only while every one is unchanged; the version is read before the data, so a
kept page is never older than the version it is kept under.

Only a plain view is kept: a GET with no query string (no message after a step, no other
page of a list) answered 200. Each process keeps a few pages, the least recently used
going first; the per-session key means one viewer's page is never served to another.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from phaseone.store import audit
from phaseone.web.pages.session import PageUser

KEPT_PAGES = 64
KEPT_BYTES = 32 * 1024 * 1024

_kept: OrderedDict[tuple[Any, ...], tuple[object, bytes]] = OrderedDict()
_kept_bytes = 0
_lock = threading.Lock()  # request threads share the pages kept


def key_of(request: Request, viewer: PageUser, today: dt.date) -> tuple[Any, ...] | None:
    """What the page about to be rendered depends on, or None if it is not to be kept."""
    if request.method != "GET" or request.url.query or KEPT_PAGES <= 0:
        return None
    version = audit.committed_version(viewer.scope.session)
    if version is None:
        return None
    user, login = viewer.user, viewer.login
    return (
        request.url.path,
        version,
        today,
        login.id,
        login.csrf_token,
        user.id,
        user.role,
        user.site_id,
        user.full_name,
    )


def served(request: Request, key: tuple[Any, ...] | None, build: Callable[[], Any]) -> Any:
    """The page kept under `key`, else `build()` (kept if it is a plain 200 page)."""
    global _kept_bytes
    engine = request.app.state.db.engine  # pages of one database only
    if key is not None:
        with _lock:
            found = _kept.get(key)
            if found is not None and found[0] is engine:
                _kept.move_to_end(key)
                return HTMLResponse(found[1])
    response = build()
    if key is None or not isinstance(response, HTMLResponse) or response.status_code != 200:
        return response
    body = bytes(response.body)
    with _lock:
        old = _kept.pop(key, None)
        _kept_bytes -= len(old[1]) if old else 0
        _kept[key] = (engine, body)
        _kept_bytes += len(body)
        while _kept and (len(_kept) > KEPT_PAGES or _kept_bytes > KEPT_BYTES):
            _kept_bytes -= len(_kept.popitem(last=False)[1][1])
    return response
