"""The model catalog: Poe's model list (cached) overlaid with models.yaml; alias resolution.

One fetch at a time (concurrent callers wait for it); after a failed fetch the last good list
is served and Poe is asked again only after `models_retry_interval`, so an outage does not
turn every `/v1/models` call into a slow timeout. The last list Poe returned is also kept in
CONFIG_DIR, so a restart without network still lists models.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generated.poe import PoeModel
from service.poe.client import PoeClient
from service.poe.errors import PoeError
from service.store import Overlay, write_atomically
from service.translate.models import custom_model, to_openai_model

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
    def __init__(
        self, poe: PoeClient, ttl: float, retry_interval: float, saved_list: Path | None = None
    ) -> None:
        self._poe = poe
        self._ttl = ttl
        self._retry_interval = retry_interval
        self._saved_list = saved_list
        self._entries: list[ModelEntry] | None = None
        self._by_name: dict[str, ModelEntry] = {}
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()
        self._visible: tuple[object, str, list[dict[str, Any]], dict[str, dict]] | None = None
        self.stale = False
        self._load_saved()

    def _load_saved(self) -> None:
        """Start from the list saved by an earlier run; it is refreshed on first use."""
        if self._saved_list is None:
            return
        try:
            raw = json.loads(self._saved_list.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring the saved model list %s: %s", self._saved_list, exc)
            return
        if isinstance(raw, list):
            self._install(raw)
            log.info("loaded the saved Poe model list (%d models)", len(self._entries or []))

    async def models(self) -> list[ModelEntry]:
        """The current list; raises PoeError only when Poe fails and nothing is cached."""
        if self._entries is None or time.monotonic() >= self._fresh_until:
            await self._refresh()
        assert self._entries is not None
        return self._entries

    async def warm(self) -> None:
        """Load the list now if possible; a failure is only logged."""
        try:
            await self.models()
        except PoeError as exc:
            log.warning("Poe model list not loaded at start-up: %s", exc.message)

    def resolve(
        self, name: str, overlay: Overlay
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """The Poe bot for a requested model name and its settings, from the cached list only
        (a chat request never waits for the list). An alias resolves case-insensitively;
        unknown names pass through: Poe has private bots no list shows, and the bot endpoint
        accepts display names too. Returns (bot, its settings, its Poe list entry or None)."""
        key = name.lower()
        bot = overlay.aliases.get(key, name) if overlay.enabled else name
        entry = self._by_name.get(bot.lower())
        if entry is not None:
            bot = entry.id
        return bot, overlay.settings_for(bot), entry.poe if entry is not None else None

    async def visible(self, overlay: Overlay) -> list[dict[str, Any]]:
        """What /v1/models shows: hidden models left out, aliases applied, custom appended."""
        return (await self._overlaid(overlay))[0]

    async def find(self, name: str, overlay: Overlay) -> dict[str, Any] | None:
        """One visible model by id (alias) or display name, case-insensitively."""
        return (await self._overlaid(overlay))[1].get(name.lower())

    async def _overlaid(self, overlay: Overlay) -> tuple[list[dict], dict[str, dict]]:
        entries = await self.models()
        cached = self._visible
        if cached is not None and cached[0] is entries and cached[1] is overlay:
            return cached[2], cached[3]
        shown: list[dict[str, Any]] = []
        for entry in entries:
            settings = overlay.settings_for(entry.id)
            if settings.get("enable") is False:
                continue
            model = entry.openai
            if settings.get("mapping") or settings.get("display_name"):
                model = dict(model)
                model["id"] = settings.get("mapping") or model["id"]
                if settings.get("display_name"):
                    model["name"] = settings["display_name"]
            shown.append(model)
        if overlay.enabled:
            shown.extend(custom_model(c) for c in overlay.custom)
        by_name: dict[str, dict] = {}
        for model in shown:
            if model.get("name"):
                by_name.setdefault(model["name"].lower(), model)
        for model in shown:
            by_name[model["id"].lower()] = model
        self._visible = (entries, overlay, shown, by_name)
        return shown, by_name

    async def refresh_now(self) -> int:
        """Fetch Poe's list now (the admin's refresh button); raises PoeError."""
        async with self._lock:
            raw = await self._poe.list_models()
            await self._keep(raw)
            return len(self._entries or [])

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
                self.stale = True
                return
            await self._keep(raw)

    async def _keep(self, raw: list[Any]) -> None:
        self._install(raw)
        log.info("Poe model list fetched: %d models", len(self._entries or []))
        self._fresh_until = time.monotonic() + self._ttl
        self.stale = False
        if self._saved_list is not None:
            data = json.dumps(raw).encode()
            try:
                await asyncio.to_thread(write_atomically, self._saved_list, data)
            except OSError as exc:
                log.warning("could not save the model list to %s: %s", self._saved_list, exc)

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
