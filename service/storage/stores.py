"""The repositories on the service's database, opened together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from service.settings import Settings
from service.storage.atomic import local_secret
from service.storage.database import Database
from service.storage.keys import KeyStore
from service.storage.responses import ResponseStore, sweep_forever
from service.storage.shared_secret import shared_secret
from service.storage.usage import UsageStore


@dataclass(slots=True)
class Stores:
    db: Database
    responses: ResponseStore
    keys: KeyStore
    usage: UsageStore
    # Expired stored responses are removed in the background; a task of our own rather than
    # Sanic's add_task, whose shutdown would wait for it (a second per stop, measured).
    _sweeper: asyncio.Task[None] | None = None

    def start_sweeping(self, interval: float) -> None:
        self._sweeper = asyncio.ensure_future(sweep_forever(self.responses, interval))

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            # Its connection goes back to the pool before the pool closes, or the driver's
            # thread would answer into a closed loop.
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.usage.flush()  # the records of the last second
        await self.db.close()


async def open_stores(settings: Settings) -> Stores:
    """The database (DATABASE_URL, else an SQLite file in CONFIG_DIR), its schema up to date."""
    config_dir = settings.config_dir
    if settings.database_url is not None:
        db = Database.postgres(settings.database_url.get_secret_value())
    else:
        db = Database.sqlite(config_dir / "poe2openai.db")
    try:
        await db.migrate()
        # The owner of a stored response is an HMAC of its key under this secret: instances
        # sharing a database must share it too, or each would find only its own responses.
        if db.shared:
            secret = await shared_secret(db, "responses")
        else:
            secret = await asyncio.to_thread(local_secret, config_dir / ".responses.secret")
    except BaseException:
        await db.close()  # the next request tries again with a new one
        raise
    responses = ResponseStore(db, secret, settings.responses_ttl, settings.responses_max_bytes)
    return Stores(db, responses, KeyStore(db), UsageStore(db))
