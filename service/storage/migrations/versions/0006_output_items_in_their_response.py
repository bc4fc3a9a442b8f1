"""Output items are found in their stored response (their ids name it): no table of items.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An item_reference to an item of a response kept before this revision is no longer found
    # (its id does not name its response); the responses themselves are all kept.
    op.drop_table("stored_items")


def downgrade() -> None:
    op.create_table(
        "stored_items",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("response_id", sa.String(64), nullable=False),
        sa.Column("item", sa.Text, nullable=False),
    )
    op.create_index("ix_stored_items_response_id", "stored_items", ["response_id"])
