"""Resources opened once, in the background, so start-up stays fast: at start when every
request needs them, else on first use; whoever needs one awaits it (at once, when open)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from service.errors import ErrorKind, ServiceError

log = logging.getLogger("poe2openai.storage")

T = TypeVar("T")


class Opening(Generic[T]):
    def __init__(
        self, name: str, opener: Callable[[], Awaitable[T]], *, at_once: bool = False
    ) -> None:
        self.name = name
        self._opener = opener
        self._task: asyncio.Task[T] | None = None
        if at_once:
            self._start()

    async def ready(self) -> T:
        """The resource, or a 503 when it cannot be opened (logged); a failed opening is
        tried again by the next caller, so the service recovers when the cause goes away."""
        task = self._task
        if task is None or (task.done() and (task.cancelled() or task.exception())):
            task = self._start()
        try:
            return await asyncio.shield(task)
        except Exception:
            raise ServiceError(
                ErrorKind.INTERNAL,
                f"The service's storage is not available ({self.name} could not be opened)",
                status=503,
                code="storage_unavailable",
                should_retry=True,
            ) from None

    def opened(self) -> T | None:
        """The resource if it is open now, without waiting (None otherwise)."""
        task = self._task
        if task is None or not task.done() or task.cancelled() or task.exception():
            return None
        return task.result()

    async def close(self, closer: Callable[[T], Awaitable[None]], wait: float = 10.0) -> None:
        """Let an opening that is under way finish first (up to `wait` seconds: a migration
        is not cut in the middle), then close what was opened."""
        task = self._task
        if task is None:
            return
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=wait)
            if not done:
                task.cancel()
                return
        if not task.cancelled() and task.exception() is None:
            await closer(task.result())

    def _start(self) -> asyncio.Task[T]:
        self._task = asyncio.ensure_future(self._opener())
        self._task.add_done_callback(self._opened)
        return self._task

    def _opened(self, task: asyncio.Task[T]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s could not be opened: %s", self.name, task.exception())
