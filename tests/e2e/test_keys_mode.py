"""AUTH_MODE=keys: the service holds the Poe keys and clients present keys it issued through
the admin API; the openai and anthropic SDKs against the real service."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import pytest

from tests.support.service import RunningService

ADMIN = ("admin", "admin-password-for-tests")
WRITE = {"X-Requested-With": "poe2openai-admin"}
ASK = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def keys_service(fake_poe):
    """Two workers: what one is told (a key disabled, deleted) the other must know at once."""
    running = RunningService(
        {
            "POE_BASE_URL": fake_poe.url,
            "POE_FILE_UPLOAD_URL": fake_poe.url + "/file_upload",
            "AUTH_MODE": "keys",
            "POE_API_KEYS": "poe-server-key-A, poe-server-key-B",
            "ADMIN_PASSWORD": ADMIN[1],
            "WORKERS": "2",
        }
    ).start(timeout=60)
    yield running
    running.stop()


def admin(service, method: str, path: str, **kwargs) -> httpx.Response:
    headers = WRITE if method != "GET" else {}
    return httpx.request(
        method, service.url + path, auth=ADMIN, headers=headers, timeout=10, **kwargs
    )


def issue(service, **fields) -> dict:
    created = admin(service, "POST", "/admin/api/keys", json={"name": "ci", **fields})
    assert created.status_code == 201, created.text
    return created.json()


def client(service, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key=key, max_retries=0)


def test_an_issued_key_works_and_the_poe_keys_are_the_services_own_in_turn(keys_service):
    key = issue(keys_service)
    assert key["key"].startswith("sk-p2o-") and key["prefix"] == key["key"][:10]
    ai = client(keys_service, key["key"])
    said = {ai.chat.completions.create(model="whoami", messages=ASK).choices[0].message.content}
    said.add(ai.chat.completions.create(model="whoami", messages=ASK).choices[0].message.content)
    # One worker or two answered: the keys are used in turn within each.
    assert said <= {"key poe-server-key-A", "key poe-server-key-B"} and said
    assert ai.chat.completions.create(model="echobot", messages=ASK).choices[0].message.content
    messages = anthropic.Anthropic(base_url=keys_service.url, api_key=key["key"], max_retries=0)
    answer = messages.messages.create(model="echobot", max_tokens=10, messages=ASK)
    assert answer.content[0].text == "hello"
    # The secret is shown once: never in a listing or a record.
    listed = admin(keys_service, "GET", "/admin/api/keys").json()["data"]
    assert key["id"] in [k["id"] for k in listed]
    assert key["key"] not in str(listed)
    assert "key" not in admin(keys_service, "GET", f"/admin/api/keys/{key['id']}").json()


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_poe_key_or_an_unknown_key_is_refused(keys_service, header):
    value = "poe-server-key-A"  # even the service's own Poe key is not a client key
    auth = {header: f"Bearer {value}" if header == "authorization" else value}
    body = {"model": "echobot", "messages": ASK}
    refused = httpx.post(keys_service.url + "/v1/chat/completions", json=body, headers=auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert value not in refused.text


def test_disabled_expired_and_revoked_keys_are_refused_on_every_worker(keys_service):
    key = issue(keys_service)
    ai = client(keys_service, key["key"])
    assert ai.chat.completions.create(model="echobot", messages=ASK)
    admin(keys_service, "PATCH", f"/admin/api/keys/{key['id']}", json={"disabled": True})
    for _ in range(6):  # two workers: each is asked several times
        with pytest.raises(openai.AuthenticationError) as refused:
            ai.chat.completions.create(model="echobot", messages=ASK)
        assert "disabled" in refused.value.message
    admin(keys_service, "PATCH", f"/admin/api/keys/{key['id']}", json={"disabled": False})
    assert ai.chat.completions.create(model="echobot", messages=ASK)
    soon = issue(keys_service, expires_at=int(time.time()) + 1)
    time.sleep(1.1)
    with pytest.raises(openai.AuthenticationError) as refused:
        client(keys_service, soon["key"]).chat.completions.create(model="echobot", messages=ASK)
    assert "expired" in refused.value.message
    assert admin(keys_service, "DELETE", f"/admin/api/keys/{key['id']}").status_code == 204
    for _ in range(6):
        with pytest.raises(openai.AuthenticationError):
            ai.chat.completions.create(model="echobot", messages=ASK)
    assert admin(keys_service, "GET", f"/admin/api/keys/{key['id']}").status_code == 404


def test_a_key_may_use_only_its_models_and_lists_only_those(keys_service):
    key = issue(keys_service, models=["EchoBot", "streambot"])
    ai = client(keys_service, key["key"])
    assert ai.chat.completions.create(model="echobot", messages=ASK)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        ai.chat.completions.create(model="claude-sonnet-4.6", messages=ASK)
    assert refused.value.code == "model_not_allowed"
    assert ai.chat.completions.create(model="streambot", messages=ASK)  # a bot no list shows
    listed = sorted(m.id for m in ai.models.list())
    assert listed == ["echobot"]
    # Without a key the list is Poe's public one, as in passthrough mode.
    everyone = httpx.get(keys_service.url + "/v1/models").json()["data"]
    assert len(everyone) > len(listed)


def test_a_poe_key_that_poe_rate_limits_rests_and_the_other_serves(start_service, fake_poe):
    service = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "AUTH_MODE": "keys",
            "POE_API_KEYS": "poe-server-key-A,poe-server-key-B",
            "ADMIN_PASSWORD": ADMIN[1],
            "POE_RETRIES": "0",
        }
    )
    ai = client(service, issue(service)["key"])
    with pytest.raises(openai.RateLimitError):
        ai.chat.completions.create(model="status429", messages=ASK)  # key A, then it rests
    said = {ai.chat.completions.create(model="whoami", messages=ASK).choices[0].message.content}
    said.add(ai.chat.completions.create(model="whoami", messages=ASK).choices[0].message.content)
    assert said == {"key poe-server-key-B"}


def test_keys_mode_without_a_poe_key_does_not_start(start_service):
    with pytest.raises(RuntimeError, match="exited early") as failed:
        start_service({"AUTH_MODE": "keys", "POE_API_KEY": None, "POE_API_KEYS": None})
    assert "AUTH_MODE=keys needs the service's Poe key: set POE_API_KEY" in str(failed.value)


def test_admin_key_writes_need_the_cross_site_header_and_refuse_unknown_fields(keys_service):
    no_header = httpx.post(
        keys_service.url + "/admin/api/keys", auth=ADMIN, json={"name": "x"}, timeout=10
    )
    assert no_header.status_code == 403
    misspelt = admin(keys_service, "POST", "/admin/api/keys", json={"name": "x", "rmp": 5})
    assert misspelt.status_code == 400 and misspelt.json()["error"]["param"] == "rmp"
    nameless = admin(keys_service, "POST", "/admin/api/keys", json={"rpm": 5})
    assert nameless.status_code == 400


def test_the_request_log_names_the_key_never_its_secret(keys_service):
    key = issue(keys_service, name="team laptop")
    client(keys_service, key["key"]).chat.completions.create(model="echobot", messages=ASK)
    lines = [line for line in keys_service.log().splitlines() if key["id"] in line]
    assert any(f'key={key["id"]} key_name="team laptop"' in line for line in lines)
    assert key["key"] not in keys_service.log()
