"""Slow clients on 127.0.0.1, bounded in number and time: trickled headers and bodies are cut
within their deadlines (a 408 in the path's error shape when an answer can still be sent) while
ordinary requests are served; a slow but steady upload passes; connections near the open-file
limit are reported."""

from __future__ import annotations

import asyncio
import json
import resource
import time

import httpx
import pytest

from tests.support.raw_http import RawAnswer, exchange
from tests.support.service import RunningService

HEADER_TIMEOUT = 1.0
BODY_GRACE = 1.0
MIN_RATE = 1000  # bytes/s
# A cut may come one sweep late (a quarter of the deadline here); the rest is a busy machine.
SLACK = 1.5
SLOW_SOCKETS = 40
KEY = {"authorization": "Bearer k"}
CHAT = {"model": "echobot", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def guarded(fake_poe):
    running = RunningService(
        {
            "POE_BASE_URL": fake_poe.url,
            "CLIENT_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "CLIENT_BODY_GRACE": str(BODY_GRACE),
            "CLIENT_BODY_MIN_RATE": str(MIN_RATE),
        }
    ).start()
    # The first completion waits for the tokenizer to load: not what these tests measure.
    httpx.post(running.url + "/v1/chat/completions", json=CHAT, headers=KEY, timeout=30)
    yield running
    running.stop()


def head(method: str, path: str, *headers: str, end: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + ("\r\n\r\n" if end else "\r\n")).encode()


async def while_serving(url: str, slow: list) -> tuple[list[RawAnswer], list[float]]:
    """Run the slow exchanges; meanwhile make ordinary requests, one after another, until they
    are all over. Returns the slow answers and the ordinary requests' durations."""
    held = asyncio.gather(*slow)
    durations = []
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        await asyncio.sleep(0.2)  # let the slow sockets connect first
        while not held.done():
            started = time.monotonic()
            health = await client.get("/healthz")
            chat = await client.post("/v1/chat/completions", json=CHAT, headers=KEY)
            assert health.status_code == 200
            assert chat.status_code == 200
            assert chat.json()["choices"][0]["message"]["content"]
            durations.append(time.monotonic() - started)
    return await held, durations


def assert_408(answer: RawAnswer, path: str, within: float, names: str) -> None:
    assert answer.closed_after is not None, "the slow connection was never cut"
    assert answer.closed_after < within
    assert answer.status == 408
    body = answer.json()
    if path == "/v1/messages":
        assert body["type"] == "error"
        error = body["error"]
    else:
        error = body["error"]
        assert error["code"] == "request_timeout"
    assert error["type"] == "timeout_error"
    assert names in error["message"]


def run(coro):
    return asyncio.run(coro)


PATHS = ["/v1/chat/completions", "/v1/messages"]


def test_trickled_headers_are_cut_while_others_are_served(guarded):
    slow = [
        exchange(
            guarded.port,
            head("POST", PATHS[i % 2], end=False),
            drip=b"X-Slow: " + b"a" * 100,
            wait=HEADER_TIMEOUT + SLACK + 2,
        )
        for i in range(SLOW_SOCKETS)
    ]
    answers, durations = run(while_serving(guarded.url, slow))
    for i, answer in enumerate(answers):
        assert_408(answer, PATHS[i % 2], HEADER_TIMEOUT + SLACK, "CLIENT_HEADER_TIMEOUT")
    assert len(durations) >= 3 and max(durations) < 1


def test_trickled_body_is_cut_while_others_are_served(guarded):
    slow = [
        exchange(
            guarded.port,
            head("POST", PATHS[i % 2], "Content-Type: application/json", "Content-Length: 5000"),
            drip=b" " * 100,  # 5 bytes/s
            wait=BODY_GRACE + SLACK + 2,
        )
        for i in range(SLOW_SOCKETS)
    ]
    answers, durations = run(while_serving(guarded.url, slow))
    for i, answer in enumerate(answers):
        assert_408(answer, PATHS[i % 2], BODY_GRACE + SLACK, "CLIENT_BODY_MIN_RATE")
    assert len(durations) >= 3 and max(durations) < 1


def test_silent_connection_is_closed(guarded):
    answer = run(exchange(guarded.port, b"", wait=HEADER_TIMEOUT + SLACK + 2))
    assert answer.closed_after is not None and answer.closed_after < HEADER_TIMEOUT + SLACK
    assert answer.data == b""  # nothing was asked: nothing to answer


def test_body_trickled_after_an_early_answer_is_cut(guarded):
    # Sanic reads (and throws away) the body of a request it answered early (here a 404).
    answer = run(
        exchange(
            guarded.port,
            head("POST", "/v1/nope", "Content-Length: 5000"),
            drip=b" " * 100,
            wait=BODY_GRACE + SLACK + 2,
        )
    )
    assert answer.status == 404
    assert answer.closed_after is not None and answer.closed_after < BODY_GRACE + SLACK


def test_slow_but_steady_upload_passes(guarded):
    # Four times the minimum rate, for twice the grace: a slow link, not a slowloris.
    body = json.dumps(CHAT).encode().ljust(8000)  # JSON allows trailing whitespace
    chunks = [body[i : i + 400] for i in range(0, len(body), 400)]

    async def upload() -> RawAnswer:
        reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
        writer.write(
            head(
                "POST",
                "/v1/chat/completions",
                "Authorization: Bearer k",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
                "Connection: close",
            )
        )
        for chunk in chunks:
            await asyncio.sleep(0.1)
            writer.write(chunk)
        data = await asyncio.wait_for(reader.read(-1), 5)
        writer.close()
        return RawAnswer(data, None)

    started = time.monotonic()
    answer = run(upload())
    assert time.monotonic() - started > 2 * BODY_GRACE
    assert answer.status == 200
    assert answer.json()["choices"][0]["message"]["content"]


FILE_LIMIT = 64  # the service holds ~16 descriptors idle


def _low_file_limit() -> None:
    # Soft and hard: the service lifts its soft limit to the hard one at start.
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def test_connections_near_the_file_limit_are_reported(fake_poe):
    running = RunningService({"POE_BASE_URL": fake_poe.url}, preexec_fn=_low_file_limit).start()
    try:

        async def hold() -> None:
            # 30 connections: with a Poe connection each, 60 of the 64 descriptors.
            opened = [await asyncio.open_connection("127.0.0.1", running.port) for _ in range(30)]
            try:
                deadline = time.monotonic() + 5
                while "client connections open" not in running.log():
                    assert time.monotonic() < deadline, running.log()
                    await asyncio.sleep(0.1)
            finally:
                for _, writer in opened:
                    writer.close()

        run(hold())
        warning = next(line for line in running.log().splitlines() if "connections open" in line)
        assert "WARNING" in warning
        assert "30 client connections open" in warning
        assert f"of {FILE_LIMIT}" in warning
        assert "RLIMIT_NOFILE" in warning
        assert httpx.get(running.url + "/healthz").status_code == 200
    finally:
        running.stop()
