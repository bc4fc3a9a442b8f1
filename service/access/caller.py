"""Who is calling: resolved once per request, before any work is done for it.

With AUTH_MODE=passthrough every caller brings its own Poe key; with AUTH_MODE=keys callers
present a key the service issued, and the Poe key is one of the service's own (poe_keys.py).
Either way the Poe key is a `SecretStr` from here to the Poe client, so no repr, log line or
error can show it, and the fronts and the core do not know which mode they serve. A caller's
queries wait for their Poe key's turn (poe_pacing.py), on another pool key when that is free.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr

from service.access.client_key import ClientKey
from service.access.limits import KeyLimits
from service.access.poe_keys import PoeKeyPool
from service.access.poe_pacing import PoePacer
from service.core.report import current_report
from service.errors import ErrorKind, ServiceError

if TYPE_CHECKING:
    from service.access.usage import UsageRecord
    from service.settings import Settings
    from service.storage.background import Opening

# What a key can be made of (visible ASCII, as RFC 6750 tokens): anything else could not be
# sent on to Poe in a header.
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")
_KEY_HEADERS = ("authorization", "x-api-key", "api-key")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    poe_key: SecretStr
    client_key: ClientKey | None = None  # AUTH_MODE=keys: the key the caller presented
    pool: PoeKeyPool | None = None  # where `poe_key` came from: a query may use another
    pacer: PoePacer | None = None  # waits for a Poe key's turn (none: sent at once)

    def query(self, attempt: Callable[[SecretStr], AsyncIterator[T]]) -> AsyncIterator[T]:
        """`attempt(poe_key)`, a query to Poe, sent when a Poe key of this caller's has its
        turn (a pool key other than `poe_key` when that one is busy)."""
        if self.pacer is None:
            return attempt(self.poe_key)
        keys = self.pool.starting_with(self.poe_key) if self.pool else [self.poe_key]
        return self.pacer.stream(keys, attempt)


class Callers:
    """Resolves each request's caller as AUTH_MODE says."""

    def __init__(self, settings: Settings, stores: Opening[Any]) -> None:
        self._stores = stores
        self._pacer = PoePacer.from_settings(settings)
        keys = settings.server_poe_keys
        self._pool = PoeKeyPool(keys, self._pacer) if settings.auth_mode == "keys" else None
        self._limits = KeyLimits()
        # Which server-held key served a request, in its usage record (to match Poe's points
        # history, which is per account): a digest, never the key.
        self._accounts = {k.get_secret_value(): _account(k) for k in keys} if self._pool else {}

    async def if_presented(self, headers: Mapping[str, str]) -> Caller | None:
        """For what anyone may ask (the model list): the caller of an issued key, when the
        request presents one (a bad one is still a 401)."""
        if self._pool is None or not any(h in headers for h in _KEY_HEADERS):
            return None
        client = await self.identify(headers)
        return Caller(
            self._pool.next(), client, self._pool, self._pacer
        )  # nothing is asked of Poe with it

    async def of(self, headers: Mapping[str, str]) -> Caller:
        """The caller of a request that asks Poe for something: an issued key is let in by
        its limits (and settled by `finished` when the request is over)."""
        if self._pool is None:
            return Caller(presented_key(headers), pacer=self._pacer)
        client = await self.identify(headers)
        assert client is not None
        await self._limits.admit(client, (await self._stores.ready()).usage)
        poe_key = self._pool.next()
        report = current_report.get()
        if report is not None:  # settled when the request is over (finished)
            report.admitted = client
            report.poe_account = self._accounts.get(poe_key.get_secret_value())
        return Caller(poe_key, client, self._pool, self._pacer)

    async def identify(self, headers: Mapping[str, str]) -> ClientKey | None:
        """The issued key a request presents, usable (None in passthrough mode, where the
        key is the caller's own Poe key); nothing counts against its limits."""
        if self._pool is None:
            return None
        key = presented_key(headers, "the API key this service issued you")
        stores = await self._stores.ready()
        client = await stores.keys.find(key)
        if client is None:
            raise _refused("Invalid API key: send a key this service issued (sk-p2o-…)")
        if client.disabled:
            raise _refused(f"The API key `{client.prefix}…` is disabled")
        if not client.usable(time.time()):
            raise _refused(f"The API key `{client.prefix}…` has expired")
        report = current_report.get()
        if report is not None:  # for the request log
            report.key_id, report.key_name = client.id, client.name
        return client

    def finished(self, key: ClientKey, record: UsageRecord) -> None:
        """A request `of` let in is over: its usage is recorded and its limits settled."""
        self._limits.settle(key, record)
        stores = self._stores.opened()
        if stores is not None:
            stores.usage.record(record)

    def open_requests(self, key_id: str) -> int:
        return self._limits.open_requests(key_id)


def _account(key: SecretStr) -> str:
    return hashlib.sha256(key.get_secret_value().encode()).hexdigest()[:16]


def _refused(message: str) -> ServiceError:
    return ServiceError(ErrorKind.AUTHENTICATION, message, code="invalid_api_key")


def presented_key(
    headers: Mapping[str, str], wanted: str = "your Poe API key (poe.com/api_key)"
) -> SecretStr:
    """The key the request presents: `Authorization: Bearer`, or `x-api-key` (the anthropic
    SDK's header) or `api-key` (Azure-style OpenAI clients)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    key = key or headers.get("x-api-key", "").strip() or headers.get("api-key", "").strip()
    if not key:
        raise ServiceError(
            ErrorKind.AUTHENTICATION,
            f"Missing API key: send {wanted} "
            "as `Authorization: Bearer <key>` or `x-api-key: <key>`",
            code="invalid_api_key",
        )
    if not _KEY_CHARS.fullmatch(key):
        raise ServiceError(
            ErrorKind.AUTHENTICATION,
            "The API key holds characters no key has (only visible ASCII is possible)",
            code="invalid_api_key",
        )
    return SecretStr(key)
