"""The pages of the same service as a signed-in browser would use them (forms, cookies,
CSRF tokens), beside the API client of service_fixtures."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from phaseone.protocol import resolve_protocol
from phaseone.web.pages import create_site
from phaseone.workflow import Trial
from tests.web.service_fixtures import PASSWORD, Service

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ALERT = re.compile(r'<div class="flash error" role="alert">(.*?)</div>', re.S)
_FIELD = re.compile(r"<li>(?:<strong>([^<]*)</strong>: )?")


@dataclass
class Pages:
    app: Any
    clients: dict[str, TestClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str) -> TestClient:
        if who not in self.clients:
            client = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
            done = client.post("/login", data={"username": who, "password": PASSWORD})
            assert done.status_code == 303 and "error" not in done.headers["location"], who
            page = client.get("/")
            found = _CSRF.search(page.text)
            assert found, page.text[:500]
            self.clients[who], self.tokens[who] = client, found.group(1)
        return self.clients[who]

    def post(self, who: str, path: str, fields: dict[str, Any]) -> Any:
        client = self.as_(who)
        return client.post(path, data={"csrf_token": self.tokens[who], **fields})

    def get(self, who: str, path: str) -> Any:
        return self.as_(who).get(path)


def refused_fields(page_html: str) -> set[str]:
    """The field names a refused form lists (the empty name for a problem of the form)."""
    alert = _ALERT.search(page_html)
    assert alert, "the refused form lists no problems"
    return {html.unescape(m.group(1) or "") for m in _FIELD.finditer(alert.group(1))}


@pytest.fixture
def pages(service: Service) -> Iterator[Pages]:
    trial = Trial.from_protocol(resolve_protocol("nant-2011-04"))
    app = create_site(service.db, trial, policy=service.policy, clock=service.clock)
    found = Pages(app)
    yield found
    for client in found.clients.values():
        client.close()
