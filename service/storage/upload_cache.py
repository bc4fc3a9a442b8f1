"""Poe attachments already uploaded, per caller and by content or URL: bounded in size and
age, persisted in CONFIG_DIR so a restart does not upload the same file again, and one upload
per key at a time (single-flight).

Each caller has a cache of their own: one shared by every key let user B reuse user A's upload
without sending it, and tell from the timing (4 ms against 0.8 s) that A had sent that very
file. The keys are HMACs, under a secret of this installation, of the caller's Poe key with
what was uploaded: the file holds neither keys nor digests of them or of the files, and no
client URL or file name, only the Poe CDN URL and type of each upload."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

from pydantic import SecretStr

from service.ops import metrics
from service.storage.atomic import local_secret, write_atomically

log = logging.getLogger("poe2openai.attachments")

_VERSION = 2


class UploadCache:
    """Poe attachments by key (see `key_for`), at most
    `max_entries` (the oldest go first), each for at most `max_age` seconds; persisted to
    `path` (JSON) within `save_delay` seconds of a new entry, so a restart does not upload the
    same file again. Concurrent requests for one key share one upload; a failed upload is not
    cached and fails every request that waited for it."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_entries: int = 2000,
        max_age: float = 24 * 3600,
        save_delay: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_entries = max_entries
        self.max_age = max_age
        self.save_delay = save_delay
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()
        self._pending: dict[str, asyncio.Task[dict[str, str]]] = {}
        self._saver: asyncio.Task[None] | None = None
        self._saver_writing = False
        self._save_lock = asyncio.Lock()
        self._dirty = False
        self._secret = (
            local_secret(path.with_name(f".{path.stem}.secret"))
            if path is not None
            else secrets.token_bytes(32)
        )
        if path is not None:
            self._adopt(_read_entries(path))

    def key_for(self, caller: SecretStr, what: str) -> str:
        """The entry key of `what` (`sha256:<hex of the bytes>`, `url:<the URL>`) uploaded with
        the caller's key."""
        message = caller.get_secret_value().encode() + b"\0" + what.encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> dict[str, str] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry[0] > self.max_age:
            del self._entries[key]
            return None
        return dict(entry[1])

    def put(self, key: str, attachment: Mapping[str, str]) -> None:
        """Keep the upload's CDN URL and type (a file name is the client's: not kept)."""
        self._entries.pop(key, None)
        kept = {"url": attachment["url"], "content_type": attachment["content_type"]}
        self._entries[key] = (self._clock(), kept)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        self._dirty = True
        self._schedule_save()

    async def get_or_upload(
        self, key: str, upload: Callable[[], Awaitable[dict[str, str]]]
    ) -> dict[str, str]:
        hit = self.get(key)
        if hit is not None:
            metrics.upload_cache(hit=True)
            return hit
        task = self._pending.get(key)
        metrics.upload_cache(hit=task is not None)  # a miss: this call uploads
        if task is None:
            # A task of its own: a caller that goes away does not cancel it for the others.
            task = asyncio.get_running_loop().create_task(self._fill(key, upload))
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
        return dict(await asyncio.shield(task))

    async def flush(self) -> None:
        """Write what is not on disk yet, now (at shutdown, or in tests)."""
        saver = self._saver
        if saver is not None and not saver.done():
            if not self._saver_writing:
                saver.cancel()
            await asyncio.wait([saver])
        await self._save_now()

    async def _fill(self, key: str, upload: Callable[[], Awaitable[dict[str, str]]]) -> dict:
        attachment = await upload()
        self.put(key, attachment)
        return attachment

    def _settled(self, key: str, task: asyncio.Task) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved, even when every waiter has gone

    def _schedule_save(self) -> None:
        if self.path is None or (self._saver is not None and not self._saver.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: flush() will write
        self._saver = loop.create_task(self._save_later())

    async def _save_later(self) -> None:
        await asyncio.sleep(self.save_delay)
        self._saver_writing = True
        try:
            await self._save_now()
        finally:
            self._saver_writing = False

    async def _save_now(self) -> None:
        async with self._save_lock:
            if not self._dirty or self.path is None:
                return
            self._dirty = False
            snapshot = [(key, at, att) for key, (at, att) in self._entries.items()]
            try:
                merged = await asyncio.to_thread(self._write, self.path, snapshot)
            except OSError as exc:
                log.warning("Upload cache not saved to %s (%s)", self.path, exc)
                return
            self._adopt(merged)

    def _write(self, path: Path, snapshot: list[tuple[str, float, dict]]) -> list:
        """Merge with the file (other workers write it too) and replace it; in a thread."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            merged = self._trim([*_read_entries(path), *snapshot])
            body = {"version": _VERSION, "entries": [list(entry) for entry in merged]}
            # The CDN URLs are the users' files: the file is private.
            data = json.dumps(body, separators=(",", ":")).encode()
            write_atomically(path, data, new_mode=0o600)
            return merged
        finally:
            os.close(lock)

    def _adopt(self, entries: Iterable[tuple[str, float, dict]]) -> None:
        current = [(key, at, att) for key, (at, att) in self._entries.items()]
        self._entries = OrderedDict(
            (key, (at, att)) for key, at, att in self._trim([*current, *entries])
        )

    def _trim(self, entries: Iterable[tuple[str, float, dict]]) -> list[tuple[str, float, dict]]:
        """The newest entry per key, oldest first, without the expired, at most max_entries."""
        newest: dict[str, tuple[str, float, dict]] = {}
        for entry in entries:
            known = newest.get(entry[0])
            if known is None or known[1] < entry[1]:
                newest[entry[0]] = entry
        oldest_kept = self._clock() - self.max_age
        fresh = sorted((e for e in newest.values() if e[1] >= oldest_kept), key=lambda e: e[1])
        return fresh[-self.max_entries :] if self.max_entries else []


def _read_entries(path: Path) -> list[tuple[str, float, dict]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("Upload cache %s not read (%s)", path, exc)
        return []
    if not raw.strip():
        return []
    try:
        body = json.loads(raw)
        items = body["entries"]
        if not isinstance(items, list):
            raise TypeError("entries is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("Upload cache %s ignored: not the expected JSON (%s)", path, exc)
        return []
    if body.get("version") != _VERSION:  # version 1 was shared by all callers: not reused
        return []
    entries = []
    for item in items:
        match item:
            case [str(key), int() | float() as at, {"url": str(), "content_type": str()} as att]:
                entries.append((key, float(at), att))
    return entries
