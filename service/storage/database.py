"""The service's own database, on SQLAlchemy 2 (async): an SQLite file in CONFIG_DIR.

The schema is Alembic's (service/storage/migrations), brought up to date at start by every
worker under one file lock, so workers starting together never race on it; Alembic (~0.6 s to
import) is loaded only when the schema is behind. SQLite runs in WAL mode with a busy timeout,
so several workers write to one file without "database is locked".
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.storage.tables import SCHEMA_REVISION

log = logging.getLogger("poe2openai.database")

MIGRATIONS = Path(__file__).with_name("migrations")


class Database:
    def __init__(self, engine: AsyncEngine, lock_path: Path) -> None:
        self.engine = engine
        self._lock_path = lock_path

    @classmethod
    def sqlite(cls, path: Path) -> Database:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return cls(engine, path.with_name(f".{path.name}.lock"))

    async def migrate(self) -> None:
        """Bring the schema up to date (a no-op when it is)."""
        if await self.revision() == SCHEMA_REVISION:
            return
        lock = await asyncio.to_thread(_locked, self._lock_path)
        try:
            if await self.revision() == SCHEMA_REVISION:  # another worker was first
                return
            async with self.engine.begin() as connection:
                await connection.run_sync(_upgrade)
        finally:
            lock.close()
        log.info("database schema brought up to revision %s", SCHEMA_REVISION)

    async def revision(self) -> str | None:
        """The schema's Alembic revision (None before the first migration)."""
        try:
            async with self.engine.connect() as connection:
                found = await connection.execute(text("SELECT version_num FROM alembic_version"))
                return found.scalar()
        except (OperationalError, ProgrammingError):  # no such table yet
            return None

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # The driver would begin a transaction only before a write, never before DDL: with its
    # own BEGIN off and ours on every transaction (SQLAlchemy's recipe for SQLite), a
    # migration is all or nothing, even when the process dies in the middle of it.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash, with WAL
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _locked(path: Path) -> Any:
    handle = open(path, "a")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
