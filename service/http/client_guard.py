"""One periodic sweep per worker over its open connections: cuts slow clients, warns when the
connections near the open-file limit.

A sweep rather than a timer per request keeps the per-request cost at two clock reads (taken by
service/http/protocol.py): a request that completes between two sweeps, nearly all of them, is
never looked at. Body progress is read from Sanic's own byte counters, so nothing runs per chunk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from time import monotonic
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.http.protocol import GuardedProtocol

log = logging.getLogger("poe2openai.http")

# The fraction of the open-file limit at which connections count as near it, and how often the
# warning may repeat: often enough to be seen, rarely enough not to flood a log under attack.
_NEAR_LIMIT = 0.8
_WARN_EVERY = 60.0


class ConnectionGuard:
    def __init__(
        self,
        connections: set,
        loop: asyncio.AbstractEventLoop,
        *,
        header_timeout: float,
        body_min_rate: float,
        body_grace: float,
    ) -> None:
        self.connections = connections
        self.loop = loop
        self.header_timeout = header_timeout
        self.body_min_rate = body_min_rate
        self.body_grace = body_grace
        # A few sweeps per deadline: a cut comes at most a quarter of it late, and with the
        # defaults (10 s) the sweep runs once a second.
        self.interval = min(1.0, max(0.05, min(header_timeout, body_grace) / 4))
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.file_limit = None if soft == resource.RLIM_INFINITY else soft
        self._warned_at = -_WARN_EVERY
        self._cut = {"headers": 0, "body": 0}
        self._reported_at = monotonic()
        loop.call_later(self.interval, self._tick)

    @classmethod
    def watch(cls, protocol: GuardedProtocol) -> None:
        """Start the sweep of `protocol`'s server on its first connection (one per worker)."""
        ctx = protocol.app.ctx
        guard = getattr(ctx, "connection_guard", None)
        if guard is None or guard.connections is not protocol.connections:
            settings = ctx.settings
            ctx.connection_guard = cls(
                protocol.connections,
                protocol.loop,
                header_timeout=settings.client_header_timeout,
                body_min_rate=settings.client_body_min_rate,
                body_grace=settings.client_body_grace,
            )

    def _tick(self) -> None:
        try:
            self.sweep(monotonic())
        except Exception:
            log.exception("the sweep over slow connections failed")
        self.loop.call_later(self.interval, self._tick)

    def sweep(self, now: float) -> None:
        for conn in list(self.connections):
            http = conn.http
            if http is None:
                continue
            if (since := conn.head_since) is not None:
                if now - since > self.header_timeout:
                    self._cut["headers"] += 1
                    conn.cut(
                        f"The request headers were not complete within {self.header_timeout:g} s"
                        " (CLIENT_HEADER_TIMEOUT)"
                    )
            elif http.request_body and (since := conn.body_since) is not None:
                elapsed = now - since
                if elapsed > self.body_grace:
                    received = http.request_bytes - http.request_bytes_left + len(conn.recv_buffer)
                    if received < self.body_min_rate * elapsed:
                        self._cut["body"] += 1
                        conn.cut(
                            f"The request body arrived at {received / elapsed:.0f} bytes/s, under "
                            f"the minimum of {self.body_min_rate:g} (CLIENT_BODY_MIN_RATE)"
                        )
        self._check_file_limit(now)
        self._report_cuts(now)

    def _check_file_limit(self, now: float) -> None:
        if self.file_limit is None or now - self._warned_at < _WARN_EVERY:
            return
        # Each open stream holds two descriptors: the client's socket and Poe's.
        open_connections = len(self.connections)
        if 2 * open_connections < _NEAR_LIMIT * self.file_limit:
            return
        self._warned_at = now
        try:
            in_use = f"{len(os.listdir('/proc/self/fd'))} of {self.file_limit}"
        except OSError:
            in_use = f"limit {self.file_limit}"
        log.warning(
            "%d client connections open, each holding up to two file descriptors (client and "
            "Poe): %s descriptors in use; new connections fail at the limit. Raise the open-file "
            "limit (RLIMIT_NOFILE: ulimit -n, systemd LimitNOFILE, docker --ulimit nofile) or "
            "add WORKERS",
            open_connections,
            in_use,
        )

    def _report_cuts(self, now: float) -> None:
        if now - self._reported_at < _WARN_EVERY or not any(self._cut.values()):
            return
        log.info(
            "cut slow clients in the last %.0f s: %d with headers not complete within %g s, "
            "%d with a body under %g bytes/s",
            now - self._reported_at,
            self._cut["headers"],
            self.header_timeout,
            self._cut["body"],
            self.body_min_rate,
        )
        self._cut = {"headers": 0, "body": 0}
        self._reported_at = now
