"""The HTTP side of Poe: one shared httpx client per worker, on the aiohttp transport.

The transport was chosen by measurement (docs/performance.md): httpx's default transport costs
1.2-2.2 ms CPU per streamed request here, the aiohttp transport 0.4-0.5 ms, same httpx API.
Bot queries (the hot path) hand an `httpx.Request` built from parts made once straight to the
transport: the client's per-request merging, auth/redirect/cookie machinery and URL parsing
cost more than the rest of httpx together (docs/performance.md, 2026-12-02).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from functools import partial
from http.cookiejar import CookieJar
from typing import Any, NamedTuple
from urllib.parse import quote
from urllib.request import getproxies

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from pydantic import SecretStr

from service.ops import metrics
from service.poe.errors import PoeError, PoeFailure, from_error_event, from_status, short_body
from service.poe.sse import SSEParser
from service.settings import Settings

log = logging.getLogger("poe2openai.poe")


def transport_failure(exc: httpx.HTTPError, what: str) -> PoeError:
    """A request that got no HTTP answer: Poe unreachable, or too slow."""
    # httpx-aiohttp maps a refused connection to ConnectTimeout: look at aiohttp's own error.
    cause = exc.__cause__
    timed_out = isinstance(cause, asyncio.TimeoutError) or (
        cause is None and isinstance(exc, httpx.TimeoutException)
    )
    if timed_out:
        return PoeError(PoeFailure.TIMEOUT, f"{what} did not answer in time")
    return PoeError(
        PoeFailure.UNREACHABLE, f"{what} cannot be reached ({type(cause or exc).__name__})"
    )


class PoeClient:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.base_url = settings.poe_base_url
        limits = httpx.Limits(
            max_connections=settings.poe_max_connections,
            max_keepalive_connections=settings.poe_max_connections,
        )
        self._transport = transport or _aiohttp_transport(limits)
        self.http = httpx.AsyncClient(
            transport=self._transport,
            # One client serves every user's key: never carry a cookie from one to another
            # (and skip the cookie work on every response).
            cookies=_NoCookies(),
            timeout=httpx.Timeout(settings.poe_idle_timeout, connect=settings.poe_connect_timeout),
            headers={"user-agent": "poe2openai"},
            follow_redirects=False,
        )
        # What the client would add to every bot query, merged once: its default headers,
        # ours, and its timeouts as the transport reads them.
        self._query_headers = httpx.Headers(self.http.headers)
        self._query_headers.update(
            {"content-type": "application/json", "accept": "text/event-stream"}
        )
        self._query_extensions = {"timeout": self.http.timeout.as_dict()}
        self._bot_urls: dict[str, httpx.URL] = {}
        # An outbound proxy from the environment is the client's business (its mounts).
        proxied = any(getproxies().get(scheme) for scheme in ("http", "https", "all"))
        self._send = (
            partial(self.http.send, stream=True)
            if proxied
            else self._transport.handle_async_request
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def list_models(self) -> list[dict]:
        """Poe's official model list (public; POE_API_KEY is sent if set). Raw dicts."""
        url = f"{self.base_url}/v1/models"
        key = self.settings.poe_api_key
        headers = {"authorization": f"Bearer {key.get_secret_value()}"} if key else None
        try:
            response = await self.http.get(
                url, headers=headers, timeout=self.settings.models_timeout
            )
        except httpx.HTTPError as exc:
            raise transport_failure(exc, "Poe's model list") from exc
        if response.status_code != 200:
            raise from_status(response.status_code, short_body(response.content))
        try:
            data = json.loads(response.content)["data"]
            if not isinstance(data, list):
                raise TypeError("data is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise PoeError(
                PoeFailure.UPSTREAM, f"Poe's model list is not the expected JSON ({exc})"
            ) from exc
        return data

    async def balance(self, key: SecretStr) -> int:
        """The Poe points left on the account of `key` (Poe's /usage/current_balance)."""
        url = f"{self.base_url}/usage/current_balance"
        headers = {"authorization": f"Bearer {key.get_secret_value()}"}
        try:
            response = await self.http.get(
                url, headers=headers, timeout=self.settings.models_timeout
            )
        except httpx.HTTPError as exc:
            raise transport_failure(exc, "Poe's points balance") from exc
        if response.status_code == 404:  # not "no such model": the path itself is missing
            raise PoeError(PoeFailure.UPSTREAM, "Poe has no points balance to tell (HTTP 404)")
        if response.status_code != 200:
            detail = redacted(short_body(response.content), key)
            raise from_status(response.status_code, detail, response.headers.get("retry-after"))
        try:
            balance = json.loads(response.content)["current_point_balance"]
            if not isinstance(balance, int | float):
                raise TypeError("current_point_balance is not a number")
        except (ValueError, KeyError, TypeError) as exc:
            raise PoeError(
                PoeFailure.UPSTREAM, f"Poe's points balance is not the expected JSON ({exc})"
            ) from exc
        return int(balance)

    async def stream(
        self, bot: str, query: dict, api_key: SecretStr
    ) -> AsyncIterator[list[PoeEvent]]:
        """The bot's answer as batches of events, one batch per network read, so a caller can
        answer a read with one write (`done` and `error` are not yielded: the stream ends, or
        PoeError is raised after the events before it). Transient failures are retried, with
        backoff, only while nothing but `meta` has arrived: a caller never sees text twice."""
        attempt = 0
        while True:
            delivered = False
            try:
                async for batch in self._attempt(bot, query, api_key):
                    delivered = True
                    yield batch
                return
            except PoeError as err:
                metrics.upstream_failed(err.kind.value)
                if delivered or attempt >= self.settings.poe_retries or not _worth_retrying(err):
                    raise
                attempt += 1
                metrics.upstream_retried()
                log.warning(
                    "Poe attempt %d for bot %s failed (%s); retrying", attempt, bot, err.message
                )
            await asyncio.sleep(min(0.25 * 2**attempt, 4.0))

    async def _attempt(
        self, bot: str, query: dict, api_key: SecretStr
    ) -> AsyncIterator[list[PoeEvent]]:
        settings = self.settings
        loop = asyncio.get_running_loop()
        started = loop.time()
        total_deadline = started + settings.poe_total_timeout
        deadline = min(started + settings.poe_first_event_timeout, total_deadline)
        headers = httpx.Headers(self._query_headers)
        headers["authorization"] = f"Bearer {api_key.get_secret_value()}"
        request = httpx.Request(
            "POST",
            self._bot_url(bot),
            content=json.dumps(query).encode(),
            headers=headers,
            extensions=self._query_extensions,
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._send(request)
        except TimeoutError:
            raise _too_slow(settings.poe_first_event_timeout) from None
        except httpx.HTTPError as exc:
            raise transport_failure(exc, f"Poe bot {bot}") from exc
        try:
            if response.status_code != 200:
                body = await _read_some(response)
                detail = redacted(short_body(body), api_key)
                raise from_status(response.status_code, detail, response.headers.get("retry-after"))
            parser = SSEParser()
            chunks = response.aiter_bytes()
            meta: PoeEvent | None = None  # held back until the first real event
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                batch: list[PoeEvent] = []
                end: PoeError | bool = False  # True after `done`, the error after `error`
                for name, data in parser.feed(chunk):
                    event = _decode(name, data)
                    if event.kind == "done":
                        end = True
                        break
                    if event.kind == "error":
                        end = from_error_event(
                            {
                                **event.data,
                                "text": redacted(str(event.data.get("text") or ""), api_key),
                            }
                        )
                        break
                    if deadline != total_deadline:  # nothing but meta so far
                        if event.kind == "meta" and meta is None:
                            meta = event
                            continue
                        deadline = total_deadline
                        if meta is not None:
                            batch.append(meta)
                    batch.append(event)
                if batch:
                    yield batch
                if end is True:
                    return
                if end:
                    raise end
            raise PoeError(PoeFailure.UPSTREAM, "Poe's answer ended before it was complete")
        except TimeoutError:
            if deadline == total_deadline:
                raise PoeError(
                    PoeFailure.TIMEOUT,
                    f"Poe's answer took longer than {settings.poe_total_timeout:g} s",
                    retryable=False,
                ) from None
            raise _too_slow(settings.poe_first_event_timeout) from None
        except httpx.TimeoutException:
            raise PoeError(
                PoeFailure.TIMEOUT,
                f"Poe went silent for more than {settings.poe_idle_timeout:g} s",
                retryable=False,
            ) from None
        except httpx.HTTPError as exc:
            raise PoeError(
                PoeFailure.UPSTREAM,
                f"The connection to Poe broke ({type(exc.__cause__ or exc).__name__})",
            ) from exc
        finally:
            await response.aclose()

    def _bot_url(self, bot: str) -> httpx.URL:
        url = self._bot_urls.get(bot)
        if url is None:
            if len(self._bot_urls) >= _MAX_BOT_URLS:  # clients choose the names: bounded
                self._bot_urls.clear()
            url = self._bot_urls[bot] = httpx.URL(f"{self.base_url}/bot/{quote(bot, safe='')}")
        return url


_MAX_BOT_URLS = 4096


def _aiohttp_transport(limits: httpx.Limits) -> AiohttpTransport:
    transport = AiohttpTransport(limits=limits, trust_env=True, client=lambda: _session(transport))
    return transport


def _session(transport: AiohttpTransport) -> aiohttp.ClientSession:
    """The aiohttp session httpx-aiohttp would make, without a cookie jar: one session serves
    every user's key, so a cookie Poe sets for one must never reach another (and matching the
    jar against every request and response costs CPU)."""
    limits = transport.limits
    connector = aiohttp.TCPConnector(
        limit=limits.max_connections or 0,
        keepalive_timeout=limits.keepalive_expiry,
        ssl=transport.ssl_context,
    )
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


class _NoCookies(CookieJar):
    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


class PoeEvent(NamedTuple):
    kind: str
    data: dict[str, Any]


def _decode(name: str, data: str) -> PoeEvent:
    try:
        payload = json.loads(data) if data else {}
    except ValueError:
        raise PoeError(PoeFailure.UPSTREAM, f"Poe sent a `{name}` event that is not JSON") from None
    if "\\u" in data and _SURROGATE_ESCAPE.search(data):
        payload = _without_surrogates(payload)
    if not isinstance(payload, dict):
        payload = {"value": payload}
    return PoeEvent(name, payload)


# Any surrogate escape (`\ud800`): a cheap test before looking for lone ones, which no UTF-8
# encoder could write to a client.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _without_surrogates(value: Any) -> Any:
    """Lone surrogates in an event's strings become U+FFFD, as undecodable bytes do."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    return value


def redacted(text: str, key: SecretStr) -> str:
    """Poe's text without the caller's key, should Poe (or a proxy before it) echo the request:
    upstream text reaches error bodies and log lines."""
    secret = key.get_secret_value()
    return text.replace(secret, "***") if secret and secret in text else text


def _too_slow(seconds: float) -> PoeError:
    return PoeError(PoeFailure.TIMEOUT, f"Poe sent no answer within {seconds:g} s", retryable=False)


def _worth_retrying(err: PoeError) -> bool:
    return err.retryable and err.kind in (PoeFailure.UNREACHABLE, PoeFailure.UPSTREAM)


async def _read_some(response: httpx.Response, limit: int = 4096) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= limit:
            break
    return body
