"""Structured outputs: an answer asked for as JSON (chat `response_format`, Anthropic's
`output_config.format`, the Responses API's `text.format`). Pure: no I/O.

Poe's protocol has no such field, so the bot is told in its system message to answer with only
a JSON value (with the schema, compactly). Bots answer as people do all the same ("Here is the
JSON:", a ```json fence, a closing remark): `JsonCleaner` passes on only the value, while it
streams, and `OutputFormat.check` validates the result against the schema (jsonschema-rs: a
well-kept validator, offline, linear-time patterns, so a client's schema cannot make it fetch
URLs or backtrack for ever).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema_rs

from service.errors import invalid

FormatKind = Literal["json_object", "json_schema"]

_RULE = "no text before or after it, no markdown code fence, no comments."
# Where a JSON value may start: the beginning of a line (a fence line before it ends there).
_OBJECT_START = re.compile(r"^[ \t]*(\{)", re.MULTILINE)
_ARRAY_START = re.compile(r"^[ \t]*(\[)", re.MULTILINE)
_ANY_START = re.compile(r"^[ \t]*([{\[])", re.MULTILINE)
# What changes the nesting of a JSON text, strings aside.
_STRUCTURE = re.compile(r'["\\{}\[\]]')


@dataclass(frozen=True, slots=True)
class OutputFormat:
    kind: FormatKind
    schema: dict[str, Any] | None = None  # json_schema only
    name: str | None = None
    description: str | None = None
    _validator: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def json_schema(
        cls,
        schema: Any,
        *,
        name: str | None = None,
        description: str | None = None,
        param: str,
    ) -> OutputFormat:
        """A format from a client's schema; a schema that is not one is the client's 400."""
        if schema is None:  # no schema: any JSON object will do
            return cls("json_object", name=name, description=description)
        if not isinstance(schema, dict):
            raise invalid("The JSON schema must be an object", param=param, code="invalid_schema")
        try:
            validator = jsonschema_rs.validator_for(schema, offline=True)
        except (jsonschema_rs.ValidationError, ValueError, TypeError) as err:
            raise invalid(
                f"The JSON schema is not valid: {_first_line(err)}",
                param=param,
                code="invalid_schema",
            ) from None
        return cls("json_schema", schema, name, description, validator)

    def instruction(self) -> str:
        """What the bot is told, in its system message."""
        if self.schema is None:
            return f"Answer with only a JSON object: {_RULE}"
        lines = [f"Answer with only a JSON value that matches the JSON schema below: {_RULE}"]
        if self.name or self.description:
            about = ": ".join(p for p in (self.name, self.description) if p)
            lines.append(f"The value is {about}")
        lines.append("JSON schema: " + json.dumps(self.schema, separators=(",", ":")))
        return "\n".join(lines)

    def cleaner(self) -> JsonCleaner:
        root = self.schema.get("type") if self.schema is not None else "object"
        if root == "object":
            return JsonCleaner(_OBJECT_START)
        if root == "array":
            return JsonCleaner(_ARRAY_START)
        if root in (None, ["object", "array"], ["array", "object"]):
            return JsonCleaner(_ANY_START)
        return JsonCleaner(None)  # a bare string or number: nothing to tell it from prose

    def check(self, text: str) -> str | None:
        """None when `text` is a JSON value of this format, else what is wrong with it."""
        try:
            value = json.loads(text)
        except ValueError as err:
            return f"the answer is not JSON ({err})"
        if self._validator is None:
            return None if isinstance(value, dict) else "the answer is not a JSON object"
        error = next(self._validator.iter_errors(value), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.instance_path) or "the value"
        return f"at {where}: {_first_line(error)}"


class JsonCleaner:
    """Passes on only the first JSON value of a text that arrives in pieces: what comes before
    it (a preamble, a fence line) is held back until a line starts with the value, and what
    comes after it (a closing fence, a remark) is dropped. Text with no value in it at all is
    given back as it is at the end, so a client sees what the bot said."""

    __slots__ = ("_depth", "_escape", "_held", "_in_string", "_phase", "_scan_from", "_start")

    def __init__(self, start: re.Pattern[str] | None) -> None:
        self._start = start
        self._phase = "before" if start is not None else "value"
        self._held = ""
        self._scan_from = 0  # the start of the held text's last line
        self._depth = 0
        self._in_string = False
        self._escape = False

    def feed(self, text: str) -> str:
        if self._start is None:
            return text
        if self._phase == "after" or not text:
            return ""
        if self._phase == "value":
            return self._value(text)
        self._held += text
        found = self._start.search(self._held, self._scan_from)
        if found is None:
            self._scan_from = self._held.rfind("\n") + 1
            return ""
        rest, self._held = self._held[found.start(1) :], ""
        self._phase = "value"
        return self._value(rest)

    def finish(self) -> str:
        held, self._held = self._held, ""
        return held if self._phase == "before" else ""

    def _value(self, text: str) -> str:
        """The part of `text` up to where the value ends; the phase moves on there."""
        at = 0
        if self._escape:  # the last piece ended inside a string, on a backslash
            self._escape, at = False, 1
        while (match := _STRUCTURE.search(text, at)) is not None:
            char, at = match.group(), match.end()
            if self._in_string:
                if char == "\\":
                    if at == len(text):
                        self._escape = True
                    at += 1  # the escaped character is text, whatever it is
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char in "{[":
                self._depth += 1
            elif char in "}]":
                self._depth -= 1
                if self._depth <= 0:
                    self._phase = "after"
                    return text[:at]
        return text


def _first_line(err: BaseException) -> str:
    message = getattr(err, "message", None) or str(err)
    return message.splitlines()[0] if message else type(err).__name__
