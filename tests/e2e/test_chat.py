"""POST /v1/chat/completions end to end: the official openai SDK against the real service and
fastapi_poe bots on 127.0.0.1, for each Poe event kind."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="test-key", max_retries=0)


@pytest.fixture
async def aclient(service):
    async with openai.AsyncOpenAI(
        base_url=service.url + "/v1", api_key="test-key", max_retries=0
    ) as client:
        yield client


def raw_frames(http: httpx.Client, body: dict) -> list[str]:
    """The `data:` payloads of a streamed answer, exactly as sent."""
    with http.stream(
        "POST",
        "/v1/chat/completions",
        json={**body, "stream": True},
        headers={"authorization": "Bearer k"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        text = response.read().decode()
    return [line[6:] for line in text.split("\n\n") if line.startswith("data: ")]


def test_non_stream_answer(client):
    completion = client.chat.completions.create(
        model="echobot", messages=[{"role": "user", "content": "ping pong"}]
    )
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "echobot"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "ping pong"
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage.completion_tokens == 2  # "ping pong" in o200k_base
    assert usage.prompt_tokens > 2
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_unversioned_path(service):
    response = httpx.post(
        service.url + "/chat/completions",
        json={"model": "echobot", "messages": USER},
        headers={"authorization": "Bearer k"},
    )
    assert response.json()["choices"][0]["message"]["content"] == "hi"


def test_request_translation(client):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {
            "role": "system",
            "content": [
                {"type": "text", "text": "Really brief.", "cache_control": {"type": "ephemeral"}}
            ],
        },
        {"role": "user", "content": "first", "name": "ann"},
        {"role": "assistant", "content": "answer", "reasoning_content": "hmm"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "two"}, {"type": "text", "text": "parts"}],
        },
        {"role": "user", "content": "query:"},
    ]
    completion = client.chat.completions.create(
        model="echobot",
        messages=messages,
        temperature=0.3,
        stop=["a", "b", "c", "d", "e"],
        logit_bias={"123": -100},
        top_p=0.5,
        seed=7,
        n=1,
        max_completion_tokens=50,
        extra_body={"metadata": {"x": 1}, "store": False, "user": {"id": "u1"}},
    )
    sent = json.loads(completion.choices[0].message.content)
    assert [(m["role"], m["content"]) for m in sent["query"]] == [
        ("system", "Be brief.\n\nReally brief."),
        ("user", "first"),
        ("bot", "answer"),
        ("user", "two\nparts\n\nquery:"),
    ]
    assert sent["temperature"] == 0.3
    assert sent["stop_sequences"] == ["a", "b", "c", "d", "e"]
    assert sent["logit_bias"] == {"123": -100.0}


def test_stream_chunks_follow_the_rules(http):
    frames = raw_frames(http, {"model": "streambot", "messages": USER})
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    assert all("role" not in d for d in deltas[1:])
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[-1] == "stop" and finishes.count(None) == len(finishes) - 1
    content = "".join(d.get("content") or "" for d in deltas)
    assert content == "Hello, wörld ✓"  # no suggested reply, no data metadata
    assert all("usage" not in c for c in chunks)


def test_stream_with_sdk(client):
    stream = client.chat.completions.create(model="streambot", messages=USER, stream=True)
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == "Hello, wörld ✓"


def test_stream_helper(client):
    with client.chat.completions.stream(model="streambot", messages=USER) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello, wörld ✓"
    assert final.choices[0].finish_reason == "stop"


@pytest.mark.anyio
async def test_async_stream_helper(aclient):
    async with aclient.chat.completions.stream(model="streambot", messages=USER) as stream:
        deltas = [event.delta async for event in stream if event.type == "content.delta"]
    assert "".join(deltas) == "Hello, wörld ✓"


@pytest.mark.anyio
async def test_async_create(aclient):
    completion = await aclient.chat.completions.create(model="echobot", messages=USER)
    assert completion.choices[0].message.content == "hi"


def test_stream_usage_chunk(http, client):
    frames = raw_frames(
        http, {"model": "streambot", "messages": USER, "stream_options": {"include_usage": True}}
    )
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] > 0
    assert last["usage"]["total_tokens"] == (
        last["usage"]["prompt_tokens"] + last["usage"]["completion_tokens"]
    )
    stream = client.chat.completions.create(
        model="streambot", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    usage = [c.usage for c in stream if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens > 0


@pytest.mark.parametrize(
    ("message", "whole", "streamed"),
    [
        ("rewrite", "Final answer", "Draft answer\n\nFinal answer"),
        ("extend", "Hello world!", "Hello world!"),
    ],
)
def test_replace_response(client, message, whole, streamed):
    messages = [{"role": "user", "content": message}]
    completion = client.chat.completions.create(model="replacebot", messages=messages)
    assert completion.choices[0].message.content == whole
    with client.chat.completions.stream(model="replacebot", messages=messages) as stream:
        assert stream.get_final_completion().choices[0].message.content == streamed


FILE_ANSWER = (
    "Here is a cat: ![a cat](https://pfst.cf2.poecdn.net/base/image/cat.png) and a "
    "report.\n\n[report.pdf](https://pfst.cf2.poecdn.net/base/text/report.pdf)"
)


def test_files_become_markdown(client):
    completion = client.chat.completions.create(model="filebot", messages=USER)
    assert completion.choices[0].message.content == FILE_ANSWER
    with client.chat.completions.stream(model="filebot", messages=USER) as stream:
        assert stream.get_final_completion().choices[0].message.content == FILE_ANSWER


def test_json_event_content_is_carried(client):
    completion = client.chat.completions.create(model="jsonbot", messages=USER)
    assert completion.choices[0].message.content == "Before json. Inside json."


def test_lenient_input_is_accepted(service):
    image = "data:image/png;base64," + "A" * 3_000_000
    body = {
        "model": "echobot",
        "messages": [
            {"role": "system", "content": ""},
            {"role": "user", "content": "look"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": [{"type": "text", "text": "result"}],
            },
            {"role": "user", "content": "ok"},
        ],
        "stop": ["1", "2", "3", "4", "5", "6"],
        "max_completion_tokens": 10,
        "presence_penalty": 0,
        "frequency_penalty": 0,
        "logprobs": False,
        "n": 1,
        "user": {"id": 1},
        "metadata": {"a": "b"},
        "reasoning": {"effort": "low"},
        "store": True,
        "unknown_field": [1, 2],
        "padding": image,
    }
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer k"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    # Without tools in the request, the tool turn reaches the bot as text; "ok" comes last.
    assert response.json()["choices"][0]["message"]["content"].endswith("</tool_result>\n\nok")


def test_estimated_usage_when_configured(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "USAGE_TOKENIZER": "estimate"})
    response = httpx.post(
        running.url + "/v1/chat/completions",
        headers={"authorization": "Bearer k"},
        json={"model": "echobot", "messages": [{"role": "user", "content": "ping pong!!!"}]},
    )
    assert response.json()["usage"]["completion_tokens"] == 3  # 12 bytes / 4
