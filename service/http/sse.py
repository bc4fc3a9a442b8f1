"""Server-sent events for every front: the response is committed lazily, and silent streams
are kept alive.

The HTTP status is committed on the first write: an upstream error that comes before any output
is still a proper HTTP error. Once Poe has been silent for the keep-alive interval, the front's
ping frame is written (OpenAI: a `: ping` comment; Anthropic: a `ping` event) so proxies do not
close the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from sanic import Request
from sanic.response import HTTPResponse

from service.errors import ServiceError
from service.http.request_log import note_error, note_first_byte
from service.ops import metrics

log = logging.getLogger("poe2openai.http")

_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class EventStream:
    __slots__ = ("_headers", "_opening", "_request", "_response", "last_write", "ping")

    def __init__(self, request: Request, headers: dict[str, str] | None = None) -> None:
        self._request = request
        self._headers = {**_HEADERS, **headers} if headers else _HEADERS
        self._response: HTTPResponse | None = None
        self._opening: asyncio.Future[HTTPResponse] | None = None
        self.last_write = asyncio.get_running_loop().time()
        # What the keep-alive timer calls; a front sets its own (see Keepalive).
        self.ping: Callable[[], Awaitable[None]] = self._comment_ping

    @property
    def started(self) -> bool:
        return self._opening is not None

    async def send(self, frame: bytes) -> None:
        response = self._response or await self._start()
        self.last_write = asyncio.get_running_loop().time()
        await response.send(frame)

    async def close(self) -> None:
        if self._response is not None:
            await self._response.eof()

    async def _start(self) -> HTTPResponse:
        if self._opening is None:
            self._opening = asyncio.get_running_loop().create_future()
            try:
                response = await self._request.respond(
                    content_type="text/event-stream", headers=self._headers
                )
            except BaseException as exc:
                self._opening.set_exception(exc)
                self._opening.exception()  # retrieved: no "never retrieved" warning
                raise
            self._response = response
            note_first_byte()
            self._opening.set_result(response)
            return response
        return await self._opening

    async def _comment_ping(self) -> None:
        await self.send(b": ping\n\n")


class Keepalive:
    """One timer per worker pings every stream that has been silent for `interval` seconds
    (cheaper than a timer per stream)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.streams: set[EventStream] = set()
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
            for stream in list(self.streams):
                if now - stream.last_write >= self.interval:
                    stream.last_write = now
                    task = asyncio.ensure_future(_quiet(stream.ping()))
                    pending.add(task)
                    task.add_done_callback(pending.discard)


async def _quiet(coro: Any) -> None:
    try:
        await coro
    except Exception as exc:  # a client gone mid-ping is the handler's business, not ours
        log.debug("keep-alive ping failed: %s", exc)


class FrameWriter(Protocol):
    """A front's encoder of answer events into its frames, over an EventStream."""

    stream: EventStream

    async def events(self, events: list[Any]) -> None: ...

    async def error(self, error: ServiceError) -> None: ...


async def relay(request: Request, batches: AsyncIterator[list[Any]], writer: FrameWriter) -> None:
    """Write each batch of events as it comes (one write per upstream read), kept alive while
    it is silent. A failure before the first write is raised (a proper HTTP error); after it,
    the front's error frame ends the stream."""
    keepalive: Keepalive = request.app.ctx.keepalive
    keepalive.streams.add(writer.stream)
    metrics.stream_opened()
    try:
        try:
            async for events in batches:
                await writer.events(events)
        except ServiceError as error:
            if not writer.stream.started:
                raise
            log.warning("Poe failed mid-answer: %s", error.message)
            note_error(error)
            await writer.error(error)
    finally:
        keepalive.streams.discard(writer.stream)
        metrics.stream_closed()
