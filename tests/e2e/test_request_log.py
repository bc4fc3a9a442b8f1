"""The request log: one INFO line per request, written when it is over, with the request id on
every line logged while serving it, as text or as JSON; never a key."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest

# Recognisable in any log line, should it ever leak.
KEY = "sk-poe-LEAKCHECK-7f3a9c1e5b"
AUTH = {"Authorization": f"Bearer {KEY}"}
USER = [{"role": "user", "content": "a private message text"}]


def rid() -> str:
    return "test-" + uuid.uuid4().hex


def lines_of(service, request_id: str, timeout: float = 10) -> list[str]:
    """The log lines tagged with this request id, once its request line is written."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in service.log().splitlines() if f"[{request_id}]" in line]
        if any(" poe2openai.request " in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def request_line(service, request_id: str) -> str:
    found = [line for line in lines_of(service, request_id) if " poe2openai.request " in line]
    assert len(found) == 1, service.log()[-3000:]
    return found[0]


def fields(line: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", line.split(": ", 1)[1]))


def test_non_stream_chat_logs_model_as_asked_and_bot_as_resolved(service, models_yaml):
    models_yaml({"echobot": {"mapping": "my-echo"}})
    request_id = rid()
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json={"model": "my-echo", "messages": USER},
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    )
    assert response.status_code == 200
    line = request_line(service, request_id)
    assert re.search(
        r"^\S+ \S+ INFO poe2openai\.request \[test-\w+\]: POST /v1/chat/completions 200 ", line
    )
    got = fields(line)
    assert (got["model"], got["bot"], got["outcome"]) == ("my-echo", "echobot", "ok")
    usage = response.json()["usage"]
    assert got["tokens"] == f"{usage['prompt_tokens']}/{usage['completion_tokens']}"
    assert float(got["ttfb_ms"]) <= float(got["duration_ms"])
    assert "a private message text" not in service.log()


def test_stream_is_logged_when_it_ends(service):
    request_id = rid()
    body = {
        "model": "streambot",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream(
        "POST",
        service.url + "/v1/chat/completions",
        json=body,
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    ) as response:
        text = response.read().decode()
    assert text.rstrip().endswith("data: [DONE]")
    usage = json.loads(text.split("data: ")[-2])["usage"]
    got = fields(request_line(service, request_id))
    assert (got["model"], got["bot"], got["outcome"]) == ("streambot", "streambot", "ok")
    assert got["tokens"] == f"{usage['prompt_tokens']}/{usage['completion_tokens']}"
    assert float(got["ttfb_ms"]) <= float(got["duration_ms"])


def test_anthropic_message_is_logged_the_same_way(service):
    request_id = rid()
    response = httpx.post(
        service.url + "/v1/messages",
        json={"model": "echobot", "max_tokens": 100, "messages": USER},
        headers={"x-api-key": KEY, "x-request-id": request_id},
        timeout=30,
    )
    assert response.status_code == 200
    line = request_line(service, request_id)
    assert " POST /v1/messages 200 " in line
    got = fields(line)
    usage = response.json()["usage"]
    assert (got["model"], got["bot"], got["outcome"]) == ("echobot", "echobot", "ok")
    assert got["tokens"] == f"{usage['input_tokens']}/{usage['output_tokens']}"


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        ({"model": "errorbot", "messages": [{"role": "user", "content": "rate"}]}, "429",
         "rate_limit_exceeded"),
        ({"model": "status404", "messages": USER}, "404", "model_not_found"),
        ({"model": "echobot", "messages": USER, "n": 2}, "400", "-"),
    ],
)  # fmt: skip
def test_errors_are_logged_with_their_status_and_kind(service, body, status, outcome):
    request_id = rid()
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json=body,
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    )
    assert str(response.status_code) == status
    line = request_line(service, request_id)
    assert f" POST /v1/chat/completions {status} " in line
    code = response.json()["error"]["code"]
    assert fields(line)["outcome"] == (outcome if outcome != "-" else code or "invalid_request")


def test_error_mid_stream_is_the_outcome_of_a_200(service):
    request_id = rid()
    body = {
        "model": "errorbot",
        "stream": True,
        "messages": [{"role": "user", "content": "after:fatal"}],
    }
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json=body,
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    )
    assert response.status_code == 200 and '"error"' in response.text
    lines = lines_of(service, request_id)
    assert any("WARNING poe2openai.http" in line and "mid-answer" in line for line in lines)
    got = fields(request_line(service, request_id))
    assert got["outcome"] == "upstream_error"


def test_client_that_goes_away_mid_stream(service):
    request_id = rid()
    body = {"model": "stall", "messages": USER, "stream": True}
    with httpx.stream(
        "POST",
        service.url + "/v1/chat/completions",
        json=body,
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    ) as response:
        for chunk in response.iter_bytes():
            assert b"stalling" in chunk
            break  # leave mid-stream: the bot would go on for 30 s
    line = request_line(service, request_id)
    assert " POST /v1/chat/completions 200 " in line
    got = fields(line)
    assert (got["bot"], got["outcome"]) == ("stall", "client_disconnected")
    assert float(got["duration_ms"]) < 10_000


def test_upstream_warning_carries_the_request_id(service):
    request_id = rid()
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json={"model": "flaky", "messages": USER},
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    )
    assert response.status_code == 200
    lines = lines_of(service, request_id)
    retries = [line for line in lines if " WARNING poe2openai.poe " in line]
    assert len(retries) == 2 and "retrying" in retries[0]
    assert fields(request_line(service, request_id))["outcome"] == "ok"


def test_no_key_in_any_log_line(service):
    ids = [rid() for _ in range(4)]
    calls = [
        ("/v1/chat/completions", {"model": "echobot", "messages": USER}),
        ("/v1/chat/completions", {"model": "echokeyevent", "messages": USER}),
        ("/v1/chat/completions", {"model": "echokeystatus", "messages": USER, "stream": True}),
        ("/v1/messages", {"model": "status401", "max_tokens": 5, "messages": USER}),
    ]
    for request_id, (path, body) in zip(ids, calls, strict=True):
        httpx.post(
            service.url + path, json=body, headers={**AUTH, "x-request-id": request_id}, timeout=30
        )
    for request_id in ids:
        request_line(service, request_id)  # every request was logged...
    assert KEY not in service.log()  # ...and no line holds the key


def test_json_format_writes_every_line_as_json(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "LOG_FORMAT": "json"})
    request_id = rid()
    httpx.post(
        running.url + "/v1/chat/completions",
        json={"model": "flaky", "messages": USER},
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    )
    deadline = time.monotonic() + 10
    while '"logger": "poe2openai.request"' not in running.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    running.stop()
    entries = [json.loads(line) for line in running.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    mine = [entry for entry in entries if entry.get("request_id") == request_id]
    assert [e["level"] for e in mine if e["logger"] == "poe2openai.poe"] == ["WARNING"] * 2
    [logged] = [e for e in mine if e["logger"] == "poe2openai.request"]
    assert logged["method"] == "POST" and logged["path"] == "/v1/chat/completions"
    assert (logged["status"], logged["model"], logged["bot"]) == (200, "flaky", "flaky")
    assert logged["outcome"] == "ok" and logged["duration_ms"] >= logged["ttfb_ms"] >= 0
    assert isinstance(logged["prompt_tokens"], int) and isinstance(logged["completion_tokens"], int)
    assert KEY not in running.log()
