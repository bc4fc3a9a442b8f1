"""The database's tables, as SQLAlchemy Core describes them (the migrations create them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# The newest migration (service/storage/migrations/versions): a schema at this revision needs
# no migrating, and start-up spares importing Alembic. A unit test keeps the two in step.
SCHEMA_REVISION = "0004"

# Responses API answers kept for GET /v1/responses/{id} and previous_response_id.
stored_responses = Table(
    "stored_responses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),  # keyed hash of the caller's key
    Column("previous_id", String(64)),
    Column("created_at", BigInteger, nullable=False),  # epoch seconds
    Column("expires_at", BigInteger, nullable=False),
    Column("input_items", Text, nullable=False),  # JSON list, as input_items.list shows them
    Column("response", Text, nullable=False),  # JSON: the Response object
    Column("size", Integer, nullable=False),  # bytes of the two JSON texts
    Index("ix_stored_responses_expires_at", "expires_at"),
    Index("ix_stored_responses_created_at", "created_at"),
)

# Client keys the service issued (AUTH_MODE=keys): only a hash of each secret is kept.
client_keys = Table(
    "client_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),  # the secret's start, to recognise it
    Column("secret_hash", String(64), nullable=False, unique=True),  # SHA-256, hex
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("limits", Text, nullable=False),  # JSON: models, rpm, tpm, max_concurrent, ...
)

# The output items of stored responses, by id, for `item_reference` input items (the AI SDK
# refers to the reasoning and message of its previous step this way).
stored_items = Table(
    "stored_items",
    metadata,
    Column("owner", String(64), primary_key=True),
    Column("id", String(80), primary_key=True),
    Column("response_id", String(64), nullable=False, index=True),
    Column("item", Text, nullable=False),  # JSON
)

# Secrets the service makes for itself (hex), where several instances must agree on them: with
# DATABASE_URL, the one under which stored responses record their owner (service/storage/
# shared_secret.py). On SQLite that secret stays the file CONFIG_DIR/.responses.secret.
service_secrets = Table(
    "service_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)
