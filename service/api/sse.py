"""Writing a chat completion as server-sent events.

Frames are pre-rendered around the delta (`id`, `created`, `model` never change), so each
chunk costs one small json.dumps. The HTTP status is committed lazily: an upstream error that
comes before any output is still a proper HTTP error; once Poe has been silent for the
keep-alive interval, the stream starts with `: ping` comments to keep proxies from closing it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from service.errors import ApiError

log = logging.getLogger("poe2openai.api")

_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_DONE = b"data: [DONE]\n\n"
_PING = b": ping\n\n"


class ChunkWriter:
    __slots__ = (
        "_close_usage",
        "_open_finish",
        "_opening",
        "_prefix",
        "_request",
        "_response",
        "_sent_role",
        "last_write",
    )

    def __init__(
        self, request: Request, *, completion_id: str, created: int, model: str, include_usage: bool
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
        self._request = request
        self._response: HTTPResponse | None = None
        self._opening: asyncio.Future[HTTPResponse] | None = None
        self._sent_role = False
        self.last_write = asyncio.get_running_loop().time()

    @property
    def started(self) -> bool:
        return self._opening is not None

    async def _send(self, frame: bytes) -> None:
        response = self._response or await self._start()
        self.last_write = asyncio.get_running_loop().time()
        await response.send(frame)

    async def _start(self) -> HTTPResponse:
        if self._opening is None:
            self._opening = asyncio.get_running_loop().create_future()
            try:
                response = await self._request.respond(
                    content_type="text/event-stream", headers=_HEADERS
                )
            except BaseException as exc:
                self._opening.set_exception(exc)
                self._opening.exception()  # retrieved: no "never retrieved" warning
                raise
            self._response = response
            self._opening.set_result(response)
            return response
        return await self._opening

    def _frame(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        if not self._sent_role:
            self._sent_role = True
            delta = {"role": "assistant", **delta}
        reason = "null" if finish_reason is None else f'"{finish_reason}"'
        body = json.dumps(delta, ensure_ascii=False, separators=(",", ":"))
        return (
            self._prefix + (body + self._open_finish + reason + "}]" + self._close_usage).encode()
        )

    async def deltas(self, deltas: list[dict[str, Any]]) -> None:
        """One chunk per delta, written at once."""
        await self._send(b"".join([self._frame(delta) for delta in deltas]))

    async def finish(self, reason: str, usage: dict[str, int] | None) -> None:
        frames = self._frame({}, reason)
        if usage is not None:
            head = self._prefix[: self._prefix.rindex(b',"choices"')]
            frames += (
                head
                + b',"choices":[],"usage":'
                + json.dumps(usage, separators=(",", ":")).encode()
                + b"}\n\n"
            )
        await self._send(frames + _DONE)
        await self._close()

    async def error(self, error: ApiError) -> None:
        """An error after the status was sent: one `data: {"error": ...}` frame, then close."""
        frame = b"data: " + json.dumps(error.body(), separators=(",", ":")).encode() + b"\n\n"
        await self._send(frame)
        await self._close()

    async def ping(self) -> None:
        await self._send(_PING)

    async def _close(self) -> None:
        if self._response is not None:
            await self._response.eof()


class Keepalive:
    """One timer per worker pings every stream that has been silent for `interval` seconds
    (cheaper than a timer per stream)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.writers: set[ChunkWriter] = set()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task] = set()
        while True:
            await asyncio.sleep(self.interval / 4)
            now = loop.time()
            for writer in list(self.writers):
                if now - writer.last_write >= self.interval:
                    writer.last_write = now
                    task = asyncio.ensure_future(_quiet(writer.ping()))
                    pending.add(task)
                    task.add_done_callback(pending.discard)


async def _quiet(coro: Any) -> None:
    try:
        await coro
    except Exception as exc:  # a client gone mid-ping is the handler's business, not ours
        log.debug("keep-alive ping failed: %s", exc)
