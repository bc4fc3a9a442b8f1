"""tests/node's locked npm packages (the openai SDK, the AI SDK, Claude Code, Codex CLI),
installed on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
_PACKAGES = ("openai", "@anthropic-ai/claude-code", "ai", "@ai-sdk/openai", "zod", "@openai/codex")


def node_binary() -> str:
    """The node binary, with tests/node's dependencies installed (`npm ci`) if missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    # A missing Node.js is a broken test machine, not a reason to skip: .ci/run installs it.
    assert node and npm, "node and npm are needed for the Node tests"
    if not all((NODE_DIR / "node_modules" / name).is_dir() for name in _PACKAGES):
        subprocess.run(
            [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
            check=True,
            timeout=600,
        )
    return node


def claude_command() -> list[str]:
    """Claude Code's command line. Its launcher finds the platform's native binary whether or
    not npm ran the package's postinstall step."""
    launcher = NODE_DIR / "node_modules" / "@anthropic-ai" / "claude-code" / "cli-wrapper.cjs"
    return [node_binary(), str(launcher)]


def codex_command() -> list[str]:
    """Codex CLI's command line: its launcher runs the native binary of the platform's
    optional package (@openai/codex-linux-x64 here), which npm installs from the lock."""
    return [
        node_binary(),
        str(NODE_DIR / "node_modules" / "@openai" / "codex" / "bin" / "codex.js"),
    ]
