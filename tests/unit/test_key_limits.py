"""The issued keys' budgets (service/access/limits.py) over real usage records, in SQLite and
PostgreSQL (the `backend` fixture)."""

from __future__ import annotations

import asyncio
import time

import pytest

from service.access.client_key import ClientKey
from service.access.limits import KeyLimits
from service.access.usage import UsageRecord, day_start, month_start
from service.errors import ServiceError
from service.storage.database import Database
from service.storage.usage import UsageStore


def key(**limits) -> ClientKey:
    return ClientKey("key_1", "team", "sk-p2o-abc", 0, limits=limits)


def record(at: float, tokens: int = 10, points: float | None = None) -> UsageRecord:
    return UsageRecord(
        int(at * 1000), "key_1", None, "chat", "m", "m", tokens, 0, 1, 1, "ok", points
    )


async def opened(backend) -> tuple[Database, UsageStore]:
    db = backend.open()
    await db.migrate()
    return db, UsageStore(db, delay=60)


def test_points_this_month_stop_a_key_at_its_monthly_budget(backend):
    async def scenario():
        db, usage = await opened(backend)
        now = time.time()
        usage.record(record(now - 40 * 86_400, points=500))  # last month's do not count
        usage.record(record(now, points=30))
        limits = KeyLimits()
        await limits.admit(key(monthly_points=50), usage)  # 30 of 50
        limits.settle(key(monthly_points=50), record(now, points=25))  # 55: this one ends
        with pytest.raises(ServiceError) as refused:
            await limits.admit(key(monthly_points=50), usage)
        await db.close()
        return refused.value

    refused = asyncio.run(scenario())
    assert refused.status == 429 and refused.code == "insufficient_quota"
    assert "Poe points for this month" in refused.message


def test_budgets_read_what_other_workers_wrote_once_their_figures_are_old(backend):
    async def scenario():
        db, usage = await opened(backend)
        limits = KeyLimits(refresh=0.2)
        await limits.admit(key(daily_tokens=100), usage)
        other = UsageStore(db)  # another worker's records, on the same database
        other.record(record(time.time(), tokens=150))
        await other.flush()
        await limits.admit(key(daily_tokens=100), usage)  # its figures are still fresh
        await asyncio.sleep(0.3)
        with pytest.raises(ServiceError) as refused:
            await limits.admit(key(daily_tokens=100), usage)
        await db.close()
        return refused.value

    assert asyncio.run(scenario()).code == "insufficient_quota"


def test_usage_is_summed_per_utc_day_and_per_model(backend):
    async def scenario():
        db, usage = await opened(backend)
        today = day_start(time.time()) / 1000
        for at in (today - 86_400 + 5, today + 5, today + 6):
            usage.record(record(at, tokens=7, points=1.5))
        await usage.flush()
        days = await usage.summary("day", 0, int((today + 86_400) * 1000))
        models = await usage.summary("model", int(today * 1000), int((today + 86_400) * 1000))
        await db.close()
        return days, models

    days, models = asyncio.run(scenario())
    assert [(d["day"], d["requests"], d["input_tokens"]) for d in days] == [
        (time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86_400)), 1, 7),
        (time.strftime("%Y-%m-%d", time.gmtime()), 2, 14),
    ]
    assert models == [
        {"model": "m", "requests": 2, "input_tokens": 14, "output_tokens": 0, "points": 3.0}
    ]


def test_month_and_day_starts_are_utc():
    moment = 1_796_000_000.0  # 2026-11-30 00:53:20 UTC
    assert day_start(moment) == 1_795_996_800_000
    assert month_start(moment) == 1_793_491_200_000  # 2026-11-01 00:00 UTC
