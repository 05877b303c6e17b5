"""The API's routes are gated by address (web/app.py, `_Gated`): a gate turns away only
addresses none of its routes could match, so every operation of the OpenAPI document is
still reached by its own method and path."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from phaseone.store.db import Database
from phaseone.web.app import create_app


def test_every_api_operation_is_reached_by_its_method_and_path(tmp_path: Path) -> None:
    app = create_app(Database(f"sqlite:///{tmp_path / 'unused.sqlite3'}"))
    client = TestClient(app, base_url="https://testserver")
    operations = [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, item in app.openapi()["paths"].items()
        for method in item
    ]
    assert len(operations) > 150
    # Without credentials a reached operation answers 401, or 422 for a bad address or
    # body; only an address no route matched answers 404, or 405 for a method it lacks.
    unreached = [
        (method, path, answer.status_code)
        for method, path in operations
        if (answer := client.request(method, path)).status_code in (404, 405)
    ]
    assert unreached == []
