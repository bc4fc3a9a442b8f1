"""The Anthropic Messages front: the official anthropic SDK (and raw HTTP for the exact frame
order) against the real service and fastapi_poe bots."""

from __future__ import annotations

import base64
import json

import anthropic
import httpx
import pytest

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"anthropic-image" * 4).decode()
TOOLS = [
    {
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    }
]
ASK = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture
def client(service) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=service.url, api_key="poe-key", max_retries=0)


def sent_query(client, content: list | str, **extra) -> list[dict]:
    """The Poe query the bot received (echobot echoes it for a message ending in `query:`)."""
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    messages = [{"role": "user", "content": [*content, {"type": "text", "text": "query:"}]}]
    answer = client.messages.create(model="echobot", max_tokens=100, messages=messages, **extra)
    return json.loads(answer.content[0].text)["query"]


def raw_events(service, body: dict, **headers: str) -> list[tuple[str, dict]]:
    text = httpx.post(
        service.url + "/v1/messages?beta=true",
        json={"max_tokens": 100, "stream": True, **body},
        headers={"x-api-key": "k", **headers},
        timeout=30,
    ).text
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_create_answers_in_anthropics_shape(client):
    message = client.messages.create(
        model="echobot", max_tokens=64, messages=[{"role": "user", "content": "hi there"}]
    )
    assert message.id.startswith("msg_") and message.type == "message"
    assert (message.role, message.model) == ("assistant", "echobot")
    assert [(b.type, b.text) for b in message.content] == [("text", "hi there")]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_system_text_and_blocks_become_the_system_message(client):
    for system in (
        "Be brief.",
        [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    ):
        query = sent_query(client, "x", system=system)
        assert (query[0]["role"], query[0]["content"]) == ("system", "Be brief.")


def test_options_reach_poe(client):
    answer = client.messages.create(
        model="echobot",
        max_tokens=10,
        stop_sequences=["END", "STOP"],
        metadata={"user_id": "u1"},
        messages=[{"role": "user", "content": "query:"}],
        extra_body={"temperature": 0.3, "top_k": 5, "top_p": 0.9},
    )
    body = json.loads(answer.content[0].text)
    assert body["temperature"] == 0.3 and body["stop_sequences"] == ["END", "STOP"]


def test_stream_and_final_message(client):
    with client.messages.stream(
        model="streambot", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "Hello, wörld ✓" and len(pieces) > 1
    assert [(b.type, b.text) for b in final.content] == [("text", "Hello, wörld ✓")]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


def test_stream_frames_come_in_the_order_the_sdk_requires(service):
    events = raw_events(
        service, {"model": "streambot", "messages": [{"role": "user", "content": "x"}]}
    )
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names[1] == "content_block_start" and names[-3] == "content_block_stop"
    assert set(names[2:-3]) == {"content_block_delta"}
    assert all(name == data["type"] for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] > 0
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] > 0


def test_thinking_becomes_a_thinking_block_before_the_text(client, service):
    message = client.messages.create(
        model="thinkbot",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "think"}],
    )
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Let me think.\nStill thinking."
    assert message.content[0].signature
    assert message.content[1].text == "The answer is 42."
    with client.messages.stream(
        model="thinkbot", max_tokens=2048, messages=[{"role": "user", "content": "think"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.model_dump()["content"] == message.model_dump()["content"]
    kinds = [
        data["delta"]["type"]
        for name, data in raw_events(service, {"model": "thinkbot", "messages": ASK})
        if name == "content_block_delta"
    ]
    assert kinds.index("signature_delta") < kinds.index("text_delta")
    assert kinds.count("signature_delta") == 1


def _tool_loop(client, model: str, stream: bool) -> tuple[list, str]:
    kwargs = {"model": model, "max_tokens": 256, "tools": TOOLS}
    if stream:
        with client.messages.stream(messages=ASK, **kwargs) as s:
            first = s.get_final_message()
    else:
        first = client.messages.create(messages=ASK, **kwargs)
    assert first.stop_reason == "tool_use"
    calls = [b for b in first.content if b.type == "tool_use"]
    results = [
        {"type": "tool_result", "tool_use_id": c.id, "content": "sunny, 24°C"} for c in calls
    ]
    messages = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {"role": "user", "content": results},
    ]
    second = client.messages.create(messages=messages, **kwargs)
    assert second.stop_reason == "end_turn"
    return calls, second.content[0].text


@pytest.mark.parametrize("stream", [False, True])
def test_native_tool_loop(client, stream):
    calls, answer = _tool_loop(client, "toolbot", stream)
    assert [(c.id, c.name, c.input) for c in calls] == [
        ("call_w1", "get_weather", {"city": "Paris", "days": 3})
    ]
    assert answer == "Tool get_weather said: sunny, 24°C (calls seen: 1)"


@pytest.mark.parametrize("stream", [False, True])
def test_prompted_tool_loop(client, models_yaml, stream):
    models_yaml({"prompttoolbot": {"tools": "prompt"}})
    calls, answer = _tool_loop(client, "prompttoolbot", stream)
    assert [(c.name, c.input) for c in calls] == [("get_weather", {"city": "Paris", "days": 3})]
    assert answer == "It is sunny in Paris."


def test_tool_input_streams_as_json_fragments_after_the_text(service, models_yaml):
    models_yaml({"prompttoolbot": {"tools": "prompt"}})
    events = raw_events(service, {"model": "prompttoolbot", "messages": ASK, "tools": TOOLS})
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use"]
    assert starts[1]["input"] == {} and starts[1]["name"] == "get_weather"
    fragments = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert json.loads("".join(fragments)) == {"city": "Paris", "days": 3}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_tool_errors_reach_the_bot(client, models_yaml):
    models_yaml({"echobot": {"tools": "prompt"}})
    messages = [
        *ASK,
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": "no such city",
                    "is_error": True,
                },
                {"type": "text", "text": "query:"},
            ],
        },
    ]
    answer = client.messages.create(model="echobot", max_tokens=50, tools=TOOLS, messages=messages)
    query = json.loads(answer.content[0].text)["query"]
    said = "\n".join(m["content"] for m in query)
    assert '<tool_result id="t1" name="get_weather">\nError: no such city' in said
    assert '"name": "get_weather"' in said and '"city": "Paris"' in said


def test_thinking_blocks_sent_back_are_accepted(client):
    messages = [
        {"role": "user", "content": "first"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "redacted_thinking", "data": "xyz"},
                {"type": "text", "text": "answer one"},
            ],
        },
        {"role": "user", "content": "query:"},
    ]
    answer = client.messages.create(model="echobot", max_tokens=50, messages=messages)
    query = json.loads(answer.content[0].text)["query"]
    assert [(m["role"], m["content"]) for m in query] == [
        ("user", "first"),
        ("bot", "answer one"),
        ("user", "query:"),
    ]


def test_images_and_documents_are_uploaded_and_attached(client, fake_poe):
    query = sent_query(
        client,
        [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {
                "type": "document",
                "source": {
                    "type": "base64",
                    "media_type": "application/pdf",
                    "data": base64.b64encode(b"%PDF-1.4 x").decode(),
                },
                "title": "report.pdf",
            },
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "plain words"},
                "title": "Notes",
            },
        ],
    )
    attachments = query[-1]["attachments"]
    assert [a["content_type"] for a in attachments] == [
        "image/png",
        "image/jpeg",
        "application/pdf",
    ]
    assert attachments[2]["name"] == "report.pdf"
    assert "Notes\n\nplain words" in query[-1]["content"]
    assert {u["kind"] for u in fake_poe.state.uploads} == {"bytes", "url"}


def test_a_bad_image_is_refused_naming_the_block(client):
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="echobot",
            max_tokens=10,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "@@@"},
                        }
                    ],
                }
            ],
        )
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert "messages[0].content[0]" in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "exception", "status", "type_"),
    [
        (
            {"model": "errorbot", "content": "rate"},
            anthropic.RateLimitError,
            429,
            "rate_limit_error",
        ),
        (
            {"model": "errorbot", "content": "points"},
            anthropic.APIStatusError,
            402,
            "billing_error",
        ),
        (
            {"model": "errorbot", "content": "denied"},
            anthropic.PermissionDeniedError,
            403,
            "permission_error",
        ),
        ({"model": "no-such-bot", "content": "x"}, anthropic.NotFoundError, 404, "not_found_error"),
        (
            {"model": "status401", "content": "x"},
            anthropic.AuthenticationError,
            401,
            "authentication_error",
        ),
        ({"model": "status500", "content": "x"}, anthropic.APIStatusError, 502, "api_error"),
    ],
)
def test_errors_are_the_sdks_exception_classes(client, kwargs, exception, status, type_):
    with pytest.raises(exception) as caught:
        client.messages.create(
            model=kwargs["model"],
            max_tokens=10,
            messages=[{"role": "user", "content": kwargs["content"]}],
        )
    assert caught.value.status_code == status
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == type_
    assert caught.value.response.headers["request-id"]
    if status == 429:
        assert caught.value.response.headers["retry-after"]


def test_a_missing_key_and_a_bad_body_are_the_sdks_errors(service, client):
    keyless = httpx.post(
        service.url + "/v1/messages",
        json={"model": "echobot", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
    )
    assert keyless.status_code == 401
    assert keyless.json()["error"]["type"] == "authentication_error"
    response = httpx.post(
        service.url + "/v1/messages",
        json={"model": "echobot", "messages": [{"role": "user", "content": "x"}]},
        headers={"x-api-key": "k"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": response.json()["error"]["message"]},
    }
    assert "max_tokens" in response.json()["error"]["message"]


def test_an_error_after_output_is_an_error_event(client, service):
    events = raw_events(
        service, {"model": "errorbot", "messages": [{"role": "user", "content": "after:fatal"}]}
    )
    assert events[0][0] == "message_start"
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "api_error", "message": "The bot crashed"}},
    )
    with (
        pytest.raises(anthropic.APIStatusError),
        client.messages.stream(
            model="errorbot", max_tokens=10, messages=[{"role": "user", "content": "after:fatal"}]
        ) as stream,
    ):
        stream.get_final_message()


def test_count_tokens_matches_usage(client):
    messages = [{"role": "user", "content": "How many tokens is this sentence?"}]
    counted = client.messages.count_tokens(model="echobot", messages=messages, system="Be brief.")
    answered = client.messages.create(
        model="echobot", max_tokens=10, messages=messages, system="Be brief."
    )
    assert counted.input_tokens == answered.usage.input_tokens > 0


def test_anthropic_style_ids_reach_the_poe_bot_of_the_same_family(client):
    for name in (
        "claude-sonnet-4-6",
        "claude-sonnet-4-6-20250929",
        "Claude-Sonnet-4.6",
        "claude-sonnet-4.6",
    ):
        with pytest.raises(anthropic.NotFoundError) as caught:  # the fake Poe runs no such bot
            client.messages.create(
                model=name, max_tokens=5, messages=[{"role": "user", "content": "x"}]
            )
        assert "`claude-sonnet-4.6` does not exist on Poe" in caught.value.message


def test_model_list_in_anthropics_shape(client, service):
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert "echobot" in ids and all(m.type == "model" for m in models.data)
    assert models.data[0].created_at.year >= 2024
    echo = client.models.retrieve("echobot")
    assert (echo.id, echo.display_name) == ("echobot", "EchoBot")
    plain = httpx.get(service.url + "/v1/models").json()
    assert plain["object"] == "list"  # without anthropic-version: OpenAI's shape


def test_unknown_betas_and_fields_are_accepted(service):
    response = httpx.post(
        service.url + "/v1/messages?beta=true",
        json={
            "model": "echobot",
            "max_tokens": 10,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "text",
                            "text": "ok",
                            "cache_control": {"type": "ephemeral", "scope": "new"},
                        }
                    ],
                }
            ],
            "context_management": {"edits": []},
            "thinking": {"type": "adaptive"},
            "service_tier": "auto",
        },
        headers={
            "authorization": "Bearer k",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,some-future-beta-2099-01-01",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "ok"


def test_server_tools_map_to_a_declared_bot_parameter_or_are_refused(client):
    search = {"type": "web_search_20250305", "name": "web_search"}
    query = sent_query(client, "x", tools=[search])
    assert query[-1]["parameters"] == {"web_search": True}
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="streambot",
            max_tokens=5,
            tools=[search],
            messages=[{"role": "user", "content": "x"}],
        )
    assert "web_search_20250305" in caught.value.message


def test_thinking_budget_reaches_the_bots_parameter(client):
    query = sent_query(client, "x", thinking={"type": "enabled", "budget_tokens": 2048})
    assert query[-1]["parameters"] == {"thinking_budget": 2048}


def test_unversioned_paths(service):
    response = httpx.post(
        service.url + "/messages",
        json={
            "model": "echobot",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hey"}],
        },
        headers={"x-api-key": "k"},
    )
    assert response.json()["content"][0]["text"] == "hey"
    counted = httpx.post(
        service.url + "/messages/count_tokens",
        json={"model": "echobot", "messages": [{"role": "user", "content": "hey"}]},
        headers={"x-api-key": "k"},
    )
    assert counted.json()["input_tokens"] > 0


def test_silence_is_kept_alive_with_pings_after_message_start(start_service, fake_poe):
    running = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "KEEPALIVE_INTERVAL": "0.3",
            "POE_FIRST_EVENT_TIMEOUT": "1.2",
        }
    )
    slow = raw_events(running, {"model": "slow", "messages": ASK})
    assert slow[0][0] == "message_start" and ("ping", {"type": "ping"}) in slow
    text = "".join(d["delta"].get("text", "") for n, d in slow if n == "content_block_delta")
    assert text == "slow late" and slow[-1][0] == "message_stop"
    # Silent from the start: the SDK refuses any event before message_start, pings included;
    # a failure after the stream is committed arrives as an error event.
    hung = raw_events(running, {"model": "hang", "messages": ASK})
    assert [n for n, _ in hung[:2]] == ["message_start", "ping"]
    assert hung[-1][0] == "error" and hung[-1][1]["error"]["type"] == "timeout_error"


def test_tool_choice_reaches_the_bot(client, models_yaml):
    models_yaml({"echobot": {"tools": "prompt"}})
    forced = sent_query(
        client, "x", tools=TOOLS, tool_choice={"type": "tool", "name": "get_weather"}
    )
    assert 'you must call the function "get_weather"' in forced[0]["content"]
    any_tool = sent_query(client, "x", tools=TOOLS, tool_choice={"type": "any"})
    assert "you must call at least one function" in any_tool[0]["content"]
    single = sent_query(
        client, "x", tools=TOOLS, tool_choice={"type": "auto", "disable_parallel_tool_use": True}
    )
    assert "at most one call" in single[0]["content"]
    nothing = sent_query(client, "x", tools=TOOLS, tool_choice={"type": "none"})
    assert all("<tool_call>" not in m["content"] for m in nothing)


def test_bot_images_are_markdown_links_in_the_text(client):
    message = client.messages.create(
        model="filebot", max_tokens=10, messages=[{"role": "user", "content": "draw"}]
    )
    (block,) = message.content
    assert "![a cat](https://pfst.cf2.poecdn.net/base/image/cat.png)" in block.text
    assert "[report.pdf](https://pfst.cf2.poecdn.net/base/text/report.pdf)" in block.text


def test_a_body_over_the_limit_is_anthropics_413(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "MAX_REQUEST_SIZE": "2000"})
    response = httpx.post(
        running.url + "/v1/messages",
        json={
            "model": "echobot",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x" * 5000}],
        },
        headers={"x-api-key": "k"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"
