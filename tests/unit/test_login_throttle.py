"""The admin login throttle on a fake clock: growing delays, never a lockout of the right
password, a bound per user name across addresses, bounded waiting and bounded memory."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from service.admin.throttle import LoginThrottle, LoginThrottled

ADMIN = b"admin"


class FakeTime:
    """A clock that only moves when an attempt sleeps (or a test says so)."""

    def __init__(self, advance: bool = True) -> None:
        self.now = 1000.0
        self.advance = advance
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.advance:
            self.now += seconds


def make(time: FakeTime, **options) -> LoginThrottle:
    return LoginThrottle(max_delay=8.0, clock=time.clock, sleep=time.sleep, **options)


def attempt(throttle: LoginThrottle, address: str, user: bytes = ADMIN):
    return asyncio.run(throttle.admit(address, user))


def test_failures_from_one_address_get_slower_answers_up_to_the_cap():
    time = FakeTime()
    throttle = make(time)
    delays = [attempt(throttle, "198.51.100.1").delay for _ in range(10)]
    assert delays[:3] == [0, 0, 0]  # typos are answered at once
    assert delays[3:] == [0.25, 0.5, 1, 2, 4, 8, 8]


def test_the_right_password_is_never_locked_out_and_clears_its_address():
    time = FakeTime()
    throttle = make(time)
    for _ in range(50):
        attempt(throttle, "198.51.100.1")
    right = attempt(throttle, "198.51.100.1")
    assert right.delay <= 8  # slowed, within the cap, never refused
    throttle.succeeded(right)
    assert attempt(throttle, "198.51.100.1").delay == 0


def test_guesses_spread_over_many_addresses_are_bounded_per_user_name():
    time = FakeTime()
    throttle = make(time)
    delays = [attempt(throttle, f"203.0.113.{i}").delay for i in range(20)]
    assert delays[:10] == [0] * 10
    assert delays[10:16] == [0.25, 0.5, 1, 2, 4, 8]
    # Another user name from the same addresses is unaffected: the bound is per user name.
    assert attempt(throttle, "203.0.113.99", b"root").delay == 0


def test_an_address_that_logged_in_is_not_slowed_by_a_spray_on_its_user_name():
    time = FakeTime()
    throttle = make(time)
    throttle.succeeded(attempt(throttle, "192.0.2.10"))
    for i in range(30):
        attempt(throttle, f"203.0.113.{i}")
    assert attempt(throttle, "192.0.2.10").delay == 0
    assert attempt(throttle, "203.0.113.200").delay == 8


def test_counts_are_forgotten_over_time():
    time = FakeTime()
    throttle = make(time)
    for _ in range(8):
        attempt(throttle, "198.51.100.1")
    time.now += 3600
    assert attempt(throttle, "198.51.100.1").delay == 0


def test_attempts_sent_at_once_wait_in_bounded_numbers_and_the_rest_get_429():
    async def run() -> tuple[int, int, list[int]]:
        gate = asyncio.Event()

        async def held(seconds: float) -> None:
            await gate.wait()

        throttle = LoginThrottle(max_delay=8.0, sleep=held)
        tasks = [asyncio.ensure_future(throttle.admit("198.51.100.1", ADMIN)) for _ in range(40)]
        await asyncio.sleep(0)
        refused = [
            t.exception().retry_after
            for t in tasks
            if t.done() and isinstance(t.exception(), LoginThrottled)
        ]
        waiting = sum(not t.done() for t in tasks)
        answered_at_once = sum(t.done() and not t.exception() for t in tasks)
        gate.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return answered_at_once, waiting, refused

    answered_at_once, waiting, refused = asyncio.run(run())
    assert answered_at_once == 3  # the free attempts, counted at arrival even when sent at once
    assert waiting == 1  # one per user name may wait (the address would allow two)
    assert len(refused) == 36 and all(r >= 1 for r in refused)


def test_waiting_attempts_are_bounded_in_all():
    async def run() -> int:
        gate = asyncio.Event()

        async def held(seconds: float) -> None:
            await gate.wait()

        throttle = LoginThrottle(max_delay=8.0, sleep=held)
        # Each address, already slowed, holds its own slots; the total is bounded anyway.
        for i in range(600):
            for _ in range(3):
                await throttle.admit(f"10.0.{i // 256}.{i % 256}", b"user-%d" % i)
        tasks = [
            asyncio.ensure_future(throttle.admit(f"10.0.{i // 256}.{i % 256}", b"user-%d" % i))
            for i in range(600)
        ]
        await asyncio.sleep(0)
        waiting = sum(not t.done() for t in tasks)
        gate.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return waiting

    assert asyncio.run(run()) == 256


def test_memory_stays_bounded_under_a_spray_of_addresses_and_user_names():
    time = FakeTime(advance=False)  # the spray arrives faster than anything is forgotten
    throttle = make(time, table_size=1000)

    async def spray() -> None:
        for i in range(20_000):
            await throttle.admit(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", b"u%d" % i)

    asyncio.run(spray())
    assert throttle.tracked() <= 2000
    # Past the table size, new addresses share one bucket: the spray is slowed, not forgotten.
    assert attempt(throttle, "172.16.0.1", b"fresh").delay == 8


def test_user_names_are_not_kept_in_the_clear():
    time = FakeTime()
    throttle = make(time)
    secret = b"correct horse battery staple"
    attempt(throttle, "198.51.100.1", secret)
    assert secret.decode() not in repr(throttle)
    assert secret not in pickle.dumps(throttle)  # all of its state


@pytest.mark.parametrize("max_delay", [0.64, 8.0, 60.0])
def test_the_cap_is_the_setting(max_delay):
    time = FakeTime()
    throttle = LoginThrottle(max_delay=max_delay, clock=time.clock, sleep=time.sleep)
    delays = [attempt(throttle, "198.51.100.1").delay for _ in range(12)]
    assert max(delays) == max_delay
    assert delays[3] == max_delay / 32
