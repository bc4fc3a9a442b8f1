"""Server-sent events parsing for Poe answers: CRLF, LF or CR line ends; comment lines skipped.

Incremental and allocation-light: it runs once per network read on the hot path.
"""

from __future__ import annotations


class SSEParser:
    __slots__ = ("_buffer", "_data", "_event")

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        """Returns the (event, data) pairs completed by this chunk."""
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            # A trailing CR may be the first half of a CRLF split across reads: keep it back.
            held = b"\r" if buffer.endswith(b"\r") else b""
            if held:
                buffer = buffer[:-1]
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        else:
            held = b""
        lines = buffer.split(b"\n")
        self._buffer = lines.pop() + held
        events: list[tuple[str, str]] = []
        for line in lines:
            if not line:
                if self._data or self._event:
                    events.append(
                        (
                            self._event or "message",
                            b"\n".join(self._data).decode("utf-8", "replace"),
                        )
                    )
                    self._event = ""
                    self._data = []
                continue
            if line[0] == 58:  # b":" starts a comment (Poe's keep-alive pings)
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
        return events
