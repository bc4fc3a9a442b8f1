"""Issued client keys, on a real SQLite file and a real PostgreSQL server: the secret shown
once and never kept."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from service.storage.database import Database
from service.storage.keys import KeyStore


def run(coro):
    return asyncio.run(coro)


async def opened(backend) -> tuple[Database, KeyStore]:
    db = backend.open()
    await db.migrate()
    return db, KeyStore(db)


def test_a_key_is_found_by_its_secret_and_only_its_hash_is_kept(backend):
    async def scenario():
        db, keys = await opened(backend)
        key, secret = await keys.create("ci", {"rpm": 10, "models": ["gpt-5"], "tpm": None})
        found = await keys.find(SecretStr(secret))
        wrong = await keys.find(SecretStr(secret + "x"))
        await db.close()
        return key, secret, found, wrong

    key, secret, found, wrong = run(scenario())
    assert secret.startswith("sk-p2o-") and len(secret) > 40
    assert found == key and wrong is None
    assert key.limits == {"rpm": 10, "models": ["gpt-5"]}
    record = key.record()
    assert record["prefix"] == secret[:10] and record["tpm"] is None
    assert secret not in repr(record)
    on_disk = backend.on_disk()
    assert secret.encode() not in on_disk and secret[10:].encode() not in on_disk


def test_keys_are_listed_changed_disabled_and_deleted(backend):
    async def scenario():
        db, keys = await opened(backend)
        first, _ = await keys.create("a", {})
        second, secret = await keys.create("b", {"rpm": 5})
        listed = [k.name for k in await keys.list()]
        changed = await keys.update(second.id, {"name": "b2", "rpm": None, "tpm": 100})
        disabled = await keys.update(second.id, {"disabled": True})
        found = await keys.find(SecretStr(secret))
        gone = await keys.delete(first.id), await keys.get(first.id), await keys.delete(first.id)
        missing = await keys.update("key_nope", {"name": "x"})
        await db.close()
        return listed, changed, disabled, found, gone, missing

    listed, changed, disabled, found, gone, missing = run(scenario())
    assert sorted(listed) == ["a", "b"]  # oldest first, to the second
    assert changed.name == "b2" and changed.limits == {"tpm": 100}
    assert disabled.disabled and not disabled.usable(0)
    assert found.disabled  # a disabled key is still found: the caller says why it is refused
    assert gone == (True, None, False)
    assert missing is None


def test_an_expired_key_is_not_usable():
    from service.access.client_key import ClientKey

    key = ClientKey("key_1", "k", "sk-p2o-abc", created_at=0, expires_at=100)
    assert key.usable(99) and not key.usable(100)


def test_a_key_may_expire_as_late_as_the_admin_api_allows(backend):
    async def scenario():
        db, keys = await opened(backend)
        key, secret = await keys.create("far", {}, expires_at=32503680000)  # the year 3000
        found = await keys.find(SecretStr(secret))
        await db.close()
        return key, found

    key, found = run(scenario())
    assert found == key and found.expires_at == 32503680000
