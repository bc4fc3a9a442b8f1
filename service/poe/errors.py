"""Poe failures, classified once into a small set of kinds (errors.py maps kinds to HTTP)."""

from __future__ import annotations

import enum
import re


class PoeFailure(enum.Enum):
    UNREACHABLE = "unreachable"  # connect error, DNS, refused
    TIMEOUT = "timeout"  # no first event / idle gap / whole answer too slow
    AUTH = "auth"  # 401: bad or missing Poe key
    FORBIDDEN = "forbidden"  # 403 / "Access denied"
    NOT_FOUND = "not_found"  # unknown bot
    RATE_LIMITED = "rate_limited"
    INSUFFICIENT_POINTS = "insufficient_points"
    TOO_LONG = "too_long"  # user_message_too_long
    BAD_REQUEST = "bad_request"  # Poe refused the query as malformed
    UPSTREAM = "upstream"  # anything else: 5xx, garbage, truncated stream


class PoeError(Exception):
    def __init__(
        self,
        kind: PoeFailure,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = True,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"PoeError({self.kind.value}, status={self.status}, {self.message!r})"


_STATUS_KINDS = {
    400: PoeFailure.BAD_REQUEST,
    401: PoeFailure.AUTH,
    402: PoeFailure.INSUFFICIENT_POINTS,
    403: PoeFailure.FORBIDDEN,
    404: PoeFailure.NOT_FOUND,
    413: PoeFailure.TOO_LONG,
    429: PoeFailure.RATE_LIMITED,
}

_RATE_LIMIT_TEXT = re.compile(r"rate.?limit|too many requests", re.I)
_POINTS_TEXT = re.compile(
    r"more points|enough points|out of points|insufficient.?(fund|point)", re.I
)
_ACCESS_TEXT = re.compile(r"access denied", re.I)
_TOO_LONG_TEXT = re.compile(r"message is too long|too long for", re.I)


def from_status(status: int, detail: str, retry_after: str | None = None) -> PoeError:
    """An upstream HTTP answer other than 200."""
    kind = _STATUS_KINDS.get(status)
    if kind is None:
        kind = PoeFailure.UPSTREAM if status >= 500 else PoeFailure.BAD_REQUEST
    message = f"Poe answered HTTP {status}" + (f": {detail}" if detail else "")
    return PoeError(
        kind,
        message,
        status=status,
        retryable=status >= 500 or status == 429,
        retry_after=_seconds(retry_after),
    )


def from_error_event(data: dict) -> PoeError:
    """An `error` event inside a 200 stream: Poe puts most failures there."""
    text = str(data.get("text") or "The bot reported an error")
    error_type = data.get("error_type")
    allow_retry = data.get("allow_retry", True) is not False
    if error_type == "insufficient_fund" or _POINTS_TEXT.search(text):
        kind = PoeFailure.INSUFFICIENT_POINTS
    elif error_type == "user_message_too_long" or _TOO_LONG_TEXT.search(text):
        kind = PoeFailure.TOO_LONG
    elif _RATE_LIMIT_TEXT.search(text):
        kind = PoeFailure.RATE_LIMITED
    elif error_type == "privacy_authorization_error" or _ACCESS_TEXT.search(text):
        kind = PoeFailure.FORBIDDEN
    elif error_type == "user_caused_error":
        kind = PoeFailure.BAD_REQUEST
    else:
        kind = PoeFailure.UPSTREAM
    return PoeError(kind, text, retryable=allow_retry)


def _seconds(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


def short_body(body: bytes, limit: int = 300) -> str:
    """A one-line excerpt of an upstream error body, for the client and the log."""
    text = body[: limit * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:limit]
