"""The database's tables, as SQLAlchemy Core describes them (the migrations create them)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# The newest migration (service/storage/migrations/versions): a schema at this revision needs
# no migrating, and start-up spares importing Alembic. A unit test keeps the two in step.
SCHEMA_REVISION = "0001"

# Responses API answers kept for GET /v1/responses/{id} and previous_response_id.
stored_responses = Table(
    "stored_responses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),  # keyed hash of the caller's key
    Column("previous_id", String(64)),
    Column("created_at", Integer, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("input_items", Text, nullable=False),  # JSON list, as input_items.list shows them
    Column("response", Text, nullable=False),  # JSON: the Response object
    Column("size", Integer, nullable=False),  # bytes of the two JSON texts
    Index("ix_stored_responses_expires_at", "expires_at"),
    Index("ix_stored_responses_created_at", "created_at"),
)
