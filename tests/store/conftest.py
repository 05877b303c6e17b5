from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phaseone.store.db import Database
from phaseone.store.testing import SKIP_REASON, temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Each test runs on SQLite and on PostgreSQL (skipped, loudly, without a server URL)."""
    with temporary_database(request.param, tmp_path) as db:
        if db is None:
            pytest.skip(SKIP_REASON)
        yield db
