"""The official openai npm SDK against the real service: tests/node/stream.mjs prints one JSON line.

`chat.completions.stream()` (ChatCompletionStream) fails on a missing `role` or `finish_reason`
but keeps the last of repeated roles, so `--create` (iterating `chat.completions.create({stream:
true})`) also counts the chunks that carry a role and a finish_reason: exactly one each.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.node import NODE_DIR, node_binary

MODES = {"helper": (), "create": ("--create",)}


@pytest.fixture(scope="module")
def node() -> str:
    return node_binary()


@pytest.fixture
def run_sdk(node, service):
    def run(model: str, message: str, *flags: str) -> dict:
        done = subprocess.run(
            [node, str(NODE_DIR / "stream.mjs"), f"{service.url}/v1", model, message, *flags],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture(params=MODES, ids=str)
def mode(request) -> tuple[str, ...]:
    return MODES[request.param]


def test_streamed_answer_is_assembled_exactly(run_sdk, mode):
    result = run_sdk("streambot", "Hi", *mode)
    assert "error" not in result, result
    assert result["content"] == "Hello, wörld ✓"
    assert result["role"] == "assistant"
    assert result["finishReason"] == "stop"
    assert result["deltas"] == 4
    assert result["usage"] is None
    if mode:  # the raw chunks: role once, finish_reason once
        assert (result["roles"], result["finishReasons"]) == (1, 1)


def test_include_usage_reports_positive_counts(run_sdk, mode):
    result = run_sdk("streambot", "Hi", "--usage", *mode)
    assert result["content"] == "Hello, wörld ✓", result
    usage = result["usage"]
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert isinstance(usage[key], int) and usage[key] > 0, usage
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_error_mid_stream_raises_api_error(run_sdk, mode):
    error = run_sdk("errorbot", "after:fatal", *mode)["error"]
    assert error["name"] == "APIError"
    assert "The bot crashed" in error["message"]


def test_rate_limit_before_stream_is_429(run_sdk, mode):
    error = run_sdk("errorbot", "rate", *mode)["error"]
    assert (error["name"], error["status"]) == ("RateLimitError", 429)
    assert "rate limit" in error["message"]


@pytest.mark.parametrize("model", ["toolbot", "prompttoolbot"])
def test_tool_stream_is_accepted_by_the_stream_helper(run_sdk, service, model):
    if model == "prompttoolbot":
        (service.config_dir / "models.yaml").write_text(
            "models: {prompttoolbot: {tools: prompt}}\n"
        )
    try:
        out = run_sdk(model, "Weather in Paris?", "--tools")
    finally:
        (service.config_dir / "models.yaml").unlink(missing_ok=True)
    assert "error" not in out, out
    assert out["finishReason"] == "tool_calls"
    (call,) = out["toolCalls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "days": 3}
