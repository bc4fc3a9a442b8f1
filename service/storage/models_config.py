"""models.yaml: load, validate, save atomically, with a revision for optimistic locking.

The file is the Rust original's format plus the settings in openapi/admin.yaml. Every read
checks the file's stat, so hand edits and saves by other worker processes are seen at once;
reading, parsing and writing run in a thread, with bounds (MAX_CONFIG_BYTES, and
service/storage/safe_yaml.py's depth and alias-expansion limits) so no file stalls the service.
A file that cannot be used turns the overlay off and says why (the admin page shows it), and a
save from the admin page repairs it.
A save writes a temporary file, fsyncs it, keeps the previous file as models.yaml.bak (a hard
link, so there is no moment without a models.yaml) and renames the new one over it: a crash
at any point leaves the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import MISSING, ValidationError

from generated.admin import ModelsConfig, ModelSettings
from service.errors import ErrorKind, ServiceError, invalid, invalid_request
from service.storage import safe_yaml
from service.storage.atomic import write_atomically

log = logging.getLogger("poe2openai.store")

FILE_NAME = "models.yaml"
# 1 MiB: a few thousand models with settings; bounds the memory and time of a read or a save.
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigConflict(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.CONFLICT, message, code="config_changed")


class ConfigNotSaved(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.NOT_SAVED, message, code="config_not_saved")


_NO_SETTINGS = ModelSettings()


@dataclass(frozen=True)
class Overlay:
    """models.yaml, checked and indexed for lookups (all keys lower-case)."""

    enabled: bool = False
    settings: dict[str, ModelSettings] = field(default_factory=dict)  # poe id -> settings
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> poe id
    custom: tuple[dict[str, Any], ...] = ()

    def settings_for(self, poe_id: str) -> ModelSettings:
        """A model's settings; all unset while the overlay is off."""
        if not self.enabled:
            return _NO_SETTINGS
        return self.settings.get(poe_id.lower(), _NO_SETTINGS)

    def saved_settings(self, poe_id: str) -> dict[str, Any]:
        """What models.yaml says for a model (unknown keys included), even with the overlay
        off: the admin page shows it."""
        settings = self.settings.get(poe_id.lower())
        return settings.model_dump(mode="json") if settings is not None else {}


@dataclass(frozen=True)
class ConfigState:
    config: dict[str, Any]  # as in the file, unknown keys included
    revision: str
    overlay: Overlay
    problem: str | None = None


def revision_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def check_config(config: Any) -> Overlay:
    """Validate a configuration; raise a 400 naming the path of the bad field."""
    if config is None:
        config = {}
    try:
        checked = ModelsConfig.model_validate(config, strict=True)
    except ValidationError as exc:
        raise invalid_request(exc, config) from None
    models = checked.models if checked.models is not MISSING else None
    settings: dict[str, ModelSettings] = {}
    aliases: dict[str, str] = {}
    for poe_id, entry in (models or {}).items():
        entry = entry or ModelSettings()
        settings[poe_id.lower()] = entry
        alias = entry.mapping if entry.mapping is not MISSING else None
        if alias:
            owner = aliases.get(alias.lower())
            if owner is not None:
                raise invalid(
                    f"`{alias}` is already the alias of `{owner}`",
                    param=f"models.{poe_id}.mapping",
                    code="duplicate_alias",
                )
            aliases[alias.lower()] = poe_id
    custom = tuple(config.get("custom_models") or ())
    seen: set[str] = set()
    for i, model in enumerate(custom):
        name = model["id"].lower()
        if name in seen or name in aliases:
            raise invalid(
                f"`{model['id']}` is used twice",
                param=f"custom_models[{i}].id",
                code="duplicate_alias",
            )
        seen.add(name)
    return Overlay(
        enabled=config.get("enable", True) is not False,
        settings=settings,
        aliases=aliases,
        custom=custom,
    )


class ModelsStore:
    """The current configuration, re-read when the file changes; all file work (stat aside)
    runs in a thread, so a large or hostile file never stalls other requests."""

    def __init__(self, config_dir: Path) -> None:
        self.dir = config_dir
        self.path = config_dir / FILE_NAME
        # Read once before serving (start-up is not on the clock of any request).
        self._stamp, self._state = self._read()
        self._reload: asyncio.Task[None] | None = None

    async def current(self) -> ConfigState:
        # A bounded retry: a file rewritten while it was being read is read again, so a
        # request never sees an older file than the one on disk when it asked.
        for _ in range(3):
            if self._file_stamp() == self._stamp:
                break
            if self._reload is None:
                self._reload = asyncio.create_task(self._reread())
            await asyncio.shield(self._reload)
        return self._state

    async def _reread(self) -> None:
        try:
            self._stamp, self._state = await asyncio.to_thread(self._read)
        finally:
            self._reload = None

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:  # missing, or CONFIG_DIR is not a folder: no file to follow
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self) -> tuple[tuple[int, int, int] | None, ConfigState]:
        """The file's stamp (taken first: a change while reading is seen next time) and its
        state. Never raises: a file that cannot be used turns the overlay off and says why."""
        stamp = self._file_stamp()
        try:
            data = self._read_capped()
        except (FileNotFoundError, NotADirectoryError):
            return stamp, ConfigState({}, revision_of(b""), check_config({}))
        except OSError as exc:  # a folder named models.yaml, no permission...
            # The revision of "nothing", so a repair save from the admin page is accepted.
            reason = f"it cannot be read: {exc.strerror or type(exc).__name__}"
            return stamp, self._unusable(reason, revision_of(b""))
        revision = revision_of(data)
        if len(data) > MAX_CONFIG_BYTES:
            return stamp, self._unusable(f"it is larger than {MAX_CONFIG_BYTES:,} bytes", revision)
        try:
            config = safe_yaml.load(data) or {}
            if not isinstance(config, dict):
                raise invalid("the top level must be a mapping", param="config")
            return stamp, ConfigState(config, revision, check_config(config))
        except (yaml.YAMLError, ServiceError, UnicodeDecodeError) as exc:
            return stamp, self._unusable(
                f"it is not a valid configuration: {_describe(exc)}", revision
            )
        except Exception as exc:  # whatever else a hand-edited file does: serve without it
            log.exception("reading %s failed", self.path)
            return stamp, self._unusable(f"reading it failed: {type(exc).__name__}", revision)

    def _unusable(self, reason: str, revision: str) -> ConfigState:
        problem = f"{self.path}: {reason}; the model overlay is off until it is fixed"
        log.error("%s", problem)
        return ConfigState({}, revision, Overlay(), problem)

    async def save(self, config: dict[str, Any], if_match: str) -> ConfigState:
        """Validate and write `config` if the file is still at revision `if_match`."""
        self._stamp, self._state = await asyncio.to_thread(self._save, config, if_match)
        return self._state

    def _save(
        self, config: dict[str, Any], if_match: str
    ) -> tuple[tuple[int, int, int] | None, ConfigState]:
        overlay = check_config(config)
        text = safe_yaml.dump(config)
        if len(text) > MAX_CONFIG_BYTES:
            raise config_too_large(f"larger than {MAX_CONFIG_BYTES:,} bytes")
        try:
            safe_yaml.check(text)  # what is saved must load again
        except safe_yaml.YamlTooBig as exc:
            raise config_too_large(str(exc)) from None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("could not create %s: %s", self.dir, exc.strerror or exc)
            raise ConfigNotSaved(
                f"The configuration was not saved (CONFIG_DIR cannot be created: "
                f"{exc.strerror or type(exc).__name__}); nothing was changed"
            ) from None
        with self._locked():
            if revision_of(self._on_disk()) != if_match:
                raise ConfigConflict(
                    "The configuration was changed since you loaded it: "
                    "reload, then apply your edit again"
                )
            try:
                self._move_aside_a_folder()
                write_atomically(self.path, text, keep_backup=True)
            except OSError as exc:
                log.error("could not save %s: %s", self.path, exc.strerror or exc)
                reason = (
                    "the disk is full"
                    if exc.errno == errno.ENOSPC
                    else (exc.strerror or type(exc).__name__)
                )
                raise ConfigNotSaved(
                    f"The configuration was not saved ({reason}); the previous file is unchanged"
                ) from None
            return self._file_stamp(), ConfigState(config, revision_of(text), overlay)

    def _read_capped(self) -> bytes:
        """At most one byte over the limit: enough to know a file is too large."""
        with open(self.path, "rb") as handle:
            return handle.read(MAX_CONFIG_BYTES + 1)

    def _on_disk(self) -> bytes:
        """The file's bytes as revisions see them: one that cannot be read counts as empty,
        as `_read` reported it."""
        try:
            return self._read_capped()
        except OSError:
            return b""

    def _move_aside_a_folder(self) -> None:
        """A folder in the file's place cannot be replaced by a file: it is renamed (kept, not
        deleted), so a repair save works."""
        if self.path.is_dir():
            aside = self.path.with_name(f"{FILE_NAME}.folder-{time.strftime('%Y%m%d-%H%M%S')}")
            os.rename(self.path, aside)
            log.warning("%s was a folder: moved to %s to save the configuration", self.path, aside)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise compare-and-save across worker processes."""
        try:
            handle = open(self.dir / ".models.lock", "a+b")
        except OSError:  # a read-only directory: the save below reports it
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def config_too_large(why: str) -> ServiceError:
    return ServiceError(
        ErrorKind.TOO_LARGE,
        f"The configuration is {why}; nothing was saved",
        code="config_too_large",
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return f"{exc.param}: {exc.message}"
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return where + str(getattr(exc, "problem", None) or exc).splitlines()[0]
