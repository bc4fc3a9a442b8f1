"""GET /v1/models and /v1/models/{id}: through the official openai SDK and on the wire."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.support.fake_poe import MODEL_LIST


@pytest.fixture
def client(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="test-key", max_retries=0)


def test_list_has_openai_shape_and_seconds(client, fake_poe):
    models = client.models.list().data
    assert [m.id for m in models] == [entry["id"] for entry in MODEL_LIST]
    claude = models[0]
    assert claude.object == "model"
    assert claude.created == 1770262891  # Poe's milliseconds, as seconds
    assert claude.owned_by == "Anthropic"
    extras = claude.model_extra
    assert extras["name"] == "Claude-Sonnet-4.6"
    assert extras["context_length"] == 983040
    assert extras["architecture"]["input_modalities"] == ["text", "image"]


def test_sparse_entry_still_has_the_four_keys(http):
    sparse = http.get("/v1/models").json()["data"][1]
    assert sparse == {
        "id": "echobot",
        "object": "model",
        "created": 1723456789,
        "owned_by": "poe2openai tests",
        "name": "EchoBot",
    }


def test_unversioned_and_trailing_slash_paths(http):
    expected = http.get("/v1/models").json()
    assert http.get("/models").json() == expected
    assert http.get("/v1/models/").json() == expected
    assert http.get("/models/echobot").json()["id"] == "echobot"


def test_retrieve_one_model(client):
    model = client.models.retrieve("claude-sonnet-4.6")
    assert model.id == "claude-sonnet-4.6"
    assert model.created == 1770262891


def test_retrieve_by_display_name_case_insensitively(http):
    assert http.get("/v1/models/CLAUDE-SONNET-4.6").json()["id"] == "claude-sonnet-4.6"
    assert http.get("/v1/models/echobot").json()["id"] == "echobot"


def test_unknown_model_is_404_model_not_found(client, http):
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
    response = http.get("/v1/models/no-such-model")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "The model `no-such-model` does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_list_is_cached(http, fake_poe):
    http.get("/v1/models")
    calls = fake_poe.state.models_calls
    for _ in range(5):
        http.get("/v1/models")
    assert fake_poe.state.models_calls == calls


def test_poe_down_serves_the_last_good_list(start_service, fake_poe):
    running = start_service(
        {"POE_BASE_URL": fake_poe.url, "MODELS_CACHE_TTL": "0.2", "MODELS_RETRY_INTERVAL": "0.2"}
    )
    first = httpx.get(running.url + "/v1/models").json()
    fake_poe.state.models_mode = 503
    time.sleep(0.3)
    stale = httpx.get(running.url + "/v1/models")
    assert stale.status_code == 200
    assert stale.json() == first
    assert "serving the cached list" in running.log()
    # Poe answering garbage is an outage too, never a 500.
    fake_poe.state.models_mode = "garbage"
    time.sleep(0.3)
    assert httpx.get(running.url + "/v1/models").json() == first


def test_list_refreshes_after_ttl(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "MODELS_CACHE_TTL": "0.2"})
    assert len(httpx.get(running.url + "/v1/models").json()["data"]) == 2
    fake_poe.state.models = fake_poe.state.models[:1]
    time.sleep(0.3)
    assert len(httpx.get(running.url + "/v1/models").json()["data"]) == 1


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/echobot"])
def test_poe_unreachable_and_nothing_cached_is_502(start_service, path):
    from tests.support.service import free_port

    running = start_service({"POE_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    response = httpx.get(running.url + path)
    assert response.status_code == 502
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "upstream_unreachable"
    assert response.headers["x-should-retry"] == "true"


def test_poe_error_status_and_nothing_cached_is_502(start_service, fake_poe):
    fake_poe.state.models_mode = 500
    running = start_service({"POE_BASE_URL": fake_poe.url})
    response = httpx.get(running.url + "/v1/models")
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_error"


def chat(http, model: str) -> httpx.Response:
    return http.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hello"}]},
        headers={"authorization": "Bearer k"},
    )


@pytest.mark.parametrize("name", ["openai/echobot", "poe/EchoBot", "openrouter/poe/echobot"])
def test_a_provider_prefix_does_not_matter(http, name):
    response = chat(http, name)
    assert response.status_code == 200 and response.json()["model"] == name
    assert response.json()["choices"][0]["message"]["content"] == "hello"


def test_an_unknown_name_close_to_listed_ones_is_a_404_naming_them(http):
    response = chat(http, "echobott")  # a typo: Poe has no such bot
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert error["message"].endswith("; models with close names: `echobot`")
    lookup = http.get("/v1/models/echo-bot-2")
    assert (
        lookup.status_code == 404 and "close names: `echobot`" in lookup.json()["error"]["message"]
    )


def test_a_private_bot_name_still_goes_to_poe_as_it_is(http):
    # Poe's list does not show the bots a key may use privately: they are asked for by name.
    assert chat(http, "streambot").status_code == 200
    unknown = chat(http, "qqzx-private").json()["error"]["message"]
    assert "does not exist on Poe" in unknown and "close names" not in unknown
