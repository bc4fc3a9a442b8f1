"""Responses request -> core conversation (service/fronts/responses/request.py)."""

from __future__ import annotations

import pytest

from generated.openai import CreateResponse
from service.core.conversation import FilePart, NamedTool, TextPart, ToolCall
from service.core.structured import OutputFormat
from service.errors import ServiceError
from service.fronts.responses.request import (
    builtin_tools,
    output_format,
    to_conversation,
)


def parse(**body):
    return CreateResponse.model_validate({"model": "m", **body}, strict=True)


def turns(**body):
    return [
        (t.role, [p.text for p in t.parts if isinstance(p, TextPart)], t.tool_calls)
        for t in to_conversation(parse(**body)).turns
    ]


def call(call_id: str) -> dict:
    return {"type": "function_call", "call_id": call_id, "name": "f", "arguments": "{}"}


def test_a_string_input_is_one_user_turn_after_the_instructions():
    assert turns(input="hi", instructions="Be brief.") == [
        ("system", ["Be brief."], []),
        ("user", ["hi"], []),
    ]


def test_function_calls_join_the_assistant_turn_before_them_and_results_are_tool_turns():
    conversation = to_conversation(
        parse(
            input=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [{"type": "output_text", "text": "Let me see."}]},
                call("c1"),
                call("c2"),
                {"type": "function_call_output", "call_id": "c1", "output": "one"},
                {
                    "type": "function_call_output",
                    "call_id": "c2",
                    "output": [{"type": "input_text", "text": "two"}],
                },
                call("c3"),
            ]
        )
    )
    roles = [t.role for t in conversation.turns]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"]
    assert conversation.turns[1].tool_calls == [
        ToolCall("c1", "f", "{}"),
        ToolCall("c2", "f", "{}"),
    ]
    assert [t.tool_call_id for t in conversation.turns[2:4]] == ["c1", "c2"]
    assert conversation.turns[3].parts == [TextPart("two")]
    assert conversation.turns[4].tool_calls == [ToolCall("c3", "f", "{}")]


@pytest.mark.parametrize("position", [0, 1, 2])
def test_reasoning_items_are_dropped_wherever_they_stand(position):
    items = [{"role": "user", "content": "q"}, call("c1")]
    items.insert(position, {"type": "reasoning", "id": "rs_1", "summary": []})
    assert [t.role for t in to_conversation(parse(input=items)).turns] == ["user", "assistant"]


def test_images_and_files_become_file_parts_named_by_their_place():
    content = [
        {"type": "input_image", "image_url": "https://x/cat.png"},
        {"type": "input_file", "file_url": "https://x/a.pdf", "filename": "a.pdf"},
        {"type": "input_file", "file_data": "data:application/pdf;base64,JVBE"},
    ]
    parts = to_conversation(parse(input=[{"role": "user", "content": content}])).turns[0].parts
    assert all(isinstance(p, FilePart) for p in parts)
    assert [p.param for p in parts] == [
        "input[0].content[0].image_url",
        "input[0].content[1].file_url",
        "input[0].content[2].file_data",
    ]
    assert parts[1].filename == "a.pdf"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "background": True}, "background"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": [{"type": "reasoning"}, {"type": "web_search_call"}]}, "input"),
    ],
)
def test_what_cannot_be_answered_is_refused_naming_the_field(body, param):
    with pytest.raises(ServiceError) as caught:
        to_conversation(parse(**body))
    assert caught.value.param == param and caught.value.status == 400


def test_tool_choice_shapes():
    tools = [{"type": "function", "name": n} for n in ("a", "b")]
    named = to_conversation(
        parse(input="x", tools=tools, tool_choice={"type": "function", "name": "b"})
    )
    assert named.tool_choice == NamedTool("b") and [t.name for t in named.tools] == ["a", "b"]
    allowed = to_conversation(
        parse(
            input="x",
            tools=tools,
            tool_choice={
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "a"}],
            },
        )
    )
    assert allowed.tool_choice == "required" and [t.name for t in allowed.tools] == ["a"]
    assert to_conversation(parse(input="x", parallel_tool_calls=False)).parallel_tool_calls is False


def test_options_reach_the_conversation():
    options = to_conversation(
        parse(
            input="x", temperature=0.5, max_output_tokens=100.0, reasoning={"effort": "low"}, web=1
        )
    ).options
    assert (options.temperature, options.max_tokens, options.reasoning_effort) == (0.5, 100, "low")
    assert options.parameters == {"web": 1}  # extras: only what Poe declares reaches the bot


def test_builtin_tools_map_web_search_only():
    body = parse(
        input="x",
        tools=[
            {"type": "function", "name": "f"},
            {"type": "web_search_preview_2025_03_11"},
            {"type": "file_search"},
        ],
    )
    assert builtin_tools(body) == [
        (1, "web_search_preview_2025_03_11", "web_search"),
        (2, "file_search", None),
    ]


def test_text_format_is_the_cores_output_format():
    assert output_format(parse(input="x")) is None
    assert output_format(
        parse(input="x", text={"format": {"type": "json_object"}})
    ) == OutputFormat("json_object")
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    fmt = output_format(
        parse(
            input="x",
            text={"format": {"type": "json_schema", "name": "n", "schema": schema, "strict": True}},
        )
    )
    assert (fmt.kind, fmt.name, fmt.schema) == ("json_schema", "n", schema)
    assert output_format(parse(input="x", text={"format": {"type": "text"}})) is None


def test_items_sent_back_with_null_ids_and_statuses_are_accepted():
    # As some clients serialise what they got back: ids, statuses and parts as null.
    conversation = to_conversation(
        parse(
            input=[
                {"role": "user", "content": "q"},
                {"type": "reasoning", "id": None, "summary": None, "content": None},
                {
                    "type": "message",
                    "id": None,
                    "status": None,
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "a", "annotations": None}],
                },
                {**call("c1"), "id": None, "status": None},
            ]
        )
    )
    assert [t.role for t in conversation.turns] == ["user", "assistant"]
    assert conversation.turns[1].tool_calls == [ToolCall("c1", "f", "{}")]
