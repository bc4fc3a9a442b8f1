"""Secrets the service makes for itself, shared by its instances; epoch seconds in 64 bits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# INTEGER is 64 bits on SQLite already; on PostgreSQL it is 32, which ends in 2038 and refuses a
# key's expires_at the admin API allows (up to the year 3000).
_EPOCH_COLUMNS = {
    "stored_responses": ("created_at", "expires_at"),
    "client_keys": ("created_at", "expires_at"),
}


def upgrade() -> None:
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),  # hex
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in _EPOCH_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.BigInteger, existing_type=sa.Integer)


def downgrade() -> None:
    op.drop_table("service_secrets")
