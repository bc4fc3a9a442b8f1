"""Answer events -> Anthropic content blocks: a stream of named events, or one Message body.

What the anthropic SDK's stream accumulator requires: `message_start` before anything else (a
keep-alive `ping` included), one content block at a time, each opened by
`content_block_start`, filled by deltas of its own type and closed by `content_block_stop`;
thinking first, then text, then each tool_use; `input_json_delta` fragments that concatenate
to valid JSON; `message_delta` with the stop reason and usage, then `message_stop`.

Tool calls are held until the answer ends and sent whole, each in its own block: the bot's
arguments are checked (and, when they are not a JSON object, replaced by `{}` with a log line)
before any of them is sent, so a client never fails on unparseable tool input.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sanic import Request

from service.core.events import (
    AnswerEvent,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
    WholeAnswer,
)
from service.errors import ServiceError
from service.fronts.anthropic.errors import error_body
from service.http.sse import EventStream

log = logging.getLogger("poe2openai.anthropic")

# Poe's thinking carries no signature a client could verify; the field must be there.
SIGNATURE = "poe2openai"
_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "max_tokens": "max_tokens"}


def stop_reason(reason: str) -> str:
    return _STOP_REASONS[reason]


def tool_input(name: str, arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        value = None
    if not isinstance(value, dict):
        log.warning("tool call %s had arguments that are not a JSON object; sent as {}", name)
        return {}
    return value


def usage_body(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def content_blocks(whole: WholeAnswer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if whole.reasoning:
        blocks.append({"type": "thinking", "thinking": whole.reasoning, "signature": SIGNATURE})
    if whole.text or not whole.tool_calls:
        blocks.append({"type": "text", "text": whole.text})
    for call in whole.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": tool_input(call.name, call.arguments),
            }
        )
    return blocks


def message_body(message_id: str, model: str, whole: WholeAnswer, usage: Usage) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content_blocks(whole),
        "stop_reason": stop_reason(whole.finish_reason),
        "stop_sequence": None,
        "usage": usage_body(usage),
    }


def _frame(event: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {body}\n\n".encode()


# Frames of every stream, rendered once; only numbers and the stop reason vary (the hot path
# of a short answer is these frames, not its deltas).
_PING = _frame("ping", {"type": "ping"})
_MESSAGE_STOP = _frame("message_stop", {"type": "message_stop"})
_BLOCK_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n'
_BLOCK_START = {
    "text": b'event: content_block_start\ndata: {"type":"content_block_start","index":%d,'
    b'"content_block":{"type":"text","text":""}}\n\n',
    "thinking": b'event: content_block_start\ndata: {"type":"content_block_start","index":%d,'
    b'"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n',
}
_SIGNATURE_DELTA = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
    b'"delta":{"type":"signature_delta","signature":"' + SIGNATURE.encode() + b'"}}\n\n'
)
_MESSAGE_START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":%s,"type":"message",'
    b'"role":"assistant","model":%s,"content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":%d,"output_tokens":0,"cache_creation_input_tokens":0,'
    b'"cache_read_input_tokens":0}}}\n\n'
)
_MESSAGE_DELTA = (
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"%s",'
    b'"stop_sequence":null},"usage":{"input_tokens":%d,"output_tokens":%d}}\n\n'
)


class BlockWriter:
    """Writes one answer as Anthropic stream events."""

    __slots__ = ("_block", "_calls", "_index", "_start", "stream")

    def __init__(
        self,
        request: Request,
        *,
        message_id: str,
        model: str,
        input_tokens: int,
        headers: dict[str, str] | None = None,
    ):
        self._start: bytes | None = _MESSAGE_START % (
            json.dumps(message_id).encode(),
            json.dumps(model, ensure_ascii=False).encode(),
            input_tokens,
        )
        self._index = -1
        self._block: str | None = None  # the type of the open block
        self._calls: list[list[str]] = []  # [id, name, arguments] of each tool call
        self.stream = EventStream(request, headers)
        self.stream.ping = self.ping

    async def events(self, events: list[AnswerEvent]) -> None:
        frames: list[bytes] = []
        if self._start is not None:
            frames.append(self._start)
            self._start = None
        for event in events:
            kind = type(event)
            if kind is TextDelta:
                self._open("text", {"type": "text", "text": ""}, frames)
                frames.append(self._delta({"type": "text_delta", "text": event.text}))
            elif kind is ReasoningDelta:
                self._open(
                    "thinking", {"type": "thinking", "thinking": "", "signature": ""}, frames
                )
                frames.append(self._delta({"type": "thinking_delta", "thinking": event.text}))
            elif kind is ToolCallStart:
                self._calls.append([event.id, event.name, event.arguments])
            elif kind is ToolCallDelta:
                self._calls[event.index][2] += event.arguments
            elif kind is Finish:
                self._finish(event, frames)
            # Images: the text already links them as markdown.
        if len(frames) > 0:
            await self.stream.send(b"".join(frames))
        if events and type(events[-1]) is Finish:
            await self.stream.close()

    async def ping(self) -> None:
        frames = _PING
        if self._start is not None:  # the SDK refuses any event before message_start
            frames, self._start = self._start + _PING, None
        await self.stream.send(frames)

    async def error(self, error: ServiceError) -> None:
        """An error after the status was sent: one `error` event, then close."""
        await self.stream.send(_frame("error", error_body(error)))
        await self.stream.close()

    def _open_plain(self, block: str, frames: list[bytes]) -> None:
        """Open a text or thinking block (pre-rendered)."""
        self._close(frames)
        self._index += 1
        self._block = block
        frames.append(_BLOCK_START[block] % self._index)

    def _open(self, block: str, content_block: dict[str, Any], frames: list[bytes]) -> None:
        if self._block == block:
            return
        self._close(frames)
        self._index += 1
        self._block = block
        frames.append(
            _frame(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": self._index,
                    "content_block": content_block,
                },
            )
        )

    def _close(self, frames: list[bytes]) -> None:
        if self._block is None:
            return
        if self._block == "thinking":
            frames.append(_SIGNATURE_DELTA % self._index)
        frames.append(_BLOCK_STOP % self._index)
        self._block = None

    def _piece(self, delta_type: bytes, field: bytes, text: str) -> bytes:
        """A text or thinking delta: the hot path, so only the text is serialised."""
        return b"".join(
            (
                b'event: content_block_delta\ndata: {"type":"content_block_delta","index":',
                str(self._index).encode(),
                b',"delta":{"type":"',
                delta_type,
                b'","',
                field,
                b'":',
                json.dumps(text, ensure_ascii=False).encode(),
                b"}}\n\n",
            )
        )

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _frame(
            "content_block_delta",
            {"type": "content_block_delta", "index": self._index, "delta": delta},
        )

    def _finish(self, finish: Finish, frames: list[bytes]) -> None:
        if self._index < 0 and not self._calls:  # an empty answer is one empty text block
            self._open_plain("text", frames)
        self._close(frames)
        for call_id, name, arguments in self._calls:
            block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
            self._open("tool_use", block, frames)
            partial = json.dumps(tool_input(name, arguments), ensure_ascii=False)
            frames.append(self._delta({"type": "input_json_delta", "partial_json": partial}))
            self._close(frames)
        usage = finish.usage or Usage(0, 0)
        reason = stop_reason(finish.reason).encode()
        frames.append(_MESSAGE_DELTA % (reason, usage.input_tokens, usage.output_tokens))
        frames.append(_MESSAGE_STOP)
