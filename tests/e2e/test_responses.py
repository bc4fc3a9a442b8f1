"""The Responses front: the official openai SDK (and raw HTTP for the exact event order)
against the real service and fastapi_poe bots."""

from __future__ import annotations

import base64
import json

import httpx
import openai
import pytest

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
        "strict": False,
    }
]
ASK = [{"role": "user", "content": "Weather in Paris?"}]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"responses-image" * 4).decode()


@pytest.fixture
def client(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="poe-key", max_retries=0)


def sent_query(client, content: list | str, **extra) -> list[dict]:
    """The Poe query the bot received (echobot echoes it for a message ending in `query:`)."""
    if isinstance(content, str):
        content = [{"type": "input_text", "text": content}]
    items = [*extra.pop("before", []), {"role": "user", "content": [*content, _text("query:")]}]
    response = client.responses.create(model="echobot", input=items, **extra)
    return json.loads(response.output_text)["query"]


def _text(text: str) -> dict:
    return {"type": "input_text", "text": text}


def raw_events(url: str, body: dict) -> list[tuple[str, dict]]:
    """(event name, data) of each frame of a streamed response, exactly as sent."""
    with httpx.stream(
        "POST",
        url + "/v1/responses",
        json={**body, "stream": True},
        headers={"authorization": "Bearer k"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = []
    for frame in text.strip().split("\n\n"):
        lines = [line for line in frame.split("\n") if not line.startswith(":")]
        if lines:
            fields = dict(line.split(": ", 1) for line in lines)
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_create_answers_a_string_input_with_a_response_object(client):
    response = client.responses.create(model="echobot", input="ping pong", metadata={"a": "b"})
    assert response.id.startswith("resp_") and response.object == "response"
    assert (response.status, response.model, response.error) == ("completed", "echobot", None)
    [message] = response.output
    assert message.type == "message" and message.id.startswith("msg_")
    assert (message.role, message.status) == ("assistant", "completed")
    assert [(c.type, c.text, c.annotations) for c in message.content] == [
        ("output_text", "ping pong", [])
    ]
    assert response.output_text == "ping pong"
    usage = response.usage
    assert usage.output_tokens == 2 and usage.input_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.input_tokens_details.cache_write_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    # The request's settings are echoed; stored by default, as OpenAI does.
    assert response.metadata == {"a": "b"} and response.tools == []
    assert (response.tool_choice, response.parallel_tool_calls) == ("auto", True)
    assert (response.store, response.previous_response_id) == (True, None)
    assert response.text.format.type == "text"


def test_text_format_and_settings_are_accepted_and_echoed(client):
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    text = {
        "format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True},
        "verbosity": "low",
    }
    response = client.responses.create(
        model="echobot",
        input="x",
        text=text,
        top_p=0.5,
        truncation="auto",
        prompt_cache_key="k1",
        extra_body={"client_metadata": {"a": "b"}, "some_new_field": [1]},
    )
    fmt = response.text.format
    assert (fmt.type, fmt.name, fmt.schema_, fmt.strict) == ("json_schema", "answer", schema, True)
    assert response.text.verbosity == "low"
    assert (response.top_p, response.truncation) == (0.5, "auto")


def test_unversioned_path(service):
    response = httpx.post(
        service.url + "/responses",
        json={"model": "echobot", "input": "hi"},
        headers={"authorization": "Bearer k"},
    )
    assert response.json()["output"][0]["content"][0]["text"] == "hi"


def test_items_and_instructions_become_the_poe_conversation(client):
    query = sent_query(
        client,
        "last",
        instructions="Be brief.",
        before=[
            {"role": "developer", "content": "Really brief."},
            {"type": "message", "role": "user", "content": [_text("first")]},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "answer", "annotations": []}],
            },
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        ],
        temperature=0.3,
    )
    assert [(m["role"], m["content"]) for m in query] == [
        ("system", "Be brief.\n\nReally brief."),
        ("user", "first"),
        ("bot", "answer\n\nno"),
        ("user", "last\nquery:"),
    ]


def test_temperature_reaches_poe(client):
    response = client.responses.create(model="echobot", input="query:", temperature=0.3)
    assert json.loads(response.output_text)["temperature"] == 0.3
    assert response.temperature == 0.3


def test_images_by_data_uri_and_files_are_attached(client, fake_poe):
    pdf = base64.b64encode(b"%PDF-1.4 responses").decode()
    query = sent_query(
        client,
        [
            {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"},
            # Files of their own: uploads are cached per caller, across test modules too.
            {"type": "input_image", "image_url": "https://example.com/responses-cat.jpg"},
            {
                "type": "input_file",
                "filename": "report.pdf",
                "file_data": f"data:application/pdf;base64,{pdf}",
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
    assert {u["kind"] for u in fake_poe.state.uploads} == {"bytes", "url"}


def test_file_ids_and_empty_images_are_refused_naming_the_part(client):
    for part, param in (
        ({"type": "input_image", "file_id": "file-123", "detail": "auto"}, ".file_id"),
        ({"type": "input_file", "file_id": "file-123"}, ".file_id"),
        ({"type": "input_image", "detail": "auto"}, ".image_url"),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(
                model="echobot", input=[{"role": "user", "content": [_text("x"), part]}]
            )
        assert caught.value.body["param"] == "input[0].content[1]" + param


def test_stream_and_final_response(client):
    with client.responses.stream(model="streambot", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "Hello, wörld ✓" and len(deltas) > 1
    assert final.output_text == "Hello, wörld ✓" and final.status == "completed"
    assert final.usage.output_tokens > 0 and final.id.startswith("resp_")


@pytest.mark.parametrize("stream", [False, True])
def test_function_tool_loop_with_the_items_sent_back(client, stream):
    if stream:
        with client.responses.stream(model="toolbot", input=ASK, tools=TOOLS) as s:
            first = s.get_final_response()
    else:
        first = client.responses.create(model="toolbot", input=ASK, tools=TOOLS)
    [call] = first.output
    assert call.type == "function_call" and call.id.startswith("fc_")
    assert (call.call_id, call.name, call.status) == ("call_w1", "get_weather", "completed")
    assert json.loads(call.arguments) == {"city": "Paris", "days": 3}
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24°C"}
    second = client.responses.create(
        model="toolbot",
        input=[*ASK, *(item.model_dump(exclude_none=True) for item in first.output), result],
        tools=TOOLS,
    )
    assert second.output_text == "Tool get_weather said: sunny, 24°C (calls seen: 1)"


def test_tool_choice_and_parallel_calls_reach_the_bot(client):
    response = client.responses.create(
        model="twotoolbot",
        input="x",
        tools=TOOLS,
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
    )
    message, *calls = response.output
    assert "get_weather" in message.content[0].text  # the instruction in the system message
    assert [c.call_id for c in calls] == ["call_a"]  # only the first call is kept
    assert response.tool_choice.name == "get_weather" and response.parallel_tool_calls is False


def test_reasoning_becomes_a_reasoning_item_with_summary_text(client):
    response = client.responses.create(
        model="thinkbot", input="x", reasoning={"effort": "high", "summary": "auto"}
    )
    reasoning, message = response.output
    assert message.type == "message"
    assert reasoning.type == "reasoning" and reasoning.id.startswith("rs_")
    assert [(s.type, s.text) for s in reasoning.summary] == [
        ("summary_text", "Let me think.\nStill thinking.")
    ]
    assert response.output_text == "The answer is 42."
    assert response.usage.output_tokens_details.reasoning_tokens > 0
    assert response.reasoning.effort == "high"


def test_reasoning_effort_reaches_the_bots_parameter(client):
    query = sent_query(client, "x", reasoning={"effort": "low"})
    assert query[-1]["parameters"] == {"reasoning_effort": "low"}


def test_reasoning_items_sent_back_are_accepted_in_any_order(client):
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "thought"}],
        "encrypted_content": "opaque",
    }
    query = sent_query(
        client,
        "x",
        # A reasoning item first, one without the item that followed it, one at the end
        # of the earlier turns: none of them is an error, and none reaches the bot.
        before=[
            reasoning,
            {"role": "user", "content": "first"},
            {**reasoning, "id": "rs_2"},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            {"role": "assistant", "content": "answer"},
            {**reasoning, "id": "rs_3"},
        ],
        include=["reasoning.encrypted_content"],
        store=False,
    )
    assert [(m["role"], m["content"]) for m in query] == [
        ("user", "first"),
        ("bot", "answer"),
        ("user", "x\nquery:"),
    ]
    assert "thought" not in json.dumps(query)


def test_web_search_maps_to_a_declared_bot_parameter_or_is_refused(client):
    query = sent_query(client, "x", tools=[{"type": "web_search_preview"}])
    assert query[-1]["parameters"] == {"web_search": True}
    for model, tool in (("streambot", "web_search"), ("echobot", "file_search")):
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model=model, input="x", tools=[{"type": tool}])
        assert caught.value.body["param"] == "tools[0]" and f"`{tool}`" in caught.value.message


def test_an_answer_cut_at_a_length_limit_is_incomplete(client, service):
    response = client.responses.create(model="cutbot", input="x", max_output_tokens=64)
    assert response.status == "incomplete" and response.max_output_tokens == 64
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "The answer was"
    events = raw_events(service.url, {"model": "cutbot", "input": "x"})
    assert events[-1][0] == "response.incomplete"
    last = events[-1][1]["response"]
    assert last["status"] == "incomplete" and last["usage"]["output_tokens"] > 0
    assert last["incomplete_details"] == {"reason": "max_output_tokens"}


def test_stream_events_come_in_the_order_the_sdk_and_codex_require(service):
    events = raw_events(service.url, {"model": "thinktoolbot", "input": "x", "tools": TOOLS})
    names = [name for name, _ in events]
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",  # reasoning
        "response.reasoning_summary_part.added",
        *["response.reasoning_summary_text.delta"]
        * names.count("response.reasoning_summary_text.delta"),
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",  # message
        "response.content_part.added",
        *["response.output_text.delta"] * names.count("response.output_text.delta"),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",  # function call
        *["response.function_call_arguments.delta"] * 2,
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert all(name == data["type"] for name, data in events)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    created = events[0][1]["response"]
    assert (created["status"], created["output"]) == ("in_progress", [])
    items = [d["item"] for n, d in events if n == "response.output_item.done"]
    assert [i["type"] for i in items] == ["reasoning", "message", "function_call"]
    for name, data in events[2:-1]:
        assert data["output_index"] in (0, 1, 2)
        if name != "response.output_item.added" and name != "response.output_item.done":
            assert data["item_id"] == items[data["output_index"]]["id"]
    text = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    thought = "".join(d["delta"] for n, d in events if n == "response.reasoning_summary_text.delta")
    assert (thought, text) == ("Which city?", "Let me look.")
    assert items[2]["call_id"] == "call_t1" and items[2]["arguments"] == '{"city": "Paris"}'
    completed = events[-1][1]["response"]
    assert completed["status"] == "completed" and completed["output"] == items
    assert completed["id"] == created["id"]
    usage = completed["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens_details"]["reasoning_tokens"] > 0


def test_a_codex_shaped_request_streams_to_completion(service):
    """The body Codex CLI sends: earlier turns re-sent with their reasoning (encrypted, as
    OpenAI gave it), store false, include, prompt_cache_key, text.verbosity, client_metadata."""
    shell = {
        "type": "function",
        "name": "shell",
        "description": "Runs a shell command",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}},
            "required": ["command"],
            "additionalProperties": False,
        },
    }
    body = {
        "model": "streambot",
        "instructions": "You are a coding agent.",
        "input": [
            {"type": "message", "role": "user", "content": [_text("list the files")]},
            {
                "type": "reasoning",
                "id": "rs_0",
                "summary": [],
                "content": None,
                "encrypted_content": "gAAAA-opaque",
            },
            {
                "type": "function_call",
                "id": None,
                "call_id": "call_0",
                "name": "shell",
                "arguments": '{"command":["ls"]}',
            },
            {"type": "function_call_output", "call_id": "call_0", "output": "README.md"},
            {"type": "message", "role": "user", "content": [_text("thanks")]},
        ],
        "tools": [shell],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0b5c-session",
        "text": {"verbosity": "medium"},
        "client_metadata": {"x-codex-turn": "2"},
    }
    events = raw_events(service.url, body)
    assert events[0][0] == "response.created" and events[-1][0] == "response.completed"
    completed = events[-1][1]["response"]
    assert completed["id"].startswith("resp_")
    assert completed["output"][0]["content"][0]["text"] == "Hello, wörld ✓"
    assert set(completed["usage"]) >= {"input_tokens", "output_tokens", "total_tokens"}


def test_a_failure_mid_stream_ends_with_response_failed(client, service):
    events = raw_events(service.url, {"model": "errorbot", "input": "after:rate"})
    assert events[0][0] == "response.created" and events[-1][0] == "response.failed"
    failed = events[-1][1]["response"]
    assert failed["status"] == "failed" and failed["id"] == events[0][1]["response"]["id"]
    assert failed["error"]["code"] == "rate_limit_exceeded"
    assert "try again in 10s" in failed["error"]["message"]
    assert failed["output"][0]["content"][0]["text"] == "Partial answer"
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    with client.responses.stream(model="errorbot", input="after:points") as stream:
        last = list(stream)[-1]
    assert last.type == "response.failed"
    assert last.response.error.code == "insufficient_quota"


def test_errors_before_the_stream_are_openai_error_bodies(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="no-such-bot", input="x")
    assert caught.value.body["param"] == "model" and "no-such-bot" in caught.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-bot", input="x", stream=True)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="echobot", input="x", temperature=5)
    assert caught.value.body["param"] == "temperature"
    assert caught.value.body["type"] == "invalid_request_error"
    # An item names its own bad field, not the union of input shapes it is one of.
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model="echobot", input=[{"type": "function_call", "name": "f", "arguments": "{}"}]
        )
    assert caught.value.body["param"] == "input[0].call_id"


def test_an_unknown_previous_response_id_is_a_400_naming_it(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="echobot", input="x", previous_response_id="resp_1")
    assert caught.value.body["param"] == "previous_response_id"
    assert caught.value.code == "previous_response_not_found"


def test_input_tokens_match_usage(client):
    body = {"model": "echobot", "input": ASK, "instructions": "Be brief.", "tools": TOOLS}
    counted = client.responses.input_tokens.count(**body)
    answered = client.responses.create(**body)
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == answered.usage.input_tokens > 0


def raw_text(url: str, body: dict) -> str:
    with httpx.stream(
        "POST",
        url + "/v1/responses",
        json={**body, "stream": True},
        headers={"authorization": "Bearer k"},
        timeout=30,
    ) as response:
        return response.read().decode()


def test_silence_is_kept_alive_and_the_stream_still_completes(start_service, fake_poe):
    running = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "KEEPALIVE_INTERVAL": "0.3",
            "POE_FIRST_EVENT_TIMEOUT": "1.2",
        }
    )
    for model in ("slow", "hang"):
        text = raw_text(running.url, {"model": model, "input": "x"})
        assert text.startswith("event: response.created") and ": ping\n\n" in text
    events = raw_events(running.url, {"model": "slow", "input": "x"})
    assert events[-1][0] == "response.completed"
    assert events[-1][1]["response"]["output"][0]["content"][0]["text"] == "slow late"
    # Silent from the start: the first keep-alive opens the response (clients refuse anything
    # before response.created), and Poe's timeout then ends it with response.failed.
    events = raw_events(running.url, {"model": "hang", "input": "x"})
    assert [name for name, _ in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    assert events[-1][1]["response"]["error"]["code"] == "server_error"
