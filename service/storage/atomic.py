"""Files in CONFIG_DIR that are never seen half-written: atomic replacement, and the local
secret created once and shared by every worker."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from pathlib import Path

log = logging.getLogger("poe2openai.store")

_SECRET_BYTES = 32


def write_atomically(
    path: Path, data: bytes, keep_backup: bool = False, new_mode: int = 0o644
) -> None:
    """Write a temporary file, fsync it, rename it over `path`: a crash at any point leaves the
    old file or the new one. `keep_backup`: the old file stays as `<name>.bak` (a hard link, so
    there is no moment without a file). A new file gets `new_mode`; an existing one keeps its."""
    try:
        mode = os.stat(path).st_mode & 0o777  # keep the mode a hand-made file had
    except FileNotFoundError:
        mode = new_mode
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


def local_secret(path: Path) -> bytes:
    """32 random bytes kept in `path` (mode 0600), made by whichever worker comes first; where
    the file cannot be made, a secret for this process only (what it protects then does not
    outlive the process)."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("%s cannot be read (%s): using a secret of this process", path, exc)
        return secrets.token_bytes(_SECRET_BYTES)
    fresh = secrets.token_bytes(_SECRET_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.write(fd, fresh)  # mkstemp's files are 0600
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another worker made it first: theirs wins
        except FileExistsError:
            return _read_secret(path)
        finally:
            os.unlink(tmp)
    except OSError as exc:
        log.warning("%s cannot be written (%s): using a secret of this process", path, exc)
    return fresh


def _read_secret(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) != _SECRET_BYTES:
        raise OSError(f"it holds {len(data)} bytes, not {_SECRET_BYTES}")
    return data
