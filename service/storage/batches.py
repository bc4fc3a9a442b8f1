"""Rows written to the database in batches, one transaction for whatever is pending.

A transaction costs far more than a row, so writes queue here and one task commits them
together, on one connection it holds while there is work. Its inserts go to the driver as one
`executemany` per table, in SQL that SQLAlchemy compiles from the table once (in the driver's
own parameter style), inside the driver's own transaction: measured on SQLite, a transaction
through SQLAlchemy's async engine costs ~1.6 ms of CPU (each step is a hop to the driver's
thread, wrapped in SQLAlchemy's result machinery), the same at the driver ~0.2 ms.

- `write()` is for rows a client may ask for at once (a stored response): they go into the
  next transaction, started as soon as the one under way ends (a group commit), and the call
  returns once they are committed, so nothing a client was told is kept can be lost.
- `add()` is for rows nobody waits for (usage records): they wait up to `delay` seconds to
  share a transaction with more, so a crash loses at most the last `delay` seconds of them; at
  `max_rows` pending (the database is down or slow) new ones are dropped and counted, so memory
  stays bounded.

A batch that fails is tried again one writer at a time, so one bad row fails only its own
writer. No task lives between batches: there is nothing to stop at shutdown but `flush()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from service.storage.database import Database

log = logging.getLogger("poe2openai.storage")

Rows = Sequence[tuple[Table, dict[str, Any]]]
Pending = tuple[Rows, "asyncio.Future[None] | None"]  # rows, and who waits for them


class BatchWriter:
    def __init__(self, db: Database, *, delay: float = 0.0, max_rows: int = 10_000) -> None:
        self._db = db
        self._delay = delay
        self._max_rows = max_rows
        self._pending: list[Pending] = []
        self._pending_rows = 0
        self._task: asyncio.Task[None] | None = None
        self._urgent = asyncio.Event()
        self._statements: dict[tuple[Table, tuple[str, ...]], tuple[str, list[str]]] = {}
        self.dropped = 0  # rows added while max_rows were pending

    async def write(self, rows: Rows) -> None:
        """Writes the rows in one of the next transactions; returns once they are committed
        (or raises what the database raised)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, future))
        self._pending_rows += len(rows)
        self._urgent.set()
        self._start()
        await asyncio.shield(future)  # a caller cancelled meanwhile still has its rows kept

    def add(self, rows: Rows) -> bool:
        """Queues rows that nobody waits for; False when they were dropped (too many pending)."""
        if self._pending_rows + len(rows) > self._max_rows:
            self.dropped += len(rows)
            if self.dropped == len(rows) or self.dropped % 1000 < len(rows):
                log.warning("the database is behind: %d rows not written so far", self.dropped)
            return False
        self._pending.append((rows, None))
        self._pending_rows += len(rows)
        self._start()
        return True

    async def flush(self) -> None:
        """Writes what is pending now (at shutdown: the rows that would wait for `delay`)."""
        self._urgent.set()
        while self._task is not None:
            await asyncio.shield(self._task)

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        done: list[tuple[Pending, Exception | None]] = []
        try:
            async with self._db.engine.connect() as connection:
                while self._pending:
                    _settle(done)  # the last batch's writers hear at once: more is to come
                    if self._delay and not self._urgent.is_set():
                        try:
                            await asyncio.wait_for(self._urgent.wait(), self._delay)
                        except TimeoutError:
                            pass
                    self._urgent.clear()
                    batch, self._pending, self._pending_rows = self._pending, [], 0
                    done = await self._commit_batch(connection, batch)
            # The last writers hear once the connection is back in the pool, so a database
            # closed right after their write finds no connection still out.
        except Exception as exc:  # no connection: what waits fails now, later rows try again
            batch, self._pending, self._pending_rows = self._pending, [], 0
            done += [(one, exc) for one in batch]
        finally:
            _settle(done)
            self._task = None
            if self._pending:  # came while the connection was being given back
                self._start()

    async def _commit_batch(
        self, connection: AsyncConnection, batch: list[Pending]
    ) -> list[tuple[Pending, Exception | None]]:
        try:
            await self._commit(connection, [row for rows, _ in batch for row in rows])
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0], exc)]
            done = []
            for one in batch:  # one bad row must not fail the writers beside it
                done += await self._commit_batch(connection, [one])
            return done
        return [(one, None) for one in batch]

    async def _commit(
        self, connection: AsyncConnection, rows: list[tuple[Table, dict[str, Any]]]
    ) -> None:
        statements: dict[str, list[tuple[Any, ...]]] = {}
        for table, row in rows:  # one executemany per table, in order
            sql, order = self._statement(connection, table, row)
            statements.setdefault(sql, []).append(tuple(row[name] for name in order))
        driver = (await connection.get_raw_connection()).driver_connection
        if connection.dialect.name == "sqlite":  # aiosqlite, in autocommit mode (database.py)
            await driver.execute("BEGIN")
            try:
                for sql, values in statements.items():
                    await driver.executemany(sql, values)
                await driver.execute("COMMIT")
            except BaseException:
                await driver.rollback()
                raise
        else:  # asyncpg
            async with driver.transaction():
                for sql, values in statements.items():
                    await driver.executemany(sql, values)

    def _statement(
        self, connection: AsyncConnection, table: Table, row: dict[str, Any]
    ) -> tuple[str, list[str]]:
        shape = (table, tuple(row))
        statement = self._statements.get(shape)
        if statement is None:
            compiled = table.insert().compile(dialect=connection.dialect, column_keys=list(row))
            statement = self._statements[shape] = (str(compiled), list(compiled.positiontup))
        return statement


def _settle(done: list[tuple[Pending, Exception | None]]) -> None:
    for (rows, future), exc in done:
        if future is None:
            if exc is not None:
                log.warning("%d rows could not be written: %s", len(rows), exc)
        elif not future.done():
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)
    done.clear()
