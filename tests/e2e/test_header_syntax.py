"""Malformed request heads, sent raw: a 400 (431 for an oversized head) in the error shape of the
API the path belongs to, never a request served as if nothing were wrong."""

from __future__ import annotations

import pytest

from tests.support.raw_http import exchange_now

OPENAI_KEYS = {"message", "type", "param", "code"}


def request(path: str, *headers: bytes) -> bytes:
    lines = [f"GET {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", *headers, b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def assert_error_shape(answer, path: str) -> str:
    body = answer.json()
    if path.startswith("/v1/messages"):
        assert body["type"] == "error"
        assert body["error"]["type"] == "invalid_request_error"
        return body["error"]["message"]
    assert set(body["error"]) == OPENAI_KEYS
    assert body["error"]["type"] == "invalid_request_error"
    return body["error"]["message"]


MALFORMED = {
    "space in a name": b"X Bad: 1",
    "space before the colon": b"X-Bad : 1",
    "empty name": b": 1",
    "folded line": b"X-Ok: 1\r\n folded: 2",
    "NUL in a value": b"X-Bad: a\x00b",
    "control character in a value": b"X-Bad: a\x01b",
    "lone LF in a value": b"X-Bad: a\nInjected: 1",
    "lone CR in a value": b"X-Bad: a\rb",
}


@pytest.mark.parametrize("path", ["/healthz", "/v1/messages"])
@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_header_is_400_in_the_paths_shape(service, path, header):
    answer = exchange_now(service.port, request(path, header))
    assert answer.status == 400
    assert "Header" in assert_error_shape(answer, path)


@pytest.mark.parametrize("path", ["/healthz", "/v1/messages"])
def test_oversized_header_block_is_431_about_the_headers(service, path):
    answer = exchange_now(service.port, request(path, b"X-Big: " + b"a" * 20_000))
    assert answer.status == 431
    message = assert_error_shape(answer, path)
    assert "header" in message and "body" not in message


def test_unusual_but_valid_headers_are_served(service):
    answer = exchange_now(
        service.port,
        request(
            "/healthz",
            b"X-Tab: a\tb",  # TAB is allowed in values
            b"X-Latin1: caf\xe9",  # so are obs-text bytes
            b"X!#$%&'*+.^_`|~-9: token characters",
        ),
    )
    assert answer.status == 200
    assert answer.json()["status"] == "ok"
