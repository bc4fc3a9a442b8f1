"""The stored responses of the Responses API, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3

from pydantic import SecretStr

from service.storage.database import Database
from service.storage.responses import ResponseStore
from service.storage.tables import SCHEMA_REVISION

SECRET = b"s" * 32


def run(coro):
    return asyncio.run(coro)


def response(rid: str, text: str) -> dict:
    item = {"id": "msg_" + rid, "type": "message", "role": "assistant", "content": text}
    return {"id": rid, "object": "response", "output": [item]}


def user(text: str, n: int = 0) -> dict:
    return {"id": f"in_{text}_{n}", "type": "message", "role": "user", "content": text}


async def opened(path, ttl: float = 3600, max_bytes: int = 10**6) -> tuple[Database, ResponseStore]:
    db = Database.sqlite(path)
    await db.migrate()
    return db, ResponseStore(db, SECRET, ttl, max_bytes)


def test_a_response_belongs_to_the_key_that_made_it_and_the_file_holds_no_key(tmp_path):
    async def scenario():
        db, store = await opened(tmp_path / "p2o.db")
        alice, bob = store.owner(SecretStr("sk-alice")), store.owner(SecretStr("sk-bob"))
        await store.save(alice, response("resp_1", "hi"), [user("hello")])
        got = await store.get(alice, "resp_1"), await store.get(bob, "resp_1")
        deleted_by_bob = await store.delete(bob, "resp_1")
        still = await store.get(alice, "resp_1")
        deleted = await store.delete(alice, "resp_1"), await store.get(alice, "resp_1")
        await db.close()
        return got, deleted_by_bob, still, deleted

    (mine, theirs), deleted_by_bob, still, (deleted, after) = run(scenario())
    assert mine == response("resp_1", "hi") and theirs is None
    assert deleted_by_bob is False and still is not None
    assert deleted is True and after is None


def test_the_key_never_reaches_the_file(tmp_path):
    async def scenario():
        db, store = await opened(tmp_path / "p2o.db")
        await store.save(store.owner(SecretStr("sk-secret-key")), response("r", "x"), [])
        await db.close()

    run(scenario())
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"sk-secret-key" not in data


def test_a_conversation_is_rebuilt_through_previous_response_ids_in_order(tmp_path):
    async def scenario():
        db, store = await opened(tmp_path / "p2o.db")
        me = store.owner(SecretStr("k"))
        previous = None
        for n in range(1, 4):
            await store.save(me, response(f"r{n}", f"answer {n}"), [user("q", n)], previous)
            previous = f"r{n}"
        items = await store.continue_from(me, "r3")
        middle = await store.continue_from(me, "r2")
        other = await store.continue_from(store.owner(SecretStr("other")), "r3")
        await store.delete(me, "r2")
        broken = await store.continue_from(me, "r3")
        await db.close()
        return items, middle, other, broken

    items, middle, other, broken = run(scenario())
    assert [i.get("content") for i in items] == [
        "q", "answer 1", "q", "answer 2", "q", "answer 3"
    ]  # fmt: skip
    assert len(middle) == 4
    assert other is None
    assert broken is None  # its beginning is gone: never half a conversation


def test_input_items_are_paged_as_openai_pages_them(tmp_path):
    async def scenario():
        db, store = await opened(tmp_path / "p2o.db")
        me = store.owner(SecretStr("k"))
        await store.save(me, response("r", "a"), [user("q", n) for n in range(5)])
        pages = [
            await store.input_items(me, "r", limit=2),
            await store.input_items(me, "r", limit=2, after="in_q_3"),
            await store.input_items(me, "r", order="asc", limit=10),
            await store.input_items(store.owner(SecretStr("x")), "r"),
        ]
        await db.close()
        return pages

    newest, after, ascending, theirs = run(scenario())
    assert [i["id"] for i in newest.data] == ["in_q_4", "in_q_3"] and newest.has_more
    assert [i["id"] for i in after.data] == ["in_q_2", "in_q_1"] and after.has_more
    assert [i["id"] for i in ascending.data] == [f"in_q_{n}" for n in range(5)]
    assert not ascending.has_more
    assert theirs is None


def test_expired_responses_are_gone_and_swept(tmp_path):
    async def scenario():
        db, store = await opened(tmp_path / "p2o.db", ttl=1)
        me = store.owner(SecretStr("k"))
        await store.save(me, response("r", "a"), [])
        before = await store.get(me, "r")
        await asyncio.sleep(2.1)
        after = await store.get(me, "r")
        swept = await store.sweep()
        await db.close()
        return before, after, swept

    before, after, swept = run(scenario())
    assert before is not None and after is None and swept == 1


def test_over_its_size_the_store_drops_the_oldest_first(tmp_path):
    async def scenario():
        db, store = await opened(tmp_path / "p2o.db", max_bytes=1500)
        me = store.owner(SecretStr("k"))
        for n in range(6):
            await store.save(me, response(f"r{n}", "x" * 300), [])
        swept = await store.sweep()
        kept = [n for n in range(6) if await store.get(me, f"r{n}") is not None]
        too_big = await store.save(me, response("huge", "x" * 2000), [])
        await db.close()
        return swept, kept, too_big

    swept, kept, too_big = run(scenario())
    assert kept == list(range(6 - len(kept), 6)) and swept == 6 - len(kept) > 0
    assert too_big is False


def test_workers_starting_together_migrate_once(tmp_path):
    async def scenario():
        dbs = [Database.sqlite(tmp_path / "p2o.db") for _ in range(4)]
        await asyncio.gather(*(db.migrate() for db in dbs))
        for db in dbs:
            await db.close()

    run(scenario())
    with sqlite3.connect(tmp_path / "p2o.db") as connection:
        (version,) = connection.execute("select version_num from alembic_version").fetchall()
        tables = {r[0] for r in connection.execute("select name from sqlite_master")}
    assert version == (SCHEMA_REVISION,) and {"stored_responses", "client_keys"} <= tables


def test_workers_write_to_one_file_at_once(tmp_path):
    writers = 3

    async def scenario():
        opened_stores = [await opened(tmp_path / "p2o.db") for _ in range(writers)]
        me = opened_stores[0][1].owner(SecretStr("k"))
        await asyncio.gather(
            *(
                store.save(me, response(f"w{w}-{n}", "x"), [])
                for w, (_, store) in enumerate(opened_stores)
                for n in range(20)
            )
        )
        count = 0
        for w in range(writers):
            for n in range(20):
                count += await opened_stores[0][1].get(me, f"w{w}-{n}") is not None
        for db, _ in opened_stores:
            await db.close()
        return count

    assert run(scenario()) == writers * 20


def test_the_schema_revision_the_service_expects_is_alembics_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from service.storage.database import MIGRATIONS
    from service.storage.tables import SCHEMA_REVISION

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION


def test_a_schema_change_cut_in_the_middle_leaves_nothing_half_made(tmp_path):
    """Migrations run in one transaction: on SQLite that needs the service's own BEGIN (the
    driver begins none before DDL), so a start killed mid-migration is rolled back whole."""
    from sqlalchemy import text

    async def scenario():
        db = Database.sqlite(tmp_path / "p2o.db")
        try:
            async with db.engine.begin() as connection:
                await connection.execute(text("CREATE TABLE half (a INTEGER)"))
                raise RuntimeError("the process dies here")
        except RuntimeError:
            pass
        await db.migrate()  # and the next start migrates from scratch
        await db.close()

    run(scenario())
    with sqlite3.connect(tmp_path / "p2o.db") as connection:
        tables = {r[0] for r in connection.execute("select name from sqlite_master")}
    assert "half" not in tables and "stored_responses" in tables
