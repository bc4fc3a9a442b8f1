"""Fault tests on 127.0.0.1, bounded in count and time: Poe refuses, hangs, stalls, drops;
clients that go away mid-stream leave nothing open behind them."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.support.service import free_port

USER = [{"role": "user", "content": "hi"}]
KEY = {"authorization": "Bearer k"}


def chat(url: str, bot: str, stream: bool = False) -> httpx.Response:
    body = {"model": bot, "messages": USER, "stream": stream}
    return httpx.post(url + "/v1/chat/completions", json=body, headers=KEY, timeout=30)


def frames(response: httpx.Response) -> list[dict]:
    return [
        json.loads(f[6:])
        for f in response.text.split("\n\n")
        if f.startswith("data: ") and f != "data: [DONE]"
    ]


def test_poe_refuses_connections(start_service):
    running = start_service({"POE_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    for stream in (False, True):
        response = chat(running.url, "echobot", stream)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "upstream_unreachable"
    assert "retrying" in running.log()


@pytest.fixture
def impatient(start_service, fake_poe):
    return start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "POE_FIRST_EVENT_TIMEOUT": "1",
            "POE_IDLE_TIMEOUT": "1",
            "KEEPALIVE_INTERVAL": "5",
        }
    )


def test_no_first_event_in_time_is_504(impatient):
    for stream in (False, True):
        started = time.monotonic()
        response = chat(impatient.url, "hang", stream)
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "upstream_timeout"
        assert time.monotonic() - started < 5


def test_stall_mid_stream_ends_with_an_error_frame(impatient):
    response = chat(impatient.url, "stall", stream=True)
    assert response.status_code == 200
    chunks = frames(response)
    assert chunks[0]["choices"][0]["delta"]["content"] == "stalling"
    assert chunks[-1]["error"]["code"] == "upstream_timeout"
    assert chat(impatient.url, "stall").status_code == 504


def test_drop_mid_stream(service):
    response = chat(service.url, "drop", stream=True)
    chunks = frames(response)
    assert chunks[0]["choices"][0]["delta"]["content"] == "dropping"
    assert chunks[-1]["error"]["type"] == "upstream_error"
    assert chat(service.url, "drop").status_code == 502


def test_pings_while_poe_is_silent(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "KEEPALIVE_INTERVAL": "0.3"})
    response = chat(running.url, "slow", stream=True)
    assert ": ping\n\n" in response.text
    assert (
        "".join(
            c["choices"][0]["delta"].get("content", "") for c in frames(response) if c["choices"]
        )
        == "slow late"
    )
    # Before any output, silence longer than the interval commits the stream with pings, so
    # a later failure arrives as an error frame.
    running2 = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "KEEPALIVE_INTERVAL": "0.3",
            "POE_FIRST_EVENT_TIMEOUT": "1.2",
        }
    )
    response = chat(running2.url, "hang", stream=True)
    assert response.status_code == 200
    assert response.text.startswith(": ping\n\n")
    assert frames(response)[-1]["error"]["code"] == "upstream_timeout"


def test_aborting_clients_leave_no_upstream_connection_or_task(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url})
    httpx.get(running.url + "/healthz")
    tasks_before = httpx.get(running.url + "/healthz").json()["tasks"]
    connections_before = fake_poe.open_connections()

    async def abort_one(client: httpx.AsyncClient) -> None:
        body = {"model": "stall", "messages": USER, "stream": True}
        async with client.stream(
            "POST", "/v1/chat/completions", json=body, headers=KEY
        ) as response:
            async for chunk in response.aiter_bytes():
                assert b"stalling" in chunk
                return  # leave mid-stream

    async def abort_many() -> None:
        limits = httpx.Limits(max_connections=250)
        async with httpx.AsyncClient(base_url=running.url, limits=limits, timeout=20) as client:
            await asyncio.gather(*(abort_one(client) for _ in range(200)))

    asyncio.run(abort_many())
    deadline = time.monotonic() + 1  # "cancels the upstream request within a second"
    while time.monotonic() < deadline:
        health = httpx.get(running.url + "/healthz").json()
        if (
            fake_poe.open_connections() <= connections_before
            and health["open_streams"] == 0
            and health["tasks"] <= tasks_before
        ):
            break
        time.sleep(0.05)
    assert fake_poe.open_connections() <= connections_before
    assert health["open_streams"] == 0
    assert health["tasks"] <= tasks_before
    assert fake_poe.state.bot_calls["stall"] == 200
    assert chat(running.url, "echobot").status_code == 200
