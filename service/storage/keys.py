"""Client keys the service issues (AUTH_MODE=keys): `sk-p2o-…` secrets shown once, at creation,
and kept only as a SHA-256 hash (a key is 32 random bytes: a fast hash is enough, and lets a
request find its key with one indexed lookup). Every request reads its key afresh, so a key
disabled or deleted on one worker is refused by all of them at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from sqlalchemy import delete, select, update

from service.storage.database import Database
from service.storage.tables import client_keys as table

SECRET_PREFIX = "sk-p2o-"
SHOWN_PREFIX = 10  # characters of the secret the records show, to recognise a key
LIMITS = ("models", "rpm", "tpm", "max_concurrent", "daily_tokens", "monthly_points")


@dataclass(frozen=True, slots=True)
class ClientKey:
    id: str
    name: str
    prefix: str
    created_at: int
    expires_at: int | None = None
    disabled: bool = False
    limits: dict[str, Any] = field(default_factory=dict)

    def usable(self, now: float) -> bool:
        return not self.disabled and (self.expires_at is None or now < self.expires_at)

    def record(self) -> dict[str, Any]:
        """As the admin API shows it: never the secret."""
        return {
            "id": self.id,
            "object": "key",
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "disabled": self.disabled,
            **{limit: self.limits.get(limit) for limit in LIMITS},
        }


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, name: str, limits: dict[str, Any], expires_at: int | None = None
    ) -> tuple[ClientKey, str]:
        """A new key and its secret (the only time the secret exists outside the client)."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        key = ClientKey(
            id="key_" + secrets.token_hex(8),
            name=name,
            prefix=secret[:SHOWN_PREFIX],
            created_at=int(time.time()),
            expires_at=expires_at,
            limits=_limits(limits),
        )
        async with self._db.engine.begin() as connection:
            await connection.execute(
                table.insert().values(
                    id=key.id,
                    name=key.name,
                    prefix=key.prefix,
                    secret_hash=secret_hash(secret),
                    created_at=key.created_at,
                    expires_at=key.expires_at,
                    disabled=False,
                    limits=json.dumps(key.limits),
                )
            )
        return key, secret

    async def list(self) -> list[ClientKey]:
        async with self._db.engine.connect() as connection:
            rows = await connection.execute(select(table).order_by(table.c.created_at, table.c.id))
            return [_key(row) for row in rows]

    async def get(self, key_id: str) -> ClientKey | None:
        return await self._one(table.c.id == key_id)

    async def find(self, secret: SecretStr) -> ClientKey | None:
        """The key a client presented, usable or not."""
        return await self._one(table.c.secret_hash == secret_hash(secret.get_secret_value()))

    async def update(self, key_id: str, changes: dict[str, Any]) -> ClientKey | None:
        """Changes any of name, disabled, expires_at and the limits (None clears a limit)."""
        async with self._db.engine.begin() as connection:
            row = (await connection.execute(select(table).where(table.c.id == key_id))).first()
            if row is None:
                return None
            key = _key(row)
            values: dict[str, Any] = {
                column: changes[column]
                for column in ("name", "disabled", "expires_at")
                if column in changes
            }
            limits = {**key.limits, **{k: v for k, v in changes.items() if k in LIMITS}}
            values["limits"] = json.dumps(_limits(limits))
            await connection.execute(update(table).where(table.c.id == key_id).values(**values))
            row = (await connection.execute(select(table).where(table.c.id == key_id))).first()
        return _key(row)

    async def delete(self, key_id: str) -> bool:
        async with self._db.engine.begin() as connection:
            result = await connection.execute(delete(table).where(table.c.id == key_id))
        return result.rowcount > 0

    async def _one(self, where: Any) -> ClientKey | None:
        async with self._db.engine.connect() as connection:
            row = (await connection.execute(select(table).where(where))).first()
        return None if row is None else _key(row)


def _limits(limits: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in limits.items() if k in LIMITS and v is not None}


def _key(row: Any) -> ClientKey:
    return ClientKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        disabled=bool(row.disabled),
        limits=json.loads(row.limits),
    )
