"""What a request of an issued key used (a usage record), and sums of them: the figures the
limits (limits.py) and the usage store (service/storage/usage.py) share, without the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class UsageRecord:
    at: int  # epoch milliseconds, when the request started
    key_id: str | None
    poe_account: str | None
    front: str
    model: str | None
    bot: str | None
    input_tokens: int
    output_tokens: int
    ttft_ms: int
    duration_ms: int
    outcome: str
    points: float | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    points: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def plus(self, other: Totals) -> Totals:
        return Totals(
            self.requests + other.requests,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.points + other.points,
        )

    def body(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "points": round(self.points, 3),
        }


def day_start(now: float) -> int:
    """UTC midnight before `now` (epoch seconds), in epoch ms."""
    return int(now // 86_400) * _DAY_MS


def month_start(now: float) -> int:
    """The first of the month (UTC) of `now` (epoch seconds), in epoch ms."""
    day = dt.datetime.fromtimestamp(now, dt.UTC).date().replace(day=1)
    return int(dt.datetime(day.year, day.month, 1, tzinfo=dt.UTC).timestamp() * 1000)
