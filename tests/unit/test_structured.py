"""Structured outputs: what reaches the client of an answer asked for as JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.answer import AnswerState
from service.core.structured import OutputFormat
from service.errors import ServiceError
from service.poe.client import PoeEvent

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["city", "days"],
    "additionalProperties": False,
}
VALUE = {"city": 'Pa{ris} "[x]" \\', "days": 3, "tags": ["a}", "[b"]}
PERSON = (
    "Sure! Here is the JSON you asked for {as promised}:\n\n```json\n"
    + json.dumps(VALUE, indent=2)
    + "\n```\n\nLet me know if you need anything else [or not]."
)
FORMAT = OutputFormat.json_schema(SCHEMA, name="forecast", param="p")


def streamed(text_pieces: list[str], fmt: OutputFormat = FORMAT) -> tuple[str, AnswerState]:
    state = AnswerState(output_format=fmt)
    events = [e for piece in text_pieces for e in state.feed(PoeEvent("text", {"text": piece}))]
    events += state.finish()
    return "".join(e.text for e in events if type(e).__name__ == "TextDelta"), state


def cuts(text: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.integers(0, len(text)), max_size=12).map(
        lambda at: [
            text[a:b] for a, b in zip([0, *sorted(at)], [*sorted(at), len(text)], strict=True)
        ]
    )


@given(st.data())
def test_a_streamed_answer_is_only_the_json_value_however_it_is_split(data):
    pieces = data.draw(cuts(PERSON))
    text, state = streamed(pieces)
    assert json.loads(text) == VALUE
    assert text == json.dumps(VALUE, indent=2)  # exactly the value, as the bot wrote it
    whole = state.whole()
    assert whole.text == text  # stream and whole answer agree
    assert whole.output_valid


def test_an_answer_without_json_is_given_as_it_is_and_is_not_valid():
    text, state = streamed(["I am sorry, ", "I cannot do that."])
    assert text == "I am sorry, I cannot do that."
    assert not state.whole().output_valid
    assert "not JSON" in state.whole().output_error


def test_json_that_does_not_match_the_schema_says_where():
    text, state = streamed(['```json\n{"city": "Paris", "days": 0}\n```'])
    assert json.loads(text) == {"city": "Paris", "days": 0}
    assert "days" in state.whole().output_error


def test_json_object_mode_takes_any_object_only():
    fmt = OutputFormat("json_object")
    text, state = streamed(['Here: {"a": [1, 2]} done'], fmt)
    assert text == 'Here: {"a": [1, 2]} done'  # not at a line start: not told from prose
    text, state = streamed(['Here:\n{"a": [1, 2]}\n\nDone.'], fmt)
    assert text == '{"a": [1, 2]}' and state.whole().output_valid
    text, state = streamed(["[1, 2]"], fmt)
    assert not state.whole().output_valid


def test_the_bot_is_told_the_schema_compactly():
    told = FORMAT.instruction()
    assert "only a JSON value" in told and "forecast" in told
    assert told.splitlines()[-1] == "JSON schema: " + json.dumps(SCHEMA, separators=(",", ":"))


def test_a_schema_that_is_not_one_is_the_clients_400():
    with pytest.raises(ServiceError) as err:
        OutputFormat.json_schema({"type": "no-such-type"}, param="response_format.schema")
    assert err.value.status == 400 and err.value.param == "response_format.schema"


def test_a_remote_reference_is_never_fetched():
    with pytest.raises(ServiceError):
        OutputFormat.json_schema({"$ref": "http://169.254.169.254/schema.json"}, param="p")
