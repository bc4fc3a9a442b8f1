"""Answer events -> the Responses API's stream of semantic events.

What the openai SDK's stream state and Codex's parser require: `response.created` before any
other event (a keep-alive included: the first ping sends it), every item opened by
`response.output_item.added` before its content events, a message's text preceded by
`response.content_part.added`, a strictly increasing `sequence_number` from 0, and a last
`response.completed` (or `response.incomplete`, or `response.failed`) with the whole response;
a stream never just stops.

Reasoning and message items are open one at a time, in the order the answer gives them;
function calls stay open until the answer ends (their argument fragments may follow other
events) and are closed in order. Per-delta frames are pre-rendered around the delta text.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Request

from service.core import tokens
from service.core.events import (
    AnswerEvent,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from service.errors import ServiceError
from service.fronts.responses.encode import (
    call_item,
    failure,
    finished,
    message_item,
    output_item_id,
    reasoning_item,
    summary_part,
    text_part,
    usage_body,
)
from service.http.sse import EventStream


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class _Item:
    """An output item being streamed: its dict in the final output, and its text so far."""

    __slots__ = ("arguments", "body", "delta_prefix", "index", "kind", "pieces")

    def __init__(self, kind: str, index: int, body: dict[str, Any], delta_prefix: bytes) -> None:
        self.kind = kind
        self.index = index
        self.body = body
        self.pieces: list[str] = []
        self.delta_prefix = delta_prefix

    def text(self) -> str:
        return "".join(self.pieces)


class EventWriter:
    """Writes one answer as Responses API stream events."""

    __slots__ = (
        "_calls",
        "_exact",
        "_head",
        "_items",
        "_keep",
        "_open",
        "_seq",
        "_start",
        "stream",
    )

    def __init__(
        self,
        request: Request,
        head: dict[str, Any],
        exact_usage: bool = True,
        headers: dict[str, str] | None = None,
        keep: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        """`keep`: given the final response (completed, incomplete or failed) before its event
        is sent, to store it."""
        self._head = head
        self._seq = 0
        response = _json(head)  # serialised once for both opening events
        self._start: bytes | None = self._lifecycle("response.created", response) + self._lifecycle(
            "response.in_progress", response
        )
        self._items: list[_Item] = []
        self._open: _Item | None = None  # the open reasoning or message item
        self._calls: dict[int, _Item] = {}  # open function calls by the core's call index
        self._exact = exact_usage
        self._keep = keep
        self.stream = EventStream(request, headers)
        self.stream.ping = self.ping

    def _frame(self, kind: str, fields: dict[str, Any]) -> bytes:
        body = _json({"type": kind, "sequence_number": self._seq, **fields})
        self._seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + body + b"\n\n"

    def _lifecycle(self, kind: str, response: bytes) -> bytes:
        frame = b'event: %s\ndata: {"type":"%s","sequence_number":%d,"response":%s}\n\n' % (
            kind.encode(),
            kind.encode(),
            self._seq,
            response,
        )
        self._seq += 1
        return frame

    def _delta(self, item: _Item, text: str) -> bytes:
        """The hot path: only the text and the sequence number are serialised."""
        item.pieces.append(text)
        frame = b'%s%s,"sequence_number":%d}\n\n' % (item.delta_prefix, _json(text), self._seq)
        self._seq += 1
        return frame

    async def events(self, events: list[AnswerEvent]) -> None:
        frames: list[bytes] = []
        if self._start is not None:
            frames.append(self._start)
            self._start = None
        for event in events:
            kind = type(event)
            if kind is TextDelta or kind is ReasoningDelta:
                if event.text:
                    item = self._text_item("message" if kind is TextDelta else "reasoning", frames)
                    frames.append(self._delta(item, event.text))
            elif kind is ToolCallStart:
                self._close_open(frames)
                item = self._add_call(event, frames)
                if event.arguments:
                    frames.append(self._delta(item, event.arguments))
            elif kind is ToolCallDelta:
                item = self._calls.get(event.index)
                if item is not None and event.arguments:
                    frames.append(self._delta(item, event.arguments))
            elif kind is Finish:
                frames.append(await self._finish(event, frames))
            # Images: the text already links them as markdown.
        if frames:
            await self.stream.send(b"".join(frames))
        if events and type(events[-1]) is Finish:
            await self.stream.close()

    async def ping(self) -> None:
        frames = b": ping\n\n"
        if self._start is not None:  # clients refuse any event before response.created
            frames, self._start = self._start + frames, None
        await self.stream.send(frames)

    async def error(self, error: ServiceError) -> None:
        """A failure after the stream started: `response.failed` with what was said so far."""
        frames = [self._start] if self._start is not None else []
        self._start = None
        response = {
            **self._head,
            "status": "failed",
            "output": [self._rendered(item, "incomplete") for item in self._items],
            "error": failure(error),
        }
        if self._keep is not None:
            await self._keep(response)
        frames.append(self._frame("response.failed", {"response": response}))
        await self.stream.send(b"".join(frames))
        await self.stream.close()

    def _text_item(self, kind: str, frames: list[bytes]) -> _Item:
        if self._open is not None and self._open.kind == kind:
            return self._open
        self._close_open(frames)
        index = len(self._items)
        if kind == "message":
            body = message_item(output_item_id("msg_", self._head["id"], index), "", "in_progress")
            where = {"item_id": body["id"], "output_index": index, "content_index": 0}
            part_event, part = "response.content_part.added", text_part("")
            delta_event = "response.output_text.delta"
            head = {**where, "logprobs": []}
        else:
            body = reasoning_item(output_item_id("rs_", self._head["id"], index), "", "in_progress")
            where = {"item_id": body["id"], "output_index": index, "summary_index": 0}
            part_event, part = "response.reasoning_summary_part.added", summary_part("")
            delta_event = "response.reasoning_summary_text.delta"
            head = where
        item = _Item(kind, index, body, self._delta_prefix(delta_event, head))
        self._items.append(item)
        self._open = item
        frames.append(
            self._frame("response.output_item.added", {"output_index": index, "item": body})
        )
        frames.append(self._frame(part_event, {**where, "part": part}))
        return item

    def _add_call(self, event: ToolCallStart, frames: list[bytes]) -> _Item:
        index = len(self._items)
        item_id = output_item_id("fc_", self._head["id"], index)
        body = call_item(item_id, event.id, event.name, "", "in_progress")
        where = {"item_id": body["id"], "output_index": index}
        item = _Item(
            "function_call",
            index,
            body,
            self._delta_prefix("response.function_call_arguments.delta", where),
        )
        self._items.append(item)
        self._calls[event.index] = item
        frames.append(
            self._frame("response.output_item.added", {"output_index": index, "item": body})
        )
        return item

    @staticmethod
    def _delta_prefix(kind: str, fields: dict[str, Any]) -> bytes:
        head = _json({"type": kind, **fields})
        return b"event: " + kind.encode() + b"\ndata: " + head[:-1] + b',"delta":'

    def _close_open(self, frames: list[bytes]) -> None:
        item, self._open = self._open, None
        if item is None:
            return
        text = item.text()
        done = self._rendered(item, "completed")
        if item.kind == "message":
            where = {"item_id": item.body["id"], "output_index": item.index, "content_index": 0}
            frames.append(
                self._frame("response.output_text.done", {**where, "text": text, "logprobs": []})
            )
            frames.append(
                self._frame("response.content_part.done", {**where, "part": text_part(text)})
            )
        else:
            where = {"item_id": item.body["id"], "output_index": item.index, "summary_index": 0}
            frames.append(
                self._frame("response.reasoning_summary_text.done", {**where, "text": text})
            )
            frames.append(
                self._frame(
                    "response.reasoning_summary_part.done", {**where, "part": summary_part(text)}
                )
            )
        frames.append(
            self._frame("response.output_item.done", {"output_index": item.index, "item": done})
        )

    def _close_call(self, item: _Item, frames: list[bytes]) -> None:
        done = self._rendered(item, "completed")
        frames.append(
            self._frame(
                "response.function_call_arguments.done",
                {
                    "item_id": done["id"],
                    "output_index": item.index,
                    "name": done["name"],
                    "arguments": done["arguments"],
                },
            )
        )
        frames.append(
            self._frame("response.output_item.done", {"output_index": item.index, "item": done})
        )

    def _rendered(self, item: _Item, status: str) -> dict[str, Any]:
        body = item.body
        if item.kind == "message":
            return message_item(body["id"], item.text(), status)
        if item.kind == "reasoning":
            return reasoning_item(body["id"], item.text(), status)
        return call_item(body["id"], body["call_id"], body["name"], item.text(), status)

    async def _finish(self, finish: Finish, frames: list[bytes]) -> bytes:
        if not self._items:  # an empty answer is one empty message, as in the whole response
            self._text_item("message", frames)
        self._close_open(frames)
        for item in self._calls.values():
            self._close_call(item, frames)
        self._calls = {}
        reasoning = "".join(item.text() for item in self._items if item.kind == "reasoning")
        reasoning_tokens = await tokens.text_tokens(reasoning, self._exact) if reasoning else 0
        usage = usage_body(finish.usage or Usage(0, 0), reasoning_tokens)
        output = [self._rendered(item, "completed") for item in self._items]
        response = finished(self._head, output, usage, finish.reason)
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        if self._keep is not None:
            await self._keep(response)
        return self._frame(kind, {"response": response})
