"""Raw HTTP/1.1 on a 127.0.0.1 socket, for what HTTP client libraries will not send: bytes
trickled one at a time, malformed headers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class RawAnswer:
    data: bytes  # everything the service sent before closing (or before we stopped waiting)
    closed_after: float | None  # seconds from our first byte to the service's close; None: open

    @property
    def status(self) -> int | None:
        line = self.data.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 else None

    def json(self) -> Any:
        return json.loads(self.data.split(b"\r\n\r\n", 1)[1])


async def exchange(
    port: int, head: bytes, drip: bytes = b"", every: float = 0.2, wait: float = 5.0
) -> RawAnswer:
    """Send `head` at once, then `drip` one byte every `every` seconds, and read until the
    service closes the connection, for at most `wait` seconds."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = loop.time()
    writer.write(head)

    async def trickle() -> None:
        for byte in drip:
            await asyncio.sleep(every)
            writer.write(bytes([byte]))

    dripping = asyncio.create_task(trickle())
    data = b""
    try:
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                data += chunk
        return RawAnswer(data, loop.time() - started)
    except (ConnectionResetError, BrokenPipeError):
        return RawAnswer(data, loop.time() - started)
    except TimeoutError:
        return RawAnswer(data, None)
    finally:
        dripping.cancel()
        writer.close()


def exchange_now(port: int, head: bytes, wait: float = 5.0) -> RawAnswer:
    return asyncio.run(exchange(port, head, wait=wait))
