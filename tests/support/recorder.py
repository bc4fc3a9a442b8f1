"""A pass-through HTTP proxy in front of the service that keeps what a client sent and what it
got back, for tests of real clients whose requests cannot be seen otherwise (Codex CLI, the
AI SDK). It forwards every request unchanged and streams the answer back as it comes."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

_HOP_BY_HOP = {"connection", "content-length", "host", "transfer-encoding", "accept-encoding"}


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the JSON request body, or the raw text when it is not JSON
    status: int = 0
    answer: str = ""  # the whole answer as sent (SSE frames for a stream)

    def describe(self) -> str:
        sent = json.dumps(self.body, indent=1, ensure_ascii=False)
        return f"{self.method} {self.path}\n{sent}\n-> {self.status}\n{self.answer[:4000]}"


@dataclass
class Recorder:
    target: str
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        async with httpx.AsyncClient(base_url=self.target, timeout=60) as self._client:
            await self._server.serve(sockets=[self._sock])

    async def _forward(self, request: Request) -> StreamingResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        exchange = Exchange(request.method, request.url.path, headers, body)
        self.exchanges.append(exchange)
        upstream = await self._client.send(
            self._client.build_request(
                request.method, request.url.path, content=raw, headers=headers
            ),
            stream=True,
        )
        exchange.status = upstream.status_code

        async def relay():
            try:
                async for chunk in upstream.aiter_raw():
                    exchange.answer += chunk.decode(errors="replace")
                    yield chunk
            finally:
                await upstream.aclose()

        kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        kept.pop("content-encoding", None)
        return StreamingResponse(relay(), status_code=upstream.status_code, headers=kept)

    def start(self) -> Recorder:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the recording proxy did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def posts(self, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path == path]

    def report(self) -> str:
        return "\n\n".join(e.describe() for e in self.exchanges)


class Tripwire:
    """A listening socket that stands in for the internet: point a client's HTTP(S)_PROXY at it
    and every connection it gets is one the client tried to make elsewhere. It answers none."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.attempts: list[str] = []  # the first line each connection sent (CONNECT host:443)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    first = conn.recv(200).decode(errors="replace").split("\r\n", 1)[0]
                except OSError:
                    first = "(nothing sent)"
                self.attempts.append(first)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._sock.close()
