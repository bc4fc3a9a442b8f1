"""The model catalog: Poe's model list (cached) overlaid with models.yaml; alias resolution.

One fetch at a time (concurrent callers wait for it); after a failed fetch the last good list
is served and Poe is asked again only after `models_retry_interval`, so an outage does not
turn every `/v1/models` call into a slow timeout. The last list Poe returned is also kept in
CONFIG_DIR, so a restart without network still lists models.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generated.admin import ModelSettings
from generated.poe import PoeModel
from service.contracts import given
from service.core.model_info import custom_model, model_view
from service.poe.client import PoeClient
from service.poe.errors import PoeError
from service.storage.atomic import write_atomically
from service.storage.models_config import Overlay

log = logging.getLogger("poe2openai.catalog")
_NO_ENTRIES: list[ModelEntry] = []
_MAX_RESOLVED = 4096


@dataclass(frozen=True)
class ModelEntry:
    """One model of Poe's list: the face clients see (OpenAI's Model shape, which every
    front's list is made from) and the Poe entry it came from."""

    model: dict[str, Any]
    poe: dict[str, Any] = field(repr=False)

    @property
    def id(self) -> str:
        return self.model["id"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """What a request's model name resolved to, with its per-model settings, typed."""

    requested: str
    bot: str
    entry: dict[str, Any] | None = field(default=None, repr=False)  # Poe's list entry
    reasoning: str = "reasoning_content"
    tools: str | None = None  # native / prompt / off; None: from Poe's list
    replace_response: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)
    reask_invalid_output: bool = False

    @classmethod
    def of(
        cls, requested: str, bot: str, settings: ModelSettings, entry: dict[str, Any] | None
    ) -> ResolvedModel:
        # The one place per-model settings are read.
        return cls(
            requested=requested,
            bot=bot,
            entry=entry,
            reasoning=given(settings.reasoning) or "reasoning_content",
            tools=given(settings.tools),
            replace_response=settings.replace_response is True,
            parameters=dict(given(settings.parameters) or {}),
            reask_invalid_output=settings.reask_invalid_output is True,
        )

    @property
    def tool_mode(self) -> str:
        """The setting, else from Poe's list (`tools` in supported_features -> native); bots
        the list does not know are native, the protocol's way."""
        if self.tools:
            return self.tools
        if self.entry is None:
            return "native"
        return "native" if "tools" in (self.entry.get("supported_features") or []) else "prompt"

    @property
    def declared_parameters(self) -> set[str]:
        return set(self.declared_schemas)

    @property
    def declared_schemas(self) -> dict[str, dict[str, Any]]:
        """Each parameter Poe's list declares for the bot -> its JSON schema (may be empty)."""
        declared = (self.entry or {}).get("parameters") or []
        return {
            p["name"]: p.get("schema") if isinstance(p.get("schema"), dict) else {}
            for p in declared
            if isinstance(p, dict) and isinstance(p.get("name"), str)
        }


_DATE_SUFFIX = re.compile(r"-(?:\d{8}|latest)$")


def loose_name(name: str) -> str:
    """A model name with case, dots versus dashes and a date suffix not mattering:
    `claude-sonnet-4-5-20250929`, `claude-sonnet-4.5` and `Claude-Sonnet-4.5` agree."""
    return _DATE_SUFFIX.sub("", name.lower().replace(".", "-").replace("_", "-"))


@dataclass(frozen=True, slots=True)
class NamedModel:
    model: dict[str, Any]  # as /v1/models shows it (alias as id, overridden display name)
    entry: ModelEntry | None  # None for custom models
    listed: bool  # GET /v1/models/{name} finds it by this name


@dataclass(frozen=True)
class CatalogView:
    """Poe's list with models.yaml applied: what is shown, and one index of every name a
    request may use, so listing, lookup and requests can never disagree."""

    shown: list[dict[str, Any]]
    names: dict[str, NamedModel]
    loose: dict[str, NamedModel]
    # Requested name -> what it resolved to, for this view only (a new list or a saved
    # models.yaml makes a new view); bounded, as clients choose the names.
    resolved: dict[str, ResolvedModel] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: list[ModelEntry], overlay: Overlay) -> CatalogView:
        shown: list[dict[str, Any]] = []
        listed: list[tuple[dict[str, Any], ModelEntry | None]] = []
        hidden: list[ModelEntry] = []
        for entry in entries:
            settings = overlay.settings_for(entry.id)
            if settings.enable is False:
                hidden.append(entry)
                continue
            model = entry.model
            mapping, display = given(settings.mapping), given(settings.display_name)
            if mapping or display:
                model = dict(model)
                model["id"] = mapping or model["id"]
                if display:
                    model["name"] = display
            shown.append(model)
            listed.append((model, entry))
        if overlay.enabled:
            for custom in overlay.custom:
                model = custom_model(custom)
                shown.append(model)
                listed.append((model, None))
        # One index, lowest priority first: Poe's own display names and ids (of hidden and
        # renamed models too: requests may still use them, the lookup does not show them),
        # then the display names and ids the list shows, then aliases of hidden models.
        names: dict[str, NamedModel] = {}
        for entry in entries:
            display = entry.model.get("name")
            if display:
                names.setdefault(display.lower(), NamedModel(entry.model, entry, listed=False))
        for entry in entries:
            names[entry.id.lower()] = NamedModel(entry.model, entry, listed=False)
        displays: set[str] = set()
        for model, entry in listed:
            display = (model.get("name") or "").lower()
            if display and display not in displays:  # the first model of a name keeps it
                displays.add(display)
                names[display] = NamedModel(model, entry, listed=True)
        for model, entry in listed:
            names[model["id"].lower()] = NamedModel(model, entry, listed=True)
        if overlay.enabled:
            for alias, poe_id in overlay.aliases.items():
                if alias not in names and poe_id.lower() in names:
                    names[alias] = names[poe_id.lower()]
        # A loose name stands for a model only when it stands for one model: two bots that
        # differ only by case, dots or a date suffix are asked for by their exact names.
        loose: dict[str, NamedModel] = {}
        ambiguous: set[str] = set()
        for name, named in names.items():
            key = loose_name(name)
            known = loose.setdefault(key, named)
            if _bot_of(known) != _bot_of(named):
                ambiguous.add(key)
        for key in ambiguous:
            del loose[key]
        return cls(shown, names, loose)

    def nearest(self, name: str, limit: int = 5) -> list[str]:
        """Up to `limit` ids this view shows whose names are close to `name`, closest first."""
        by_loose: dict[str, str] = {}
        for model in self.shown:
            by_loose.setdefault(loose_name(model["id"]), model["id"])
        wanted = loose_name(_without_provider(name.lower()))
        close = difflib.get_close_matches(wanted, list(by_loose), n=limit, cutoff=0.6)
        return [by_loose[key] for key in close]


def _bot_of(named: NamedModel) -> str:
    return named.entry.id if named.entry is not None else named.model["id"]


def _without_provider(name: str) -> str:
    """`openai/gpt-5`, `anthropic/claude-sonnet-4.5`, `poe/…`: clients of routers name models
    with a provider prefix; Poe's names have no `/`."""
    return name.rsplit("/", 1)[-1]


class ModelCatalog:
    def __init__(
        self, poe: PoeClient, ttl: float, retry_interval: float, saved_list: Path | None = None
    ) -> None:
        self._poe = poe
        self._ttl = ttl
        self._retry_interval = retry_interval
        self._saved_list = saved_list
        self._entries: list[ModelEntry] | None = None
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()
        self._cached_view: tuple[list[ModelEntry], Overlay, CatalogView] | None = None
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

    def resolve(self, name: str, overlay: Overlay) -> ResolvedModel:
        """The Poe bot for a requested model name and its settings, from the cached list only
        (a request never waits for the list). Names resolve case-insensitively through the
        same index `find` uses (aliases, ids, display names, overridden display names), then
        loosely (`claude-sonnet-4-5-20250929` finds `Claude-Sonnet-4.5`); other names pass
        through: Poe has private bots no list shows."""
        view = self._view(self._entries if self._entries is not None else _NO_ENTRIES, overlay)
        found = view.resolved.get(name)
        if found is None:
            if len(view.resolved) >= _MAX_RESOLVED:
                view.resolved.clear()
            found = view.resolved[name] = self._resolve(name, view, overlay)
        return found

    @staticmethod
    def _resolve(name: str, view: CatalogView, overlay: Overlay) -> ResolvedModel:
        named = None
        for key in dict.fromkeys((name.lower(), _without_provider(name.lower()))):
            named = view.names.get(key)
            if named is None and overlay.enabled and key in overlay.aliases:
                bot = overlay.aliases[key]  # an alias of a bot Poe's list does not show
                return ResolvedModel.of(name, bot, overlay.settings_for(bot), None)
            named = named or view.loose.get(loose_name(key))
            if named is not None:
                break
        if named is None:
            return ResolvedModel.of(name, name, overlay.settings_for(name), None)
        bot = _bot_of(named)
        entry = named.entry.poe if named.entry is not None else None
        return ResolvedModel.of(name, bot, overlay.settings_for(bot), entry)

    async def visible(self, overlay: Overlay) -> list[dict[str, Any]]:
        """What /v1/models shows: hidden models left out, aliases applied, custom appended."""
        return self._view(await self.models(), overlay).shown

    def nearest(self, name: str, overlay: Overlay) -> list[str]:
        """Ids of listed models close to a name that matched none (for its 404)."""
        if self._entries is None:
            return []
        return self._view(self._entries, overlay).nearest(name)

    async def find(self, name: str, overlay: Overlay) -> dict[str, Any] | None:
        """One visible model by id (alias) or display name, case-insensitively."""
        named = self._view(await self.models(), overlay).names.get(name.lower())
        return named.model if named is not None and named.listed else None

    def _view(self, entries: list[ModelEntry], overlay: Overlay) -> CatalogView:
        cached = self._cached_view
        if cached is not None and cached[0] is entries and cached[1] is overlay:
            return cached[2]
        view = CatalogView.build(entries, overlay)
        self._cached_view = (entries, overlay, view)
        return view

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
            entries.append(ModelEntry(model=model_view(checked), poe=checked))
        self._entries = entries
