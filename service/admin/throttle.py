"""Slows online password guessing at the admin login without ever locking the right password out.

Every attempt that carries credentials is counted, at arrival, against its client address and
against the user name it tries; past a few free attempts the answer is delayed before the
password is even compared, by a delay that doubles per attempt up to `max_delay`. The delay
comes first so that its length tells nothing about the password: a guesser who gives up early
learns nothing. Attempts wait with `asyncio.sleep`, so the event loop keeps serving.

Delays alone do not bound a guesser who opens many connections at once, so only a few
attempts per address or user name may wait at a time (and a bounded number in all); one more
is answered 429 with `retry-after` at once, holding no socket. The bound per user name is what
slows guessing spread over many addresses: whatever the number of addresses, a user name is
tried at most `_WAITING_PER_USER` times per `max_delay` once it is under attack.

Someone sharing the admin's address (an office NAT) can slow the admin's logins, at worst to the
capped delay (while it keeps attempts waiting, some of the admin's get a 429 to retry), but
never lock the right password out for minutes: a success clears its address. An address that
logged in recently is exempt from the per-user-name bound, so a guesser spraying the user name
from elsewhere does not slow the admin.

State is per worker process and bounded: a spray of addresses or user names beyond the table
sizes shares one overflow bucket (throttled together) instead of growing memory or evicting
the entries of an ongoing attack. User names are kept as keyed hashes only (someone may type
the password into the user field).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Typos happen: the first attempts from an address are answered at once. A user name may be
# tried by several admins (or browsers retrying stale credentials) from different places.
_FREE_PER_ADDRESS = 3
_FREE_PER_USER = 10
# The first delay is max_delay / 2**5, doubling per attempt: the cap is reached 6 attempts past
# the free ones (0.25, 0.5, 1, 2, 4, 8 s with the default 8 s cap).
_DOUBLINGS = 5
# Each counted attempt is forgotten after this long: an address that stops guessing is back to
# instant answers within minutes, one under attack stays at the cap.
_FORGET_SECONDS = 60.0
# Enough to keep any key at the cap; so an attack, once it stops, is forgotten in half an hour.
_MOST_REMEMBERED = 30
# Rate bound under attack: at most this many attempts per key per max_delay. With the default
# cap that is 15 guesses a minute per address and 7.5 per user name, however many addresses
# (about 10,000 a day: a long password stays out of reach), against ~150 a second without it.
_WAITING_PER_ADDRESS = 2
_WAITING_PER_USER = 1
# Each waiting attempt holds a socket: bounded well below any file limit.
_WAITING_TOTAL = 256
# A spray beyond this many addresses or user names shares one overflow bucket (~100 bytes each).
_TABLE_SIZE = 10_000
# Addresses that logged in recently skip the per-user-name bound (see the module docstring).
_TRUSTED_ADDRESSES = 256
_TRUST_SECONDS = 24 * 3600.0


class LoginThrottled(Exception):
    """Too many attempts are waiting already; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Count:
    attempts: float = 0.0
    at: float = 0.0
    waiting: int = 0

    def current(self, now: float) -> float:
        self.attempts = max(0.0, self.attempts - (now - self.at) / _FORGET_SECONDS)
        self.at = now
        return self.attempts


@dataclass
class Attempt:
    """One admitted login attempt: what `succeeded` must clear if the credentials match."""

    address: str
    user_count: _Count | None
    delay: float


class _Table:
    """Counts per key, bounded: when full of live entries, new keys share one overflow entry."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, _Count] = OrderedDict()
        self._overflow = _Count()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now: float) -> _Count:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry
        # Least recently touched first: reclaim entries that are forgotten and idle.
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.waiting or oldest.current(now) > 0:
                break
            self._entries.popitem(last=False)
        if len(self._entries) >= self._size:
            return self._overflow
        entry = self._entries[key] = _Count(at=now)
        return entry

    def forget(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.attempts = 0.0
        if not entry.waiting:
            del self._entries[key]


class LoginThrottle:
    """Per worker process. `admit` before comparing credentials, `succeeded` after a match."""

    def __init__(
        self,
        max_delay: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        table_size: int = _TABLE_SIZE,
    ) -> None:
        self._max_delay = max_delay
        self._first_delay = max_delay / 2**_DOUBLINGS
        self._clock = clock
        self._sleep = sleep
        self._addresses = _Table(table_size)
        self._users = _Table(table_size)
        self._trusted: OrderedDict[str, float] = OrderedDict()
        self._waiting = 0
        # Hashing user names with a per-process key keeps them out of memory in the clear.
        self._key = os.urandom(16)

    def __repr__(self) -> str:
        return f"LoginThrottle(max_delay={self._max_delay}, waiting={self._waiting})"

    def tracked(self) -> int:
        """How many addresses and user names are remembered (memory stays bounded)."""
        return len(self._addresses) + len(self._users)

    async def admit(self, address: str, user: bytes) -> Attempt:
        """Count one attempt and wait its delay; raise LoginThrottled if too many wait already."""
        now = self._clock()
        counts = [(self._addresses.get(address, now), _FREE_PER_ADDRESS, _WAITING_PER_ADDRESS)]
        user_count = None
        if not self._is_trusted(address, now):
            user_count = self._users.get(self._user_key(user), now)
            counts.append((user_count, _FREE_PER_USER, _WAITING_PER_USER))
        # This attempt's number past the free ones, counting what is not yet forgotten.
        delay = max(self._delay(count.current(now) + 1 - free) for count, free, _ in counts)
        if delay and (
            self._waiting >= _WAITING_TOTAL
            or any(count.waiting >= limit for count, _, limit in counts)
        ):
            raise LoginThrottled(math.ceil(delay))
        # Counted now, not after the comparison: attempts sent at once see each other.
        for count, _, _ in counts:
            count.attempts = min(count.attempts + 1, _MOST_REMEMBERED)
        attempt = Attempt(address, user_count, delay)
        if not delay:
            return attempt
        self._waiting += 1
        for count, _, _ in counts:
            count.waiting += 1
        try:
            await self._sleep(delay)
        finally:
            self._waiting -= 1
            for count, _, _ in counts:
                count.waiting -= 1
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        now = self._clock()
        self._addresses.forget(attempt.address)
        if attempt.user_count is not None:
            # The right password is no guess: take back what it added to the user name's count.
            count = attempt.user_count
            count.attempts = max(0.0, count.current(now) - 1)
        self._trusted[attempt.address] = now
        self._trusted.move_to_end(attempt.address)
        while len(self._trusted) > _TRUSTED_ADDRESSES:
            self._trusted.popitem(last=False)

    def _delay(self, over: float) -> float:
        if over <= 0:
            return 0.0
        # Rounded up: an attempt only partly forgotten still counts in full.
        doublings = min(math.ceil(over) - 1, _DOUBLINGS)
        return min(self._max_delay, self._first_delay * 2**doublings)

    def _is_trusted(self, address: str, now: float) -> bool:
        since = self._trusted.get(address)
        return since is not None and now - since < _TRUST_SECONDS

    def _user_key(self, user: bytes) -> str:
        return hashlib.blake2b(user, key=self._key, digest_size=16).hexdigest()
