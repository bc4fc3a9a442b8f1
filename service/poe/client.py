"""The HTTP side of Poe: one shared httpx client per worker, on the aiohttp transport.

The transport was chosen by measurement (docs/performance.md): httpx's default transport costs
1.2-2.2 ms CPU per streamed request here, the aiohttp transport 0.4-0.5 ms, same httpx API.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
from httpx_aiohttp import AiohttpTransport

from service.poe.errors import PoeError, PoeFailure, from_status, short_body
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
        self.http = httpx.AsyncClient(
            transport=transport or AiohttpTransport(limits=limits, trust_env=True),
            timeout=httpx.Timeout(settings.poe_idle_timeout, connect=settings.poe_connect_timeout),
            headers={"user-agent": "poe2openai"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def list_models(self) -> list[dict]:
        """Poe's official model list (public: no key is sent). Entries are raw dicts."""
        url = f"{self.base_url}/v1/models"
        try:
            response = await self.http.get(url, timeout=self.settings.models_timeout)
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
