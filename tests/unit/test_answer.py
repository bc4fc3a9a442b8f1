"""The answer state: Poe events -> neutral events, and the whole answer from the final state."""

from __future__ import annotations

import json

from service.core.answer import AnswerState
from service.core.events import Finish, TextDelta, ToolCallDelta, ToolCallStart
from service.core.tool_calls import ToolCalls
from service.poe.client import PoeEvent

TOOLS = [
    {
        "name": "f",
        "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
]


def chunk(*deltas: dict, finish: str | None = None) -> dict:
    return {
        "choices": [{"index": 0, "delta": {"tool_calls": list(deltas)}, "finish_reason": finish}]
    }


def text(piece: str) -> PoeEvent:
    return PoeEvent("text", {"text": piece})


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
        ToolCallStart(0, "a", "f"),
        ToolCallStart(1, "b", "g"),
        ToolCallDelta(1, "{"),
        ToolCallDelta(1, "}"),
        ToolCallDelta(0, '{"x": 1}'),
    ]
    assert [(c.id, c.arguments) for c in calls.calls] == [("a", '{"x": 1}'), ("b", "{}")]


def test_whole_answer_with_native_calls():
    state = AnswerState(streaming=False)
    state.feed(
        PoeEvent(
            "json", chunk({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}})
        )
    )
    state.finish()
    whole = state.whole()
    assert (whole.text, [(c.id, c.name, c.arguments) for c in whole.tool_calls]) == (
        "",
        [("a", "f", "{}")],
    )
    assert whole.finish_reason == "tool_calls"


def test_prompted_calls_stream_as_whole_calls_and_text_stays_text():
    state = AnswerState(prompt_tools=TOOLS)
    said = 'Sure.<tool_call>{"name": "f", "arguments": {"n": "2"}}</tool_call>'
    events = [e for piece in (said[:9], said[9:30], said[30:]) for e in state.feed(text(piece))]
    events += state.finish()
    assert "".join(e.text for e in events if type(e) is TextDelta) == "Sure."
    (call,) = [e for e in events if type(e) is ToolCallStart]
    assert (call.index, call.name, json.loads(call.arguments)) == (0, "f", {"n": 2})
    assert events[-1] == Finish("tool_calls")


def test_whole_answer_after_a_stream_has_each_prompted_call_once():
    """The whole answer is built from the final state alone: calls the stream already parsed
    are not added again (they were, with new ids, and counted twice in usage)."""
    state = AnswerState(prompt_tools=TOOLS)
    for piece in ('<tool_call>{"name": "f", "arguments": {"n": 1}}', "</tool_call>"):
        state.feed(text(piece))
    state.finish()
    first, second = state.whole(), state.whole()
    assert [c.name for c in first.tool_calls] == ["f"]
    assert [c.name for c in second.tool_calls] == ["f"]
    assert first.said().count('"n":1') == 1


def test_a_cut_answer_finishes_with_max_tokens():
    state = AnswerState()
    state.feed(
        PoeEvent(
            "json",
            {"choices": [{"index": 0, "delta": {"content": "Half"}, "finish_reason": "length"}]},
        )
    )
    assert state.finish()[-1] == Finish("max_tokens")


def test_one_call_only_when_parallel_calls_are_off_prompted_too():
    said = "".join(
        f'<tool_call>{{"name": "f", "arguments": {{"n": {n}}}}}</tool_call>' for n in (1, 2)
    )
    for streaming in (True, False):
        state = AnswerState(prompt_tools=TOOLS, streaming=streaming, single_call=True)
        events = state.feed(text(said)) + state.finish()
        whole = state.whole()
        assert [json.loads(c.arguments) for c in whole.tool_calls] == [{"n": 1}]
        if streaming:
            assert [e.index for e in events if type(e) is ToolCallStart] == [0]
            assert events[-1] == Finish("tool_calls")
