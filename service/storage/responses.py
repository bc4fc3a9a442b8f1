"""Stored responses of the Responses API: what `store` keeps, for `GET /v1/responses/{id}`,
its input items, and `previous_response_id` (Poe is stateless: a conversation is rebuilt from
here).

A response belongs to the key that made it: rows hold an HMAC of the key under a secret kept in
CONFIG_DIR (in the database with DATABASE_URL, so every instance agrees), never the key, and
another key finds nothing (a 404, as for an unknown id). Rows expire `ttl` seconds after their
last use in a conversation, and the oldest go first once the store is over `max_bytes`. A
conversation is one recursive query however long it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy import delete, func, literal, select, update

from service.storage.batches import BatchWriter
from service.storage.database import Database
from service.storage.tables import stored_responses as table

log = logging.getLogger("poe2openai.responses")

# Turns followed back through previous_response_id; deeper chains are cut (a loop is impossible
# as ids are new for each response, but a bound keeps one query bounded).
MAX_TURNS = 10_000
_SWEEP_BATCH = 200


@dataclass(frozen=True, slots=True)
class ItemPage:
    data: list[dict[str, Any]]
    has_more: bool


async def sweep_forever(store: ResponseStore, interval: float) -> None:
    while True:
        try:
            await store.sweep()
        except Exception as exc:  # a locked or full disk now and then: try again later
            log.warning("stored responses could not be swept: %s", exc)
        await asyncio.sleep(interval)


class ResponseStore:
    def __init__(self, db: Database, secret: bytes, ttl: float, max_bytes: int) -> None:
        self._db = db
        self._secret = secret
        self._ttl = ttl
        self._max_bytes = max_bytes
        # Responses kept at the same time share a transaction (the dear part of keeping one).
        self._writer = BatchWriter(db)

    def owner(self, key: SecretStr) -> str:
        digest = hmac.new(self._secret, key.get_secret_value().encode(), hashlib.sha256)
        return digest.hexdigest()

    async def save(
        self,
        owner: str,
        response: dict[str, Any],
        input_items: list[dict[str, Any]],
        previous_id: str | None = None,
    ) -> bool:
        """Keep a response; False (and a log line) when it alone is over the store's size."""
        response_json = _dumps(response)
        items_json = _dumps(input_items)
        size = len(response_json) + len(items_json)
        if size > self._max_bytes:
            log.warning("a response of %d bytes is larger than RESPONSES_MAX_BYTES: not kept", size)
            return False
        now = int(time.time())
        row = {
            "id": response["id"],
            "owner": owner,
            "previous_id": previous_id,
            "created_at": now,
            "expires_at": now + int(self._ttl),
            "input_items": items_json,
            "response": response_json,
            "size": size,
        }
        await self._writer.write([(table, row)])
        return True

    async def get_many(self, owner: str, response_ids: set[str]) -> dict[str, dict[str, Any]]:
        """This owner's stored responses among `response_ids`, by id (those that exist)."""
        if not response_ids:
            return {}
        now = int(time.time())
        query = select(table.c.id, table.c.response).where(
            table.c.id.in_(sorted(response_ids)), table.c.owner == owner, table.c.expires_at > now
        )
        async with self._db.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.id: json.loads(row.response) for row in rows}

    async def get(self, owner: str, response_id: str) -> dict[str, Any] | None:
        async with self._db.engine.connect() as connection:
            row = (
                await connection.execute(select(table.c.response).where(*_mine(owner, response_id)))
            ).first()
        return None if row is None else json.loads(row.response)

    async def delete(self, owner: str, response_id: str) -> bool:
        async with self._db.engine.begin() as connection:
            result = await connection.execute(delete(table).where(*_mine(owner, response_id)))
        return result.rowcount > 0

    async def input_items(
        self,
        owner: str,
        response_id: str,
        *,
        order: Literal["asc", "desc"] = "desc",
        after: str | None = None,
        limit: int = 20,
    ) -> ItemPage | None:
        """A page of a response's input items, as OpenAI's list pages them (None: no such
        response for this owner)."""
        async with self._db.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(table.c.input_items).where(*_mine(owner, response_id))
                )
            ).first()
        if row is None:
            return None
        items = json.loads(row.input_items)
        if order == "desc":
            items.reverse()
        if after is not None:
            ids = [item.get("id") for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        return ItemPage(items[:limit], len(items) > limit)

    async def continue_from(self, owner: str, response_id: str) -> list[dict[str, Any]] | None:
        """The items of a conversation up to and including a response's output, oldest first,
        for a new turn that follows it; None when it, or a turn before it, is gone (deleted,
        expired, another key's). Continuing a conversation keeps all of it for `ttl` more."""
        now = int(time.time())
        chain = (
            select(table.c.id, table.c.previous_id, literal(0).label("depth"))
            .where(*_mine(owner, response_id, now))
            .cte("chain", recursive=True)
        )
        chain = chain.union_all(
            select(table.c.id, table.c.previous_id, chain.c.depth + 1).where(
                table.c.id == chain.c.previous_id,
                table.c.owner == owner,
                table.c.expires_at > now,
                chain.c.depth < MAX_TURNS,
            )
        )
        query = (
            select(table.c.id, table.c.previous_id, table.c.input_items, table.c.response)
            .join(chain, table.c.id == chain.c.id)
            .order_by(chain.c.depth.desc())
        )
        async with self._db.engine.begin() as connection:
            rows = (await connection.execute(query)).all()
            if not rows or rows[0].previous_id is not None:
                return None  # not found, or the conversation's beginning is gone
            await connection.execute(
                update(table)
                .where(table.c.id.in_([row.id for row in rows]))
                .values(expires_at=now + int(self._ttl))
            )
        items: list[dict[str, Any]] = []
        for row in rows:
            items += json.loads(row.input_items)
            items += json.loads(row.response).get("output") or []
        return items

    async def sweep(self) -> int:
        """Remove expired responses, then the oldest while the store is over its size."""
        now = int(time.time())
        async with self._db.engine.begin() as connection:
            removed = await connection.execute(delete(table).where(table.c.expires_at <= now))
            count = removed.rowcount
            total = (await connection.execute(select(func.sum(table.c.size)))).scalar() or 0
            while total > self._max_bytes:
                oldest = (
                    await connection.execute(
                        select(table.c.id, table.c.size)
                        .order_by(table.c.created_at, table.c.id)
                        .limit(_SWEEP_BATCH)
                    )
                ).all()
                if not oldest:
                    break
                chosen = []
                for row in oldest:
                    if total <= self._max_bytes:
                        break
                    chosen.append(row.id)
                    total -= row.size
                await connection.execute(delete(table).where(table.c.id.in_(chosen)))
                count += len(chosen)
        if count:
            log.info("stored responses: %d removed (expired, or over RESPONSES_MAX_BYTES)", count)
        return count


def _mine(owner: str, response_id: str, now: int | None = None) -> tuple[Any, ...]:
    now = int(time.time()) if now is None else now
    return (table.c.id == response_id, table.c.owner == owner, table.c.expires_at > now)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
