"""The admin API and the models.yaml overlay, end to end against the real service."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.service import free_port

PASSWORD = "correct horse battery staple"
AUTH = ("admin", PASSWORD)
CSRF = {"x-requested-with": "poe2openai-admin"}
USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def admin(start_service, fake_poe):
    return start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "ADMIN_PASSWORD": PASSWORD,
            "POE_API_KEY": "pk-secret-abcdefgh-1234",
        }
    )


def save(running, config: dict, revision: str | None = None) -> httpx.Response:
    if revision is None:
        revision = httpx.get(running.url + "/admin/api/config", auth=AUTH).headers["etag"]
    return httpx.put(
        running.url + "/admin/api/config",
        auth=AUTH,
        json=config,
        headers={**CSRF, "if-match": revision},
    )


def model_ids(running) -> list[str]:
    return [m["id"] for m in httpx.get(running.url + "/v1/models").json()["data"]]


def test_admin_is_off_without_a_password(service):
    for path in ("/admin", "/admin/api/config"):
        response = httpx.get(service.url + path, auth=("admin", "admin"))
        assert response.status_code == 404
        assert "ADMIN_PASSWORD" in response.json()["error"]["message"]


def test_wrong_or_missing_credentials(admin):
    for auth in (None, ("admin", "wrong"), ("root", PASSWORD)):
        response = httpx.get(admin.url + "/admin/api/config", auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")
    assert PASSWORD not in admin.log()


def test_repeated_failures_are_throttled(admin):
    for _ in range(5):
        assert httpx.get(admin.url + "/admin/api/status", auth=("admin", "x")).status_code == 401
    throttled = httpx.get(admin.url + "/admin/api/status", auth=AUTH)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0


def test_cross_site_writes_are_refused(admin):
    revision = httpx.get(admin.url + "/admin/api/config", auth=AUTH).headers["etag"]
    no_header = httpx.put(
        admin.url + "/admin/api/config", auth=AUTH, json={}, headers={"if-match": revision}
    )
    assert no_header.status_code == 403
    foreign = httpx.put(
        admin.url + "/admin/api/config",
        auth=AUTH,
        json={},
        headers={**CSRF, "if-match": revision, "origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    same = httpx.put(
        admin.url + "/admin/api/config",
        auth=AUTH,
        json={},
        headers={**CSRF, "if-match": revision, "origin": admin.url},
    )
    assert same.status_code == 200
    refresh = httpx.post(admin.url + "/admin/api/models/refresh", auth=AUTH)
    assert refresh.status_code == 403


def test_no_cors_on_admin_routes(admin):
    page = httpx.get(
        admin.url + "/admin/api/config", auth=AUTH, headers={"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in page.headers
    preflight = httpx.options(
        admin.url + "/admin/api/config",
        headers={"origin": "https://evil.example", "access-control-request-method": "PUT"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code in (404, 405)


def test_revision_locking(admin):
    first = httpx.get(admin.url + "/admin/api/config", auth=AUTH)
    revision = first.headers["etag"]
    assert first.json()["revision"] == revision
    assert save(admin, {"models": {"echobot": {"enable": False}}}, revision).status_code == 200
    stale = save(admin, {"models": {}}, revision)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "config_changed"
    missing = httpx.put(admin.url + "/admin/api/config", auth=AUTH, json={}, headers=CSRF)
    assert missing.status_code == 428


def test_validation_error_names_the_field_and_keeps_the_file(admin):
    assert save(admin, {"models": {"echobot": {"mapping": "eb"}}}).status_code == 200
    before = (admin.config_dir / "models.yaml").read_bytes()
    bad = save(
        admin, {"models": {"echobot": {"mapping": "x"}, "claude-sonnet-4.6": {"mapping": "X"}}}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "models.claude-sonnet-4.6.mapping"
    assert (admin.config_dir / "models.yaml").read_bytes() == before


def test_overlay_shapes_the_model_list_and_chat(admin):
    config = {
        "models": {
            "claude-sonnet-4.6": {"mapping": "my-claude", "display_name": "Mine"},
            "echobot": {"enable": False},
        },
        "custom_models": [{"id": "My-Private-Bot", "created": 1723456789}],
        "kept": "unknown keys survive",
    }
    saved = save(admin, config)
    assert saved.status_code == 200 and saved.json()["config"]["kept"] == "unknown keys survive"
    assert model_ids(admin) == ["my-claude", "My-Private-Bot"]
    mine = httpx.get(admin.url + "/v1/models/MY-CLAUDE").json()
    assert (mine["id"], mine["name"], mine["created"]) == ("my-claude", "Mine", 1770262891)
    custom = httpx.get(admin.url + "/v1/models/my-private-bot").json()
    assert custom == {
        "id": "My-Private-Bot",
        "object": "model",
        "created": 1723456789,
        "owned_by": "custom",
    }
    assert httpx.get(admin.url + "/v1/models/echobot").status_code == 404
    # A hidden model can still be called; an alias resolves case-insensitively.
    save(admin, {"models": {"echobot": {"mapping": "Parrot", "enable": False}}})
    answer = httpx.post(
        admin.url + "/v1/chat/completions",
        headers={"authorization": "Bearer k"},
        json={"model": "parrot", "messages": USER},
    )
    assert answer.json()["choices"][0]["message"]["content"] == "hi"
    assert answer.json()["model"] == "parrot"


def test_overlay_off_shows_poe_as_it_is(admin):
    save(admin, {"enable": False, "models": {"echobot": {"enable": False}}})
    assert model_ids(admin) == ["claude-sonnet-4.6", "echobot"]


def test_replace_response_switch_sends_the_answer_once(admin):
    save(admin, {"models": {"replacebot": {"replace_response": True}}})
    body = {"model": "replacebot", "messages": USER, "stream": True}
    response = httpx.post(
        admin.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
    )
    chunks = [json.loads(f[6:]) for f in response.text.split("\n\n") if f.startswith("data: {")]
    contents = [c["choices"][0]["delta"].get("content") for c in chunks]
    assert [c for c in contents if c] == ["Final answer"]


def test_default_parameters_reach_the_bot(admin):
    save(admin, {"models": {"echobot": {"parameters": {"web_search": True}}}})
    answer = httpx.post(
        admin.url + "/v1/chat/completions",
        headers={"authorization": "Bearer k"},
        json={"model": "echobot", "messages": [{"role": "user", "content": "query:"}]},
    )
    query = json.loads(answer.json()["choices"][0]["message"]["content"])["query"]
    assert query[-1]["parameters"] == {"web_search": True}


def test_admin_model_list_and_refresh(admin, fake_poe):
    save(
        admin,
        {
            "models": {"echobot": {"enable": False, "mapping": "eb"}},
            "custom_models": [{"id": "mine"}],
        },
    )
    data = httpx.get(admin.url + "/admin/api/models", auth=AUTH).json()["data"]
    by_id = {m["id"]: m for m in data}
    assert by_id["echobot"]["shown"] is False and by_id["echobot"]["shown_as"] == "eb"
    assert by_id["claude-sonnet-4.6"]["pricing"]["prompt"] == "0.0000026"
    assert by_id["mine"]["source"] == "custom"
    fake_poe.state.models = fake_poe.state.models[:1]
    refreshed = httpx.post(admin.url + "/admin/api/models/refresh", auth=AUTH, headers=CSRF)
    assert refreshed.json() == {"count": 1}


def test_status_masks_the_poe_key(admin):
    status = httpx.get(admin.url + "/admin/api/status", auth=AUTH).json()
    assert status["poe_api_key"] == "pk-…1234"
    assert "pk-secret-abcdefgh-1234" not in admin.log()


def test_every_worker_sees_a_save_at_once(start_service, fake_poe):
    running = start_service(
        {"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": PASSWORD, "WORKERS": "2"}
    )
    with httpx.Client(base_url=running.url) as client:
        for round_ in range(3):
            alias = f"alias-{round_}"
            assert save(running, {"models": {"echobot": {"mapping": alias}}}).status_code == 200
            # New connections spread over both workers: every one must see the new alias.
            for _ in range(10):
                ids = [
                    m["id"]
                    for m in client.get("/v1/models", headers={"connection": "close"}).json()[
                        "data"
                    ]
                ]
                assert alias in ids


def test_model_list_survives_a_restart_without_network(start_service, fake_poe):
    first = start_service({"POE_BASE_URL": fake_poe.url})
    assert len(model_ids(first)) == 2
    first.stop()
    offline = start_service(
        {"POE_BASE_URL": f"http://127.0.0.1:{free_port()}", "CONFIG_DIR": str(first.config_dir)}
    )
    assert model_ids(offline) == ["claude-sonnet-4.6", "echobot"]


def test_corrupt_file_at_start_is_reported_and_the_service_serves(
    start_service, fake_poe, tmp_path
):
    (tmp_path / "models.yaml").write_text("models: {echobot: {enable: false}\n  broken")
    running = start_service(
        {"POE_BASE_URL": fake_poe.url, "CONFIG_DIR": str(tmp_path), "ADMIN_PASSWORD": PASSWORD}
    )
    assert "not a valid configuration" in running.log()
    assert model_ids(running) == ["claude-sonnet-4.6", "echobot"]  # overlay off
    document = httpx.get(running.url + "/admin/api/config", auth=AUTH).json()
    assert "not a valid configuration" in document["problem"]
    assert save(running, {"models": {}}, document["revision"]).status_code == 200


def test_throttling_behind_a_reverse_proxy_is_per_client(start_service, fake_poe):
    # With Sanic's SANIC_PROXIES_COUNT, the client address comes from X-Forwarded-For.
    running = start_service(
        {"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": PASSWORD, "SANIC_PROXIES_COUNT": "1"}
    )
    status = running.url + "/admin/api/status"
    for _ in range(5):
        httpx.get(status, auth=("admin", "x"), headers={"x-forwarded-for": "203.0.113.7"})
    assert (
        httpx.get(status, auth=AUTH, headers={"x-forwarded-for": "203.0.113.7"}).status_code == 429
    )
    assert (
        httpx.get(status, auth=AUTH, headers={"x-forwarded-for": "198.51.100.2"}).status_code == 200
    )
