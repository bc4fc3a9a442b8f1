"""The output items of stored responses, by id (item_reference).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_items",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("response_id", sa.String(64), nullable=False),
        sa.Column("item", sa.Text, nullable=False),
    )
    op.create_index("ix_stored_items_response_id", "stored_items", ["response_id"])


def downgrade() -> None:
    op.drop_table("stored_items")
