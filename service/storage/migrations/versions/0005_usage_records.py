"""Usage records: one per request of an issued key (AUTH_MODE=keys).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),  # SQLite: the rowid
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(40)),
        sa.Column("poe_account", sa.String(16)),
        sa.Column("front", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("bot", sa.String(200)),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("ttft_ms", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("points", sa.Float),
        sa.Column("points_exact", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_usage_records_at", "usage_records", ["at"])
    op.create_index("ix_usage_records_key_id_at", "usage_records", ["key_id", "at"])


def downgrade() -> None:
    op.drop_table("usage_records")
