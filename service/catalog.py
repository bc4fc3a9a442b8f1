"""The model catalog: Poe's model list, cached per worker, served stale when Poe is down.

One fetch at a time (concurrent callers wait for it); after a failed fetch the last good list
is served and Poe is asked again only after `models_retry_interval`, so an outage does not
turn every `/v1/models` call into a slow timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from generated.poe import PoeModel
from service.poe.client import PoeClient
from service.poe.errors import PoeError
from service.translate.models import to_openai_model

log = logging.getLogger("poe2openai.catalog")


@dataclass(frozen=True)
class ModelEntry:
    """One model: the OpenAI face clients see and the Poe entry it came from."""

    openai: dict[str, Any]
    poe: dict[str, Any] = field(repr=False)

    @property
    def id(self) -> str:
        return self.openai["id"]


class ModelCatalog:
    def __init__(self, poe: PoeClient, ttl: float, retry_interval: float) -> None:
        self._poe = poe
        self._ttl = ttl
        self._retry_interval = retry_interval
        self._entries: list[ModelEntry] | None = None
        self._by_name: dict[str, ModelEntry] = {}
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()

    async def models(self) -> list[ModelEntry]:
        """The current list; raises PoeError only when Poe fails and nothing is cached."""
        if self._entries is None or time.monotonic() >= self._fresh_until:
            await self._refresh()
        assert self._entries is not None
        return self._entries

    async def get(self, name: str) -> ModelEntry | None:
        """A model by id or display name, case-insensitively (Poe accepts either)."""
        await self.models()
        return self._by_name.get(name.lower())

    def resolve(self, name: str) -> str:
        """The Poe bot for a requested model name, from the cached list only (a chat request
        never waits for the list). Unknown names pass through: Poe has private bots no list
        shows, and the bot endpoint accepts display names too."""
        entry = self._by_name.get(name.lower())
        return entry.id if entry is not None else name

    async def _refresh(self) -> None:
        async with self._lock:
            if self._entries is not None and time.monotonic() < self._fresh_until:
                return  # another caller refreshed while we waited
            try:
                raw = await self._poe.list_models()
            except PoeError as exc:
                if self._entries is None:
                    raise
                log.warning(
                    "Poe model list unavailable (%s); serving the cached list of %d",
                    exc.message,
                    len(self._entries),
                )
                self._fresh_until = time.monotonic() + self._retry_interval
                return
            self._install(raw)
            self._fresh_until = time.monotonic() + self._ttl

    def _install(self, raw: list[Any]) -> None:
        entries = []
        for item in raw:
            try:
                checked = PoeModel.model_validate(item).model_dump(mode="json", by_alias=True)
            except ValidationError as exc:
                log.warning(
                    "skipping a Poe model entry that does not fit the contract: %s",
                    exc.errors()[0]["msg"],
                )
                continue
            entries.append(ModelEntry(openai=to_openai_model(checked), poe=checked))
        by_name: dict[str, ModelEntry] = {}
        for entry in entries:
            display = entry.openai.get("name")
            if display:
                by_name.setdefault(display.lower(), entry)
        for entry in entries:  # ids win over display names
            by_name[entry.id.lower()] = entry
        self._entries, self._by_name = entries, by_name
        log.info("Poe model list loaded: %d models", len(entries))
