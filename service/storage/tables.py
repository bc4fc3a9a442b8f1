"""The database's tables, as SQLAlchemy Core describes them (the migrations create them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

# The newest migration (service/storage/migrations/versions): a schema at this revision needs
# no migrating, and start-up spares importing Alembic. A unit test keeps the two in step.
SCHEMA_REVISION = "0006"

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

# One record per request of an issued key (service/storage/usage.py), written in batches.
usage_records = Table(
    "usage_records",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", BigInteger, nullable=False),  # when the request started, epoch milliseconds
    Column("key_id", String(40)),
    Column("poe_account", String(16)),  # which server-held Poe key served it (a keyed hash)
    Column("front", String(16), nullable=False),  # chat, responses, messages, images
    Column("model", String(200)),  # as asked for
    Column("bot", String(200)),  # as resolved
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("ttft_ms", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(40), nullable=False),  # ok, client_disconnected, an error code
    Column("points", Float),  # Poe points: estimated, then Poe's own figure once matched
    Column("points_exact", Boolean, nullable=False, server_default=false()),
    Index("ix_usage_records_at", "at"),
    Index("ix_usage_records_key_id_at", "key_id", "at"),
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
