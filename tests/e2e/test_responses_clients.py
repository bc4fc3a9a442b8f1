"""Real Responses API clients against the real service and fastapi_poe bots: Codex CLI (from
npm, tests/node), the openai-agents SDK's default (Responses) model and the Vercel AI SDK's
default OpenAI provider. Each finishes a turn as its user would see it; a recording proxy in
front of the service keeps what the client sent, to show that it went through /v1/responses
and, when the service refuses something, exactly what. Nothing here needs the internet: Codex
is configured off it, and its proxy variables point at a tripwire that would catch a try."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import agents
import openai
import pytest

from tests.support.node import NODE_DIR, codex_command, node_binary
from tests.support.recorder import Recorder, Tripwire

WEATHER = "sunny, 24°C"
PROMPT = "Weather in Paris?"
TOOLBOT_ANSWER = f"Tool get_weather said: {WEATHER} (calls seen: 1)"


@pytest.fixture(scope="module")
def recorder(service) -> Iterator[Recorder]:
    proxy = Recorder(service.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def recorded(recorder) -> Recorder:
    recorder.exchanges.clear()
    return recorder


def responses_posts(recorded: Recorder) -> list:
    """Every request the client made went to POST /v1/responses and was answered with 200."""
    assert recorded.exchanges, "the client sent nothing"
    assert {(e.method, e.path) for e in recorded.exchanges} == {("POST", "/v1/responses")}, (
        recorded.report()
    )
    assert all(e.status == 200 for e in recorded.exchanges), recorded.report()
    return recorded.exchanges


# --- Codex CLI --------------------------------------------------------------------------------

# Off the internet: the API key comes from env_key (no login), no update check, no analytics,
# feedback or OpenTelemetry export, and no plugin marketplace (which would `git ls-remote`
# github.com and call api.github.com and chatgpt.com at start).
OFFLINE = """\
[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
metrics_exporter = "none"
trace_exporter = "none"

[features]
plugins = false
apps = false
remote_plugin = false
"""


def codex_config(base_url: str, subagents: bool = False) -> str:
    """Codex's default tools, its `web_search` tool (without live access, so left out by
    the service) included, and, with `subagents`, its sub-agent tools, which it sends as one
    `namespace` tool. TOML wants the top-level keys before any table."""
    return (
        'model_provider = "poe2openai"\n'
        'approval_policy = "never"\n'
        'sandbox_mode = "read-only"\n'
        "check_for_update_on_startup = false\n"
        + ("" if subagents else "\n[agents]\nenabled = false\n")
        + "\n"
        + OFFLINE
        + "\n[model_providers.poe2openai]\n"
        'name = "poe2openai"\n'
        f'base_url = "{base_url}/v1"\n'
        'env_key = "POE_API_KEY"\n'
        'wire_api = "responses"\n'
    )


@pytest.fixture(scope="module")
def codex() -> list[str]:
    return codex_command()


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    wire = Tripwire()
    yield wire
    wire.stop()


@pytest.fixture
def codex_home(tmp_path, recorder) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(codex_config(recorder.url))
    return home


def run_codex(
    codex: list[str], home: Path, tripwire: Tripwire, *args: str
) -> subprocess.CompletedProcess:
    """`codex exec` in an empty directory with nothing to run (read-only sandbox, no
    approvals); --strict-config makes a setting this version does not know an error."""
    work = home.parent / "work"
    work.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home.parent),
        "CODEX_HOME": str(home),
        "POE_API_KEY": "poe-key-for-codex",
        # Anything that still tried to leave the machine would end up here.
        **{name: tripwire.url for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")},
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return subprocess.run(
        [*codex, "exec", "--strict-config", "--skip-git-repo-check", *args],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_codex_exec_prints_the_bots_streamed_text(codex, codex_home, tripwire, recorded, service):
    answered = "POST /v1/responses 200"
    before = service.log().count(answered)
    done = run_codex(codex, codex_home, tripwire, "-m", "streambot", "Say hello")
    assert done.returncode == 0, done.stderr + recorded.report()
    assert done.stdout.strip() == "Hello, wörld ✓"
    assert service.log().count(answered) == before + 1
    [exchange] = responses_posts(recorded)
    body = exchange.body
    assert exchange.headers["authorization"] == "Bearer poe-key-for-codex"
    assert (body["model"], body["stream"], body["store"]) == ("streambot", True, False)
    assert "previous_response_id" not in body
    assert body["input"][-1]["content"] == [{"type": "input_text", "text": "Say hello"}]
    assert "event: response.completed" in exchange.answer
    assert tripwire.attempts == []


def test_codex_resume_re_sends_the_conversation(codex, codex_home, tripwire, recorded):
    """A second turn (`exec resume --last`) re-sends the first one whole, its reasoning item
    included: the bot sees the earlier answer, and no stored response is needed."""
    first = run_codex(codex, codex_home, tripwire, "-m", "thinkbot", "What is the answer?")
    assert first.returncode == 0, first.stderr + recorded.report()
    assert first.stdout.strip() == "The answer is 42."
    assert "Let me think." in first.stderr  # Codex shows the bot's thinking as reasoning

    second = run_codex(codex, codex_home, tripwire, "resume", "--last", "-m", "echobot", "query:")
    assert second.returncode == 0, second.stderr + recorded.report()
    seen = json.loads(second.stdout)["query"]
    assert [(m["role"], m["content"]) for m in seen if m["role"] == "bot"] == [
        ("bot", "The answer is 42.")
    ]
    assert seen[-1]["content"].endswith("query:")
    _, resumed = responses_posts(recorded)
    kinds = [item.get("type", "message") for item in resumed.body["input"]]
    assert "reasoning" in kinds and "previous_response_id" not in resumed.body
    assert tripwire.attempts == []


def test_codex_with_its_sub_agent_tools(codex, tmp_path, recorder, tripwire, recorded):
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(codex_config(recorder.url, subagents=True))
    done = run_codex(codex, home, tripwire, "-m", "streambot", "Say hello")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello, wörld ✓"


# --- openai-agents ----------------------------------------------------------------------------


@pytest.fixture
def agents_default_client(recorded) -> Iterator[None]:
    """The SDK's defaults, as its docs set them up: its own OpenAI provider on the Responses
    API, with our client; restored afterwards (they are process-wide)."""
    from agents.models import _openai_shared

    before = (
        _openai_shared.get_default_openai_client(),
        _openai_shared.get_use_responses_by_default(),
    )
    agents.set_default_openai_client(
        openai.AsyncOpenAI(base_url=recorded.url + "/v1", api_key="poe-key", max_retries=0),
        use_for_tracing=False,
    )
    agents.set_default_openai_api("responses")
    agents.set_tracing_disabled(True)
    yield
    _openai_shared.set_default_openai_client(before[0])
    _openai_shared.set_use_responses_by_default(before[1])


def weather_agent(calls: list, model: str = "toolbot") -> agents.Agent:
    @agents.function_tool
    def get_weather(city: str, days: int | None = None) -> str:
        """The weather in a city."""
        calls.append({"city": city, "days": days})
        return WEATHER

    return agents.Agent(
        name="weather", instructions="Answer with the tool.", model=model, tools=[get_weather]
    )


@pytest.mark.parametrize("stream", [False, True])
def test_openai_agents_runs_a_tool_to_the_final_output(agents_default_client, recorded, stream):
    calls: list = []
    agent = weather_agent(calls)
    if stream:

        async def run() -> agents.RunResultStreaming:
            result = agents.Runner.run_streamed(agent, PROMPT)
            async for _ in result.stream_events():
                pass
            return result

        result = asyncio.run(asyncio.wait_for(run(), 60))
    else:
        result = agents.Runner.run_sync(agent, PROMPT)
    assert result.final_output == TOOLBOT_ANSWER
    assert calls == [{"city": "Paris", "days": 3}]
    first, second = responses_posts(recorded)
    assert first.body["instructions"] == "Answer with the tool."
    assert [t["name"] for t in first.body["tools"]] == ["get_weather"]
    assert bool(first.body.get("stream")) is stream
    # The second turn re-sends the call and its output, not a previous_response_id.
    assert "previous_response_id" not in second.body
    output = next(i for i in second.body["input"] if i.get("type") == "function_call_output")
    assert (output["call_id"], output["output"]) == ("call_w1", WEATHER)


def test_openai_agents_re_sends_a_thinking_turn(agents_default_client, recorded):
    """A bot that thinks and writes a sentence before its call: the SDK sends its reasoning,
    message and call items back as they came, which the service takes."""
    calls: list = []
    result = agents.Runner.run_sync(weather_agent(calls, "thinktoolbot"), PROMPT)
    assert result.final_output == f"It is {WEATHER}."
    assert calls == [{"city": "Paris", "days": None}]
    _, second = responses_posts(recorded)
    sent = [item.get("type", "message") for item in second.body["input"]]
    assert sent == ["message", "reasoning", "message", "function_call", "function_call_output"]


# --- Vercel AI SDK ----------------------------------------------------------------------------


def ai_sdk(base_url: str, model: str, mode: str, *flags: str) -> dict:
    done = subprocess.run(
        [
            node_binary(),
            str(NODE_DIR / "responses.mjs"),
            f"{base_url}/v1",
            model,
            mode,
            PROMPT,
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["generate", "stream"])
def test_ai_sdk_runs_a_tool_to_the_final_text(recorded, mode):
    result = ai_sdk(recorded.url, "toolbot", mode)
    assert result.get("error") is None, recorded.report()
    assert result["text"] == TOOLBOT_ANSWER
    assert result["calls"] == [{"city": "Paris", "days": 3}]
    assert (result["steps"], result["finishReason"]) == (2, "stop")
    if mode == "stream":
        assert result["deltas"] >= 1  # the answer came through the text stream
    first, second = responses_posts(recorded)
    assert [t["name"] for t in first.body["tools"]] == ["get_weather"]
    assert bool(first.body.get("stream")) is (mode == "stream")
    assert [i.get("type") for i in second.body["input"][1:]] == [
        "function_call",
        "function_call_output",
    ]


@pytest.mark.parametrize("mode", ["generate", "stream"])
def test_ai_sdk_without_store_re_sends_a_thinking_turn(recorded, mode):
    """A bot that thinks and writes a sentence before its call: with `store: false` the SDK
    re-sends that sentence itself (and drops the reasoning, having no encrypted content)."""
    result = ai_sdk(recorded.url, "thinktoolbot", mode, "--no-store")
    assert result.get("error") is None, recorded.report()
    assert result["text"] == f"It is {WEATHER}."
    assert result["calls"] == [{"city": "Paris"}]
    _, second = responses_posts(recorded)
    assert second.body["store"] is False
    assert {"role": "assistant", "content": "Let me look."} in second.body["input"]


@pytest.mark.parametrize("mode", ["generate", "stream"])
def test_ai_sdk_with_its_default_store_re_uses_a_thinking_turn(recorded, mode):
    """Its second step refers to the first step's reasoning and message by id
    (`item_reference` rs_…, msg_…): the service finds them among its stored responses."""
    result = ai_sdk(recorded.url, "thinktoolbot", mode)
    assert result.get("error") is None, result["error"]
    assert result["text"] == f"It is {WEATHER}."
