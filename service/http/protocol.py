"""Sanic's HTTP/1.1 protocol, stricter about slow clients and about header syntax.

Sanic restarts its request timer on every byte received and reads a body under the response
timeout, so a client trickling a byte every few seconds held its connection for minutes; a
thousand of them used up the file limit. Here each connection notes when the current request's
headers began and when its body began (two clock reads per request, nothing per chunk), and one
periodic sweep per worker (service/http/client_guard.py) cuts the ones past their deadline.

Header syntax Sanic lets through (names with spaces, control characters in values) is refused
with a 400, and an oversized header block gets a 431 that says so (Sanic raises a 413 about the
body), both in the error shape of the API the path belongs to.
"""

from __future__ import annotations

from time import monotonic

from sanic.compat import Header
from sanic.exceptions import PayloadTooLarge
from sanic.http import Http, Stage
from sanic.server.protocols.http_protocol import HttpProtocol

from service.errors import ErrorKind, ServiceError
from service.http.client_guard import ConnectionGuard

# Every control character but TAB: CR and LF may only appear as the CRLF ending a line.
_CONTROLS = bytes(range(32)).replace(b"\t", b"") + b"\x7f"
# What a header name may hold (RFC 9110 5.6.2); Sanic has lowercased the names already.
_TOKEN = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"


def _bad_head(head: bytes, headers: Header) -> str | None:
    """Why a request head Sanic parsed is malformed, or None. Bytes operations rather than
    regular expressions: ~3 µs for an SDK's 18 headers on a busy 2-core VM, half the cost."""
    # One CRLF before each header line, and no other control character anywhere.
    if len(head) - len(head.translate(None, _CONTROLS)) != 2 * len(headers):
        return "Header values must not contain control characters (NUL, a lone CR or LF...)"
    names = "".join(headers.keys()).encode(errors="surrogateescape")
    if names.translate(None, _TOKEN) or "" in headers:
        # A space in a name (also before the colon, or a folded line), a separator, non-ASCII.
        return "Header names must be tokens: no spaces, separators or empty names"
    return None


def _request_target(buf: bytes | bytearray) -> str | None:
    """The path of a request line already received, so that an error answered before the
    headers are complete still has the body of the API the path belongs to."""
    end = buf.find(b"\r\n", 0, 8192)
    parts = bytes(buf[:end]).split(b" ") if end > 0 else ()
    return parts[1].decode(errors="surrogateescape") if len(parts) == 3 else None


class StrictHttp(Http):
    __slots__ = ()

    async def http1_request_header(self) -> None:
        protocol = self.protocol
        if protocol.head_since is None:
            # A keep-alive request: it starts now, with its first byte (a connection's first
            # request is timed from the connection, see GuardedProtocol.connection_made).
            protocol.head_since = monotonic()
        try:
            await super().http1_request_header()
        except PayloadTooLarge:
            # Sanic raises this, while reading the head, only for a head over its size limit.
            self.url = _request_target(self.recv_buffer)
            raise ServiceError(
                ErrorKind.INVALID_REQUEST,
                f"The request headers are larger than the limit of {self.HEADER_MAX_SIZE} bytes",
                code="request_header_fields_too_large",
                status=431,
            ) from None
        finally:
            # Read, refused or abandoned: the head's deadline no longer applies (an error being
            # answered is not cut as a slow head).
            protocol.head_since = None
        protocol.body_since = monotonic() if self.request_body else None
        if reason := _bad_head(self.request.head, self.request.headers):
            raise ServiceError(ErrorKind.INVALID_REQUEST, reason, code="invalid_header")


class GuardedProtocol(HttpProtocol):
    """Pass as `protocol=` to `app.prepare`; reads its limits from `app.ctx.settings`."""

    HTTP_CLASS = StrictHttp
    __slots__ = ("body_since", "head_since")

    def connection_made(self, transport) -> None:
        # The first request is timed from the connection itself: a client that connects and
        # says nothing holds a descriptor as surely as one that trickles.
        self.head_since: float | None = monotonic()
        self.body_since: float | None = None
        super().connection_made(transport)
        ConnectionGuard.watch(self)

    def cut(self, message: str) -> None:
        """End the connection of a client too slow to finish its request: with a 408 in the
        shape of the path's API while an answer can still be sent, else by closing it."""
        self.head_since = self.body_since = None  # cut once
        http = self.http
        if http is None or self._task is None:
            return
        if http.stage is Stage.REQUEST:
            http.url = _request_target(self.recv_buffer)
        elif http.stage is not Stage.HANDLER or http.response is not None:
            # Nothing received yet (no request to answer), or Sanic is draining the body of a
            # request already answered: nothing more can be said.
            self.close()
            return
        # As Sanic's own request timeout does: the connection task is cancelled, answers
        # `http.exception` through the app's error handler, and closes. The rest of the body is
        # not waited for.
        http.exception = ServiceError(
            ErrorKind.TIMEOUT, message, code="request_timeout", status=408
        )
        http.request_body = None
        self._task.cancel()
