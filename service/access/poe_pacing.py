"""Pacing toward Poe, per Poe key: the one owner of "when may this key be used next".

Before a query is sent, it waits for its key's turn: at most POE_RPM starts in any rolling
minute (a moving window: window.py), at least RATE_LIMIT_MS between two starts, and
none while the key cools down after Poe answered 429 (for its Retry-After, else 60 s). Waiting
is sleeping, first come first served (one asyncio lock per key, whose waiters queue in order),
and lasts at most POE_QUEUE_TIMEOUT; then the request is a 429 `rate_limit_exceeded` with a
Retry-After, in every front's shape. A request whose client goes away while it waits leaves the
queue (a cancelled lock waiter). Given several keys (the pool of AUTH_MODE=keys), a key free
now is taken before a busy one is waited for.

A Poe 429 that leaves nothing sent yet is tried again (another key first), up to POE_RETRIES
times, when the wait fits in what is left of POE_QUEUE_TIMEOUT; otherwise it is the client's.

Keys are known here only by a keyed hash (a random secret per process), and at most
`MAX_TRACKED` keys are tracked: passthrough callers bringing ever new keys cannot grow memory
without bound (the least recently used key is forgotten).

The counts and cooldowns are per worker process for now: with WORKERS=N each worker allows
POE_RPM on its own. Moving them to Redis is a later step.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import SecretStr

from service.access.window import RollingWindow
from service.errors import ErrorKind, ServiceError
from service.ops import metrics
from service.poe.errors import PoeError, PoeFailure

if TYPE_CHECKING:
    from service.settings import Settings

log = logging.getLogger("poe2openai.pacing")

DEFAULT_COOLDOWN = 60.0  # seconds, when Poe's 429 names no Retry-After
MAX_TRACKED = 4096  # Poe keys whose pacing is remembered

T = TypeVar("T")


@dataclass(slots=True)
class _KeyState:
    id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0  # requests holding or queued on the lock
    cool_until: float = 0.0  # after a Poe 429
    last_start: float = -math.inf
    full_until: float = 0.0  # the rpm window was full until then, as last seen
    starts: RollingWindow = field(default_factory=RollingWindow)  # of the last minute

    def free_at(self, min_interval: float) -> float:
        return max(self.cool_until, self.last_start + min_interval, self.full_until)


class PoePacer:
    def __init__(
        self,
        rpm: int,
        min_interval: float,
        queue_timeout: float,
        retries: int = 2,
        *,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.rpm = rpm
        self.min_interval = min_interval
        self.queue_timeout = queue_timeout
        self.retries = retries
        self._max_tracked = max_tracked
        self._secret = os.urandom(16)
        self._keys: OrderedDict[str, _KeyState] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> PoePacer:
        return cls(
            settings.poe_rpm,
            settings.rate_limit_ms / 1000,
            settings.poe_queue_timeout,
            settings.poe_retries,
        )

    def __len__(self) -> int:
        """Keys tracked now."""
        return len(self._keys)

    def free_in(self, key: SecretStr) -> float:
        """Seconds until `key` may start a query, as far as is known here (0: now)."""
        state = self._keys.get(self._id(key))
        if state is None:
            return 0.0
        wait = state.free_at(self.min_interval) - time.time()
        return max(wait, 0.0) + (1e-3 * state.waiting)  # a queue makes it busier than free

    def cool_down(self, key: SecretStr, seconds: float | None) -> None:
        """Poe answered 429 to `key`: no query on it for `seconds` (Retry-After) or 60 s."""
        state = self._state(self._id(key))
        until = time.time() + (seconds if seconds and seconds > 0 else DEFAULT_COOLDOWN)
        state.cool_until = max(state.cool_until, until)

    async def stream(
        self, keys: Sequence[SecretStr], attempt: Callable[[SecretStr], AsyncIterator[T]]
    ) -> AsyncIterator[T]:
        """`attempt(key)` (a query sent to Poe) once one of `keys` has its turn; a Poe 429
        before anything arrived cools that key and is tried again while the wait fits."""
        deadline = time.time() + self.queue_timeout
        tries = 0
        while True:
            key = await self.turn(keys, deadline)
            delivered = False
            try:
                async with aclosing(attempt(key)) as answer:
                    async for item in answer:
                        delivered = True
                        yield item
                return
            except PoeError as err:
                if err.kind is not PoeFailure.RATE_LIMITED or not err.retryable:
                    raise
                self.cool_down(key, err.retry_after)
                wait = min(self.free_in(k) for k in keys)
                err.retry_after = max(1, math.ceil(wait))
                if delivered or tries >= self.retries or time.time() + wait > deadline:
                    raise
                tries += 1
                log.info("Poe answered 429; the query is tried again in %.1f s", wait)

    async def turn(self, keys: Sequence[SecretStr], deadline: float) -> SecretStr:
        """Waits until one of `keys` may start a query (the first free now, else the one
        free soonest) and counts the start; a ServiceError 429 when that is past `deadline`."""
        states = [self._state(self._id(key)) for key in keys]
        now = time.time()
        chosen = 0
        if len(states) > 1:
            chosen = min(
                range(len(keys)),
                key=lambda i: (
                    max(states[i].free_at(self.min_interval), now) + 1e-3 * states[i].waiting
                ),
            )
        state = states[chosen]
        alone = not state.waiting
        state.waiting += 1
        try:
            if alone:
                await state.lock.acquire()  # at once: nobody to queue behind
            else:
                try:
                    async with asyncio.timeout(max(deadline - now, 0.0)):
                        await state.lock.acquire()
                except TimeoutError:
                    raise self._too_busy(state) from None
            try:
                await self._wait_free(state, deadline)
            finally:
                state.lock.release()
        finally:
            state.waiting -= 1
        return keys[chosen]

    async def _wait_free(self, state: _KeyState, deadline: float) -> None:
        while True:
            now = time.time()
            free_at = state.free_at(self.min_interval)
            if free_at <= now:
                if self._counted(state, now):
                    state.last_start = time.time()
                    return
                continue  # the window is full: `full_until` says until when
            if free_at > deadline:
                raise self._too_busy(state)
            await asyncio.sleep(free_at - now)

    def _counted(self, state: _KeyState, now: float) -> bool:
        """One more start in the key's rolling minute, if it has room."""
        if not self.rpm or state.starts.take(self.rpm, now):
            return True
        state.full_until = max(state.starts.free_at(self.rpm, now), now + 1e-3)
        return False

    def _too_busy(self, state: _KeyState) -> ServiceError:
        metrics.limit_rejected("poe_queue")
        wait = state.free_at(self.min_interval) - time.time()
        wait = max(wait, state.waiting * self.min_interval, 1.0)
        seconds = math.ceil(wait)
        return ServiceError(
            ErrorKind.RATE_LIMITED,
            "Too many requests toward Poe on this Poe key right now (POE_RPM, RATE_LIMIT_MS, "
            f"or a rate limit Poe reported): try again in {seconds} s",
            code="rate_limit_exceeded",
            headers={"retry-after": str(seconds)},
            should_retry=True,
        )

    def _id(self, key: SecretStr) -> str:
        digest = hashlib.blake2b(key.get_secret_value().encode(), key=self._secret, digest_size=16)
        return digest.hexdigest()

    def _state(self, key_id: str) -> _KeyState:
        state = self._keys.get(key_id)
        if state is not None:
            self._keys.move_to_end(key_id)
            return state
        if len(self._keys) >= self._max_tracked:
            self._forget_one()
        state = self._keys[key_id] = _KeyState(key_id)
        return state

    def _forget_one(self) -> None:
        """Forgets the least recently used key nobody waits for (one somebody waits for stays:
        those are as many as the requests in flight)."""
        for key_id, state in self._keys.items():
            if not state.waiting:
                del self._keys[key_id]
                break
        else:
            return
