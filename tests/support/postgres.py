"""A real PostgreSQL server for the tests, from Debian's packages: initdb into a temporary
folder, listening on a free 127.0.0.1 port (its unix socket in that folder too), trust auth,
removed at the end. A fresh database per use (CREATE DATABASE takes a few milliseconds).

initdb refuses to run as root, and tests here run as root: the server then runs as the
`postgres` system user Debian's package creates, and owns its folder.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.service import free_port

_PACKAGE_HINT = "install Debian's postgresql package (apt-get install -y postgresql; .ci/run does)"


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
    if not found:
        raise RuntimeError(f"no PostgreSQL server in /usr/lib/postgresql/*/bin: {_PACKAGE_HINT}")
    return Path(found[-1]).parent


def _version(path: str) -> int:
    return int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0


class PostgresServer:
    def __init__(self) -> None:
        self.bin = binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="poe2openai-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        self._user: str | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    f"no postgres system user to run the server as: {_PACKAGE_HINT}"
                ) from None
            self._user = "postgres"
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            os.chmod(self.folder, 0o700)

    def start(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.folder / "server.log"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "30", "start"
        )
        return self

    def restart(self) -> None:
        """Stopped and started again: every open connection is cut."""
        log = str(self.folder / "server.log")  # not our stdout: run() would wait for it to close
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a database of its own, empty."""
        name = f"test_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> str:
        psql = [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        done = subprocess.run(
            [*psql, "-d", database, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", statement],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def on_disk(self) -> bytes:
        """Every byte the server has written (after a checkpoint): tables, indexes, WAL."""
        self.sql("CHECKPOINT")
        return b"".join(
            p.read_bytes() for p in self.data.rglob("*") if p.is_file() and not p.is_symlink()
        )

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder, timeout=60)
        if done.returncode:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()}\n{tail}")
