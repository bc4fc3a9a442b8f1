"""Files a bot produced, fetched from Poe's CDN (for clients that want the bytes, not a URL).

Only Poe's CDN and the configured Poe host are fetched: the URL comes from the bot's answer, and
a private bot could name any address (an internal service, a cloud metadata endpoint). The size
and the time are bounded, and no key is sent: CDN URLs are capabilities of their own.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from service.poe.client import transport_failure
from service.poe.errors import PoeError, PoeFailure

_CDN_SUFFIX = ".poecdn.net"
_WHAT = "Poe's file CDN"


def fetchable(url: str, poe_base_url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host.endswith(_CDN_SUFFIX):
        return True
    own = urlsplit(poe_base_url)
    return (parts.scheme, parts.netloc.lower()) == (own.scheme, own.netloc.lower())


async def download(
    http: httpx.AsyncClient,
    url: str,
    *,
    poe_base_url: str,
    max_bytes: int,
    timeout: float,  # noqa: ASYNC109
) -> bytes:
    if not fetchable(url, poe_base_url):
        raise PoeError(
            PoeFailure.UPSTREAM,
            "The bot's file is not on Poe's CDN, so it is not fetched: ask for URLs instead",
            retryable=False,
        )
    try:
        async with asyncio.timeout(timeout):
            async with http.stream("GET", url, timeout=timeout) as response:
                if response.status_code != 200:
                    raise PoeError(
                        PoeFailure.UPSTREAM,
                        f"{_WHAT} answered {response.status_code} for the bot's file",
                        status=response.status_code,
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise PoeError(
                            PoeFailure.UPSTREAM,
                            f"The bot's file is larger than {max_bytes:,} bytes",
                            retryable=False,
                        )
                    chunks.append(chunk)
    except TimeoutError:
        raise PoeError(
            PoeFailure.TIMEOUT, f"{_WHAT} did not send the bot's file within {timeout:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise transport_failure(exc, _WHAT) from exc
    return b"".join(chunks)
