"""A Responses API request -> the core's conversation. Pure: no I/O.

The body is validated against generated.openai first (CreateResponse, TokenCountsBody). Input
items become turns in order: messages by role, a `function_call` joins the assistant turn
before it (or starts one), a `function_call_output` is a tool turn. Reasoning items that
clients send back are dropped wherever they stand (Poe bots think afresh each turn, and what
OpenAI encrypts in them no one else can read), so no order of items is an error. Items of
built-in tools the service does not run are dropped too.
"""

from __future__ import annotations

from typing import Any

from service.contracts import given
from service.core.conversation import (
    AnswerOptions,
    Conversation,
    FilePart,
    NamedTool,
    Part,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
    Turn,
)
from service.core.files import clean_filename
from service.core.structured import OutputFormat
from service.errors import invalid
from service.fronts.server_tools import WantedTool

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
_WEB_SEARCH = ("web_search", "web_search_2025_08_26", "web_search_preview")
# OpenAI's own Responses fields this contract does not list: never bot parameters.
_OPENAI_FIELDS = frozenset(
    {
        "client_metadata",
        "conversation",
        "context_management",
        "max_tool_calls",
        "prompt",
        "prompt_cache_retention",
        "safety_identifier",
        "top_logprobs",
    }
)


def refuse_unavailable(body: Any) -> None:
    """What the service does not do: a 400 naming the field."""
    if given(getattr(body, "background", None)) is True:
        raise invalid(
            "Background responses are not available: ask without `background` (streaming "
            "keeps a long answer's connection alive)",
            param="background",
            code="unsupported_parameter",
        )


def builtin_tools(body: Any) -> list[WantedTool]:
    """The built-in tools asked for, with the bot parameter each maps to (web search only)."""
    wanted = []
    for i, tool in enumerate(given(body.tools) or []):
        kind = tool.type
        if kind in ("function", "namespace"):
            continue
        if kind.startswith(_WEB_SEARCH):
            if (tool.model_extra or {}).get("external_web_access") is False:
                continue  # no live search allowed: nothing a Poe bot can do, so nothing asked
            wanted.append((i, kind, "web_search"))
        else:
            wanted.append((i, kind, None))
    return wanted


def _functions(body: Any) -> list[ToolSpec]:
    """The function tools on offer, those grouped in a namespace included."""
    functions = []
    for tool in given(body.tools) or []:
        grouped = (
            tool.tools if tool.type == "namespace" else [tool] if tool.type == "function" else []
        )
        functions += [ToolSpec(t.name, given(t.description), given(t.parameters)) for t in grouped]
    return functions


def output_format(body: Any) -> OutputFormat | None:
    """`text.format`: the shape the answer's text must have (core/structured.py)."""
    text = given(body.text)
    fmt = given(text.format) if text is not None else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return OutputFormat("json_object")
    return OutputFormat.json_schema(
        fmt.schema_,
        name=fmt.name,
        description=given(fmt.description),
        param="text.format.schema",
    )


def to_conversation(body: Any, bot_parameters: dict[str, Any] | None = None) -> Conversation:
    """`bot_parameters`: what built-in tools map to (checked by the caller against the bot)."""
    refuse_unavailable(body)
    turns: list[Turn] = []
    instructions = given(body.instructions)
    if instructions:
        turns.append(Turn("system", [TextPart(instructions)]))
    if isinstance(body.input, str):
        turns.append(Turn("user", [TextPart(body.input)]))
    else:
        for i, item in enumerate(body.input):
            _add_item(turns, item, f"input[{i}]")
    if not turns:
        raise invalid(
            "The input has nothing for the bot: give at least one message or function call "
            "output (reasoning and built-in tool items are dropped)",
            param="input",
        )
    choice, tools = _tool_choice(given(body.tool_choice), _functions(body))
    return Conversation(
        turns=turns,
        tools=tools,
        tool_choice=choice,
        parallel_tool_calls=given(body.parallel_tool_calls) is not False,
        options=_options(body, bot_parameters or {}),
    )


def _options(body: Any, tools_asked: dict[str, Any]) -> AnswerOptions:
    """Unknown fields are the client's bot parameters, but for OpenAI's own Responses fields
    this contract does not list; built-in web search is the portable switch."""
    reasoning = given(body.reasoning)
    effort = given(reasoning.effort) if reasoning is not None else None
    options = AnswerOptions(
        temperature=given(getattr(body, "temperature", None)),
        max_tokens=_whole(given(getattr(body, "max_output_tokens", None))),
        reasoning_effort=effort,
        output_format=output_format(body),
    )
    if effort is not None:
        options.named["reasoning_effort"] = "reasoning"
    extra = body.model_extra or {}
    options.parameters = {k: v for k, v in extra.items() if k not in _OPENAI_FIELDS}
    tools_asked = dict(tools_asked)
    if tools_asked.pop("web_search", None) is not None:
        options.web_search = True
        options.named["web_search"] = "tools"
    options.parameters.update(tools_asked)
    return options


def _add_item(turns: list[Turn], item: Any, where: str) -> None:
    kind = given(getattr(item, "type", None)) or "message"
    if kind == "message":
        parts = _parts(item.content, f"{where}.content")
        turns.append(Turn(_ROLES[item.role], parts))
    elif kind == "function_call":
        call = ToolCall(item.call_id, item.name, item.arguments)
        last = turns[-1] if turns else None
        if last is not None and last.role == "assistant":
            last.tool_calls.append(call)
        else:
            turns.append(Turn("assistant", tool_calls=[call]))
    elif kind == "function_call_output":
        output = item.output
        parts = [TextPart(output)] if isinstance(output, str) else _parts(output, f"{where}.output")
        turns.append(Turn("tool", parts, tool_call_id=item.call_id))
    elif kind == "item_reference":
        raise invalid(  # POST /v1/responses resolves them first (stored.py); here, not
            "An `item_reference` is resolved only when a response is created (stored items "
            "belong to a key): send the item itself",
            param=where,
            code="unsupported_content",
        )
    # reasoning and built-in tool items: dropped (see the module's docstring)


def _parts(content: Any, param: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)]
    parts: list[Part] = []
    for j, part in enumerate(content):
        where = f"{param}[{j}]"
        kind = part.type
        if kind in ("input_text", "output_text"):
            parts.append(TextPart(part.text))
        elif kind == "refusal":
            parts.append(TextPart(part.refusal))
        elif kind == "input_image":
            parts.append(_image(part, where))
        else:
            parts.append(_file(part, where))
    return parts


def _image(part: Any, where: str) -> FilePart:
    url = given(part.image_url)
    if url:
        return FilePart(param=f"{where}.image_url", url=url, fallback_type="image/jpeg")
    if given(part.file_id):
        raise _file_id(f"{where}.file_id", "`image_url` (an http(s) or data: URL)")
    raise invalid("An input_image part needs an `image_url`", param=f"{where}.image_url")


def _file(part: Any, where: str) -> FilePart:
    name = clean_filename(given(part.filename))
    data, url = given(part.file_data), given(part.file_url)
    if data:
        return FilePart(param=f"{where}.file_data", data=data, filename=name)
    if url:
        return FilePart(param=f"{where}.file_url", url=url, filename=name)
    if given(part.file_id):
        raise _file_id(f"{where}.file_id", "`file_data` (a base64 data URL) or `file_url`")
    raise invalid(
        "An input_file part needs `file_data` or `file_url`",
        param=where,
        code="missing_file_data",
    )


def _file_id(param: str, instead: str) -> Exception:
    return invalid(
        f"File ids from OpenAI's Files API are not supported: send {instead} instead",
        param=param,
        code="unsupported_content",
    )


def _tool_choice(choice: Any, tools: list[ToolSpec]) -> tuple[ToolChoice, list[ToolSpec]]:
    if choice is None or isinstance(choice, str):
        return choice, tools
    if choice.type == "function":
        return NamedTool(choice.name), tools
    # allowed_tools: the functions named there stay on offer, in its mode.
    allowed = {t.get("name") for t in choice.tools if t.get("type", "function") == "function"}
    return choice.mode, [t for t in tools if t.name in allowed]


def _whole(number: float | None) -> int | None:
    return None if number is None else int(number)
