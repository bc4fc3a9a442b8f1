"""DATABASE_URL: the service on a real PostgreSQL server, one or several instances sharing it;
stored responses, issued keys, and a database that is down (a 503, never a hang)."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.support.service import free_port

ADMIN = ("admin", "admin-password-for-tests")
WRITE = {"X-Requested-With": "poe2openai-admin"}
KEY = "poe-key-PGCHECK-71c2"


@pytest.fixture
def on_postgres(start_service, fake_poe, postgres):
    """Starts service instances on one fresh PostgreSQL database (each its own CONFIG_DIR)."""
    url = postgres.new_database()

    def start(**env: str):
        base = {"POE_BASE_URL": fake_poe.url, "DATABASE_URL": url}
        return start_service({**base, **env}, timeout=30)

    start.url = url
    return start


def test_a_stored_response_is_read_back_and_continued(on_postgres, postgres):
    service = on_postgres()
    ai = openai.OpenAI(base_url=service.url + "/v1", api_key=KEY, max_retries=0)
    first = ai.responses.create(model="echobot", input="remember me")
    assert ai.responses.retrieve(first.id).output_text == "remember me"
    second = ai.responses.create(model="echobot", input="query:", previous_response_id=first.id)
    bot_saw = json.loads(second.output_text)["query"]
    assert [m["content"] for m in bot_saw] == ["remember me", "remember me", "query:"]
    assert ai.responses.retrieve(second.id).previous_response_id == first.id
    # Nothing was kept in CONFIG_DIR: the database is PostgreSQL's, and it holds no key.
    assert not any(p.name.startswith("poe2openai.db") for p in service.config_dir.iterdir())
    assert KEY.encode() not in postgres.on_disk()


def test_two_instances_on_one_database_agree(on_postgres):
    """A response stored through one instance is found through the other, for the same key
    only: the secret that ties it to its key lives in the database, not in CONFIG_DIR."""
    a, b = on_postgres(), on_postgres()
    assert a.config_dir != b.config_dir
    made = openai.OpenAI(base_url=a.url + "/v1", api_key=KEY, max_retries=0).responses.create(
        model="echobot", input="from a"
    )
    on_b = openai.OpenAI(base_url=b.url + "/v1", api_key=KEY, max_retries=0)
    assert on_b.responses.retrieve(made.id).output_text == "from a"
    stranger = openai.OpenAI(base_url=b.url + "/v1", api_key="poe-other", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        stranger.responses.retrieve(made.id)


def test_issued_keys_live_in_postgres_and_work_on_every_instance(on_postgres):
    env = {"AUTH_MODE": "keys", "POE_API_KEY": "poe-server-key", "ADMIN_PASSWORD": ADMIN[1]}
    a, b = on_postgres(**env), on_postgres(**env)
    created = httpx.post(
        a.url + "/admin/api/keys",
        json={"name": "ci", "expires_at": 32503680000},
        auth=ADMIN,
        headers=WRITE,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    for service in (a, b):
        ai = openai.OpenAI(base_url=service.url + "/v1", api_key=key["key"], max_retries=0)
        answer = ai.chat.completions.create(
            model="echobot", messages=[{"role": "user", "content": "hello"}]
        )
        assert answer.choices[0].message.content == "hello"
    deleted = httpx.delete(
        f"{a.url}/admin/api/keys/{key['id']}", auth=ADMIN, headers=WRITE, timeout=10
    )
    assert deleted.status_code == 204
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=b.url + "/v1", api_key=key["key"], max_retries=0).models.list()


@pytest.mark.parametrize("auth_mode", ["passthrough", "keys"])
def test_an_unreachable_database_is_a_quick_503_and_the_service_stays_up(
    start_service, fake_poe, auth_mode
):
    password = "pg-password-NEVER-SHOWN"
    url = f"postgresql://poe:{password}@127.0.0.1:{free_port()}/poe"  # nothing listens there
    service = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "DATABASE_URL": url,
            "AUTH_MODE": auth_mode,
            "POE_API_KEY": "poe-server-key",
            "ADMIN_PASSWORD": ADMIN[1],
        }
    )
    for _ in range(2):  # tried again on each request: still down, still quick
        started = time.monotonic()
        if auth_mode == "keys":
            answer = httpx.get(
                service.url + "/v1/models", headers={"Authorization": "Bearer sk-p2o-x"}
            )
        else:
            answer = httpx.get(
                service.url + "/v1/responses/resp_1", headers={"Authorization": "Bearer k"}
            )
        assert time.monotonic() - started < 8
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "storage_unavailable"
        assert password not in answer.text
    assert httpx.get(service.url + "/healthz").status_code == 200
    assert password not in service.log()


def test_a_database_url_of_another_kind_is_refused_at_start_naming_the_setting(
    start_service, tmp_path
):
    with pytest.raises(RuntimeError) as refused:
        start_service({"DATABASE_URL": "mysql://root:pw-NEVER-SHOWN@db/poe"}, timeout=10)
    assert "DATABASE_URL" in str(refused.value)
    assert "pw-NEVER-SHOWN" not in str(refused.value)


def test_a_database_lost_after_it_opened_is_a_503_and_service_comes_back_with_it(
    on_postgres, postgres
):
    service = on_postgres()
    ai = openai.OpenAI(base_url=service.url + "/v1", api_key=KEY, max_retries=0)
    kept = ai.responses.create(model="echobot", input="still here?")
    name = on_postgres.url.rpartition("/")[2]
    postgres.sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    postgres.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    try:
        lost = httpx.get(
            service.url + f"/v1/responses/{kept.id}", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert lost.status_code == 503, lost.text
        assert lost.json()["error"]["code"] == "storage_unavailable"
        assert lost.headers["x-should-retry"] == "true" and "SELECT" not in lost.text
    finally:
        postgres.sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    assert ai.responses.retrieve(kept.id).output_text == "still here?"
    assert "Traceback" not in service.log()
