"""Every error a chat client can meet: status, type, code, and what the SDKs do with it."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

USER = [{"role": "user", "content": "hi"}]


def post(service, body: dict | bytes, key: str | None = "k", **headers: str) -> httpx.Response:
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    return httpx.post(service.url + "/v1/chat/completions", headers=headers, timeout=30, **kwargs)


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_missing_key_is_401_before_calling_poe(service, fake_poe):
    error = error_of(post(service, {"model": "status500", "messages": USER}, key=None), 401)
    assert error["code"] == "invalid_api_key"
    assert "status500" not in fake_poe.state.bot_calls
    sdk = openai.OpenAI(
        base_url=service.url + "/v1",
        api_key="unused",
        max_retries=0,
        default_headers={"Authorization": "Basic abc"},
    )
    with pytest.raises(openai.AuthenticationError):
        sdk.chat.completions.create(model="echobot", messages=USER)


@pytest.mark.parametrize("header", ["api-key", "x-api-key"])
def test_key_header_aliases(service, header):
    response = post(service, {"model": "echobot", "messages": USER}, key=None, **{header: "k"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("bot", "status", "type_", "code"),
    [
        ("status401", 401, "invalid_request_error", "invalid_api_key"),
        ("status403", 403, "permission_error", "forbidden"),
        ("no-such-bot", 404, "invalid_request_error", "model_not_found"),
        ("status429", 429, "rate_limit_error", "rate_limit_exceeded"),
        ("status500", 502, "upstream_error", "upstream_error"),
        ("garbage", 502, "upstream_error", "upstream_error"),
    ],
)
def test_upstream_http_failures(service, bot, status, type_, code):
    for stream in (False, True):
        # A Poe key that Poe answered 429 rests: the rest of the suite's key must not.
        key = f"k-{bot}-{stream}" if status == 429 else "k"
        body = {"model": bot, "messages": USER, "stream": stream}
        error = error_of(post(service, body, key=key), status)
        assert (error["type"], error["code"]) == (type_, code)


def test_rate_limit_carries_retry_after(service):
    response = post(service, {"model": "status429", "messages": USER}, key="k-resting")
    assert response.headers["retry-after"] == "30"
    assert response.headers["x-should-retry"] == "true"


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        ("rate", 429, "rate_limit_exceeded"),
        ("points", 402, "insufficient_quota"),
        ("long", 400, "context_length_exceeded"),
        ("denied", 403, "forbidden"),
        ("fatal", 502, "upstream_error"),
    ],
)
def test_error_events_before_output(service, message, status, code):
    body = {"model": "errorbot", "messages": [{"role": "user", "content": message}]}
    error = error_of(post(service, body), status)
    assert error["code"] == code
    if status == 429:
        assert "retry-after" in post(service, body).headers


def test_unknown_bot_names_the_model(service):
    error = error_of(post(service, {"model": "no-such-bot", "messages": USER}), 404)
    assert error["param"] == "model" and "no-such-bot" in error["message"]


def test_transient_failures_are_retried_before_output(service, fake_poe):
    response = post(service, {"model": "flaky", "messages": USER})
    assert response.json()["choices"][0]["message"]["content"] == "third time lucky"
    assert fake_poe.state.bot_calls["flaky"] == 3
    post(service, {"model": "status500", "messages": USER})
    assert fake_poe.state.bot_calls["status500"] == 3  # first try + POE_RETRIES (2)


def test_truncated_answer_is_an_error_and_not_retried(service, fake_poe):
    error = error_of(post(service, {"model": "truncated", "messages": USER}), 502)
    assert "ended before it was complete" in error["message"]
    assert fake_poe.state.bot_calls["truncated"] == 1  # text had arrived: never retried


def test_upstream_failures_say_whether_to_retry(service):
    assert (
        post(service, {"model": "status500", "messages": USER}).headers["x-should-retry"] == "true"
    )
    body = {"model": "errorbot", "messages": [{"role": "user", "content": "points"}]}
    assert post(service, body).headers["x-should-retry"] == "false"


def test_error_after_output_is_an_error_frame(service):
    body = {
        "model": "errorbot",
        "messages": [{"role": "user", "content": "after:fatal"}],
        "stream": True,
    }
    with httpx.stream(
        "POST",
        service.url + "/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer k"},
    ) as response:
        assert response.status_code == 200
        frames = [f[6:] for f in response.read().decode().split("\n\n") if f.startswith("data")]
    assert json.loads(frames[0])["choices"][0]["delta"]["content"] == "Partial answer"
    assert json.loads(frames[-1])["error"]["message"] == "The bot crashed"
    assert "[DONE]" not in frames
    client = openai.OpenAI(base_url=service.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIError, match="The bot crashed"):
        for _ in client.chat.completions.create(
            model="errorbot", stream=True, messages=[{"role": "user", "content": "after:fatal"}]
        ):
            pass


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "echobot", "messages": []}, "messages"),
        ({"model": "echobot"}, "messages"),
        ({"messages": USER}, "model"),
        ({"model": "echobot", "messages": USER, "temperature": False}, "temperature"),
        ({"model": "echobot", "messages": USER, "temperature": "0.5"}, "temperature"),
        ({"model": "echobot", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": "echobot", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0]"),
        ({"model": "echobot", "messages": USER, "n": 2}, "n"),
        ({"model": "echobot", "messages": USER, "stream": "yes"}, "stream"),
    ],
)
def test_bad_input_is_400_naming_the_param(service, body, param):
    error = error_of(post(service, body), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] is not None and error["param"].startswith(param)


def test_n_above_one_is_refused_by_name(service):
    # Through the contract's bound or the translation rule, the SDK sees a 400 naming `n`.
    client = openai.OpenAI(base_url=service.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="echobot", messages=USER, n=3)
    assert caught.value.body["param"] == "n"


@pytest.mark.parametrize(
    ("part", "param", "code"),
    [
        (
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@not base64@@"}},
            "messages[0].content[1].image_url.url",
            "invalid_base64",
        ),
        (
            {
                "type": "image_url",
                "image_url": {"url": "data:application/x-msdownload;base64,TVqQ"},
            },
            "messages[0].content[1].image_url.url",
            "unsupported_file_type",
        ),
        (
            {"type": "image_url", "image_url": {"url": "ftp://example.com/cat.png"}},
            "messages[0].content[1].image_url.url",
            "invalid_url",
        ),
        (
            {"type": "file", "file": {"file_id": "file-abc123"}},
            "messages[0].content[1].file.file_id",
            "unsupported_content",
        ),
    ],
)
def test_bad_file_parts_are_400_naming_the_part(service, fake_poe, part, param, code):
    body = {
        "model": "echobot",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "what is this"}, part]}],
    }
    error = error_of(post(service, body), 400)
    assert (error["param"], error["code"]) == (param, code)
    assert "echobot" not in fake_poe.state.bot_calls  # nothing half-sent to the bot


def test_upload_refused_by_poe_keeps_poes_reason(service):
    body = {
        "model": "echobot",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/refuse.png"}}
                ],
            }
        ],
    }
    error = error_of(post(service, body), 400)
    assert "The file type is not supported" in error["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b"null"])
def test_malformed_body_is_400(service, raw):
    error = error_of(post(service, raw), 400)
    assert error["type"] == "invalid_request_error"


def test_service_keeps_running_after_bad_input(service):
    for raw in (b"\xff\xfe", b'{"model": 1}', b"{" * 10000):
        post(service, raw)
    assert post(service, {"model": "echobot", "messages": USER}).status_code == 200
