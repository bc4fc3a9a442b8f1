"""Answer events -> OpenAI chat completion chunks (streaming) or one chat.completion body.

Chunk frames are pre-rendered around the delta (`id`, `created`, `model` never change), so each
chunk costs one small json.dumps. What the SDK stream helpers require: `role` only in the first
chunk, an `index` on every tool-call delta with `id`/`name` only in its first, exactly one
`finish_reason`, `usage` in a last `choices: []` chunk, then `[DONE]`.
"""

from __future__ import annotations

import json
from typing import Any

from sanic import Request

from service.core.events import (
    AnswerEvent,
    Finish,
    Images,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
    WholeAnswer,
)
from service.errors import ServiceError
from service.fronts.openai.errors import error_body
from service.http.sse import EventStream

_DONE = b"data: [DONE]\n\n"
_FINISH_REASONS = {"stop": "stop", "tool_calls": "tool_calls", "max_tokens": "length"}


def delta(event: AnswerEvent) -> dict[str, Any]:
    """The chat delta for one event (not Finish)."""
    if type(event) is TextDelta:
        return {"content": event.text}
    if type(event) is ReasoningDelta:
        return {"reasoning_content": event.text}
    if type(event) is ToolCallStart:
        call = {
            "index": event.index,
            "id": event.id,
            "type": "function",
            "function": {"name": event.name, "arguments": event.arguments},
        }
        return {"tool_calls": [call]}
    if type(event) is ToolCallDelta:
        return {"tool_calls": [{"index": event.index, "function": {"arguments": event.arguments}}]}
    assert type(event) is Images
    return {"images": [_image(url) for url in event.urls]}


def usage_body(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def finish_reason(reason: str) -> str:
    return _FINISH_REASONS[reason]


def message(whole: WholeAnswer) -> dict[str, Any]:
    """The whole answer as a chat.completion message."""
    body: dict[str, Any] = {"role": "assistant", "content": whole.text, "refusal": None}
    if whole.reasoning:
        body["reasoning_content"] = whole.reasoning
    if whole.tool_calls:
        body["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in whole.tool_calls
        ]
        if not whole.text.strip():
            body["content"] = None
    if whole.images:
        body["images"] = [_image(url) for url in whole.images]
    return body


def _image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


class ChunkWriter:
    __slots__ = ("_close_usage", "_open_finish", "_prefix", "_sent_role", "stream")

    def __init__(
        self,
        request: Request,
        *,
        completion_id: str,
        created: int,
        model: str,
        include_usage: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        head = json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
            },
            separators=(",", ":"),
        )
        self._prefix = f'data: {head[:-1]},"choices":[{{"index":0,"delta":'.encode()
        self._close_usage = ',"usage":null}\n\n' if include_usage else "}\n\n"
        self._open_finish = ',"logprobs":null,"finish_reason":'
        self._sent_role = False
        self.stream = EventStream(request, headers)

    def _frame(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        if not self._sent_role:
            self._sent_role = True
            delta = {"role": "assistant", **delta}
        reason = "null" if finish_reason is None else f'"{finish_reason}"'
        body = json.dumps(delta, ensure_ascii=False, separators=(",", ":"))
        return (
            self._prefix + (body + self._open_finish + reason + "}]" + self._close_usage).encode()
        )

    async def events(self, events: list[AnswerEvent]) -> None:
        """One chunk per event, written at once; a Finish ends the stream."""
        frames = []
        for event in events:
            if type(event) is Finish:
                frames.append(self._finish(event))
            else:
                frames.append(self._frame(delta(event)))
        await self.stream.send(b"".join(frames))
        if frames and type(events[-1]) is Finish:
            await self.stream.close()

    def _finish(self, finish: Finish) -> bytes:
        frames = self._frame({}, finish_reason(finish.reason))
        if finish.usage is not None:
            head = self._prefix[: self._prefix.rindex(b',"choices"')]
            frames += (
                head
                + b',"choices":[],"usage":'
                + json.dumps(usage_body(finish.usage), separators=(",", ":")).encode()
                + b"}\n\n"
            )
        return frames + _DONE

    async def error(self, error: ServiceError) -> None:
        """An error after the status was sent: one `data: {"error": ...}` frame, then close."""
        body = json.dumps(error_body(error), separators=(",", ":")).encode()
        await self.stream.send(b"data: " + body + b"\n\n")
        await self.stream.close()
