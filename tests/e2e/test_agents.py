"""What agents need beyond plain chat: tool loops (native and prompted), reasoning, bot
parameters, generated images. The openai SDK against the real service and fastapi_poe bots."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            },
        },
    }
]
ASK = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture
def client(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="k", max_retries=0)


def tool_loop(client, model: str, stream: bool) -> tuple[list, str]:
    """Two turns: the bot calls get_weather, the client answers, the bot replies."""
    if stream:
        with client.chat.completions.stream(model=model, messages=ASK, tools=TOOLS) as s:
            first = s.get_final_completion()
    else:
        first = client.chat.completions.create(model=model, messages=ASK, tools=TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    messages = [*ASK, choice.message.model_dump(exclude_none=True)]
    messages += [{"role": "tool", "tool_call_id": c.id, "content": "sunny, 24°C"} for c in calls]
    second = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    return calls, second.choices[0].message.content


@pytest.mark.parametrize("stream", [False, True])
def test_native_tool_loop(client, stream):
    calls, answer = tool_loop(client, "toolbot", stream)
    assert len(calls) == 1
    assert calls[0].id == "call_w1" and calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "days": 3}
    assert answer == "Tool get_weather said: sunny, 24°C (calls seen: 1)"


@pytest.mark.parametrize("stream", [False, True])
def test_prompted_tool_loop(client, models_yaml, stream):
    models_yaml({"prompttoolbot": {"tools": "prompt"}})
    calls, answer = tool_loop(client, "prompttoolbot", stream)
    assert len(calls) == 1 and calls[0].function.name == "get_weather"
    # Typed by the tool's schema: "3" was written as a string, the schema says integer.
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "days": 3}
    assert answer == "It is sunny in Paris."


def test_prompted_tool_stream_has_no_call_syntax_in_content(service, models_yaml):
    models_yaml({"prompttoolbot": {"tools": "prompt"}})
    body = {"model": "prompttoolbot", "messages": ASK, "tools": TOOLS, "stream": True}
    text = httpx.post(
        service.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
    ).text
    chunks = [json.loads(f[6:]) for f in text.split("\n\n") if f.startswith("data: {")]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert content == "Let me check."
    assert "<tool_call>" not in text and "tool_call>" not in content


def test_native_tool_stream_deltas_follow_the_sdk_rules(service):
    body = {"model": "toolbot", "messages": ASK, "tools": TOOLS, "stream": True}
    text = httpx.post(
        service.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
    ).text
    chunks = [json.loads(f[6:]) for f in text.split("\n\n") if f.startswith("data: {")]
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls") or []]
    assert all("index" in d for d in deltas)
    assert [d.get("id") for d in deltas] == ["call_w1", None, None, None]
    assert sum(1 for d in deltas if "name" in d.get("function", {})) == 1
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[-1] == "tool_calls" and finishes.count(None) == len(finishes) - 1


def test_tool_choice_none_sends_no_tools(client):
    answer = client.chat.completions.create(
        model="echobot",
        tools=TOOLS,
        tool_choice="none",
        messages=[{"role": "user", "content": "query:"}],
    )
    assert "tools" not in json.loads(answer.choices[0].message.content)


@pytest.mark.parametrize(
    ("mode", "content", "reasoning"),
    [
        ("reasoning_content", "The answer is 42.", "Let me think.\nStill thinking."),
        (
            "think_tags",
            "<think>\nLet me think.\nStill thinking.\n</think>\n\nThe answer is 42.",
            None,
        ),
        ("drop", "The answer is 42.", None),
    ],
)
def test_reasoning_modes(client, models_yaml, mode, content, reasoning):
    if mode != "reasoning_content":
        models_yaml({"thinkbot": {"reasoning": mode}})
    whole = client.chat.completions.create(model="thinkbot", messages=ASK).choices[0].message
    assert whole.content == content
    assert getattr(whole, "reasoning_content", None) == reasoning
    streamed = client.chat.completions.create(model="thinkbot", messages=ASK, stream=True)
    got_content, got_reasoning = "", ""
    for chunk in streamed:
        delta = chunk.choices[0].delta
        got_content += delta.content or ""
        got_reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
    assert got_content == content
    assert got_reasoning == (reasoning or "")


def test_declared_parameters_reach_the_bot(client, models_yaml):
    models_yaml({"echobot": {"parameters": {"web_search": False}}})
    answer = client.chat.completions.create(
        model="echobot",
        messages=[{"role": "user", "content": "query:"}],
        reasoning_effort="high",
        extra_body={
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "web_search": True,
            "not_declared": 1,
        },
    )
    sent = json.loads(answer.choices[0].message.content)["query"][-1]["parameters"]
    assert sent == {"web_search": True, "reasoning_effort": "high", "thinking_budget": 2048}


def test_generated_images_are_listed(client):
    message = client.chat.completions.create(model="filebot", messages=ASK).choices[0].message
    assert message.model_extra["images"] == [
        {
            "type": "image_url",
            "image_url": {"url": "https://pfst.cf2.poecdn.net/base/image/cat.png"},
        }
    ]


def _stream_chunks(service, body: dict) -> list[dict]:
    text = httpx.post(
        service.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
    ).text
    return [json.loads(f[6:]) for f in text.split("\n\n") if f.startswith("data: {")]


def test_held_back_prompted_calls_are_sent_once_and_counted_once(service, models_yaml, client):
    models_yaml({"prompttoolbot": {"tools": "prompt", "replace_response": True}})
    body = {"model": "prompttoolbot", "messages": ASK, "tools": TOOLS}
    chunks = _stream_chunks(
        service, {**body, "stream": True, "stream_options": {"include_usage": True}}
    )
    calls = [
        d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert len(calls) == 1 and calls[0]["index"] == 0
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "days": 3}
    whole = client.chat.completions.create(**body)
    assert chunks[-1]["usage"]["completion_tokens"] == whole.usage.completion_tokens


def test_a_model_is_reached_under_its_overridden_display_name(client, models_yaml):
    models_yaml({"echobot": {"display_name": "My Echo"}})
    assert client.models.retrieve("My Echo").id == "echobot"
    answer = client.chat.completions.create(
        model="My Echo", messages=[{"role": "user", "content": "hello there"}]
    )
    assert answer.choices[0].message.content == "hello there"
    assert answer.model == "My Echo"  # as the client asked for it


ASK_WEATHER = [{"role": "user", "content": "Weather in Paris and Rome?"}]


@pytest.mark.parametrize(
    ("choice", "told"),
    [
        ("required", "you must call at least one of the functions"),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            'call the function "get_weather"',
        ),
    ],
)
def test_tool_choice_reaches_a_native_tools_bot_in_words(client, choice, told):
    # Poe's protocol has no tool_choice: it was dropped for bots on native tools.
    answer = client.chat.completions.create(
        model="twotoolbot", tools=TOOLS, tool_choice=choice, messages=ASK_WEATHER
    )
    assert told in answer.choices[0].message.content


def test_auto_tool_choice_adds_no_instruction(client):
    answer = client.chat.completions.create(model="twotoolbot", tools=TOOLS, messages=ASK_WEATHER)
    assert answer.choices[0].message.content == "system: "
    assert [c.id for c in answer.choices[0].message.tool_calls] == ["call_a", "call_b"]


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_calls_false_returns_only_the_first_call(client, service, stream):
    body = {"model": "twotoolbot", "tools": TOOLS, "parallel_tool_calls": False}
    if stream:
        with client.chat.completions.stream(messages=ASK_WEATHER, **body) as events:
            message = events.get_final_completion().choices[0].message
    else:
        message = client.chat.completions.create(messages=ASK_WEATHER, **body).choices[0].message
    assert [(c.id, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("call_a", {"city": "Paris"})
    ]
    assert "at most one function call" in message.content  # and the bot was told
    assert "the tool calls after the first were dropped" in service.log()


@pytest.mark.parametrize("stream", [False, True])
def test_a_call_written_in_the_text_form_of_earlier_rounds_is_a_call(client, stream):
    """Poe gives a native-tools bot only the latest round natively; earlier ones it reads as
    text, and a model that answers in that form makes a call, not text with tags in it."""
    calls, _ = tool_loop(client, "toolbot", stream=False)
    messages = [*ASK, {"role": "assistant", "tool_calls": [c.model_dump() for c in calls]}]
    messages += [{"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"}]
    messages += [{"role": "assistant", "content": "Sunny in Paris."}]
    messages += [{"role": "user", "content": "And Rome?"}]
    messages += [{"role": "assistant", "tool_calls": [{**calls[0].model_dump(), "id": "c2"}]}]
    messages += [{"role": "tool", "tool_call_id": "c2", "content": "rainy"}]
    if stream:
        with client.chat.completions.stream(model="toolbot", messages=messages, tools=TOOLS) as s:
            answer = s.get_final_completion().choices[0]
    else:
        answer = client.chat.completions.create(
            model="toolbot", messages=messages, tools=TOOLS
        ).choices[0]
    assert answer.finish_reason == "tool_calls"
    assert answer.message.content == "One more city.\n"
    (call,) = answer.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Rome", "days": 2}
