"""A secret the service makes for itself once and every instance on the database then shares
(DATABASE_URL): whichever instance comes first makes it, the others read theirs back."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from service.storage.database import Database
from service.storage.tables import service_secrets as table

_SECRET_BYTES = 32


async def shared_secret(db: Database, name: str) -> bytes:
    """32 random bytes kept in the database under `name`."""
    fresh = secrets.token_bytes(_SECRET_BYTES).hex()
    async with db.engine.begin() as connection:
        # Insert-if-absent, then read: two instances starting together both end with the
        # first one's secret, without a lock or a retry.
        await connection.execute(
            insert(table).values(name=name, value=fresh).on_conflict_do_nothing()
        )
        value = (
            await connection.execute(select(table.c.value).where(table.c.name == name))
        ).scalar_one()
    return bytes.fromhex(value)
