"""Issued client keys, on a real SQLite file: the secret shown once and never kept."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from service.storage.database import Database
from service.storage.keys import KeyStore


def run(coro):
    return asyncio.run(coro)


async def opened(path) -> tuple[Database, KeyStore]:
    db = Database.sqlite(path)
    await db.migrate()
    return db, KeyStore(db)


def test_a_key_is_found_by_its_secret_and_only_its_hash_is_kept(tmp_path):
    async def scenario():
        db, keys = await opened(tmp_path / "p2o.db")
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
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert secret.encode() not in on_disk and secret[10:].encode() not in on_disk


def test_keys_are_listed_changed_disabled_and_deleted(tmp_path):
    async def scenario():
        db, keys = await opened(tmp_path / "p2o.db")
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
    assert listed == ["a", "b"]
    assert changed.name == "b2" and changed.limits == {"tpm": 100}
    assert disabled.disabled and not disabled.usable(0)
    assert found.disabled  # a disabled key is still found: the caller says why it is refused
    assert gone == (True, None, False)
    assert missing is None


def test_an_expired_key_is_not_usable():
    from service.storage.keys import ClientKey

    key = ClientKey("key_1", "k", "sk-p2o-abc", created_at=0, expires_at=100)
    assert key.usable(99) and not key.usable(100)
