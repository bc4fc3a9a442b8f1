from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.prompt_tools import (
    ToolCallParser,
    assistant_tool_calls_text,
    build_tool_prompt,
    coerce,
    tool_result_text,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "metric": {"type": "boolean"},
            },
            "required": ["city"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"type": "integer"},
                "threshold": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "filters": {
                    "type": "object",
                    "properties": {
                        "year": {"type": "integer"},
                        "exact": {"type": "boolean"},
                        "ranges": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "low": {"type": "number"},
                                    "high": {"type": "number"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
TOOLS = [WEATHER, SEARCH]


def run(chunks: list[str], tools: list[dict[str, Any]] = TOOLS) -> list[tuple[str, Any]]:
    parser = ToolCallParser(tools)
    events: list[tuple[str, Any]] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.finish()


def normalized(events: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Adjacent content joined, empty content dropped, calls without their random ids."""
    out: list[tuple[str, Any]] = []
    for kind, value in events:
        if kind == "content":
            if not value:
                continue
            if out and out[-1][0] == "content":
                out[-1] = ("content", out[-1][1] + value)
                continue
            out.append(("content", value))
        else:
            out.append(("call", (value["name"], json.loads(value["arguments"]))))
    return out


def content(events: list[tuple[str, Any]]) -> str:
    return "".join(value for kind, value in events if kind == "content")


def calls(events: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(v["name"], json.loads(v["arguments"])) for kind, v in events if kind == "call"]


def block(body: str) -> str:
    return f"<tool_call>{body}</tool_call>"


# --- the prompt ---------------------------------------------------------------------------


def test_prompt_lists_each_function_with_its_schema_compactly():
    prompt = build_tool_prompt(TOOLS, "auto")
    assert "get_weather" in prompt and "Current weather for a city." in prompt
    assert "search" in prompt and "Search the web." in prompt
    compact = json.dumps(WEATHER["function"]["parameters"], separators=(",", ":"))
    assert compact in prompt
    assert '<tool_call>{"name": "<function name>", "arguments": {...}}</tool_call>' in prompt
    assert "nothing after your last" in prompt


def test_prompt_auto_and_none_choice_let_the_model_answer_normally():
    for choice in ("auto", None):
        prompt = build_tool_prompt(TOOLS, choice)
        assert "only when it helps" in prompt
        assert "must call" not in prompt


def test_prompt_required_demands_a_call():
    prompt = build_tool_prompt(TOOLS, "required")
    assert "must call at least one function" in prompt
    assert "only when it helps" not in prompt


def test_prompt_named_choice_demands_that_function():
    choice = {"type": "function", "function": {"name": "search"}}
    prompt = build_tool_prompt(TOOLS, choice)
    assert 'must call the function "search"' in prompt
    assert "only when it helps" not in prompt


def test_prompt_none_is_empty():
    assert build_tool_prompt(TOOLS, "none") == ""
    assert build_tool_prompt([], "auto") == ""


def test_prompt_parallel_or_not():
    assert "several blocks" in build_tool_prompt(TOOLS, "auto", parallel=True)
    single = build_tool_prompt(TOOLS, "auto", parallel=False)
    assert "at most one call" in single and "several blocks" not in single


def test_prompt_fills_a_missing_schema():
    prompt = build_tool_prompt([{"type": "function", "function": {"name": "ping"}}], "auto")
    assert '## ping\nParameters: {"type":"object","properties":{}}' in prompt


# --- earlier turns ------------------------------------------------------------------------


def test_assistant_tool_calls_are_written_back_in_the_call_syntax():
    text = assistant_tool_calls_text(
        [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 2}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "search", "arguments": ""}},
        ]
    )
    first, second = text.split("\n")
    assert first == (
        '<tool_call>{"id": "call_1", "name": "get_weather", '
        '"arguments": {"city": "Paris", "days": 2}}</tool_call>'
    )
    assert second == '<tool_call>{"id": "call_2", "name": "search", "arguments": {}}</tool_call>'
    # what the parser would read back (the id is the parser's own)
    assert calls(run([text])) == [("get_weather", {"city": "Paris", "days": 2}), ("search", {})]


def test_tool_result_keeps_the_content_as_it_is():
    error = 'Error: "Atlantis" not found <404>'
    assert tool_result_text("get_weather", "call_1", error) == (
        f'<tool_result id="call_1" name="get_weather">\n{error}\n</tool_result>'
    )
    assert tool_result_text(None, "call_9", "ok") == '<tool_result id="call_9">\nok\n</tool_result>'
    assert tool_result_text("x", "c", "") == '<tool_result id="c" name="x"></tool_result>'


# --- parsing ------------------------------------------------------------------------------


def test_one_call():
    events = run([block('{"name": "get_weather", "arguments": {"city": "Paris"}}')])
    assert len(events) == 1
    kind, call = events[0]
    assert kind == "call"
    assert re.fullmatch(r"call_[0-9a-f]+", call["id"])
    assert call["name"] == "get_weather"
    assert call["arguments"] == '{"city":"Paris"}'  # compact JSON of an object


def test_parallel_calls_get_distinct_ids():
    text = (
        block('{"name": "get_weather", "arguments": {"city": "Paris"}}')
        + "\n"
        + block('{"name": "get_weather", "arguments": {"city": "Rome"}}')
        + "\n\n"
    )
    events = run([text])
    assert [kind for kind, _ in events] == ["call", "call"]  # whitespace between and after: gone
    assert calls(events) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert events[0][1]["id"] != events[1][1]["id"]


def test_text_before_a_call_streams_as_it_arrives():
    parser = ToolCallParser(TOOLS)
    assert parser.feed("Let me ") == [("content", "Let me ")]
    assert parser.feed("check.") == [("content", "check.")]
    assert parser.feed("<tool") == []  # a possible tag: held back
    assert parser.feed('_call>{"name": "search", ') == []
    events = parser.feed('"arguments": {"query": "x"}}</tool_call>')
    assert calls(events) == [("search", {"query": "x"})]
    assert parser.finish() == []


def test_plain_text_passes_through_untouched():
    text = "a < b, <b>bold</b>, <tool and <tool_result> are just text"
    assert run([text]) == [("content", text)]
    parser = ToolCallParser(TOOLS)
    assert parser.feed("no tags here") == [("content", "no tags here")]
    assert parser.feed("x <tool_ca") == [("content", "x ")]
    assert parser.feed("t>") == [("content", "<tool_cat>")]


def test_held_back_text_is_at_most_a_partial_tag():
    parser = ToolCallParser(TOOLS)
    assert parser.feed("abc<tool_call") == [("content", "abc")]
    assert parser.finish() == [("content", "<tool_call")]  # never a call: given back


def test_nothing_of_the_call_syntax_leaks_into_content():
    text = (
        "Checking both.\n"
        + block('\n  {"name": "get_weather", "arguments": {"city": "Oslo"}}\n')
        + block('```json\n{"name": "search", "arguments": {"query": "news"}}\n```')
        + "\n"
    )
    for size in (1, 2, 3, 5, 7, 11, len(text)):
        events = run([text[i : i + size] for i in range(0, len(text), size)])
        assert content(events) == "Checking both.\n"
        assert len(calls(events)) == 2


def test_text_after_a_call_is_kept_unless_only_whitespace():
    call = block('{"name": "search", "arguments": {}}')
    assert content(run([call + "  \n\n"])) == ""
    assert content(run([call + "\n\nDone."])) == "\n\nDone."
    assert content(run([call, "\n", " ", "More", "."])) == "\n More."


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        '\n\n   {"name": "get_weather", "arguments": {"city": "Paris"}}  \n',
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        '\n```\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n',
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
        '{"name": "get_weather", "parameters": "{\\"city\\": \\"Paris\\"}"}',
        '{"type": "function", "function": {"name": "get_weather", '
        '"arguments": "{\\"city\\": \\"Paris\\"}"}}',
        '{"name": "get_weather", "city": "Paris"}',
        '{"name": "get_weather", "arguments": {"city": "Paris"}}}',  # a brace too many
        '{"name": "get_weather", "arguments": {"city": "Paris"}',  # a brace too few
        '{"id": "mine", "name": "get_weather", "arguments": {"city": "Paris"}}',
    ],
)
def test_lenient_forms(body: str):
    events = run([f"Sure.\n{block(body)}"])
    assert content(events) == "Sure.\n"
    assert calls(events) == [("get_weather", {"city": "Paris"})]
    assert events[-1][1]["id"] != "mine"


def test_no_arguments_means_an_empty_object():
    for body in (
        '{"name": "search"}',
        '{"name": "search", "arguments": null}',
        '{"name": "search", "arguments": ""}',
    ):
        assert calls(run([block(body)])) == [("search", {})]


def test_several_calls_in_one_block():
    listed = '[{"name": "search", "arguments": {"query": "a"}}, {"name": "search"}]'
    assert calls(run([block(listed)])) == [("search", {"query": "a"}), ("search", {})]
    lines = '{"name": "search", "arguments": {"query": "a"}}\n{"name": "search"}'
    assert calls(run([block(lines)])) == [("search", {"query": "a"}), ("search", {})]


def test_a_forgotten_closing_tag_between_calls():
    text = (
        '<tool_call>{"name": "search", "arguments": {"query": "a"}}\n'
        '<tool_call>{"name": "search", "arguments": {"query": "b"}}</tool_call>'
    )
    events = run([text])
    assert content(events) == ""
    assert calls(events) == [("search", {"query": "a"}), ("search", {"query": "b"})]


def test_unterminated_block_at_the_end_is_parsed():
    for tail in ("", "\n", "</tool_", "\n</tool_call"):
        text = 'Ok.<tool_call>{"name": "search", "arguments": {"query": "x"}}' + tail
        parser = ToolCallParser(TOOLS)
        assert parser.feed(text) == [("content", "Ok.")]
        assert calls(parser.finish()) == [("search", {"query": "x"})]


def test_unterminated_block_that_is_not_a_call_is_given_back():
    text = 'Ok.<tool_call>{"name": "search", "argu'
    events = run([text])
    assert calls(events) == []
    assert content(events) == text


def test_complete_block_that_is_not_a_call_is_given_back():
    for body in ("I would call search here", '{"arguments": {}}', '"search"', ""):
        text = f"A {block(body)} B"
        events = run([text])
        assert calls(events) == []
        assert content(events) == text


def test_unknown_tool_is_still_a_call():
    events = run([block('{"name": "launch", "arguments": {"count": "3"}}')])
    assert calls(events) == [("launch", {"count": "3"})]  # no schema: as written


def test_openai_internal_name_spelling():
    assert calls(run([block('{"name": "functions.search"}')])) == [("search", {})]


# --- typing by schema ---------------------------------------------------------------------


def search_args(arguments: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"name": "search", "arguments": arguments})
    [(name, parsed)] = calls(run([block(body)]))
    assert name == "search"
    return parsed


def test_numbers_from_strings():
    args = search_args({"limit": "42", "threshold": "3.5"})
    assert args == {"limit": 42, "threshold": 3.5}
    assert type(args["limit"]) is int
    assert search_args({"limit": " 7 ", "threshold": "2"}) == {"limit": 7, "threshold": 2}
    assert search_args({"limit": "1e2", "threshold": "-0.25"}) == {"limit": 100, "threshold": -0.25}


def test_booleans_from_strings():
    body = '{"name": "get_weather", "arguments": {"city": "Oslo", "metric": "true"}}'
    assert calls(run([block(body)])) == [("get_weather", {"city": "Oslo", "metric": True})]
    body = '{"name": "get_weather", "arguments": {"city": "Oslo", "metric": "False"}}'
    assert calls(run([block(body)])) == [("get_weather", {"city": "Oslo", "metric": False})]


def test_arrays_and_objects_from_json_strings():
    args = search_args({"tags": '["a", "b"]', "filters": '{"year": "2024", "exact": "true"}'})
    assert args == {"tags": ["a", "b"], "filters": {"year": 2024, "exact": True}}


def test_nested_properties_and_items():
    args = search_args(
        {"filters": {"year": "1999", "ranges": [{"low": "1", "high": "2.5"}, '{"low": "0"}']}}
    )
    assert args == {"filters": {"year": 1999, "ranges": [{"low": 1, "high": 2.5}, {"low": 0}]}}


def test_right_types_and_hopeless_values_stay():
    args = {"query": "42", "limit": 5, "threshold": 0.5, "tags": ["x"], "filters": {"exact": False}}
    assert search_args(args) == args  # a string field keeps "42"
    odd = {"limit": "many", "threshold": "NaN", "tags": "not json", "filters": "[1]"}
    assert search_args(odd) == odd


def test_values_are_never_made_strings():
    schema = {"type": "object", "properties": {"s": {"type": "string"}}}
    assert coerce({"s": 1}, schema) == {"s": 1}
    assert coerce({"s": [1]}, schema) == {"s": [1]}
    assert coerce({"s": True}, schema) == {"s": True}


def test_coercion_follows_refs_unions_and_additional_properties():
    schema = {
        "type": "object",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "properties": {
            "point": {"$ref": "#/$defs/Point"},
            "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "either": {"type": ["integer", "string"]},
            "level": {"enum": [1, 2, 3]},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}]},
        },
    }
    value = {
        "point": '{"x": "4"}',
        "maybe": "5",
        "either": "6",
        "level": "2",
        "counts": {"a": "1", "b": "2"},
        "pair": ["1", "true"],
    }
    assert coerce(value, schema) == {
        "point": {"x": 4},
        "maybe": 5,
        "either": "6",  # a string is allowed: kept
        "level": 2,
        "counts": {"a": 1, "b": 2},
        "pair": [1, True],
    }


def test_recursive_schema_terminates():
    schema = {"type": "object", "properties": {"child": {"$ref": "#"}, "n": {"type": "integer"}}}
    assert coerce({"n": "1", "child": {"n": "2", "child": {}}}, schema) == {
        "n": 1,
        "child": {"n": 2, "child": {}},
    }
    assert coerce("x", {"$ref": "#"}) == "x"


# --- streaming: any split gives the same events -------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from('ab <>_/tolc.\n{}"`'), max_size=30)
_ARGS = st.fixed_dictionaries(
    {"query": st.text(max_size=10)},
    optional={"limit": st.integers(-5, 500).map(str), "tags": st.lists(st.text(max_size=4))},
)


@st.composite
def streams(draw: st.DrawFn) -> str:
    before = draw(_TEXT.filter(lambda s: "<tool_call>" not in s))
    first = json.dumps({"name": "search", "arguments": draw(_ARGS)})
    second = json.dumps({"name": "get_weather", "arguments": {"city": draw(st.text(max_size=8))}})
    sep = draw(st.sampled_from(["\n", "", " \n "]))
    after = draw(st.sampled_from(["", "\n", "  \n", "\nDone."]))
    return f"{before or 'Let me check.'}{block(first)}{sep}{block(second)}{after}"


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


@given(streams(), st.lists(st.integers(min_value=0), max_size=40))
def test_any_split_gives_the_same_events(text: str, cuts: list[int]):
    whole = normalized(run([text]))
    assert normalized(run(_split(text, cuts))) == whole
    assert [kind for kind, _ in whole].count("call") == 2
    assert "<tool_call>" not in content(run(_split(text, cuts)))


@given(_TEXT.filter(lambda s: "<tool_call>" not in s), st.lists(st.integers(min_value=0)))
def test_text_without_calls_comes_out_whole(text: str, cuts: list[int]):
    assert content(run(_split(text, cuts))) == text


@given(streams(), st.lists(st.integers(min_value=0), max_size=40))
def test_limit_is_typed_whatever_the_split(text: str, cuts: list[int]):
    for name, arguments in calls(run(_split(text, cuts))):
        if name == "search" and "limit" in arguments:
            assert isinstance(arguments["limit"], int)
