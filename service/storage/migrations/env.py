"""Alembic's environment: migrations run on the connection the service hands over
(service/storage/database.py), never on one of their own."""

from __future__ import annotations

from alembic import context

from service.storage.tables import metadata

connection = context.config.attributes["connection"]
# One transaction for the whole upgrade (SQLite can roll DDL back: database.py begins it).
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
