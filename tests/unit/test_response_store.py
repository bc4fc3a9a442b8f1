"""The stored responses of the Responses API, on a real SQLite file and a real PostgreSQL
server (the `backend` fixture, tests/conftest.py)."""

from __future__ import annotations

import asyncio

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


async def tables(db: Database) -> set[str]:
    from sqlalchemy import inspect

    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


def user(text: str, n: int = 0) -> dict:
    return {"id": f"in_{text}_{n}", "type": "message", "role": "user", "content": text}


async def opened(
    backend, ttl: float = 3600, max_bytes: int = 10**6
) -> tuple[Database, ResponseStore]:
    db = backend.open()
    await db.migrate()
    return db, ResponseStore(db, SECRET, ttl, max_bytes)


def test_a_response_belongs_to_the_key_that_made_it_and_the_file_holds_no_key(backend):
    async def scenario():
        db, store = await opened(backend)
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


def test_the_key_never_reaches_the_file(backend):
    async def scenario():
        db, store = await opened(backend)
        await store.save(store.owner(SecretStr("sk-secret-key")), response("r", "x"), [])
        await db.close()

    run(scenario())
    assert b"sk-secret-key" not in backend.on_disk()


def test_a_conversation_is_rebuilt_through_previous_response_ids_in_order(backend):
    async def scenario():
        db, store = await opened(backend)
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


def test_input_items_are_paged_as_openai_pages_them(backend):
    async def scenario():
        db, store = await opened(backend)
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


def test_expired_responses_are_gone_and_swept(backend):
    async def scenario():
        db, store = await opened(backend, ttl=1)
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


def test_over_its_size_the_store_drops_the_oldest_first(backend):
    async def scenario():
        db, store = await opened(backend, max_bytes=1500)
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


def test_workers_starting_together_migrate_once(backend):
    async def scenario():
        dbs = [backend.open() for _ in range(4)]
        await asyncio.gather(*(db.migrate() for db in dbs))
        found = await dbs[0].revision(), await tables(dbs[0])
        for db in dbs:
            await db.close()
        return found

    version, names = run(scenario())
    assert version == SCHEMA_REVISION
    assert {"stored_responses", "client_keys", "service_secrets"} <= names


def test_workers_write_to_one_file_at_once(backend):
    writers = 3

    async def scenario():
        opened_stores = [await opened(backend) for _ in range(writers)]
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


def test_a_schema_change_cut_in_the_middle_leaves_nothing_half_made(backend):
    """Migrations run in one transaction: on SQLite that needs the service's own BEGIN (the
    driver begins none before DDL), so a start killed mid-migration is rolled back whole."""
    from sqlalchemy import text

    async def scenario():
        db = backend.open()
        try:
            async with db.engine.begin() as connection:
                await connection.execute(text("CREATE TABLE half (a INTEGER)"))
                raise RuntimeError("the process dies here")
        except RuntimeError:
            pass
        await db.migrate()  # and the next start migrates from scratch
        names = await tables(db)
        await db.close()
        return names

    names = run(scenario())
    assert "half" not in names and "stored_responses" in names


def test_epoch_seconds_past_2038_are_kept(backend):
    """PostgreSQL's INTEGER is 32 bits: a far expiry must still fit (migration 0004)."""

    async def scenario():
        db, store = await opened(backend, ttl=500 * 365 * 86400)
        me = store.owner(SecretStr("k"))
        await store.save(me, response("r", "a"), [])
        found = await store.get(me, "r")
        await db.close()
        return found

    assert run(scenario()) is not None


def test_instances_on_one_database_agree_on_the_owner_secret(backend):
    if backend.name == "sqlite":
        return  # one file on one machine: the secret is CONFIG_DIR/.responses.secret
    from service.storage.shared_secret import shared_secret

    async def scenario():
        dbs = [backend.open() for _ in range(3)]
        await dbs[0].migrate()
        found = await asyncio.gather(*(shared_secret(db, "responses") for db in dbs))
        again = await shared_secret(dbs[1], "responses")
        other = await shared_secret(dbs[1], "something else")
        for db in dbs:
            await db.close()
        return found, again, other

    found, again, other = run(scenario())
    assert len(set(found)) == 1 and found[0] == again and len(again) == 32 and other != again


def test_a_restarted_postgres_server_is_reconnected_to(backend):
    if backend.server is None:
        return  # SQLite: a file, nothing to reconnect to

    async def scenario():
        db, store = await opened(backend)
        me = store.owner(SecretStr("k"))
        await store.save(me, response("r1", "a"), [])
        await asyncio.to_thread(backend.server.restart)  # the pool's connections are dead now
        await store.save(me, response("r2", "b"), [])
        found = await store.get(me, "r1"), await store.get(me, "r2")
        await db.close()
        return found

    first, second = run(scenario())
    assert first is not None and second is not None


def test_a_database_made_before_revision_0004_keeps_its_responses_after_the_upgrade(backend):
    """An install at 0003 (epoch seconds in 32 bits on PostgreSQL) upgraded at start."""
    from alembic import command
    from alembic.config import Config

    from service.storage.database import MIGRATIONS

    def upgrade_to_0003(connection):
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")

    async def scenario():
        db = backend.open()
        async with db.engine.begin() as connection:
            await connection.run_sync(upgrade_to_0003)
        before = await db.revision()
        store = ResponseStore(db, SECRET, 3600, 10**6)
        me = store.owner(SecretStr("k"))
        await store.save(me, response("old", "kept"), [user("q")])
        await db.migrate()
        found = (
            await db.revision(),
            await store.get(me, "old"),
            await store.continue_from(me, "old"),
        )
        await db.close()
        return before, found

    before, (after, kept, items) = run(scenario())
    assert before == "0003" and after == SCHEMA_REVISION
    assert kept == response("old", "kept") and len(items) == 2
