"""Who is calling: resolved once per request, before any work is done for it.

Today every caller brings its own Poe key (passthrough). The key is a `SecretStr` from the
header to the Poe client, so no repr, log line or error can show it; server-held keys and
issued client keys slot in here without the fronts or the core changing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from service.errors import ErrorKind, ServiceError

# What a key can be made of (visible ASCII, as RFC 6750 tokens): anything else could not be
# sent on to Poe in a header.
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True)
class Caller:
    poe_key: SecretStr


def caller_from_headers(headers: Mapping[str, str]) -> Caller:
    """The caller's Poe key: `Authorization: Bearer`, or `x-api-key` (the anthropic SDK's
    header) or `api-key` (Azure-style OpenAI clients)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    key = key or headers.get("x-api-key", "").strip() or headers.get("api-key", "").strip()
    if not key:
        raise ServiceError(
            ErrorKind.AUTHENTICATION,
            "Missing API key: send your Poe API key (poe.com/api_key) "
            "as `Authorization: Bearer <key>` or `x-api-key: <key>`",
            code="invalid_api_key",
        )
    if not _KEY_CHARS.fullmatch(key):
        raise ServiceError(
            ErrorKind.AUTHENTICATION,
            "The API key holds characters no Poe key has (only visible ASCII is possible)",
            code="invalid_api_key",
        )
    return Caller(SecretStr(key))
