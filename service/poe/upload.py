"""Poe's file upload: bytes (multipart) or a URL Poe fetches itself (form), one POST each.

The answer is an attachment for a Poe message: `{"url", "content_type", "name"}`. The key goes
in `Authorization` as is (no `Bearer`, unlike the bot endpoint) and never into an error.
"""

from __future__ import annotations

import asyncio
import json

import httpx
from pydantic import SecretStr

from service.poe.client import redacted, transport_failure
from service.poe.errors import PoeError, PoeFailure, from_status, short_body

_WHAT = "Poe's file upload"


async def upload_bytes(
    http: httpx.AsyncClient,
    url: str,
    key: SecretStr,
    data: bytes,
    filename: str,
    content_type: str,
    timeout: float,  # noqa: ASYNC109 (becomes a PoeError TIMEOUT, not a bare TimeoutError)
) -> dict[str, str]:
    """Upload `data` as multipart field `file`; the attachment Poe made of it."""
    return await _post(
        http,
        url,
        key,
        timeout,
        filename,
        content_type,
        files={"file": (filename, data, content_type)},
    )


async def upload_url(
    http: httpx.AsyncClient,
    url: str,
    key: SecretStr,
    download_url: str,
    filename: str | None,
    timeout: float,  # noqa: ASYNC109
) -> dict[str, str]:
    """Have Poe fetch `download_url` itself; the attachment it made of it."""
    form = {"download_url": download_url}
    if filename:
        form["download_filename"] = filename
    return await _post(http, url, key, timeout, filename, None, data=form, by_url=True)


async def _post(
    http: httpx.AsyncClient,
    url: str,
    key: SecretStr,
    timeout: float,  # noqa: ASYNC109
    filename: str | None,
    content_type: str | None,
    *,
    by_url: bool = False,
    **body: object,
) -> dict[str, str]:
    try:
        async with asyncio.timeout(timeout):
            response = await http.post(
                url, headers={"authorization": key.get_secret_value()}, timeout=timeout, **body
            )
    except TimeoutError:
        raise PoeError(PoeFailure.TIMEOUT, f"{_WHAT} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise transport_failure(exc, _WHAT) from exc
    if response.status_code != 200:
        raise _refused(response, key, filename, by_url)
    try:
        answer = json.loads(response.content)
    except ValueError:
        raise PoeError(PoeFailure.UPSTREAM, f"{_WHAT} answered 200 with no JSON") from None
    attachment_url = answer.get("attachment_url") if isinstance(answer, dict) else None
    if not isinstance(attachment_url, str) or not attachment_url:
        raise PoeError(
            PoeFailure.UPSTREAM,
            f"{_WHAT} answered 200 without an attachment URL: {_excerpt(response, key)}",
        )
    mime = answer.get("mime_type")
    return {
        "url": attachment_url,
        "content_type": mime if isinstance(mime, str) and mime else content_type or "",
        "name": filename or "",
    }


def _refused(
    response: httpx.Response, key: SecretStr, filename: str | None, by_url: bool
) -> PoeError:
    status = response.status_code
    detail = _excerpt(response, key)
    err = from_status(status, detail, response.headers.get("retry-after"))
    kind = err.kind
    if status == 413:
        # The file is too large: a bad request, not an overlong conversation.
        kind = PoeFailure.BAD_REQUEST
    elif status == 404:
        # The URL Poe had to fetch is gone (the client's fault), or the upload URL is wrong.
        kind = PoeFailure.BAD_REQUEST if by_url else PoeFailure.UPSTREAM
    what = f"the file `{filename}`" if filename else "the file"
    return PoeError(
        kind,
        f"Poe refused to upload {what} (HTTP {status}" + (f": {detail})" if detail else ")"),
        status=status,
        retryable=err.retryable,
        retry_after=err.retry_after,
    )


def _excerpt(response: httpx.Response, key: SecretStr) -> str:
    """Poe's reason, short, without the key should Poe have echoed it."""
    return redacted(short_body(response.content), key)
