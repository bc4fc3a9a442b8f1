"""Start-up: bad settings refuse to start with one clear line; the demo mode answers offline."""

from __future__ import annotations

import os
import subprocess
import sys

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
