#!/usr/bin/env python3
"""A fake Poe upstream for benchmarks: raw asyncio (uvloop when available), HTTP/1.1 keep-alive,
pre-rendered answers, so it costs a few tens of microseconds per request and is never the
bottleneck. Not a protocol test double (tests/support/fake_poe.py is): it answers every
`POST /bot/<name>` without looking at the query.

Bots:
  bench   20 `text` events then `done`, written at once (one chunked-encoding chunk per event)
  slow    one `text` event, then the stream is held open for --slow-hold seconds, then the
          remaining 19 `text` events and `done`
  (other) same as bench
`GET /v1/models` answers `{"object":"list","data":[]}`; anything else 404.

Usage: bench_upstream.py --port 0 [--slow-hold 5]   (prints `READY <port>` on stdout)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import sys

CHUNKS = 20
CRLF = b"\r\n"


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n".encode()


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


TEXT_EVENTS = [_event("text", {"text": f"word{i:02d} "}) for i in range(CHUNKS)]
DONE_EVENT = _event("done", {})
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
FIRST = SSE_HEAD + _chunk(TEXT_EVENTS[0])
REST = b"".join(_chunk(e) for e in TEXT_EVENTS[1:]) + _chunk(DONE_EVENT) + b"0\r\n\r\n"
FULL = FIRST + REST
MODELS_BODY = b'{"object":"list","data":[]}'
MODELS = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(MODELS_BODY),
    MODELS_BODY,
)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Stats:
    requests = 0
    open_slow = 0
    max_open_slow = 0


class Upstream(asyncio.Protocol):
    __slots__ = ("buf", "closed", "transport")
    slow_hold = 5.0

    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.buf:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            lines = head.split(CRLF)
            try:
                method, target, _ = lines[0].split(b" ", 2)
            except ValueError:
                self.transport.write(BAD)
                self.transport.close()
                return
            length = 0
            chunked = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            body_start = end + 4
            if chunked:
                # Skip a chunked body: find the terminating zero-size chunk.
                stop = self.buf.find(b"\r\n0\r\n\r\n", body_start - 2)
                if stop < 0:
                    return
                rest = self.buf[stop + 7 :]
            else:
                if len(self.buf) < body_start + length:
                    return
                rest = self.buf[body_start + length :]
            self.buf = rest
            self._answer(method, target)

    def _answer(self, method: bytes, target: bytes) -> None:
        Stats.requests += 1
        if method == b"POST" and target.startswith(b"/bot/"):
            bot = target[5:].split(b"?", 1)[0]
            if bot == b"slow":
                self.transport.write(FIRST)
                Stats.open_slow += 1
                Stats.max_open_slow = max(Stats.max_open_slow, Stats.open_slow)
                asyncio.get_running_loop().call_later(self.slow_hold, self._finish_slow)
            else:
                self.transport.write(FULL)
        elif method == b"GET" and target.split(b"?", 1)[0] == b"/v1/models":
            self.transport.write(MODELS)
        else:
            self.transport.write(NOT_FOUND)

    def _finish_slow(self) -> None:
        Stats.open_slow -= 1
        if not self.closed:
            self.transport.write(REST)


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(host: str, port: int, slow_hold: float) -> None:
    Upstream.slow_hold = slow_hold
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, host, port, backlog=4096, reuse_address=True)
    real_port = server.sockets[0].getsockname()[1]
    print(f"READY {real_port}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
    print(
        json.dumps({"requests": Stats.requests, "max_open_slow": Stats.max_open_slow}),
        file=sys.stderr,
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--slow-hold", type=float, default=float(os.environ.get("SLOW_HOLD", 5)))
    args = parser.parse_args()
    raise_nofile()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.host, args.port, args.slow_hold))


if __name__ == "__main__":
    main()
