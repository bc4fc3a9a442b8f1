"""Bot parameters as Poe's list declares them: what the client asked for reaches the bot under
the bot's own names and within its schema, the rest is dropped and named in a header. The
openai and anthropic SDKs against the real service and fastapi_poe echo bots."""

from __future__ import annotations

import json

import anthropic
import httpx
import openai
import pytest

from tests.support.fake_poe import MODEL_LIST, PARAMETER_BOTS, PRIVATE_ECHO
from tests.support.service import RunningService

DROPPED = "x-poe2openai-dropped-params"
ASK = [{"role": "user", "content": "query:"}]
SEARCH = {"type": "web_search_20250305", "name": "web_search"}


@pytest.fixture(scope="module")
def running(fake_poe):
    fake_poe.state.models = [*MODEL_LIST, *PARAMETER_BOTS]
    service = RunningService({"POE_BASE_URL": fake_poe.url}).start()
    # Requests never wait for Poe's list (it is fetched right after start).
    listed = openai.OpenAI(base_url=service.url + "/v1", api_key="k").models.list()
    assert "echo-gpt" in [model.id for model in listed]
    yield service
    service.stop()


@pytest.fixture
def chat(running) -> openai.OpenAI:
    return openai.OpenAI(base_url=running.url + "/v1", api_key="poe-key", max_retries=0)


@pytest.fixture
def messages(running) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=running.url, api_key="poe-key", max_retries=0)


def chat_parameters(chat, model: str, stream: bool, **request) -> tuple[dict, str | None]:
    """What the echo bot's last message carried as `parameters`, and the dropped header."""
    call = chat.chat.completions
    if stream:
        with call.with_streaming_response.create(
            model=model, messages=ASK, stream=True, **request
        ) as response:
            text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
            header = response.headers.get(DROPPED)
    else:
        raw = call.with_raw_response.create(model=model, messages=ASK, **request)
        text, header = raw.parse().choices[0].message.content, raw.headers.get(DROPPED)
    return json.loads(text)["query"][-1]["parameters"], header


def anthropic_parameters(messages, model: str, stream: bool, **request) -> tuple[dict, str | None]:
    call = messages.messages
    body = {"model": model, "max_tokens": 1000, "messages": ASK, **request}
    if stream:
        with call.with_streaming_response.create(stream=True, **body) as response:
            text = "".join(
                event.delta.text
                for event in response.parse()
                if event.type == "content_block_delta" and event.delta.type == "text_delta"
            )
            header = response.headers.get(DROPPED)
    else:
        raw = call.with_raw_response.create(**body)
        text, header = raw.parse().content[0].text, raw.headers.get(DROPPED)
    return json.loads(text)["query"][-1]["parameters"], header


@pytest.mark.parametrize("stream", [False, True])
def test_openai_controls_reach_the_bot_under_its_names_and_the_rest_is_named(chat, stream):
    parameters, dropped = chat_parameters(
        chat,
        "echo-gpt",
        stream,
        reasoning_effort="minimal",  # GPT-5.4's enum has none/low/...: the nearest is low
        user="someone",  # OpenAI's own fields are neither sent nor reported
        store=False,
        extra_body={"verbosity": "low", "web_search_options": {}, "top_k": 5, "seed_word": 1},
    )
    assert parameters == {"reasoning_effort": "low", "verbosity": "low", "web_search": True}
    assert dropped == "top_k, seed_word"


@pytest.mark.parametrize("stream", [False, True])
def test_a_thinking_budget_is_clamped_and_an_unusable_effort_named(chat, stream):
    parameters, dropped = chat_parameters(
        chat,
        "echo-claude",
        stream,
        reasoning_effort="high",
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 50000}, "web_search": True},
    )
    assert parameters == {"thinking_budget": 31999, "web_search": True}
    assert dropped == "reasoning_effort"  # the budget said it: the effort reached nothing


def test_nothing_dropped_means_no_header(chat):
    parameters, dropped = chat_parameters(chat, "echo-gemini", False, reasoning_effort="xhigh")
    assert (parameters, dropped) == ({"thinking_level": "high"}, None)


def test_declared_parameters_sent_directly_are_checked_against_their_schema(chat):
    parameters, dropped = chat_parameters(
        chat,
        "echo-gpt",
        False,
        extra_body={"reasoning_effort": "turbo", "verbosity": "HIGH", "web_search": "yes"},
    )
    assert parameters == {"verbosity": "high", "web_search": True}
    assert dropped == "reasoning_effort"


@pytest.mark.parametrize("stream", [False, True])
def test_a_private_bot_gets_explicit_parameters_unfiltered(chat, stream):
    parameters, dropped = chat_parameters(
        chat,
        PRIVATE_ECHO,
        stream,
        reasoning_effort="high",
        extra_body={
            "mode": "fast",
            "style": {"tone": "dry"},
            "thinking": {"type": "enabled", "budget_tokens": 2048},
        },
    )
    assert parameters == {"mode": "fast", "style": {"tone": "dry"}, "reasoning_effort": "high"}
    assert dropped == "thinking"  # no name for a budget can be known for a private bot


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_and_web_search_reach_the_bot(messages, stream):
    parameters, dropped = anthropic_parameters(
        messages,
        "echo-claude",
        stream,
        thinking={"type": "enabled", "budget_tokens": 40000},
        tools=[SEARCH],
    )
    assert (parameters, dropped) == ({"thinking_budget": 31999, "web_search": True}, None)


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_controls_under_other_names_and_the_rest_named(messages, stream):
    parameters, dropped = anthropic_parameters(
        messages,
        "echo-gemini",
        stream,
        thinking={"type": "adaptive"},  # Anthropic's default effort for it: high
        tools=[SEARCH],
        extra_body={"speed": "fast", "context_management": {"edits": []}},
    )
    assert parameters == {"thinking_level": "high", "enable_web_search": True}
    assert dropped == "speed"


def test_anthropic_budget_becomes_an_effort_level(messages):
    parameters, dropped = anthropic_parameters(
        messages, "echo-gpt", False, thinking={"type": "enabled", "budget_tokens": 2048}
    )
    assert (parameters, dropped) == ({"reasoning_effort": "low"}, None)


def test_dropped_parameters_are_logged_by_name_never_by_value(chat, running):
    chat_parameters(chat, "echo-gpt", False, extra_body={"secret_knob": "a-private-value-42"})
    lines = [line for line in running.log().splitlines() if "secret_knob" in line]
    assert lines and "echo-gpt" in lines[0]
    assert "a-private-value-42" not in running.log()


def test_browsers_may_read_the_dropped_parameters_header(running):
    response = httpx.post(
        running.url + "/v1/chat/completions",
        json={"model": "echo-gpt", "messages": ASK, "top_k": 1, "web_search_options": None},
        headers={"authorization": "Bearer k", "origin": "https://chat.example"},
    )
    assert response.headers[DROPPED] == "top_k"
    assert DROPPED in response.headers["access-control-expose-headers"]


def test_an_explicit_web_search_switch_reaches_the_bots_own_name(messages):
    parameters, dropped = anthropic_parameters(
        messages, "echo-gemini", False, extra_body={"web_search": True}
    )
    assert (parameters, dropped) == ({"enable_web_search": True}, None)
