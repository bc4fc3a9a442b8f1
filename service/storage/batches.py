"""Rows written to the database in batches, one transaction for whatever is pending.

A transaction costs far more than a row (measured on SQLite through SQLAlchemy's async engine:
~2 ms of CPU for one stored response, ~0.3 ms each when eight share a transaction: every step
of a transaction is a hop to the driver's thread). So writes queue here and one task commits
them together:

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

from service.storage.database import Database

log = logging.getLogger("poe2openai.storage")

Rows = Sequence[tuple[Table, dict[str, Any]]]


class BatchWriter:
    def __init__(self, db: Database, *, delay: float = 0.0, max_rows: int = 10_000) -> None:
        self._db = db
        self._delay = delay
        self._max_rows = max_rows
        self._pending: list[tuple[Rows, asyncio.Future[None] | None]] = []
        self._pending_rows = 0
        self._task: asyncio.Task[None] | None = None
        self._urgent = asyncio.Event()
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
        try:
            while self._pending:
                if self._delay and not self._urgent.is_set():
                    try:
                        await asyncio.wait_for(self._urgent.wait(), self._delay)
                    except TimeoutError:
                        pass
                self._urgent.clear()
                batch, self._pending, self._pending_rows = self._pending, [], 0
                await self._commit_batch(batch)
        finally:
            self._task = None

    async def _commit_batch(self, batch: list[tuple[Rows, asyncio.Future[None] | None]]) -> None:
        try:
            await self._commit([row for rows, _ in batch for row in rows])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch, exc)
                return
            for one in batch:  # one bad row must not fail the writers beside it
                await self._commit_batch([one])
        else:
            _settle(batch, None)

    async def _commit(self, rows: list[tuple[Table, dict[str, Any]]]) -> None:
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for table, row in rows:
            by_table.setdefault(table, []).append(row)
        async with self._db.engine.begin() as connection:
            for table, values in by_table.items():  # one executemany per table, in order
                await connection.execute(table.insert(), values)


def _settle(batch: list[tuple[Rows, asyncio.Future[None] | None]], exc: Exception | None) -> None:
    for rows, future in batch:
        if future is None:
            if exc is not None:
                log.warning("%d rows could not be written: %s", len(rows), exc)
        elif not future.done():
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)
