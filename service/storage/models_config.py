"""models.yaml: load, validate, save atomically, with a revision for optimistic locking.

The file is the Rust original's format plus the settings in openapi/admin.yaml. Every read
checks the file's stat, so hand edits and saves by other worker processes are seen at once.
A save writes a temporary file, fsyncs it, keeps the previous file as models.yaml.bak (a hard
link, so there is no moment without a models.yaml) and renames the new one over it: a crash
at any point leaves the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic.experimental.missing_sentinel import MISSING

from generated.admin import ModelsConfig, ModelSettings
from service.errors import ErrorKind, ServiceError, invalid, invalid_request

log = logging.getLogger("poe2openai.store")

FILE_NAME = "models.yaml"


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
    def __init__(self, config_dir: Path) -> None:
        self.dir = config_dir
        self.path = config_dir / FILE_NAME
        self._stamp: tuple[int, int, int] | None = None
        self._state = self._load()

    def current(self) -> ConfigState:
        if self._file_stamp() != self._stamp:
            self._state = self._load()
        return self._state

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:  # missing, or CONFIG_DIR is not a folder: no file to follow
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self) -> ConfigState:
        self._stamp = self._file_stamp()
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return ConfigState({}, revision_of(b""), check_config({}))
        except OSError as exc:  # a folder named models.yaml, no permission...
            problem = (
                f"{self.path} cannot be read ({exc.strerror or type(exc).__name__}); "
                "the model overlay is off until it is fixed"
            )
            log.error("%s", problem)
            return ConfigState({}, revision_of(b""), Overlay(), problem)
        revision = revision_of(data)
        try:
            config = yaml.safe_load(data) or {}
            if not isinstance(config, dict):
                raise invalid("the top level must be a mapping", param="config")
            return ConfigState(config, revision, check_config(config))
        except (yaml.YAMLError, ServiceError, UnicodeDecodeError) as exc:
            problem = (
                f"{self.path} is not a valid configuration ({_describe(exc)}); "
                "the model overlay is off until it is fixed"
            )
            log.error("%s", problem)
            return ConfigState({}, revision, Overlay(), problem)

    def save(self, config: dict[str, Any], if_match: str) -> ConfigState:
        check_config(config)
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True).encode()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("could not create %s: %s", self.dir, exc.strerror or exc)
            raise ConfigNotSaved(
                f"The configuration was not saved (CONFIG_DIR cannot be created: "
                f"{exc.strerror or type(exc).__name__}); nothing was changed"
            ) from None
        with self._locked():
            try:
                on_disk = self.path.read_bytes()
            except FileNotFoundError:
                on_disk = b""
            if revision_of(on_disk) != if_match:
                raise ConfigConflict(
                    "The configuration was changed since you loaded it: "
                    "reload, then apply your edit again"
                )
            try:
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
        return self.current()

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


def write_atomically(path: Path, data: bytes, keep_backup: bool = False) -> None:
    try:
        mode = os.stat(path).st_mode & 0o777  # keep the mode a hand-made file had
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_backup and path.exists():
            backup_tmp = path.with_name(f".{path.name}.bak.tmp")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(backup_tmp)
            os.link(path, backup_tmp)
            os.replace(backup_tmp, path.with_name(path.name + ".bak"))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return f"{exc.param}: {exc.message}"
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return where + str(getattr(exc, "problem", None) or exc).splitlines()[0]
