"""The repositories on the service's database, opened together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from service.settings import Settings
from service.storage.atomic import local_secret
from service.storage.database import Database
from service.storage.keys import KeyStore
from service.storage.responses import ResponseStore, sweep_forever

__all__ = ["Stores", "open_stores", "sweep_forever"]


@dataclass(frozen=True, slots=True)
class Stores:
    db: Database
    responses: ResponseStore
    keys: KeyStore

    async def close(self) -> None:
        await self.db.close()


async def open_stores(settings: Settings) -> Stores:
    """The database in CONFIG_DIR, its schema up to date."""
    config_dir = settings.config_dir
    db = Database.sqlite(config_dir / "poe2openai.db")
    await db.migrate()
    secret = await asyncio.to_thread(local_secret, config_dir / ".responses.secret")
    responses = ResponseStore(db, secret, settings.responses_ttl, settings.responses_max_bytes)
    return Stores(db, responses, KeyStore(db))
