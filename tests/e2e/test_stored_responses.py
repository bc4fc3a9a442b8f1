"""Stored responses of the Responses API: kept by default, read back, listed, deleted, chained
with previous_response_id, each key's own; the official openai SDK against the real service."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.e2e.test_responses import ASK, TOOLS
from tests.support.service import RunningService

KEY = "poe-key-LEAKCHECK-3b9d"


@pytest.fixture
def client(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="poe-key-one", max_retries=0)


@pytest.fixture
def other(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="poe-key-two", max_retries=0)


@pytest.mark.parametrize("stream", [False, True])
def test_a_response_is_kept_and_read_back_as_it_was_answered(client, stream):
    if stream:
        with client.responses.stream(model="streambot", input="hi") as events:
            made = events.get_final_response()
    else:
        made = client.responses.create(model="streambot", input="hi")
    assert made.store is True
    kept = client.responses.retrieve(made.id)
    assert (kept.id, kept.status, kept.usage) == (made.id, made.status, made.usage)
    assert [i.id for i in kept.output] == [i.id for i in made.output]
    assert kept.output_text == made.output_text == "Hello, wörld ✓"


def test_another_key_finds_nothing_and_cannot_continue_or_delete(client, other):
    made = client.responses.create(model="echobot", input="mine")
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(made.id)
    with pytest.raises(openai.BadRequestError) as refused:
        other.responses.create(model="echobot", input="x", previous_response_id=made.id)
    assert refused.value.code == "previous_response_not_found"
    assert client.responses.retrieve(made.id).output_text == "mine"


def test_a_deleted_response_is_gone(client):
    made = client.responses.create(model="echobot", input="bye")
    deleted = client.responses.delete(made.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(made.id)


def test_store_false_keeps_nothing(client):
    made = client.responses.create(model="echobot", input="secret", store=False)
    assert made.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)


def test_input_items_are_listed_and_paged_as_openai_pages_them(client):
    items = [{"role": "user", "content": f"part {n}"} for n in range(5)]
    made = client.responses.create(model="echobot", input=items)
    newest = client.responses.input_items.list(made.id, limit=2)
    assert [i.content[0].text for i in newest.data] == ["part 4", "part 3"]
    assert newest.has_more and newest.last_id == newest.data[-1].id
    rest = client.responses.input_items.list(made.id, after=newest.last_id, order="desc")
    assert [i.content[0].text for i in rest.data] == ["part 2", "part 1", "part 0"]
    assert not rest.has_more
    every = [i.content[0].text for i in client.responses.input_items.list(made.id, order="asc")]
    assert every == [f"part {n}" for n in range(5)]
    bad = httpx.get(
        f"{client.base_url}responses/{made.id}/input_items?limit=0",
        headers={"Authorization": "Bearer poe-key-one"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"


@pytest.mark.parametrize("stream", [False, True])
def test_a_function_tool_loop_goes_on_from_previous_response_id(client, stream):
    first = client.responses.create(model="toolbot", input=ASK, tools=TOOLS)
    (call,) = [item for item in first.output if item.type == "function_call"]
    follow_up = {
        "model": "toolbot",
        "previous_response_id": first.id,
        "input": [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        "tools": TOOLS,
    }
    if stream:
        with client.responses.stream(**follow_up) as events:
            second = events.get_final_response()
    else:
        second = client.responses.create(**follow_up)
    # The bot got the earlier call back from the store, and the result sent now.
    assert second.output_text == "Tool get_weather said: sunny (calls seen: 1)"
    assert second.previous_response_id == first.id
    # The chain goes on: a third turn sees both before it.
    third = client.responses.create(model="echobot", previous_response_id=second.id, input="query:")
    assert "Weather in Paris?" in third.output_text and "sunny" in third.output_text


def test_stored_responses_survive_a_restart(fake_poe, tmp_path):
    env = {"POE_BASE_URL": fake_poe.url, "CONFIG_DIR": str(tmp_path)}
    first = RunningService(env).start()
    try:
        ai = openai.OpenAI(base_url=first.url + "/v1", api_key=KEY, max_retries=0)
        made = ai.responses.create(model="echobot", input="remember me")
    finally:
        first.stop()
    again = RunningService(env).start()
    try:
        ai = openai.OpenAI(base_url=again.url + "/v1", api_key=KEY, max_retries=0)
        assert ai.responses.retrieve(made.id).output_text == "remember me"
    finally:
        again.stop()
    # The database holds a keyed hash of the key that made the response, never the key.
    files = [p for p in tmp_path.iterdir() if p.name.startswith("poe2openai.db")]
    assert files and not any(KEY.encode() in p.read_bytes() for p in files)


def test_an_item_reference_finds_the_callers_own_stored_output_item(client, other):
    made = client.responses.create(model="streambot", input="hi")
    (message,) = made.output
    follow_up = [
        {"type": "item_reference", "id": message.id},
        {"role": "user", "content": "query:"},
    ]
    answer = client.responses.create(model="echobot", input=follow_up, store=False)
    bot_saw = json.loads(answer.output_text)["query"]  # the bot saw the referenced answer
    assert (bot_saw[0]["role"], bot_saw[0]["content"]) == ("bot", "Hello, wörld ✓")
    for asking in (other, client):
        with pytest.raises(openai.BadRequestError) as refused:
            ref = message.id if asking is other else "msg_unknown"
            asking.responses.create(model="echobot", input=[{"type": "item_reference", "id": ref}])
        assert refused.value.code == "item_not_found"
        assert refused.value.body["param"] == "input[0]"


def test_with_its_storage_down_a_response_is_answered_unkept_and_reads_are_a_503(
    start_service, fake_poe, tmp_path
):
    (tmp_path / "poe2openai.db").mkdir()  # the database file cannot be opened
    down = start_service({"POE_BASE_URL": fake_poe.url, "CONFIG_DIR": str(tmp_path)})
    ai = openai.OpenAI(base_url=down.url + "/v1", api_key="k", max_retries=0)
    made = ai.responses.create(model="echobot", input="still answered")
    assert (made.output_text, made.store) == ("still answered", False)
    with pytest.raises(openai.InternalServerError) as refused:
        ai.responses.retrieve(made.id)
    assert refused.value.status_code == 503
    assert refused.value.body["code"] == "storage_unavailable"
    assert str(tmp_path) not in refused.value.message
    # Once the cause is gone, the next request opens it: no restart needed.
    (tmp_path / "poe2openai.db").rmdir()
    kept = ai.responses.create(model="echobot", input="kept now")
    assert ai.responses.retrieve(kept.id).output_text == "kept now"
