"""An OpenAI chat completion request -> the core's conversation. Pure: no I/O.

The body is validated against generated.openai first; unset optional fields are pydantic's
MISSING sentinel, which `given` (service/contracts.py) turns into None.
"""

from __future__ import annotations

from typing import Any

from pydantic import MISSING

from generated.openai import CreateChatCompletionRequest
from service.contracts import given
from service.core.conversation import (
    AnswerOptions,
    Conversation,
    FilePart,
    NamedTool,
    Part,
    TextPart,
    ToolCall,
    ToolSpec,
    Turn,
)
from service.core.files import AUDIO_FORMATS, clean_filename
from service.core.structured import OutputFormat
from service.errors import invalid

# Poe has no `developer`.
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def to_conversation(request: CreateChatCompletionRequest) -> Conversation:
    n = given(request.n)
    if n is not None and n > 1:
        raise invalid("Poe returns one answer per request: `n` must be 1", param="n")
    turns = [_turn(message, i) for i, message in enumerate(request.messages)]
    choice = given(request.tool_choice)
    if choice is not None and not isinstance(choice, str):
        choice = NamedTool(choice.function.name)
    extra: dict[str, Any] = dict(request.model_extra or {})
    thinking = extra.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
    stop = given(request.stop)
    return Conversation(
        turns=turns,
        tools=[
            ToolSpec(t.function.name, given(t.function.description), given(t.function.parameters))
            for t in given(request.tools) or []
        ],
        tool_choice=choice,
        parallel_tool_calls=given(request.parallel_tool_calls) is not False,
        options=AnswerOptions(
            stop=([stop] if isinstance(stop, str) else list(stop)) if stop else None,
            temperature=given(request.temperature),
            reasoning_effort=given(request.reasoning_effort),
            thinking_budget=budget if isinstance(budget, int) else None,
            logit_bias=given(request.logit_bias),
            output_format=_output_format(given(request.response_format)),
            parameters=extra,
        ),
    )


def _output_format(response_format: Any) -> OutputFormat | None:
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object":
        return OutputFormat("json_object")
    spec = given(response_format.json_schema)
    if spec is None:
        raise invalid(
            "A `json_schema` response format needs its `json_schema`",
            param="response_format.json_schema",
        )
    return OutputFormat.json_schema(
        given(spec.schema_),
        name=given(spec.name),
        description=given(spec.description),
        param="response_format.json_schema.schema",
    )


def _turn(message: Any, i: int) -> Turn:
    parts = _parts(given(message.content), f"messages[{i}].content")
    if message.role == "tool":
        return Turn("tool", parts, tool_call_id=message.tool_call_id)
    calls = [
        ToolCall(c.id, c.function.name, c.function.arguments)
        for c in given(getattr(message, "tool_calls", MISSING)) or []
    ]
    name = given(getattr(message, "name", MISSING))
    return Turn(_ROLES[message.role], parts, name=name or None, tool_calls=calls)


def _parts(content: Any, param: str) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    parts: list[Part] = []
    for j, part in enumerate(content):
        where = f"{param}[{j}]"
        kind = part.type
        if kind == "text":
            parts.append(TextPart(part.text))
        elif kind == "refusal":
            parts.append(TextPart(part.refusal))
        elif kind == "image_url":
            parts.append(_image(part.image_url.url, where))
        elif kind == "input_audio":
            parts.append(_audio(part.input_audio, where))
        elif kind == "file":
            parts.append(_file(part.file, where))
        else:
            raise invalid(
                f"Content parts of type `{kind}` are not supported here",
                param=where,
                code="unsupported_content",
            )
    return parts


def _image(url: str, where: str) -> FilePart:
    if not url:
        raise invalid("An image_url part needs a `url`", param=f"{where}.image_url.url")
    return FilePart(param=f"{where}.image_url.url", url=url, fallback_type="image/jpeg")


def _audio(audio: Any, where: str) -> FilePart:
    fmt = audio.format.strip().lower()
    mime = AUDIO_FORMATS.get(fmt)
    if mime is None:
        raise invalid(
            f"Audio format `{fmt}` is not supported: use one of {', '.join(AUDIO_FORMATS)}",
            param=f"{where}.input_audio.format",
            code="unsupported_file_type",
        )
    return FilePart(param=f"{where}.input_audio.data", data=audio.data, media_type=mime)


def _file(file: Any, where: str) -> FilePart:
    """`file_data` inline, or an http(s) URL as `file_id`; OpenAI's own file ids cannot be
    honoured."""
    name = clean_filename(given(file.filename))
    data, file_id = given(file.file_data), given(file.file_id)
    if data:
        return FilePart(param=f"{where}.file.file_data", data=data, filename=name)
    if isinstance(file_id, str) and file_id[:8].lower().startswith(("http://", "https://")):
        return FilePart(param=f"{where}.file.file_id", url=file_id, filename=name)
    if file_id:
        raise invalid(
            "File ids from OpenAI's Files API are not supported: send the file inline as "
            "`file_data` (a base64 data URL), or give an http(s) URL as `file_id`",
            param=f"{where}.file.file_id",
            code="unsupported_content",
        )
    raise invalid("A file part needs `file_data`", param=f"{where}.file", code="missing_file_data")
