"""Alembic environment: runs on the connection phaseone.store.migrate hands it."""

from __future__ import annotations

from alembic import context

from phaseone.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `phaseone db upgrade` (phaseone.store.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
