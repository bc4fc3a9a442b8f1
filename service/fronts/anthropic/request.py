"""An Anthropic Messages request -> the core's conversation. Pure: no I/O.

The body is validated against generated.anthropic first. A user message's `tool_result` blocks
become tool turns of their own, in place, so the core sees what the OpenAI front gives it.
Thinking blocks that clients send back cannot be verified by anyone but Anthropic (their
signature), and Poe bots think afresh each turn: they are dropped, never an error.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import MISSING, BaseModel

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
from service.core.structured import OutputFormat
from service.errors import invalid

Body = TypeVar("Body", bound=BaseModel)

# `web_search_20250305` -> the bot parameter `web_search`.
_SERVER_TOOL = re.compile(r"^(?P<name>[a-z_]+?)_\d{8}$")


def server_tools(request: Any) -> list[tuple[int, str]]:
    """(index in `tools`, bot parameter it would map to) of each server tool requested."""
    found = []
    for i, tool in enumerate(given(request.tools) or []):
        kind = given(tool.type)
        if kind and kind != "custom":
            match = _SERVER_TOOL.match(kind)
            found.append((i, match.group("name") if match else kind))
    return found


def to_conversation(request: Any, bot_parameters: dict[str, Any] | None = None) -> Conversation:
    """`bot_parameters`: what server tools map to (checked by the caller against the bot)."""
    turns: list[Turn] = []
    system = given(request.system)
    if isinstance(system, str) and system:
        turns.append(Turn("system", [TextPart(system)]))
    elif isinstance(system, list) and system:
        turns.append(Turn("system", [TextPart("\n\n".join(block.text for block in system))]))
    for i, message in enumerate(request.messages):
        turns += _turns(message, f"messages[{i}].content")
    tools = [
        ToolSpec(tool.name, given(tool.description), given(tool.input_schema))
        for tool in given(request.tools) or []
        if given(tool.type) in (None, "custom")
    ]
    choice, parallel = _tool_choice(given(request.tool_choice))
    thinking = given(request.thinking)
    enabled = thinking is not None and thinking.type == "enabled"
    budget = int(thinking.budget_tokens) if enabled else None
    extra = dict(request.model_extra or {})
    extra.update(bot_parameters or {})
    config = given(request.output_config)
    output_format, param = given(request.output_format), "output_format.schema"
    if config is not None and given(config.format) is not None:
        output_format, param = config.format, "output_config.format.schema"
    return Conversation(
        turns=turns,
        tools=tools,
        tool_choice=choice,
        parallel_tool_calls=parallel,
        options=AnswerOptions(
            stop=list(given(getattr(request, "stop_sequences", MISSING)) or []) or None,
            temperature=given(getattr(request, "temperature", MISSING)),
            max_tokens=_whole(given(getattr(request, "max_tokens", MISSING))),
            thinking_budget=budget,
            reasoning_effort=given(config.effort) if config is not None else None,
            output_format=(
                OutputFormat.json_schema(output_format.schema_, param=param)
                if output_format is not None
                else None
            ),
            parameters=extra,
        ),
    )


def _turns(message: Any, param: str) -> list[Turn]:
    role = message.role
    content = message.content
    if isinstance(content, str):
        return [Turn(role, [TextPart(content)])]
    turns: list[Turn] = []
    current = Turn(role)
    for j, block in enumerate(content):
        where = f"{param}[{j}]"
        kind = block.type
        if kind == "text":
            current.parts.append(TextPart(block.text))
        elif kind in ("image", "document"):
            current.parts.append(_file_or_text(block, where))
        elif kind == "tool_use":
            arguments = json.dumps(block.input, ensure_ascii=False, separators=(",", ":"))
            current.tool_calls.append(ToolCall(block.id, block.name, arguments))
        elif kind == "tool_result":
            if current.parts or current.tool_calls:
                turns.append(current)
                current = Turn(role)
            turns.append(_tool_result(block, where))
        # thinking and redacted_thinking: dropped (see the module's docstring)
    if current.parts or current.tool_calls or not turns:
        turns.append(current)
    return turns


def _tool_result(block: Any, where: str) -> Turn:
    content = given(block.content)
    parts: list[Part] = []
    if isinstance(content, str):
        parts.append(TextPart(content))
    else:
        for k, item in enumerate(content or []):
            if item.type == "text":
                parts.append(TextPart(item.text))
            else:
                parts.append(_file_or_text(item, f"{where}.content[{k}]"))
    return Turn("tool", parts, tool_call_id=block.tool_use_id, is_error=block.is_error is True)


def _file_or_text(block: Any, where: str) -> Part:
    source = block.source
    param = f"{where}.source"
    pdf = block.type == "document"
    if source.type == "base64":
        return FilePart(
            param=f"{param}.data",
            data=source.data,
            media_type=source.media_type,
            filename=given(getattr(block, "title", MISSING)) or None,
        )
    if source.type == "url":
        if not source.url[:8].lower().startswith(("http://", "https://")):
            raise invalid("Expected an http(s) URL", param=f"{param}.url", code="invalid_url")
        return FilePart(
            param=f"{param}.url",
            url=source.url,
            fallback_type="application/pdf" if pdf else "image/jpeg",
        )
    # A text document (`text` or `content` source) is text for the bot, under its title.
    text = source.data if source.type == "text" else _joined(source.content)
    title = given(getattr(block, "title", MISSING))
    return TextPart(f"{title}\n\n{text}" if title else text)


def _joined(content: Any) -> str:
    return content if isinstance(content, str) else "\n".join(b.text for b in content)


def _tool_choice(choice: Any) -> tuple[ToolChoice, bool]:
    if choice is None:
        return None, True
    parallel = given(getattr(choice, "disable_parallel_tool_use", MISSING)) is not True
    if choice.type == "any":
        return "required", parallel
    if choice.type == "tool":
        return NamedTool(choice.name), parallel
    return choice.type, parallel  # auto, none


def _whole(number: float | None) -> int | None:
    return None if number is None else int(number)
