"""Resources opened in the background once the server has started, so start-up stays fast;
whoever needs one awaits it (at once, when it is open)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger("poe2openai.storage")

T = TypeVar("T")


class Opening(Generic[T]):
    def __init__(self, name: str, opener: Callable[[], Awaitable[T]]) -> None:
        self.name = name
        self._task: asyncio.Task[T] = asyncio.ensure_future(opener())
        self._task.add_done_callback(self._opened)

    async def ready(self) -> T:
        """The resource; what opening it raised, for every caller, if it failed."""
        return await asyncio.shield(self._task)

    async def close(self, closer: Callable[[T], Awaitable[None]], wait: float = 10.0) -> None:
        """Let an opening that is under way finish first (up to `wait` seconds: a migration
        is not cut in the middle), then close what was opened."""
        if not self._task.done():
            done, _ = await asyncio.wait({self._task}, timeout=wait)
            if not done:
                self._task.cancel()
                return
        if not self._task.cancelled() and self._task.exception() is None:
            await closer(self._task.result())

    def _opened(self, task: asyncio.Task[T]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s could not be opened: %s", self.name, task.exception())
