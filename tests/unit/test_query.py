from __future__ import annotations

import pytest

from generated.admin import ModelSettings
from generated.openai import CreateChatCompletionRequest
from service.core.catalog import ResolvedModel
from service.core.query import build_query
from service.errors import ServiceError
from service.fronts.openai.chat_request import to_conversation


def resolved(settings=None, entry=None) -> ResolvedModel:
    return ResolvedModel.of("m", "m", ModelSettings.model_validate(settings or {}), entry)


def plan(settings=None, entry=None, attachments=None, **body):
    request = CreateChatCompletionRequest.model_validate({"model": "m", **body}, strict=True)
    return build_query(to_conversation(request), resolved(settings, entry), attachments)


def query(settings=None, entry=None, **body):
    return plan(settings, entry, **body).query


def test_roles_merge_and_params():
    q = query(
        messages=[
            {"role": "developer", "content": "d"},
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u", "name": "ann"},
            {"role": "assistant", "content": None},
            {"role": "user", "content": ""},
        ],
        temperature=0.2,
        stop="END",
        logit_bias={"5": 1},
    )
    assert [(m["role"], m["content"]) for m in q["query"]] == [
        ("system", "d\n\ns"),
        ("user", "u"),
        ("bot", ""),
        ("user", ""),
    ]
    assert q["query"][1]["sender"] == {"name": "ann"}
    assert q["temperature"] == 0.2
    assert q["stop_sequences"] == ["END"]
    assert q["logit_bias"] == {"5": 1}
    assert (q["version"], q["type"], q["user_id"]) == ("1.2", "query", "")


def test_unset_options_are_not_sent():
    q = query(messages=[{"role": "user", "content": "x"}])
    assert not {"temperature", "stop_sequences", "logit_bias"} & set(q)


def test_n_above_one_is_refused():
    with pytest.raises(ServiceError) as caught:
        to_conversation(CreateChatCompletionRequest.model_construct(model="m", messages=[], n=2))
    assert (caught.value.status, caught.value.param) == (400, "n")


def test_uploaded_files_are_attached_to_their_message():
    image = {"url": "https://poecdn.net/a.png", "content_type": "image/png", "name": "a.png"}
    q = plan(
        attachments={(2, 1): image},
        messages=[
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "x"},
                    {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}},
                ],
            },
        ],
    ).query
    assert [m["attachments"] for m in q["query"]] == [[], [], [image]]
    assert q["query"][2]["content"] == "x"


TOOL = {"type": "function", "function": {"name": "f"}}


def test_tool_mode_defaults():
    assert resolved({}, None).tool_mode == "native"  # a private bot: the protocol's own way
    assert resolved({}, {"supported_features": ["tools"]}).tool_mode == "native"
    assert resolved({}, {"supported_features": []}).tool_mode == "prompt"
    assert resolved({"tools": "off"}, {"supported_features": ["tools"]}).tool_mode == "off"


def test_native_tools_are_filled_in():
    q = query(messages=[{"role": "user", "content": "x"}], tools=[TOOL])
    assert q["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "f",
                "description": "",
                "parameters": {"type": "object", "properties": {}, "required": []},
            },
        }
    ]


def test_latest_round_goes_to_the_top_level_and_older_rounds_stay_as_text():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "old result"},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "again"},
        {"role": "assistant", "content": None, "tool_calls": [{**call, "id": "c2"}]},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "new"}]},
    ]
    answering = plan(messages=messages, tools=[TOOL])
    q = answering.query
    assert q["tool_calls"] == [{**call, "id": "c2"}]
    assert q["tool_results"] == [
        {"role": "tool", "name": "f", "tool_call_id": "c2", "content": "new"}
    ]
    text = "\n".join(m["content"] for m in q["query"])
    assert "old result" in text and "c1" in text
    assert [m["role"] for m in q["query"]] == ["system", "user", "bot", "user", "bot", "user"]
    # The bot is told what the written-out rounds are, and a call it writes that way is parsed.
    assert "are a record of what happened" in q["query"][0]["content"]
    assert answering.prompt_tools == [{"name": "f", "description": None}]


def test_a_single_native_round_needs_no_note():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "result"},
    ]
    answering = plan(messages=messages, tools=[TOOL])
    assert [m["role"] for m in answering.query["query"]] == ["user"]
    assert answering.prompt_tools is None


def test_prompted_tools_become_instructions():
    prompted = plan(
        settings={"tools": "prompt"},
        messages=[{"role": "system", "content": "Be nice."}, {"role": "user", "content": "x"}],
        tools=[TOOL],
    )
    assert [tool["name"] for tool in prompted.prompt_tools] == ["f"]
    system = prompted.query["query"][0]
    assert system["role"] == "system" and system["content"].startswith("Be nice.")
    assert "<tool_call>" in system["content"] and "tools" not in prompted.query


def test_parameters_only_declared_ones_pass():
    entry = {"parameters": [{"name": "web_search"}, {"name": "thinking_budget"}]}
    q = query(
        messages=[{"role": "user", "content": "x"}],
        entry=entry,
        settings={"parameters": {"web_search": False, "aspect": "1:1"}},
        web_search=True,
        thinking={"budget_tokens": 100},
        unknown=1,
        reasoning_effort="low",
    )
    assert q["query"][-1]["parameters"] == {
        "web_search": True,
        "aspect": "1:1",
        "thinking_budget": 100,
    }


def test_tool_results_that_report_errors_reach_the_bot_as_they_are():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "Error: city not found"},
    ]
    native = query(messages=messages, tools=[TOOL])
    assert native["tool_results"][0]["content"] == "Error: city not found"
    prompted = query(messages=messages, tools=[TOOL], settings={"tools": "prompt"})
    assert "Error: city not found" in prompted["query"][-1]["content"]
