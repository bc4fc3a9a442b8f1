"""AUTH_MODE=keys: each issued key's limits (rpm, tpm, concurrency, daily tokens), its usage
records, what `GET /v1/key` tells its holder, and the admin's usage figures and Poe balance;
the openai and anthropic SDKs against the real service (one worker: rates are per worker)."""

from __future__ import annotations

import sqlite3
import threading
import time

import anthropic
import httpx
import openai
import pytest

from tests.support.fake_poe import BALANCE
from tests.support.service import RunningService

ADMIN = ("admin", "admin-password-for-limits")
WRITE = {"X-Requested-With": "poe2openai-admin"}
ASK = [{"role": "user", "content": "hello there, how are you today?"}]


@pytest.fixture(scope="module")
def limited(fake_poe):
    running = RunningService(
        {
            "POE_BASE_URL": fake_poe.url,
            "AUTH_MODE": "keys",
            "POE_API_KEYS": "poe-points-5000, poe-server-key-B",
            "ADMIN_PASSWORD": ADMIN[1],
        }
    ).start(timeout=60)
    yield running
    running.stop()


def issue(service, **fields) -> dict:
    created = httpx.post(
        service.url + "/admin/api/keys",
        json={"name": "limited", **fields},
        auth=ADMIN,
        headers=WRITE,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return created.json()


def client(service, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key=key, max_retries=0)


def ask(ai: openai.OpenAI, model: str = "echobot") -> str:
    return ai.chat.completions.create(model=model, messages=ASK).choices[0].message.content


def test_over_its_requests_per_minute_a_key_gets_429_with_retry_after_in_each_front(limited):
    key = issue(limited, rpm=2)["key"]
    ai = client(limited, key)
    assert ask(ai) and ask(ai)
    with pytest.raises(openai.RateLimitError) as refused:
        ask(ai)
    assert refused.value.code == "rate_limit_exceeded"
    assert "requests per minute" in refused.value.message and "try again in" in str(refused.value)
    retry_after = int(refused.value.response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    messages = anthropic.Anthropic(base_url=limited.url, api_key=key, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as in_anthropic_shape:
        messages.messages.create(model="echobot", max_tokens=10, messages=ASK)
    assert in_anthropic_shape.value.body["error"]["type"] == "rate_limit_error"
    # Another key is not held back by this one's limit.
    assert ask(client(limited, issue(limited, rpm=2)["key"]))


def test_a_key_over_its_concurrent_requests_is_refused_until_one_ends(limited):
    key = issue(limited, max_concurrent=1)["key"]
    ai = client(limited, key)
    slow = threading.Thread(target=ask, args=(ai, "slow"))
    slow.start()
    time.sleep(0.6)  # the slow bot holds its answer open 1.5 s
    with pytest.raises(openai.RateLimitError) as refused:
        ask(ai)
    slow.join(10)
    assert "concurrent requests" in refused.value.message
    assert ask(ai)  # the slot is free again


def test_tokens_per_minute_count_when_a_request_ends_and_hold_the_next_back(limited):
    ai = client(limited, issue(limited, tpm=10)["key"])
    assert ask(ai)  # ~20 tokens: over the limit only once it is done
    with pytest.raises(openai.RateLimitError) as refused:
        ask(ai)
    assert "tokens per minute" in refused.value.message


def test_a_key_past_its_daily_tokens_gets_insufficient_quota_and_no_retry(limited):
    key = issue(limited, daily_tokens=15)["key"]
    ai = client(limited, key)
    assert ask(ai)
    refused = httpx.post(
        limited.url + "/v1/chat/completions",
        json={"model": "echobot", "messages": ASK},
        headers={"authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"
    assert refused.headers["x-should-retry"] == "false"
    assert "tokens for today" in refused.json()["error"]["message"]


def test_v1_key_tells_the_holder_its_limits_and_usage_without_counting_against_them(limited):
    key = issue(limited, rpm=3, models=["echobot"])["key"]
    ai = client(limited, key)
    assert ask(ai) and ask(ai)
    for _ in range(3):  # asking about the key costs none of its 3 requests a minute
        told = httpx.get(limited.url + "/v1/key", headers={"authorization": f"Bearer {key}"})
        assert told.status_code == 200
    body = told.json()
    assert body["object"] == "key" and body["prefix"] == key[:10] and key not in told.text
    assert body["limits"] == {"rpm": 3, "models": ["echobot"]}
    today = body["usage"]["today"]
    assert today["requests"] == 2 and today["input_tokens"] > 0 and today["output_tokens"] > 0
    assert body["usage"]["month"]["requests"] == 2 and body["open_requests"] == 0
    assert ask(ai)  # the third request of the minute is still there
    assert httpx.get(limited.url + "/key", headers={"x-api-key": "sk-p2o-nope"}).status_code == 401


def test_every_request_leaves_a_usage_record_and_the_admin_sees_them_grouped(limited):
    made = issue(limited, name="usage-team")
    ai = client(limited, made["key"])
    assert ask(ai) and ask(ai, "echobot")
    with pytest.raises(openai.APIStatusError):
        ask(ai, "status500")  # a failure is a record too, with its outcome

    def usage(group_by: str) -> list[dict]:
        got = httpx.get(limited.url + "/admin/api/usage", params={"group_by": group_by}, auth=ADMIN)
        assert got.status_code == 200, got.text
        return got.json()["data"]

    mine = [g for g in usage("key") if g["key_id"] == made["id"]]
    assert mine and mine[0]["key_name"] == "usage-team" and mine[0]["requests"] == 3
    assert mine[0]["input_tokens"] > 0 and mine[0]["output_tokens"] > 0
    by_model = {g["model"]: g["requests"] for g in usage("model")}
    assert by_model["echobot"] >= 2 and by_model["status500"] >= 1
    days = usage("day")
    assert days[-1]["day"] == time.strftime("%Y-%m-%d", time.gmtime())
    with sqlite3.connect(limited.config_dir / "poe2openai.db") as db:
        rows = db.execute(
            "SELECT front, model, bot, outcome, poe_account, duration_ms FROM usage_records "
            "WHERE key_id = ? ORDER BY id",
            (made["id"],),
        ).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows][-1][:2] == ("chat", "status500")
    assert rows[0][3] == "ok" and rows[-1][3] not in ("ok", None)
    assert all(r[4] and len(r[4]) == 16 for r in rows)  # which Poe key served it: a digest
    assert "poe-points-5000" not in str(rows) and made["key"] not in str(rows)
    bad = httpx.get(limited.url + "/admin/api/usage", params={"group_by": "user"}, auth=ADMIN)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "group_by"


def test_the_admin_sees_the_poe_balance_of_the_services_key(limited):
    got = httpx.get(limited.url + "/admin/api/poe/balance", auth=ADMIN)
    assert got.status_code == 200
    assert got.json()["current_point_balance"] == 5000
    assert abs(got.json()["checked_at"] - time.time()) < 60
    assert httpx.get(limited.url + "/admin/api/poe/balance").status_code == 401


def test_in_passthrough_mode_v1_key_is_the_poe_balance_of_the_callers_own_key(service):
    got = httpx.get(service.url + "/v1/key", headers={"authorization": "Bearer poe-points-42"})
    assert got.status_code == 200 and got.json() == {
        "object": "key",
        "poe": {"current_point_balance": 42},
    }
    other = httpx.get(service.url + "/v1/key", headers={"authorization": "Bearer someone"})
    assert other.json()["poe"]["current_point_balance"] == BALANCE
    refused = httpx.get(service.url + "/v1/key", headers={"authorization": "Bearer invalid-k"})
    assert refused.status_code == 401 and "invalid-k" not in refused.text
