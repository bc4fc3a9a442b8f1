"""The admin API and the models.yaml overlay, end to end against the real service."""

from __future__ import annotations

import asyncio
import json
import time

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


def timed_get(url: str, auth, headers: dict[str, str] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.get(url, auth=auth, headers=headers, timeout=30)
    return response.status_code, time.monotonic() - started


@pytest.fixture
def slowed_admin(start_service, fake_poe):
    """The admin with a short cap on login delays (ADMIN_LOGIN_MAX_DELAY), so that the
    doubling delays of a test take seconds, not minutes: first delay 0.05 s, cap 1.6 s."""

    def start(**env: str):
        return start_service(
            {
                "POE_BASE_URL": fake_poe.url,
                "ADMIN_PASSWORD": PASSWORD,
                "ADMIN_LOGIN_MAX_DELAY": "1.6",
                **env,
            }
        )

    return start


def test_repeated_failures_get_slower_answers_and_the_right_password_still_works(slowed_admin):
    status = slowed_admin().url + "/admin/api/status"
    answers = [timed_get(status, ("admin", f"guess-{i}")) for i in range(8)]
    assert [code for code, _ in answers] == [401] * 8
    took = [seconds for _, seconds in answers]
    # Three typos are answered at once; then each answer waits twice as long as the last
    # (lower bounds: the waits are sleeps, while the machine's own latency varies).
    for attempt, least in enumerate([0.05, 0.1, 0.2, 0.4, 0.8], start=3):
        assert took[attempt] >= least, took
    # The right password from that very address is never locked out: at most the capped delay.
    code, seconds = timed_get(status, AUTH)
    assert code == 200
    assert seconds < 1.6 + 2
    # ...and it clears the address: the next typo is not made to wait the cap (1.6 s) again.
    code, seconds = timed_get(status, ("admin", "typo"))
    assert code == 401 and seconds < 1.0


def test_guesses_from_many_addresses_are_slowed_per_user_name(slowed_admin):
    # Behind a trusted proxy (SANIC_PROXIES_COUNT), each client's address is its X-Forwarded-For.
    running = slowed_admin(SANIC_PROXIES_COUNT="1")
    status = running.url + "/admin/api/status"

    def from_(address: str, auth) -> tuple[int, float]:
        return timed_get(status, auth, {"x-forwarded-for": address})

    assert from_("192.0.2.10", AUTH)[0] == 200  # the admin logged in from here before
    took = [from_(f"203.0.113.{i}", ("admin", f"guess-{i}"))[1] for i in range(14)]
    # One guess per address, yet past ten guesses at the user name each answer waits longer.
    for attempt, least in enumerate([0.05, 0.1, 0.2, 0.4], start=10):
        assert took[attempt] >= least, took
    # A fresh address guessing the same user name is slowed too; the admin's own is not.
    assert from_("198.51.100.77", ("admin", "another"))[1] >= 0.8
    code, seconds = from_("192.0.2.10", AUTH)
    assert code == 200 and seconds < 1.0  # not exempt, it would wait the cap (1.6 s)


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(slowed_admin):
    status = slowed_admin().url + "/admin/api/status"
    took = [
        timed_get(status, ("admin", "x"), {"x-forwarded-for": f"203.0.113.{i}"})[1]
        for i in range(6)
    ]
    assert took[5] >= 0.2, took  # one address as far as the service can tell


def test_attempts_sent_at_once_are_refused_rather_than_held(slowed_admin):
    running = slowed_admin()
    status = running.url + "/admin/api/status"
    for i in range(7):  # the next attempt from this address waits 0.8 s
        timed_get(status, ("admin", f"guess-{i}"))

    async def flood() -> list[tuple[int, str | None, float]]:
        async with httpx.AsyncClient(timeout=30) as client:

            async def one(i: int) -> tuple[int, str | None, float]:
                started = time.monotonic()
                response = await client.get(status, auth=("admin", f"flood-{i}"))
                return (
                    response.status_code,
                    response.headers.get("retry-after"),
                    time.monotonic() - started,
                )

            return await asyncio.gather(*(one(i) for i in range(20)))

    answers = asyncio.run(flood())
    refused = [(after, took) for code, after, took in answers if code == 429]
    held = [took for code, _, took in answers if code == 401]
    assert len(held) <= 2 and len(refused) >= 18, answers
    assert all(int(after) >= 1 for after, _ in refused), answers
    assert max(took for _, took in refused) < min(held), answers  # answered, not held
    assert timed_get(status, AUTH)[0] == 200


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


def refresh_from(running, origin: str, **headers: str) -> int:
    return httpx.post(
        running.url + "/admin/api/models/refresh",
        auth=AUTH,
        headers={**CSRF, "origin": origin, **headers},
    ).status_code


def test_the_origin_check_compares_scheme_host_and_port(admin):
    host = f"127.0.0.1:{admin.port}"
    assert refresh_from(admin, f"http://{host}") == 200
    assert refresh_from(admin, f"https://{host}") == 403  # another origin, though same netloc
    assert refresh_from(admin, f"http://127.0.0.1:{admin.port + 1}") == 403
    assert refresh_from(admin, "null") == 403
    # A client cannot claim the scheme: X-Forwarded-Proto counts only from a trusted proxy.
    assert refresh_from(admin, f"https://{host}", **{"x-forwarded-proto": "https"}) == 403
    # The default port is the same origin whether it is spelled out or not.
    assert refresh_from(admin, "http://admin.example:80", host="admin.example") == 200
    assert refresh_from(admin, "http://admin.example", host="admin.example:80") == 200
    assert refresh_from(admin, "https://admin.example", host="admin.example:80") == 403


def test_the_origin_check_behind_a_trusted_tls_proxy(start_service, fake_poe):
    running = start_service(
        {"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": PASSWORD, "SANIC_PROXIES_COUNT": "1"}
    )
    proxy = {
        "x-forwarded-for": "203.0.113.5",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "admin.example",
    }
    assert refresh_from(running, "https://admin.example", **proxy) == 200
    assert refresh_from(running, "http://admin.example", **proxy) == 403
    assert refresh_from(running, "https://evil.example", **proxy) == 403


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
