"""Tool calling in the prompt, for Poe bots without native tools. Pure: no I/O.

The tools are described in an instruction text (`build_tool_prompt`); the model calls them by
writing `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks, which
`ToolCallParser` takes out of the streamed text and turns into OpenAI tool calls. Earlier turns
are written back in the same syntax (`assistant_tool_calls_text`, `tool_result_text`). Bots on
native tools read rounds before the latest in that syntax too (Poe carries only the latest one
natively): `EARLIER_ROUNDS_NOTE` tells them what it is, and calls they write in it are parsed.

Arguments are typed by the tool's JSON schema: a model that writes `"42"` for an integer gets
`42` (the Rust original turned every argument into a string). Values are never turned into
strings.

Choices, for the record:
- A call to a tool that was not offered is still emitted (the client decides what to do).
- A complete `<tool_call>` block that is not a call (not JSON, no name) is returned as content,
  tags included, so nothing the model wrote is silently lost.
- An `id` the model writes inside a block is ignored; every call gets a fresh `call_<hex>` id.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from typing import Any, Literal

OPEN = "<tool_call>"
CLOSE = "</tool_call>"

Event = tuple[Literal["content"], str] | tuple[Literal["call"], dict[str, str]]

_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
_NOT_ARGUMENTS = {"name", "id", "type", "function"}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _functions(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The function of each tool: OpenAI's {"type": "function", "function": {...}} or flat."""
    functions = []
    for tool in tools or []:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        if isinstance(function.get("name"), str) and function["name"]:
            functions.append(function)
    return functions


def _forced_name(tool_choice: str | dict[str, Any] | None) -> str | None:
    if not isinstance(tool_choice, dict):
        return None
    function = tool_choice.get("function")
    name = function.get("name") if isinstance(function, dict) else tool_choice.get("name")
    return name if isinstance(name, str) and name else None


# --- the prompt ---------------------------------------------------------------------------


def native_tool_instruction(tool_choice: str | dict[str, Any] | None, parallel: bool) -> str:
    """For bots on Poe's native tools, which take no tool_choice and no parallel switch: what
    the client asked for, said in words the model reads ("" when it asked for nothing)."""
    lines = []
    forced = _forced_name(tool_choice)
    if forced is not None:
        lines.append(f'In this reply you must call the function "{forced}" and no other.')
    elif tool_choice == "required":
        lines.append("In this reply you must call at least one of the functions you are given.")
    if not parallel:
        lines.append("Make at most one function call in this reply.")
    return " ".join(lines)


def build_tool_prompt(
    tools: list[dict[str, Any]],
    tool_choice: str | dict[str, Any] | None,
    parallel: bool = True,
) -> str:
    """The instruction that describes the tools and how to call them ("" for tool_choice
    "none" or no tools). The caller puts it in the system message or the last user message."""
    functions = _functions(tools)
    if tool_choice == "none" or not functions:
        return ""
    lines = [
        "# Tools",
        "",
        "You can call the following functions. Each is listed with its name, what it does and "
        "the JSON schema of its arguments.",
    ]
    for function in functions:
        lines += ["", f"## {function['name']}"]
        description = function.get("description")
        if isinstance(description, str) and description.strip():
            lines.append(description.strip())
        parameters = function.get("parameters")
        if not isinstance(parameters, dict):
            parameters = {"type": "object", "properties": {}}
        lines.append(f"Parameters: {_compact(parameters)}")

    lines += [
        "",
        "# How to call a function",
        "",
        "To call a function, write a block in exactly this form:",
        f'{OPEN}{{"name": "<function name>", "arguments": {{...}}}}{CLOSE}',
        "",
        '- "arguments" is a JSON object that follows the function\'s parameters schema. Write '
        "numbers, booleans, arrays and objects as JSON values, not as strings.",
        "- The text between the tags must be valid JSON: escape quotes and newlines inside "
        "strings, no comments.",
    ]
    if parallel:
        lines.append(
            f"- Write one {OPEN} block per call. To make several calls, write several blocks, "
            "one after another."
        )
    else:
        lines.append(f"- Make at most one call per reply: a single {OPEN} block.")
    lines += [
        f"- Write nothing after your last {OPEN} block: stop there. The results come back in "
        f'the next message as <tool_result id="..." name="...">...</tool_result> blocks; never '
        "write results yourself.",
        f"- Write {OPEN} only to call a function.",
    ]
    forced = _forced_name(tool_choice)
    if forced is not None:
        lines.append(
            f'- In this reply you must call the function "{forced}". Do not call any other '
            "function."
        )
    elif tool_choice == "required":
        lines.append(
            "- In this reply you must call at least one function; do not answer without a call."
        )
    else:  # "auto", None, or anything unknown
        lines.append(
            "- Call a function only when it helps to answer. Otherwise answer normally, "
            f"without any {OPEN} block."
        )
    return "\n".join(lines)


# --- earlier turns as text ----------------------------------------------------------------

# For bots on native tools, which Poe gives only the latest round of calls natively.
EARLIER_ROUNDS_NOTE = (
    "Earlier in this conversation, the functions you called are written in your messages as "
    f'{OPEN}{{"id": ..., "name": ..., "arguments": {{...}}}}{CLOSE} blocks, and what each call '
    'returned is in the message after it, as a <tool_result id="..." name="...">...'
    "</tool_result> block with the same id. They are a record of what happened. To call a "
    "function now, use your function calling as usual."
)


def assistant_tool_calls_text(tool_calls: list[dict[str, Any]]) -> str:
    """An assistant message's OpenAI `tool_calls` in the `<tool_call>` syntax, one per line.
    The call's id is kept so the model can match it with its `<tool_result id=...>`."""
    blocks = []
    for call in tool_calls or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        raw = function.get("arguments")
        arguments: Any = raw
        if isinstance(raw, str):
            try:
                arguments = json.loads(raw) if raw.strip() else {}
            except ValueError:
                arguments = raw  # what the call said, as it said it
        elif raw is None:
            arguments = {}
        body: dict[str, Any] = {}
        if call.get("id"):
            body["id"] = call["id"]
        body["name"] = function.get("name") or ""
        body["arguments"] = arguments
        blocks.append(f"{OPEN}{json.dumps(body, ensure_ascii=False)}{CLOSE}")
    return "\n".join(blocks)


def _attribute(value: str) -> str:
    return value.replace('"', "&quot;")


def tool_result_text(name: str | None, tool_call_id: str, content: str) -> str:
    """A `tool` message's result as `<tool_result id="..." name="...">content</tool_result>`.
    The content is kept as it is (errors included), on its own lines."""
    if isinstance(content, list):  # content parts, should a caller pass them unflattened
        content = "\n".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    content = "" if content is None else str(content)
    attributes = f'id="{_attribute(str(tool_call_id or ""))}"'
    if name:
        attributes += f' name="{_attribute(name)}"'
    if not content:
        return f"<tool_result {attributes}></tool_result>"
    return f"<tool_result {attributes}>\n{content}\n</tool_result>"


# --- typing arguments by schema -----------------------------------------------------------

_INTEGER = re.compile(r"[-+]?\d+\Z")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z")
_MAX_DEPTH = 100


def _fits(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True  # an unknown type name: no opinion


def _from_string(text: str, kind: str) -> tuple[bool, Any]:
    """(converted?, value) for a string the model wrote where `kind` was wanted."""
    s = text.strip()
    if kind in ("integer", "number"):
        if _INTEGER.match(s):
            return True, int(s)
        if _NUMBER.match(s):
            number = float(s)
            if not math.isfinite(number):
                return False, text
            if kind == "integer":
                return (True, int(number)) if number.is_integer() else (False, text)
            return True, number
        return False, text
    if kind == "boolean":
        lowered = s.lower()
        if lowered in ("true", "false"):
            return True, lowered == "true"
        return False, text
    if kind == "null":
        return (True, None) if s == "null" else (False, text)
    if kind in ("array", "object"):
        if not s.startswith("[" if kind == "array" else "{"):
            return False, text
        try:
            value = json.loads(s)
        except ValueError:
            return False, text
        return (True, value) if _fits(value, kind) else (False, text)
    return False, text


def _types(schema: dict[str, Any]) -> list[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)] or None
    if "properties" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema or "prefixItems" in schema:
        return ["array"]
    values = schema["enum"] if isinstance(schema.get("enum"), list) else None
    if values is None and "const" in schema:
        values = [schema["const"]]
    if values:
        kinds = []
        for v in values:
            k = _json_type(v)
            if k not in kinds:
                kinds.append(k)
        return kinds
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The schema with a local `$ref` ("#", "#/$defs/X") resolved; siblings of $ref win."""
    for _ in range(_MAX_DEPTH):
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                return {k: v for k, v in schema.items() if k != "$ref"}
        if not isinstance(target, dict):
            return {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _schema_fits(value: Any, schema: Any, root: dict[str, Any]) -> bool:
    if not isinstance(schema, dict):
        return True
    types = _types(_resolve(schema, root))
    return types is None or any(_fits(value, t) for t in types)


def _properties(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    properties = _resolve(schema, root).get("properties")
    return properties if isinstance(properties, dict) else {}


def coerce(value: Any, schema: Any, root: dict[str, Any] | None = None, _depth: int = 0) -> Any:
    """`value` typed by the JSON `schema` where the model wrote a string for a number, a
    boolean, an array or an object; nested objects and arrays too. Values of the right type
    and values that cannot be converted stay as they are."""
    if not isinstance(schema, dict) or _depth > _MAX_DEPTH:
        return value
    root = schema if root is None else root
    schema = _resolve(schema, root)
    depth = _depth + 1

    for sub in schema.get("allOf") or []:
        value = coerce(value, sub, root, depth)
    for key in ("anyOf", "oneOf"):
        alternatives = [a for a in schema.get(key) or [] if isinstance(a, dict)]
        if not alternatives:
            continue
        fitting = [a for a in alternatives if _schema_fits(value, a, root)]
        if fitting:
            if isinstance(value, dict) and len(fitting) > 1:  # the object it resembles most
                fitting.sort(key=lambda a: -len(value.keys() & _properties(a, root).keys()))
            value = coerce(value, fitting[0], root, depth)
        else:
            for alternative in alternatives:
                converted = coerce(value, alternative, root, depth)
                if converted is not value and _schema_fits(converted, alternative, root):
                    value = converted
                    break

    types = _types(schema)
    if types and isinstance(value, str) and not any(_fits(value, t) for t in types):
        for kind in types:
            converted, new = _from_string(value, kind)
            if converted:
                value = new
                break

    if isinstance(value, dict) and (types is None or "object" in types):
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        extra = schema.get("additionalProperties")
        if properties or isinstance(extra, dict):
            value = {
                k: coerce(v, properties[k] if k in properties else extra, root, depth)
                for k, v in value.items()
            }
    elif isinstance(value, list) and (types is None or "array" in types):
        positional = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):  # draft 4 tuples
            positional, items = items, schema.get("additionalItems")
        positional = positional if isinstance(positional, list) else []
        if positional or isinstance(items, dict):
            value = [
                coerce(v, positional[i] if i < len(positional) else items, root, depth)
                for i, v in enumerate(value)
            ]
    return value


# --- reading calls out of the text --------------------------------------------------------

_FENCE_START = re.compile(r"\A```[\w+-]*[ \t]*\n?")


def _json_values(body: str) -> list[Any] | None:
    """The JSON values in a block (whitespace, a ``` fence and stray closing braces around
    them are fine), or None if it holds anything else."""
    text = body.strip()
    fence = _FENCE_START.match(text)
    if fence:
        text = text[fence.end() :]
        if text.rstrip().endswith("```"):
            text = text.rstrip()[:-3]
        text = text.strip()
    if not text:
        return None
    decoder = json.JSONDecoder()
    values, at = [], 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text):
            return values
        if text[at] not in "{[":
            break
        try:
            value, at = decoder.raw_decode(text, at)
        except ValueError:
            break
        values.append(value)
    rest = text[at:].strip()
    if values and not rest.strip("}`\n\t "):
        return values  # `{...}}`: one brace too many
    if not values:
        for missing in ("}", "}}"):  # `{"name": "x", "arguments": {...}`: one brace too few
            try:
                value = json.loads(text + missing)
            except ValueError:
                continue
            return [value]
    return None


def _arguments(call: dict[str, Any]) -> tuple[bool, Any]:
    for key in _ARGUMENT_KEYS:
        if key in call:
            raw = call[key]
            break
    else:
        extra = {k: v for k, v in call.items() if k not in _NOT_ARGUMENTS}
        return True, extra  # the arguments written next to the name, or none at all
    if raw is None:
        return True, {}
    for _ in range(2):  # a JSON string holding the object (even twice encoded)
        if not isinstance(raw, str):
            break
        if not raw.strip():
            return True, {}
        try:
            raw = json.loads(raw)
        except ValueError:
            return False, None
    return (True, raw) if isinstance(raw, dict) else (False, None)


class ToolCallParser:
    """Takes `<tool_call>` blocks out of streamed text.

    `feed(text)` and `finish()` return events: ("content", text) for ordinary text, sent as it
    arrives (only a possible partial `<tool_call>` at the end is held back), and
    ("call", {"id", "name", "arguments"}) once a block is complete, `arguments` being compact
    JSON of an object typed by the tool's schema. Whitespace after a call is held back and
    dropped unless more text follows.
    """

    __slots__ = ("_after_call", "_held", "_inside", "_parts", "_schemas", "_space", "_tail")

    def __init__(self, tools: list[dict[str, Any]]) -> None:
        self._schemas: dict[str, Any] = {f["name"]: f.get("parameters") for f in _functions(tools)}
        self._inside = False
        self._held = ""  # outside a block: a possible start of `<tool_call>`
        self._parts: list[str] = []  # inside a block: what it holds so far
        self._tail = ""  # its end, where a `</tool_call>` may have begun
        self._after_call = False  # only whitespace since the last call
        self._space = ""  # that whitespace

    def feed(self, text: str) -> list[Event]:
        out: list[Event] = []
        if not text:
            return out
        if not self._inside and not self._held and "<" not in text:
            self._content(out, text)  # the usual case: plain text
            return out
        while text:
            if self._inside:
                text = self._feed_block(out, text)
            else:
                text = self._feed_outside(out, text)
        return out

    def finish(self) -> list[Event]:
        out: list[Event] = []
        if self._inside:
            body, tail = "".join(self._parts), ""
            for n in range(len(CLOSE) - 1, 0, -1):  # a closing tag cut short
                if body.endswith(CLOSE[:n]):
                    body, tail = body[:-n], body[-n:]
                    break
            self._block_events(out, body, tail)
            self._inside, self._parts, self._tail = False, [], ""
        elif self._held:
            held, self._held = self._held, ""
            self._content(out, held)
        self._space = ""  # whitespace after the last call: dropped
        self._after_call = False
        return out

    def _feed_outside(self, out: list[Event], text: str) -> str:
        text = self._held + text
        self._held = ""
        start = text.find(OPEN)
        if start >= 0:
            self._content(out, text[:start])
            self._inside, self._parts, self._tail = True, [], ""
            return text[start + len(OPEN) :]
        cut = text.rfind("<", max(0, len(text) - len(OPEN) + 1))
        if cut >= 0 and OPEN.startswith(text[cut:]):
            self._held = text[cut:]
            text = text[:cut]
        self._content(out, text)
        return ""

    def _feed_block(self, out: list[Event], text: str) -> str:
        window = self._tail + text
        end = window.find(CLOSE)
        if end < 0:
            self._parts.append(text)  # joined once, when the block is complete
            self._tail = window[-(len(CLOSE) - 1) :]
            return ""
        whole = "".join(self._parts) + text
        end += len(whole) - len(window)
        body, rest = whole[:end], whole[end + len(CLOSE) :]
        self._inside, self._parts, self._tail = False, [], ""
        self._block_events(out, body, CLOSE)
        return rest

    def _block_events(self, out: list[Event], body: str, tail: str) -> None:
        """The calls in a block, or the block as it was written (`tail` being its closing tag)
        as content when it holds no call. A block with another `<tool_call>` inside (a closing
        tag forgotten) is read as several blocks."""
        parts = body.split(OPEN)
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if i == 0 and last and not part.strip():
                continue
            calls = self._calls(part)
            if calls is None:
                self._content(out, OPEN + part + (tail if i == last else ""))
            else:
                self._emit_calls(out, calls)

    def _calls(self, body: str) -> list[tuple[str, dict[str, Any]]] | None:
        values = _json_values(body)
        if values is None:
            return None
        calls: list[tuple[str, dict[str, Any]]] = []
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                call = self._call(item)
                if call is None:
                    return None
                calls.append(call)
        return calls or None

    def _call(self, item: Any) -> tuple[str, dict[str, Any]] | None:
        if not isinstance(item, dict):
            return None
        function = item.get("function")
        if isinstance(function, dict):  # the OpenAI shape: {"function": {"name", "arguments"}}
            item = {**item, **function}
            item.pop("function", None)
        elif isinstance(function, str) and "name" not in item:
            item = {**item, "name": function}
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            return None
        ok, arguments = _arguments(item)
        if not ok:
            return None
        name = name.strip()
        if name not in self._schemas and name.startswith("functions."):
            name = name.removeprefix("functions.") or name  # OpenAI's internal spelling
        schema = self._schemas.get(name)
        if isinstance(schema, dict):
            arguments = coerce(arguments, schema)
        return name, arguments

    def _emit_calls(self, out: list[Event], calls: list[tuple[str, dict[str, Any]]]) -> None:
        for name, arguments in calls:
            out.append(
                (
                    "call",
                    {
                        "id": f"call_{secrets.token_hex(12)}",
                        "name": name,
                        "arguments": _compact(arguments),
                    },
                )
            )
        self._after_call, self._space = True, ""

    def _content(self, out: list[Event], text: str) -> None:
        if not text:
            return
        if self._after_call:
            if not text.strip():
                self._space += text
                return
            text, self._space, self._after_call = self._space + text, "", False
        if out and out[-1][0] == "content":
            out[-1] = ("content", out[-1][1] + text)
        else:
            out.append(("content", text))
