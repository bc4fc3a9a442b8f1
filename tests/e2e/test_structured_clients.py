"""Structured outputs with the clients people use for them, against the real service and
StructuredBot, which answers as a person would: a preamble, a ```json fenced value built from the
schema it was told, a trailing remark. Each client must get the object itself, stream and not.

Every client is pointed at the service explicitly and has its telemetry and tracing off.
"""

from __future__ import annotations

import json
import subprocess

import agents
import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from tests.support.fake_poe import PROSE
from tests.support.instructor_env import instructor_python
from tests.support.node import NODE_DIR, node_binary
from tests.support.people import EXPECTED, Person
from tests.support.schema_instance import instance
from tests.support.service import ROOT

ASK = "Who is Ada? Answer with her details."


@pytest.fixture
def base_url(service) -> str:
    return service.url + "/v1"


@pytest.fixture
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="k", max_retries=0)


def test_openai_parse(client):
    completion = client.chat.completions.parse(
        model="structbot", messages=[{"role": "user", "content": ASK}], response_format=Person
    )
    assert completion.choices[0].message.parsed == EXPECTED


def test_openai_stream(client):
    with client.chat.completions.stream(
        model="structbot", messages=[{"role": "user", "content": ASK}], response_format=Person
    ) as stream:
        completion = stream.get_final_completion()
    assert completion.choices[0].message.parsed == EXPECTED


@pytest.fixture
def langchain_model(base_url, monkeypatch):
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")

    chat = ChatOpenAI(base_url=base_url, api_key="k", model="structbot", max_retries=0)
    return chat.with_structured_output(Person)


def test_langchain_invoke(langchain_model):
    assert langchain_model.invoke(ASK) == EXPECTED


def test_langchain_stream(langchain_model):
    *_, last = langchain_model.stream(ASK)
    assert last == EXPECTED


@pytest.fixture
def pydantic_ai_agent(base_url):
    provider = OpenAIProvider(base_url=base_url, api_key="k")
    return Agent(OpenAIChatModel("structbot", provider=provider), output_type=NativeOutput(Person))


def test_pydantic_ai_run(pydantic_ai_agent):
    assert pydantic_ai_agent.run_sync(ASK).output == EXPECTED


def test_pydantic_ai_stream(pydantic_ai_agent):
    result = pydantic_ai_agent.run_stream_sync(ASK)
    assert result.get_output() == EXPECTED


def test_openai_agents(base_url):
    agents.set_tracing_disabled(True)
    model = agents.OpenAIChatCompletionsModel(
        model="structbot", openai_client=openai.AsyncOpenAI(base_url=base_url, api_key="k")
    )
    agent = agents.Agent(
        name="people", instructions="Describe people.", model=model, output_type=Person
    )
    assert agents.Runner.run_sync(agent, ASK).final_output == EXPECTED


def run_client(*command: str, **options) -> dict:
    """A client in another runtime, which prints one JSON line: the object it got."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, **options)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, result
    return result["object"]


def test_instructor(base_url):
    module = "tests.support.instructor_client"
    got = run_client(instructor_python(), "-m", module, base_url, ASK, cwd=ROOT)
    assert Person.model_validate(got) == EXPECTED


@pytest.mark.parametrize("mode", ["generate", "stream"])
def test_vercel_ai_sdk(base_url, mode):
    script = str(NODE_DIR / "structured.mjs")
    got = run_client(node_binary(), script, base_url, "structbot", mode, ASK)
    assert Person.model_validate(got) == EXPECTED


SCHEMA = Person.model_json_schema()
FORMAT = {"type": "json_schema", "json_schema": {"name": "person", "schema": SCHEMA}}


def ask(service, text: str, stream: bool, response_format: dict = FORMAT) -> httpx.Response:
    body = {
        "model": "structbot",
        "messages": [{"role": "user", "content": text}],
        "response_format": response_format,
        "stream": stream,
    }
    return httpx.post(
        service.url + "/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer k"},
        timeout=30,
    )


def content(response: httpx.Response) -> str:
    if not response.headers["content-type"].startswith("text/event-stream"):
        return response.json()["choices"][0]["message"]["content"]
    frames = [f[6:] for f in response.text.split("\n\n") if f.startswith("data: {")]
    return "".join(json.loads(f)["choices"][0]["delta"].get("content") or "" for f in frames)


def test_raw_content_is_exactly_the_json(service):
    whole = ask(service, ASK, stream=False)
    assert whole.headers["x-poe2openai-output-valid"] == "true"
    for text in (content(whole), content(ask(service, ASK, stream=True))):
        assert text[0] == "{" and text[-1] == "}", text
        assert json.loads(text) == instance(SCHEMA)


@pytest.mark.parametrize("stream", [False, True])
def test_raw_json_object_is_exactly_the_json(service, stream):
    answer = ask(service, "Hi there", stream, response_format={"type": "json_object"})
    assert json.loads(content(answer)) == {"answer": "Hi there"}


def test_raw_answer_that_does_not_match_is_marked_invalid(service):
    response = ask(service, "the wrong answer", stream=False)
    assert response.headers["x-poe2openai-output-valid"] == "false"


@pytest.mark.parametrize("stream", [False, True])
def test_raw_prose_answer_reaches_the_client_as_it_is(service, stream):
    assert content(ask(service, "in prose please", stream)) == PROSE
