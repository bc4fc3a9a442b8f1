"""The Response object: the request's settings echoed, the answer's output items, usage, and
the error of a failed response. Shared by the whole answer and the stream (stream.py), so a
streamed response ends with the same object a non-streamed one is.
"""

from __future__ import annotations

import uuid
from typing import Any

from service.contracts import given
from service.core.events import Usage, WholeAnswer
from service.errors import ErrorKind, ServiceError

# The core's finish reasons that leave a response incomplete, as OpenAI names them.
INCOMPLETE = {"max_tokens": "max_output_tokens"}
# ServiceError codes Codex and the SDKs act on, kept as they are; other failures by kind.
_KEPT_CODES = ("insufficient_quota", "context_length_exceeded", "rate_limit_exceeded")
_CODES_BY_KIND = {
    ErrorKind.BILLING: "insufficient_quota",
    ErrorKind.RATE_LIMITED: "rate_limit_exceeded",
    ErrorKind.INVALID_REQUEST: "invalid_prompt",
}


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def output_item_id(prefix: str, response_id: str, index: int) -> str:
    """An output item's id names its response (`msg_<response>_<index>`), so an
    `item_reference` is found in the stored response itself, with no index of items to keep."""
    return f"{prefix}{response_id.removeprefix('resp_')}_{index}"


def response_of_item(item_id: str) -> str | None:
    """The response an output item's id names (None: not an id this service made)."""
    _, prefixed, rest = item_id.partition("_")
    response, numbered, index = rest.rpartition("_")
    return "resp_" + response if prefixed and numbered and response and index.isdigit() else None


def _dump(value: Any) -> Any:
    """A generated model as JSON data, absent fields left out."""
    return value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value


def response_head(
    body: Any, response_id: str, created_at: int, store: bool = False
) -> dict[str, Any]:
    """The response in progress: no output yet, the request's settings echoed."""
    text = given(body.text)
    text_body: dict[str, Any] = {"format": {"type": "text"}}
    if text is not None:
        text_body = {k: v for k, v in _dump(text).items() if v is not None}
        text_body.setdefault("format", {"type": "text"})
    reasoning = given(body.reasoning)
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "model": body.model,
        "output": [],
        "usage": None,
        "error": None,
        "incomplete_details": None,
        "instructions": given(body.instructions),
        "tools": [_dump(tool) for tool in given(body.tools) or []],
        "tool_choice": _dump(given(body.tool_choice)) or "auto",
        "parallel_tool_calls": given(body.parallel_tool_calls) is not False,
        "text": text_body,
        "reasoning": {
            "effort": given(reasoning.effort) if reasoning is not None else None,
            "summary": given(reasoning.summary) if reasoning is not None else None,
        },
        "metadata": given(body.metadata) or {},
        "previous_response_id": given(getattr(body, "previous_response_id", None)),
        "store": store,
        "temperature": given(body.temperature),
        "top_p": given(body.top_p),
        "max_output_tokens": _whole(given(body.max_output_tokens)),
        "truncation": given(body.truncation) or "disabled",
    }


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [text_part(text)] if status != "in_progress" else [],
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def reasoning_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    summary = [summary_part(text)] if status != "in_progress" else []
    return {"type": "reasoning", "id": item_id, "summary": summary, "status": status}


def summary_part(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


def call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def output_items(whole: WholeAnswer, response_id: str) -> list[dict[str, Any]]:
    """Reasoning first, then the text (an empty answer is one empty message), then calls."""
    items: list[dict[str, Any]] = []
    if whole.reasoning:
        items.append(reasoning_item(output_item_id("rs_", response_id, 0), whole.reasoning))
    if whole.text or not whole.tool_calls:
        items.append(message_item(output_item_id("msg_", response_id, len(items)), whole.text))
    for call in whole.tool_calls:
        item_id = output_item_id("fc_", response_id, len(items))
        items.append(call_item(item_id, call.id, call.name, call.arguments))
    return items


def usage_body(usage: Usage, reasoning_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},  # Poe caches nothing
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def finished(
    head: dict[str, Any], output: list[dict[str, Any]], usage: dict[str, Any], reason: str
) -> dict[str, Any]:
    """The whole response: completed, or incomplete when the bot was cut at a length limit."""
    incomplete = INCOMPLETE.get(reason)
    return {
        **head,
        "status": "incomplete" if incomplete else "completed",
        "output": output,
        "usage": usage,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
    }


def failure(error: ServiceError) -> dict[str, str]:
    """A failure as `response.error`: the codes Codex acts on (it waits as long as "try again
    in N s" says after a rate limit), `server_error` for the rest."""
    code = error.code if error.code in _KEPT_CODES else _CODES_BY_KIND.get(error.kind)
    message = error.message
    if code == "rate_limit_exceeded":
        wait = error.headers.get("retry-after", "10")
        message = f"{message.rstrip('. ')}. Please try again in {wait}s."
    return {"code": code or "server_error", "message": message}


def _whole(number: float | None) -> int | None:
    return None if number is None else int(number)
