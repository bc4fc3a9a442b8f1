"""The service's own database, on SQLAlchemy 2 (async): an SQLite file in CONFIG_DIR, or
PostgreSQL (DATABASE_URL) shared by several instances.

The schema is Alembic's (service/storage/migrations), brought up to date at start by every
worker, one at a time, so workers starting together never race on it: under a file lock on
SQLite, under a PostgreSQL advisory lock (held by the migration's transaction) across instances.
Alembic (~0.6 s to import) is loaded only when the schema is behind. SQLite runs in WAL mode
with a busy timeout, so several workers write to one file without "database is locked".
PostgreSQL connections have connect and statement timeouts, so a server that is down is an
error within seconds (a 503 for the request), never a hang, and are checked before use, so a
restarted server is reconnected to.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.storage.tables import SCHEMA_REVISION

log = logging.getLogger("poe2openai.database")

MIGRATIONS = Path(__file__).with_name("migrations")

# PostgreSQL: the advisory lock every instance's migration takes (any constant of our own).
_MIGRATION_LOCK = 0x706F6532_6F616931  # "poe2oai1"
CONNECT_TIMEOUT = 5.0  # seconds to connect (a server that is down)
COMMAND_TIMEOUT = 30.0  # seconds for one statement (a server that stopped answering)


class Database:
    def __init__(self, engine: AsyncEngine, lock_path: Path | None = None) -> None:
        self.engine = engine
        self._lock_path = lock_path

    @property
    def shared(self) -> bool:
        """Shared by several instances (PostgreSQL), rather than one file on one machine."""
        return self.engine.dialect.name == "postgresql"

    @classmethod
    def sqlite(cls, path: Path) -> Database:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return cls(engine, path.with_name(f".{path.name}.lock"))

    @classmethod
    def postgres(cls, url: str) -> Database:
        """`url`: postgresql+asyncpg://… (settings.py maps the other spellings to it)."""
        parsed = make_url(url)
        if "sslmode" in parsed.query:  # libpq's name; asyncpg calls it ssl
            query = dict(parsed.query)
            query["ssl"] = query.pop("sslmode")
            parsed = parsed.set(query=query)
        engine = create_async_engine(
            parsed,
            pool_size=5,  # per worker: requests hold a connection for one short query
            max_overflow=10,
            pool_timeout=10,
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": COMMAND_TIMEOUT},
        )
        return cls(engine)

    async def migrate(self) -> None:
        """Bring the schema up to date (a no-op when it is)."""
        if await self.revision() == SCHEMA_REVISION:
            return
        lock = None if self.shared else await asyncio.to_thread(_locked, self._lock_path)
        try:
            async with self.engine.begin() as connection:
                if self.shared:  # released when this transaction ends
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                if await connection.run_sync(_revision) == SCHEMA_REVISION:
                    return  # another worker was first
                await connection.run_sync(_upgrade)
        finally:
            if lock is not None:
                lock.close()
        log.info("database schema brought up to revision %s", SCHEMA_REVISION)

    async def revision(self) -> str | None:
        """The schema's Alembic revision (None before the first migration)."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_revision)

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # The driver would begin a transaction only before a write, never before DDL: with its
    # own BEGIN off and ours on every transaction (SQLAlchemy's recipe for SQLite), a
    # migration is all or nothing, even when the process dies in the middle of it.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    # Turning a new file to WAL needs it alone, and SQLite may answer "locked" at once rather
    # than wait while other workers open it too (seen with four at once): tried again briefly.
    # This runs in the driver's thread, never on the event loop.
    for attempt in range(50):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash, with WAL
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _locked(path: Path) -> Any:
    handle = open(path, "a")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _revision(connection: Connection) -> str | None:
    # Asked first rather than failing on a missing table: on PostgreSQL a failed statement
    # would abort the migration's transaction.
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
