"""OpenAI chat request -> Poe query body. Pure: no I/O.

The request was validated against generated.openai at the edge; unset optional fields are
pydantic's MISSING sentinel, which `_given` turns into None.
"""

from __future__ import annotations

from typing import Any

from pydantic.experimental.missing_sentinel import MISSING

from generated.openai import CreateChatCompletionRequest
from service.errors import InvalidRequest

PROTOCOL_VERSION = "1.2"

# Poe has no `assistant` (a fastapi_poe server answers 500 to it) and no `developer`.
_ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "bot",
    "tool": "tool",
}


def _given(value: Any) -> Any:
    return None if value is MISSING else value


def to_poe_query(
    request: CreateChatCompletionRequest, default_parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`default_parameters` (per-model, from models.yaml) go on the last user message: the
    documented way to pass custom bot parameters."""
    n = _given(request.n)
    if n is not None and n > 1:
        raise InvalidRequest("Poe returns one answer per request: `n` must be 1", param="n")
    messages: list[dict[str, Any]] = []
    for i, message in enumerate(request.messages):
        role = _ROLES[message.role]
        content = _flatten(_given(message.content), f"messages[{i}].content")
        name = _given(getattr(message, "name", MISSING))
        if messages and messages[-1]["role"] == role:
            # Some bots want strict user/bot alternation; Poe's own helper merges like this.
            previous = messages[-1]
            previous["content"] = "\n\n".join(p for p in (previous["content"], content) if p)
            continue
        entry: dict[str, Any] = {
            "role": role,
            "content": content,
            "content_type": "text/markdown",
            "attachments": [],
            "parameters": {},
        }
        if name:
            entry["sender"] = {"name": name}
        messages.append(entry)
    if default_parameters:
        for entry in reversed(messages):
            if entry["role"] == "user":
                entry["parameters"] = dict(default_parameters)
                break
    query: dict[str, Any] = {
        "version": PROTOCOL_VERSION,
        "type": "query",
        "query": messages,
        "user_id": "",
        "conversation_id": "",
        "message_id": "",
    }
    temperature = _given(request.temperature)
    if temperature is not None:
        query["temperature"] = temperature
    stop = _given(request.stop)
    if stop:
        query["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    logit_bias = _given(request.logit_bias)
    if logit_bias:
        query["logit_bias"] = dict(logit_bias)
    return query


def _flatten(content: Any, param: str) -> str:
    """Poe wants one string per message: join the text parts; other parts are refused (for
    now) with a 400 that says so, never dropped silently."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for j, part in enumerate(content):
        kind = part.type
        if kind == "text":
            texts.append(part.text)
        elif kind == "refusal":
            texts.append(part.refusal)
        else:
            raise InvalidRequest(
                f"Content parts of type `{kind}` are not supported yet: send text only",
                param=f"{param}[{j}]",
                code="unsupported_content",
            )
    return "\n".join(texts)
