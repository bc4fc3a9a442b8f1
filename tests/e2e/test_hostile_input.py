"""Input that used to reach a 500 with a traceback: a clear 4xx in the front's own error shape,
and the service keeps serving."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
ASK = [{"role": "user", "content": "x"}]


def post(service, path: str, body: bytes | dict, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        service.url + path,
        content=content,
        headers={"authorization": "Bearer k", "content-type": "application/json", **headers},
        timeout=30,
    )


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    if body.get("type") == "error":  # Anthropic's shape
        return body["error"]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def chat_body(**extra) -> dict:
    return {"model": "echobot", "messages": copy.deepcopy(ASK), **extra}


def messages_body(**extra) -> dict:
    return {"model": "echobot", "max_tokens": 5, "messages": copy.deepcopy(ASK), **extra}


FRONTS = [(CHAT, chat_body), (MESSAGES, messages_body)]


@pytest.fixture(autouse=True)
def _still_serving(service):
    yield
    assert httpx.get(service.url + "/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize(("path", "body"), FRONTS)
@pytest.mark.parametrize("depth", [65, 1_000, 5_000])
def test_deep_nesting_is_a_400(service, path, body, depth):
    deep = "[" * depth + "]" * depth
    raw = json.dumps(body(metadata={"x": 1})).replace('{"x": 1}', deep).encode()
    response = post(service, path, raw)
    assert response.status_code == 400, response.text
    assert "nested deeper than 64" in error_of(response)["message"]


def test_deep_tool_parameters_are_a_400(service):
    schema: dict = {"type": "object"}
    for _ in range(70):
        schema = {"type": "object", "properties": {"a": schema}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
    response = post(service, CHAT, chat_body(tools=tools))
    assert response.status_code == 400
    assert error_of(response)["code"] == "too_deeply_nested"


def test_reasonable_nesting_passes(service):
    schema: dict = {"type": "string"}
    for _ in range(20):
        schema = {"type": "object", "properties": {"a": schema}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
    assert post(service, CHAT, chat_body(tools=tools)).status_code == 200


def test_deep_admin_config_is_a_400(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": "pw-0123456789"})
    auth = ("admin", "pw-0123456789")
    current = httpx.get(running.url + "/admin/api/config", auth=auth)
    deep = "[" * 2_000 + "]" * 2_000
    response = httpx.put(
        running.url + "/admin/api/config",
        content=f'{{"models": {{"echobot": {{"parameters": {{"x": {deep}}}}}}}}}'.encode(),
        auth=auth,
        headers={
            "if-match": current.headers["etag"],
            "x-requested-with": "poe2openai-admin",
            "content-type": "application/json",
        },
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "too_deeply_nested"


@pytest.mark.parametrize(("path", "body"), FRONTS)
@pytest.mark.parametrize("key", ["k\u00e9y", "k\x01y", "k\x7fy"])
def test_a_key_with_impossible_characters_is_refused(service, path, body, key):
    response = httpx.post(
        service.url + path,
        content=json.dumps(body()).encode(),
        headers=[
            ("authorization", b"Bearer " + key.encode("utf-8")),
            ("content-type", b"application/json"),
        ],
        timeout=30,
    )
    # A control character makes the header block malformed: refused before any key is read.
    assert response.status_code == (401 if key.isprintable() else 400)
    assert key not in response.text


@pytest.mark.parametrize(("path", "body"), FRONTS)
@pytest.mark.parametrize(
    "where",
    [
        lambda b: b["messages"][0].update(content="x\ud800"),
        lambda b: b["messages"][0].update(content=[{"type": "text", "text": "\udc00"}]),
        lambda b: b.update(metadata={"k\ud800": 1}),
    ],
)
def test_a_lone_surrogate_is_a_400(service, path, body, where):
    data = body()
    where(data)
    response = post(service, path, json.dumps(data).encode())  # ensure_ascii: `\ud800` escapes
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error"
    assert "surrogate" in error_of(response)["message"]


def test_a_lone_surrogate_in_a_url_is_a_400(service):
    content = [{"type": "image_url", "image_url": {"url": "https://example.com/\ud800.png"}}]
    response = post(service, CHAT, chat_body(messages=[{"role": "user", "content": content}]))
    assert response.status_code == 400
    assert error_of(response)["param"] == "messages[0].content[0].image_url.url"


def test_surrogate_pairs_are_text(service):
    response = post(
        service,
        CHAT,
        json.dumps(chat_body(messages=[{"role": "user", "content": "ok \U0001f600"}])).encode(),
    )
    assert response.json()["choices"][0]["message"]["content"] == "ok \U0001f600"


@pytest.mark.parametrize(("path", "body"), FRONTS)
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_a_400(service, path, body, constant):
    raw = json.dumps(body(metadata={"x": 1})).replace('{"x": 1}', constant).encode()
    response = post(service, path, raw)
    assert response.status_code == 400
    assert constant in error_of(response)["message"]


@pytest.mark.parametrize(("path", "body"), FRONTS)
def test_an_overlong_model_name_is_a_400(service, path, body):
    response = post(service, path, body(model="m" * 5_000))
    assert response.status_code == 400
    assert "model" in error_of(response)["message"]


@pytest.mark.parametrize(
    "path", ["/docs/assets/", "/docs/assets/.", "/docs/assets/%00x", "/docs/assets/a%00.js"]
)
def test_odd_static_paths_are_404(service, path):
    response = httpx.get(service.url + path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_url"


@pytest.mark.parametrize("stream", [True, False])
def test_a_lone_surrogate_from_poe_becomes_a_replacement_character(service, stream):
    response = post(service, CHAT, chat_body(model="surrogate", stream=stream))
    assert response.status_code == 200
    if not stream:
        assert response.json()["choices"][0]["message"]["content"] == "bad \ufffd half"
        return
    chunks = [json.loads(f[6:]) for f in response.text.split("\n\n") if f.startswith("data: {")]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "bad \ufffd half"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert response.text.rstrip().endswith("data: [DONE]")
    anthropic = post(service, MESSAGES, messages_body(model="surrogate", stream=True))
    assert "bad \ufffd half" in anthropic.text and "event: message_stop" in anthropic.text


@pytest.mark.parametrize(("path", "body"), FRONTS)
@pytest.mark.parametrize("how", ["status", "event"])
@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_echoing_the_key_never_shows_it(service, path, body, how, stream):
    key = "poe-key-that-must-stay-secret-0123"
    response = post(
        service, path, body(model=f"echokey{how}", stream=stream), authorization=f"Bearer {key}"
    )
    assert response.status_code in (400, 502)
    assert "***" in response.text
    assert key not in response.text
    assert key not in service.log()


def test_a_config_dir_that_cannot_be_created_is_a_507(start_service, fake_poe, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    running = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "ADMIN_PASSWORD": "pw-0123456789",
            "CONFIG_DIR": str(blocker / "config"),
        }
    )
    auth = ("admin", "pw-0123456789")
    etag = httpx.get(running.url + "/admin/api/config", auth=auth).headers["etag"]
    response = httpx.put(
        running.url + "/admin/api/config",
        json={"models": {"echobot": {"mapping": "eb"}}},
        auth=auth,
        headers={"if-match": etag, "x-requested-with": "poe2openai-admin"},
    )
    assert response.status_code == 507
    assert error_of(response)["code"] == "config_not_saved"
