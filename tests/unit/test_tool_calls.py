from __future__ import annotations

import json

from service.poe.client import PoeEvent
from service.translate.stream import AnswerTranslator
from service.translate.tool_calls import ToolCalls


def chunk(*deltas: dict) -> dict:
    return {"choices": [{"index": 0, "delta": {"tool_calls": list(deltas)}}]}


def test_parallel_native_calls_keep_their_indexes_and_send_ids_once():
    calls = ToolCalls()
    out = calls.from_poe_chunk(
        chunk(
            {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}},
            {
                "index": 1,
                "id": "b",
                "type": "function",
                "function": {"name": "g", "arguments": "{"},
            },
        )
    )
    out += calls.from_poe_chunk(
        chunk(
            {"index": 1, "id": "b", "function": {"name": "g", "arguments": "}"}},
            {"index": 0, "function": {"arguments": '{"x": 1}'}},
        )
    )
    assert out == [
        {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}},
        {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}},
        {"index": 1, "function": {"arguments": "{"}},
        {"index": 1, "function": {"arguments": "}"}},
        {"index": 0, "function": {"arguments": '{"x": 1}'}},
    ]
    assert [(c["id"], c["function"]["arguments"]) for c in calls.calls] == [
        ("a", '{"x": 1}'),
        ("b", "{}"),
    ]


def test_whole_answer_with_native_calls_has_null_content():
    translator = AnswerTranslator(streaming=False)
    translator.feed(
        PoeEvent(
            "json",
            chunk(
                {
                    "index": 0,
                    "id": "a",
                    "type": "function",
                    "function": {"name": "f", "arguments": "{}"},
                }
            ),
        )
    )
    translator.finish()
    message = translator.message()
    assert message["content"] is None
    assert message["tool_calls"] == [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    assert translator.finish_reason == "tool_calls"


def test_prompted_calls_stream_as_whole_calls_and_text_stays_text():
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
            },
        }
    ]
    translator = AnswerTranslator(prompt_tools=tools)
    text = 'Sure.<tool_call>{"name": "f", "arguments": {"n": "2"}}</tool_call>'
    deltas = [
        d
        for piece in (text[:9], text[9:30], text[30:])
        for d in translator.feed(PoeEvent("text", {"text": piece}))
    ]
    deltas += translator.finish()
    assert "".join(d.get("content", "") for d in deltas) == "Sure."
    (call,) = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert call["index"] == 0 and call["function"]["name"] == "f"
    assert json.loads(call["function"]["arguments"]) == {"n": 2}
