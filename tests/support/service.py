"""Starts the real service as a subprocess (`python -m service`) on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningService:
    """`env` values of None remove the variable (CONFIG_DIR: None runs with the default one,
    relative to `cwd`)."""

    def __init__(
        self,
        env: dict[str, str | None],
        args: tuple[str, ...] = (),
        cwd: Path = ROOT,
        preexec_fn: Callable[[], None] | None = None,  # e.g. lower a resource limit
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_dir = Path(env.get("CONFIG_DIR") or tempfile.mkdtemp(prefix="poe2openai-"))
        self.log_path = Path(tempfile.mkstemp(prefix="poe2openai-", suffix=".log")[1])
        merged = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "CONFIG_DIR": str(self.config_dir),
            "LOG_LEVEL": "info",
            **env,
        }
        self.env = {k: v for k, v in merged.items() if v is not None}
        self.args = args
        self.cwd = cwd
        self.preexec_fn = preexec_fn
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> RunningService:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=self.preexec_fn,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"service did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "_log"):
            self._log.close()
