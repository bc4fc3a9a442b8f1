"""Pacing toward Poe, per Poe key: the rolling minute, the least interval, a key cooling down
after Poe's 429, the queue's bound, cancellation, and the bound on keys tracked."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from pydantic import SecretStr

from service.access.poe_keys import PoeKeyPool
from service.access.poe_pacing import PoePacer
from service.errors import ServiceError
from service.poe.errors import PoeError, PoeFailure

pytestmark = pytest.mark.anyio  # on asyncio (tests/conftest.py)

A, B = SecretStr("poe-key-A"), SecretStr("poe-key-B")


def refused(excinfo: pytest.ExceptionInfo[ServiceError]) -> int:
    """The Retry-After of a pacing 429, checked against its message."""
    err = excinfo.value
    assert (err.status, err.code) == (429, "rate_limit_exceeded")
    seconds = int(err.headers["retry-after"])
    assert f"try again in {seconds} s" in err.message
    return seconds


@pytest.fixture
def frozen_wall_clock(monkeypatch):
    """time.time() stands still until moved."""
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])

    def move(seconds: float) -> None:
        now[0] += seconds

    return move


async def test_at_most_rpm_starts_per_rolling_minute(frozen_wall_clock):
    pacer = PoePacer(rpm=2, min_interval=0, queue_timeout=5)
    deadline = time.time() + 5
    assert await pacer.turn([A], deadline) == A
    frozen_wall_clock(30)
    assert await pacer.turn([A], time.time() + 5) == A
    with pytest.raises(ServiceError) as excinfo:  # the minute's room is used: 30 s to wait
        await pacer.turn([A], time.time() + 5)
    assert refused(excinfo) == 30
    assert await pacer.turn([B], time.time() + 5) == B  # another key has its own minute
    frozen_wall_clock(30.5)  # the first start has left the rolling minute, the second not
    assert await pacer.turn([A], time.time() + 5) == A
    with pytest.raises(ServiceError):
        await pacer.turn([A], time.time() + 5)


async def test_zero_rpm_does_not_count():
    pacer = PoePacer(rpm=0, min_interval=0, queue_timeout=0)
    for _ in range(50):
        await pacer.turn([A], time.time())


async def test_starts_are_at_least_the_interval_apart_in_arrival_order():
    pacer = PoePacer(rpm=0, min_interval=0.15, queue_timeout=5)
    started: list[tuple[int, float]] = []

    async def one(n: int) -> None:
        await pacer.turn([A], time.time() + 5)
        started.append((n, time.monotonic()))

    await asyncio.gather(*(one(n) for n in range(4)))
    assert [n for n, _ in started] == [0, 1, 2, 3]  # first come, first served
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(started)]
    assert all(gap >= 0.14 for gap in gaps), gaps


async def test_a_key_cooling_down_waits_or_is_refused_with_when():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=2)
    pacer.cool_down(A, 0.3)
    began = time.monotonic()
    await pacer.turn([A], time.time() + 2)
    assert time.monotonic() - began >= 0.28
    pacer.cool_down(A, None)  # no Retry-After from Poe: a minute
    assert 59 < pacer.free_in(A) <= 60.01
    began = time.monotonic()
    with pytest.raises(ServiceError) as excinfo:
        await pacer.turn([A], time.time() + 2)
    assert refused(excinfo) == 60
    assert time.monotonic() - began < 0.1  # a wait that cannot fit is refused at once


async def test_a_wait_past_the_queue_bound_is_a_429_and_the_others_go_on():
    pacer = PoePacer(rpm=0, min_interval=0.4, queue_timeout=0.6)

    async def one() -> str:
        try:
            await pacer.turn([A], time.time() + pacer.queue_timeout)
        except ServiceError as err:
            return err.headers["retry-after"]
        return "ok"

    # The first starts now, the second at 0.4 s; the third's turn (0.8 s) is past its bound.
    assert await asyncio.gather(one(), one(), one()) == ["ok", "ok", "1"]


async def test_a_request_cancelled_while_queued_leaves_the_queue():
    pacer = PoePacer(rpm=0, min_interval=0.3, queue_timeout=5)
    await pacer.turn([A], time.time() + 5)
    first_start = time.monotonic()
    sleeping = asyncio.create_task(pacer.turn([A], time.time() + 5))  # holds the key's turn
    queued = asyncio.create_task(pacer.turn([A], time.time() + 5))  # behind it
    await asyncio.sleep(0.05)
    sleeping.cancel()
    queued.cancel()
    await asyncio.gather(sleeping, queued, return_exceptions=True)
    state = next(iter(pacer._keys.values()))
    assert state.waiting == 0 and not state.lock.locked()
    await pacer.turn([A], time.time() + 5)
    # Its turn comes after the first start's interval: nobody cancelled took a start.
    assert 0.25 < time.monotonic() - first_start < 0.45


async def test_the_keys_tracked_are_bounded_and_only_hashes():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=1, max_tracked=8)
    for n in range(100):
        await pacer.turn([SecretStr(f"passthrough-key-{n}")], time.time() + 1)
    assert len(pacer) == 8
    assert "passthrough-key" not in repr(pacer._keys)


async def test_a_free_key_is_taken_before_a_busy_one_is_waited_for():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=5)
    pacer.cool_down(A, 30)
    assert await pacer.turn([A, B], time.time() + 5) == B
    pool = PoeKeyPool([A, B], pacer)
    assert [pool.next() for _ in range(3)] == [B, B, B]
    assert pool.starting_with(B) == [B, A]
    pacer.cool_down(B, 60)
    assert pool.next() == A  # every key busy: the one free soonest


def poe_answers(*outcomes):
    """A fake `attempt(key)`: each call takes the next outcome, a PoeError or the items."""
    calls: list[SecretStr] = []
    pending = list(outcomes)

    async def attempt(key: SecretStr):
        calls.append(key)
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        for item in outcome:
            yield item

    return attempt, calls


def poe_429(retry_after: float | None) -> PoeError:
    return PoeError(PoeFailure.RATE_LIMITED, "Poe answered HTTP 429", retry_after=retry_after)


async def gathered(stream) -> list:
    return [item async for item in stream]


async def test_a_poe_429_is_waited_out_and_tried_again():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=2)
    attempt, calls = poe_answers(poe_429(0.3), ["answer"])
    began = time.monotonic()
    assert await gathered(pacer.stream([A], attempt)) == ["answer"]
    assert calls == [A, A] and time.monotonic() - began >= 0.28


async def test_a_poe_429_goes_to_another_key_at_once():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=2)
    attempt, calls = poe_answers(poe_429(30), ["answer"])
    assert await gathered(pacer.stream([A, B], attempt)) == ["answer"]
    assert calls == [A, B]
    assert pacer.free_in(A) > 29


async def test_a_poe_429_is_the_clients_when_the_wait_does_not_fit_or_retries_are_spent():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=2)
    attempt, calls = poe_answers(poe_429(7))
    with pytest.raises(PoeError) as excinfo:
        await gathered(pacer.stream([A], attempt))
    assert calls == [A] and excinfo.value.retry_after == 7  # what is left of the key's rest
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=5, retries=1)
    attempt, calls = poe_answers(poe_429(0.1), poe_429(0.1))
    with pytest.raises(PoeError):
        await gathered(pacer.stream([A], attempt))
    assert calls == [A, A]


async def test_a_poe_429_after_output_or_one_poe_says_not_to_retry_is_not_tried_again():
    pacer = PoePacer(rpm=500, min_interval=0, queue_timeout=5)

    async def after_output(key: SecretStr):
        yield "some text"
        raise poe_429(0.1)

    with pytest.raises(PoeError):
        await gathered(pacer.stream([A], after_output))
    assert pacer.free_in(A) > 0  # the key still rests
    not_again = PoeError(PoeFailure.RATE_LIMITED, "rate limit to query bot", retryable=False)
    attempt, calls = poe_answers(not_again)
    with pytest.raises(PoeError):
        await gathered(pacer.stream([B], attempt))
    assert calls == [B] and pacer.free_in(B) == 0
