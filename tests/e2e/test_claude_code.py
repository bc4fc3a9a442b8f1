"""Claude Code itself (from npm, tests/node) against the real service: `claude -p` on a Poe bot
finishes a turn and prints the bot's text. The machine has no internet: everything Claude Code
would send elsewhere is turned off, and the run is bounded."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.node import claude_command


@pytest.fixture(scope="module")
def claude() -> list[str]:
    return claude_command()


def run_claude(claude: list[str], service, tmp_path, *args: str) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": service.url,
        "ANTHROPIC_AUTH_TOKEN": "poe-key-for-claude-code",
        "ANTHROPIC_API_KEY": "",
        # Its background calls (titles, summaries) use the small model: a bot here too.
        "ANTHROPIC_SMALL_FAST_MODEL": "echobot",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "echobot",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    return subprocess.run(
        [*claude, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_claude_code_finishes_a_turn_on_a_poe_bot(claude, service, tmp_path):
    done = run_claude(claude, service, tmp_path, "-p", "Say hello", "--model", "streambot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "Hello, wörld ✓"


def test_claude_code_reports_a_poe_failure(claude, service, tmp_path):
    done = run_claude(claude, service, tmp_path, "-p", "Say hello", "--model", "no-such-bot")
    assert done.returncode != 0
    assert "no-such-bot" in done.stdout + done.stderr
