"""Usage records (AUTH_MODE=keys): one per request of an issued key, for the admin's usage
figures, a key's own usage (`GET /v1/key`) and its budgets.

Records are written off the response path, in batches of whatever finished within a second
(service/storage/batches.py): a crash loses at most the last second of them, and a database
that is down or slow costs memory only up to a bound (then records are dropped, and logged).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any, Literal

from sqlalchemy import func, select

from service.access.usage import Totals, UsageRecord
from service.storage.batches import BatchWriter
from service.storage.database import Database
from service.storage.tables import client_keys
from service.storage.tables import usage_records as table

FLUSH_DELAY = 1.0  # seconds a record may wait to share a transaction
GroupBy = Literal["key", "model", "day"]
_DAY_MS = 86_400_000


class UsageStore:
    def __init__(self, db: Database, *, delay: float = FLUSH_DELAY, max_pending: int = 10_000):
        self._db = db
        self._writer = BatchWriter(db, delay=delay, max_rows=max_pending)

    def record(self, record: UsageRecord) -> None:
        self._writer.add([(table, asdict(record))])

    async def flush(self) -> None:
        await self._writer.flush()

    async def totals(self, key_id: str, since: int) -> Totals:
        """A key's usage since `since` (epoch ms), as written so far."""
        query = select(
            func.count(),
            func.coalesce(func.sum(table.c.input_tokens), 0),
            func.coalesce(func.sum(table.c.output_tokens), 0),
            func.coalesce(func.sum(table.c.points), 0.0),
        ).where(table.c.key_id == key_id, table.c.at >= since)
        async with self._db.engine.connect() as connection:
            row = (await connection.execute(query)).one()
        return Totals(int(row[0]), int(row[1]), int(row[2]), float(row[3]))

    async def summary(self, group_by: GroupBy, since: int, until: int) -> list[dict[str, Any]]:
        """Requests, tokens and points between `since` and `until` (epoch ms), per key, model
        or UTC day, largest first (days: oldest first)."""
        if group_by == "key":
            columns = [table.c.key_id, client_keys.c.name.label("key_name")]
        elif group_by == "model":
            columns = [table.c.model]
        else:  # floor division: SQLAlchemy renders it for SQLite and PostgreSQL alike
            columns = [(table.c.at // _DAY_MS).label("day")]
        sums = [
            func.count().label("requests"),
            func.coalesce(func.sum(table.c.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(table.c.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(table.c.points), 0.0).label("points"),
        ]
        query = select(*columns, *sums).where(table.c.at >= since, table.c.at < until)
        if group_by == "key":
            query = query.outerjoin(client_keys, client_keys.c.id == table.c.key_id)
        query = query.group_by(*columns)
        query = (
            query.order_by(columns[0])
            if group_by == "day"
            else query.order_by(func.count().desc(), columns[0])
        )
        async with self._db.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_group(dict(row)) for row in rows]


def _group(row: dict[str, Any]) -> dict[str, Any]:
    if "day" in row:
        row["day"] = (dt.date(1970, 1, 1) + dt.timedelta(days=int(row["day"]))).isoformat()
    row["points"] = round(float(row["points"]), 3)
    row["input_tokens"], row["output_tokens"] = int(row["input_tokens"]), int(row["output_tokens"])
    return row
