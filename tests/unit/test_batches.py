"""Rows written in batches (service/storage/batches.py), on a real SQLite file and a real
PostgreSQL server (the `backend` fixture, tests/conftest.py)."""

from __future__ import annotations

import asyncio
import time

from service.storage.batches import BatchWriter
from service.storage.database import Database
from service.storage.tables import usage_records as usage


def item(n: int) -> tuple:
    """A usage record, numbered (its id is the number)."""
    fields = ("key_id", "poe_account", "model", "bot", "points")
    row = {"id": n, "at": 0, "front": "chat", **dict.fromkeys(fields)}
    row |= {"input_tokens": 1, "output_tokens": 1, "ttft_ms": 1, "duration_ms": 1, "outcome": "ok"}
    return (usage, row)


async def rows_in(backend) -> set[int]:
    """What another connection (another worker) finds written."""
    db = backend.open()
    async with db.engine.connect() as connection:
        found = {row[0] for row in await connection.exec_driver_sql("SELECT id FROM usage_records")}
    await db.close()
    return found


async def opened(backend) -> tuple[Database, list[int]]:
    db = backend.open()
    await db.migrate()
    return db, []


def counted(writer: BatchWriter, transactions: list[int]) -> BatchWriter:
    """The writer, with each transaction it commits counted."""
    commit = writer._commit

    async def counting(connection, rows):
        await commit(connection, rows)
        transactions.append(len(rows))

    writer._commit = counting  # type: ignore[method-assign]
    return writer


def test_writers_at_the_same_time_share_a_transaction_and_find_their_rows_kept(backend):

    async def scenario():
        db, commits = await opened(backend)
        writer = counted(BatchWriter(db), commits)
        await asyncio.gather(*(writer.write([item(n)]) for n in range(20)))
        seen = await rows_in(backend)  # another connection: what write() returned for is committed
        await db.close()
        return seen, len(commits)

    seen, transactions = asyncio.run(scenario())
    assert seen == set(range(20))
    assert transactions <= 3  # the first write alone, the other 19 together (one or two)


def test_a_bad_row_fails_only_its_own_writer(backend):

    async def scenario():
        db, _ = await opened(backend)
        writer = BatchWriter(db)
        await writer.write([item(0)])
        results = await asyncio.gather(
            writer.write([item(1)]),
            writer.write([item(0)]),  # the same id again
            writer.write([item(2)]),
            return_exceptions=True,
        )
        await writer.flush()
        await db.close()
        return results

    first, duplicate, last = asyncio.run(scenario())
    assert first is None and last is None
    assert isinstance(duplicate, Exception)
    assert asyncio.run(rows_in(backend)) == {0, 1, 2}


def test_rows_nobody_waits_for_share_a_transaction_within_the_delay(backend):

    async def scenario():
        db, commits = await opened(backend)
        writer = counted(BatchWriter(db, delay=0.3), commits)
        started = time.monotonic()
        for n in range(50):
            assert writer.add([item(n)])
        await asyncio.sleep(0.1)
        early = await rows_in(backend)
        while len(await rows_in(backend)) < 50 and time.monotonic() - started < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await writer.flush()
        await db.close()
        return early, await rows_in(backend), len(commits)

    early, later, transactions = asyncio.run(scenario())
    assert early == set()  # still waiting for more to share the transaction
    assert len(later) == 50 and transactions == 1


def test_flush_writes_the_waiting_rows_at_once(backend):

    async def scenario():
        db, _ = await opened(backend)
        writer = BatchWriter(db, delay=60)
        writer.add([item(1), item(2)])
        started = time.monotonic()
        await writer.flush()
        took = time.monotonic() - started
        await db.close()
        return took

    assert asyncio.run(scenario()) < 5
    assert asyncio.run(rows_in(backend)) == {1, 2}


def test_beyond_max_rows_pending_new_rows_are_dropped_and_counted(backend):

    async def scenario():
        db, _ = await opened(backend)
        writer = BatchWriter(db, delay=60, max_rows=10)
        taken = [writer.add([item(n)]) for n in range(15)]
        await writer.flush()
        await db.close()
        return taken, writer.dropped

    taken, dropped = asyncio.run(scenario())
    assert taken == [True] * 10 + [False] * 5 and dropped == 5
    assert asyncio.run(rows_in(backend)) == set(range(10))
