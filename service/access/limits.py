"""The limits of issued keys (AUTH_MODE=keys), checked when a request presents its key, before
any work is done for it, and settled when the request is over.

- Rates: requests per minute (`rpm`) and tokens per minute (`tpm`, input and output) over a
  moving window (window.py), and concurrent requests (`max_concurrent`). Over one:
  429 `rate_limit_exceeded` with `Retry-After`. A request's tokens are known only at its end:
  they count in the window then, and the next request waits for the minute to have room.
- Budgets: tokens per UTC day (`daily_tokens`) and Poe points per UTC month
  (`monthly_points`), from the usage records. Over one: 429 `insufficient_quota`, the code
  clients take as "stop retrying". The request that crosses a budget is finished.

Counts live in this process: with WORKERS > 1 each worker counts its own rates (a limit of N
can let up to N per worker through); budgets are read from the shared records every
`refresh` seconds, plus what this worker served since.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.access.client_key import ClientKey
from service.access.usage import Totals, UsageRecord, day_start, month_start
from service.access.window import RollingWindow
from service.errors import ErrorKind, ServiceError
from service.ops import metrics

if TYPE_CHECKING:
    from service.storage.usage import UsageStore

REFRESH = 5.0  # seconds a budget's figures from the records are used before reading them again


@dataclass(slots=True)
class _Budget:
    read_at: float
    day: int  # the day_start and month_start the figures are for
    month: int
    today: Totals
    this_month: Totals


class KeyLimits:
    def __init__(self, refresh: float = REFRESH) -> None:
        self._windows: dict[tuple[str, str], RollingWindow] = {}  # (key id, rpm|tpm)
        self._open: dict[str, int] = {}
        self._budgets: dict[str, _Budget] = {}
        self._refresh = refresh

    async def admit(self, key: ClientKey, usage: UsageStore) -> None:
        """Lets the request in, or raises the 429 of the first limit it is over."""
        limits = key.limits
        daily, monthly = limits.get("daily_tokens"), limits.get("monthly_points")
        if daily or monthly:
            budget = await self._budget(key.id, usage)
            if daily and budget.today.tokens >= daily:
                raise _over_budget(
                    "daily_tokens", f"its {daily} tokens for today (UTC)", "00:00 UTC"
                )
            if monthly and budget.this_month.points >= monthly:
                raise _over_budget(
                    "monthly_points", f"its {monthly} Poe points for this month", "the 1st (UTC)"
                )
        now = time.time()
        tpm = limits.get("tpm")
        if tpm:
            tokens = self._window(key.id, "tpm")
            if tokens.used(now) >= tpm:
                raise _too_fast("tpm", "tokens per minute (tpm)", tpm, _wait(tokens, tpm, now))
        concurrent = limits.get("max_concurrent")
        if concurrent and self._open.get(key.id, 0) >= concurrent:
            raise _too_fast("concurrent", "concurrent requests", concurrent, 1)
        rpm = limits.get("rpm")
        if rpm:
            requests = self._window(key.id, "rpm")
            if not requests.take(rpm, now):
                raise _too_fast("rpm", "requests per minute (rpm)", rpm, _wait(requests, rpm, now))
        self._open[key.id] = self._open.get(key.id, 0) + 1

    def settle(self, key: ClientKey, record: UsageRecord) -> None:
        """The request `admit` let in is over: its slot is free, its tokens and points count."""
        left = self._open.get(key.id, 1) - 1
        if left:
            self._open[key.id] = left
        else:
            self._open.pop(key.id, None)
        tokens = record.input_tokens + record.output_tokens
        if key.limits.get("tpm") and tokens:
            self._window(key.id, "tpm").add(time.time(), tokens)
        budget = self._budgets.get(key.id)
        if budget is not None:
            served = Totals(1, record.input_tokens, record.output_tokens, record.points or 0.0)
            budget.today = budget.today.plus(served)
            budget.this_month = budget.this_month.plus(served)

    def open_requests(self, key_id: str) -> int:
        return self._open.get(key_id, 0)

    async def _budget(self, key_id: str, usage: UsageStore) -> _Budget:
        now = time.time()
        day, month = day_start(now), month_start(now)
        budget = self._budgets.get(key_id)
        fresh = budget is not None and now - budget.read_at < self._refresh
        if fresh and budget.day == day and budget.month == month:
            return budget
        await usage.flush()  # this worker's own records are in the figures, and only once
        budget = _Budget(now, day, month, await usage.totals(key_id, day), Totals())
        budget.this_month = await usage.totals(key_id, month)
        self._budgets[key_id] = budget
        return budget

    def _window(self, key_id: str, rate: str) -> RollingWindow:
        window = self._windows.get((key_id, rate))
        if window is None:  # as many as the issued keys with rate limits
            window = self._windows[key_id, rate] = RollingWindow()
        return window


def _wait(window: RollingWindow, limit: int, now: float) -> int:
    return max(1, math.ceil(window.free_at(limit, now) - now))


def _too_fast(name: str, what: str, limit: int, retry_after: int) -> ServiceError:
    metrics.limit_rejected(name)
    return ServiceError(
        ErrorKind.RATE_LIMITED,
        f"Rate limit reached for {what} of this API key: the limit is {limit}. "
        f"Please try again in {retry_after} s.",
        code="rate_limit_exceeded",
        headers={"retry-after": str(retry_after)},
        should_retry=True,
    )


def _over_budget(name: str, what: str, until: str) -> ServiceError:
    metrics.limit_rejected(name)
    return ServiceError(
        ErrorKind.RATE_LIMITED,
        f"This API key has used {what}; it can be used again from {until}, or with a "
        "higher limit (ask the service's admin).",
        code="insufficient_quota",
        should_retry=False,
    )
