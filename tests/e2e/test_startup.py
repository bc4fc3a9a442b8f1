"""Start-up: bad settings refuse to start with one clear line; the demo mode answers offline."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.service import ROOT


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "loud"),
        ("MAX_REQUEST_SIZE", "-1"),
        ("POE_BASE_URL", "ftp://example"),
        ("POE_IDLE_TIMEOUT", "0"),
        ("WORKERS", "0"),
    ],
)
def test_bad_setting_stops_startup_with_one_line(name, value):
    env = {**os.environ, name: value}
    result = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_secret_is_not_echoed():
    env = {**os.environ, "ADMIN_USERNAME": "", "ADMIN_PASSWORD": "hunter2-secret"}
    result = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "ADMIN_USERNAME" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout


def test_demo_mode_serves_its_bots_without_network(start_service):
    running = start_service({"POE_BASE_URL": "http://127.0.0.1:9"}, args=("--demo",))
    models = httpx.get(running.url + "/v1/models").json()["data"]
    ids = {m["id"] for m in models}
    assert {"echo", "stream", "replace", "image", "error", "json", "thinking", "tools"} <= ids
    assert all(m["created"] < 10**11 for m in models)

    client = openai.OpenAI(base_url=running.url + "/v1", api_key="any-token", max_retries=0)

    def ask(model: str) -> str:
        answer = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hello demo"}]
        )
        return answer.choices[0].message.content

    assert ask("echo") == "hello demo"
    assert ask("replace") == "The final answer, after a rewrite."
    assert ask("json") == "Text carried in a json event."
    image = ask("image")
    assert image.startswith("Here is a square: ![a square](http://127.0.0.1:")
    svg_url = image[image.index("(") + 1 : -1]
    assert httpx.get(svg_url).headers["content-type"] == "image/svg+xml"
    with client.chat.completions.stream(
        model="stream", messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        assert stream.get_final_completion().choices[0].message.content.startswith("You said: hi.")
    with pytest.raises(openai.APIError, match="failed on purpose"):
        ask("error")
    thought = (
        client.chat.completions.create(
            model="thinking", messages=[{"role": "user", "content": "hi"}]
        )
        .choices[0]
        .message
    )
    assert thought.content == "You said: hi"
    assert thought.model_extra["reasoning_content"].startswith("The user said something.")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
    ]
    first = client.chat.completions.create(
        model="tools", tools=tools, messages=[{"role": "user", "content": "look it up"}]
    ).choices[0]
    assert first.finish_reason == "tool_calls"
    call = first.message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("lookup", '{"q": "demo"}')
    second = client.chat.completions.create(
        model="tools",
        tools=tools,
        messages=[
            {"role": "user", "content": "look it up"},
            first.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "42"},
        ],
    )
    assert second.choices[0].message.content == "The tool answered: 42"
    image = (
        client.chat.completions.create(
            model="image", messages=[{"role": "user", "content": "draw"}]
        )
        .choices[0]
        .message
    )
    assert image.model_extra["images"][0]["image_url"]["url"].endswith("/files/square.svg")


def run_service(env: dict[str, str], *args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line(result: subprocess.CompletedProcess, name: str) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"bad setting {name}: " in lines[0]
    return lines[0]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_busy_port_is_one_line_naming_port(workers):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_service({"HOST": "127.0.0.1", "PORT": str(port), "WORKERS": workers})
    line = assert_one_line(result, "PORT")
    assert f"{port} is already in use" in line


@pytest.mark.parametrize("host", ["no-such-host.invalid", "192.0.2.1"])
def test_bad_host_is_one_line_naming_host(host):
    line = assert_one_line(run_service({"HOST": host, "PORT": "0"}), "HOST")
    assert repr(host) in line


def test_start_says_where_it_listens_and_where_docs_and_admin_are(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "HOST": "0.0.0.0"})
    log = running.log()
    base = f"http://127.0.0.1:{running.port}"  # 0.0.0.0 cannot be browsed to
    assert f"listening on 0.0.0.0:{running.port} (every interface): {base}/v1" in log
    assert f"{base}/docs (OpenAI) and {base}/docs/anthropic (Anthropic)" in log
    assert "admin page: off until ADMIN_PASSWORD is set" in log
    assert httpx.get(base + "/docs").status_code == 200

    with_admin = start_service({"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": "pw-not-logged"})
    assert f"admin page: {with_admin.url}/admin (user admin)" in with_admin.log()
    assert "pw-not-logged" not in with_admin.log()


def test_help_lists_every_setting_and_hides_secret_defaults():
    result = run_service({}, "--help")
    assert result.returncode == 0
    out = result.stdout
    for line in ("HOST=0.0.0.0", "PORT=8080", "LOG_FORMAT=text", "CONFIG_DIR=config"):
        assert line in out
    assert re.search(r"LOG_LEVEL=info +debug, info", out)
    assert re.search(r"ADMIN_PASSWORD \(secret\) +admin page password", out)
    assert "POE_API_KEY (secret)" in out and "README.md" in out
    env_names = re.findall(r"^  ([A-Z][A-Z_]+)[= ]", out, re.MULTILINE)
    assert len(env_names) >= 28


def test_version():
    from service import __version__

    result = run_service({}, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"poe2openai {__version__}")


LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+")


def test_workers_keep_the_log_format(start_service, fake_poe):
    env = {"POE_BASE_URL": fake_poe.url, "WORKERS": "2", "USAGE_TOKENIZER": "estimate"}
    running = start_service(env, timeout=90)
    deadline = time.monotonic() + 60
    while running.log().count("Worker ready") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(4):
        body = {"model": "echobot", "messages": [{"role": "user", "content": "hi"}]}
        httpx.post(
            running.url + "/v1/chat/completions", json=body, headers={"x-api-key": "k"}, timeout=60
        )
    running.stop()
    lines = [line for line in running.log().splitlines() if line.strip()]
    assert sum("INFO sanic.server: Worker ready" in line for line in lines) == 2
    requests = [line for line in lines if " INFO poe2openai.request [" in line]
    assert len(requests) >= 5  # /healthz polls and the four chats, from the workers
    assert [line for line in lines if not LINE.match(line)] == []


def test_demo_state_stays_out_of_the_default_config_dir(start_service, tmp_path):
    # Run where ./config is tmp_path/config, as `scripts/demo` would use the checkout's.
    running = start_service({"CONFIG_DIR": None}, args=("--demo",), cwd=tmp_path)
    client = openai.OpenAI(base_url=running.url + "/v1", api_key="any", max_retries=0)
    assert {m.id for m in client.models.list()} >= {"echo", "stream"}
    state = re.search(r"demo state in (\S+), removed at exit", running.log())
    assert state and Path(state[1]).is_dir()
    running.stop()
    assert not (tmp_path / "config").exists()
    assert not Path(state[1]).exists()

    # A CONFIG_DIR set on purpose still wins, and is kept.
    chosen = tmp_path / "demo-state"
    running = start_service({"CONFIG_DIR": str(chosen)}, args=("--demo",), cwd=tmp_path)
    assert httpx.get(running.url + "/v1/models").status_code == 200
    running.stop()
    assert (chosen / "poe-models.json").is_file()  # kept: the user asked for this folder
    assert not (tmp_path / "config").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("WORKERS", "0"), ("POE_BASE_URL", "ftp://example"), ("LOG_FORMAT", "xml")],
)
def test_demo_validates_settings_like_a_normal_start(name, value):
    assert_one_line(run_service({name: value}, "--demo"), name)
