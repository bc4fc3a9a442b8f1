"""Request bodies as JSON, with the limits every front shares.

`json.loads` alone lets through what later fails deep inside (a 500 with a traceback): nesting
deep enough to exhaust the recursion limit in validation or serialisation, NaN and Infinity
(not JSON, and forwarded to Poe as invalid JSON), and lone UTF-16 surrogates (`"\\ud800"`), which
no UTF-8 encoder can write. Each is refused here with a 400 that names it.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from service.errors import invalid, invalid_json, invalid_request

Body = TypeVar("Body", bound=BaseModel)

# Deeper than any real request (a JSON schema of tool parameters included); documented in the
# README. Python's own recursion limit sits near 1,000.
MAX_DEPTH = 64

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # a cheap pre-filter: pairs match too
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # after decoding, a pair is one code point


class _NotJson(ValueError):
    pass


def _refuse(constant: str) -> Any:
    raise _NotJson(constant)


def parse_body(body: bytes, model: type[Body]) -> Body:
    """A request body as its generated contract model; a 400 naming the bad field."""
    data = load_json(body)
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise invalid_request(exc, data) from None


def load_json(body: bytes) -> Any:
    try:
        data = json.loads(body, parse_constant=_refuse)
    except _NotJson as exc:
        raise invalid(f"`{exc}` is not JSON: send numbers only", code="invalid_json") from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise invalid_json() from None
    # Counting brackets is C-speed; only a body that could be deep is walked.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH or _SURROGATE_ESCAPE.search(body):
        _check(data)
    return data


def _too_deep() -> Exception:
    return invalid(
        f"The request body is nested deeper than {MAX_DEPTH} levels", code="too_deeply_nested"
    )


def _check(data: Any) -> None:
    """Depth and lone surrogates, without recursion (the data may be arbitrarily deep)."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise invalid(
                    "A string holds a lone UTF-16 surrogate (such as \\ud800), which is not text",
                    param=path or "body",
                    code="invalid_unicode",
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, depth, path))
                stack.append((item, depth + 1, f"{path}.{key}" if path else key))
        else:
            stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value))
