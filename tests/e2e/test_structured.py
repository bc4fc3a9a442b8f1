"""Structured outputs on the service's side: what the bot is told, what the client gets (the
cleaned JSON, stream and not), the validity header, the re-ask setting, Anthropic's format.
The client libraries' own paths are tests/e2e/test_structured_clients.py."""

from __future__ import annotations

import json

import anthropic
import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.e2e.test_request_log import fields, request_line, rid

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
FORMAT = {"type": "json_schema", "json_schema": {"name": "forecast", "schema": SCHEMA}}
AUTH = {"Authorization": "Bearer k"}


def chat(service, content: str, stream: bool = False, **body) -> httpx.Response:
    body = {
        "model": "structbot",
        "messages": [{"role": "user", "content": content}],
        "response_format": FORMAT,
        "stream": stream,
        **body,
    }
    return httpx.post(service.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=30)


def streamed_content(response: httpx.Response) -> str:
    text = ""
    for line in response.text.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


def test_the_bot_is_told_the_schema_in_its_system_message(service):
    body = {
        "model": "echobot",
        "messages": [{"role": "user", "content": "query:"}],
        "response_format": FORMAT,
    }
    answer = httpx.post(service.url + "/v1/chat/completions", json=body, headers=AUTH).json()
    system = json.loads(answer["choices"][0]["message"]["content"])["query"][0]
    assert system["role"] == "system"
    assert "JSON schema: " + json.dumps(SCHEMA, separators=(",", ":")) in system["content"]


@pytest.mark.parametrize("stream", [False, True])
def test_the_client_gets_only_the_json_value(service, stream):
    response = chat(service, "Paris, please", stream)
    assert response.status_code == 200
    if stream:
        content = streamed_content(response)
        assert "x-poe2openai-output-valid" not in response.headers  # a stream cannot know
    else:
        content = response.json()["choices"][0]["message"]["content"]
        assert response.headers["x-poe2openai-output-valid"] == "true"
    value = json.loads(content)  # no preamble, no fence, no closing remark
    assert content == content.strip() and set(value) == {"city", "days"}


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_that_does_not_match_is_given_as_it_is_and_said_so(service, stream):
    request_id = rid()
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json={
            "model": "structbot",
            "messages": [{"role": "user", "content": "wrong"}],
            "response_format": FORMAT,
            "stream": stream,
        },
        headers={**AUTH, "x-request-id": request_id},
        timeout=30,
    )
    if stream:
        content = streamed_content(response)
    else:
        content = response.json()["choices"][0]["message"]["content"]
        assert response.headers["x-poe2openai-output-valid"] == "false"
    json.loads(content)  # still only the value: the client's own validation can say why
    assert "```" not in content
    # Both ways, the request log says so.
    assert fields(request_line(service, request_id))["output_valid"] == "false"


def test_prose_with_no_json_in_it_reaches_the_client_as_the_bot_wrote_it(service):
    response = chat(service, "prose")
    content = response.json()["choices"][0]["message"]["content"]
    assert content and not content.lstrip().startswith("{")
    assert response.headers["x-poe2openai-output-valid"] == "false"


@pytest.mark.parametrize("stream", [False, True])
def test_reask_invalid_output_asks_the_bot_once_more(service, models_yaml, stream):
    models_yaml({"structbot": {"reask_invalid_output": True}})
    response = chat(service, "wrong once", stream, stream_options={"include_usage": True})
    content = (
        streamed_content(response)
        if stream
        else response.json()["choices"][0]["message"]["content"]
    )
    value = json.loads(content)
    assert isinstance(value["days"], int) and value["days"] >= 1  # the corrected answer
    if not stream:
        assert response.headers["x-poe2openai-output-valid"] == "true"


def test_a_schema_that_is_not_one_is_a_400_naming_it(service):
    bad = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nope"}}}
    response = chat(service, "hi", response_format=bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format.json_schema.schema"
    assert error["code"] == "invalid_schema"


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_output_config_format_gets_only_the_json_value(service, stream):
    client = anthropic.Anthropic(base_url=service.url, api_key="k", max_retries=0)
    body = {
        "model": "structbot",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Paris"}],
        "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
    }
    if stream:
        with client.messages.stream(**body) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**body)
    (block,) = [b for b in message.content if b.type == "text"]
    assert set(json.loads(block.text)) == {"city", "days"}


class Forecast(BaseModel):
    city: str
    days: int


@pytest.mark.parametrize("stream", [False, True])
def test_responses_text_format_gets_a_parsed_object(service, stream):
    client = openai.OpenAI(base_url=service.url + "/v1", api_key="k", max_retries=0)
    if stream:
        with client.responses.stream(model="structbot", input="Paris", text_format=Forecast) as s:
            response = s.get_final_response()
    else:
        response = client.responses.parse(model="structbot", input="Paris", text_format=Forecast)
    # The test bot builds its value from the schema it was told: strings are their names.
    assert response.output_parsed == Forecast(city="city", days=42)
