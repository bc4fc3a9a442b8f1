"""Pacing toward Poe, per Poe key, against the real service and the fake Poe: requests over
POE_RPM wait for their turn, past POE_QUEUE_TIMEOUT they are a 429 with Retry-After, and a 429
from Poe is waited out or sent to another of the service's Poe keys instead of passed on."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

ADMIN = ("admin", "admin-password-for-tests")
ASK = [{"role": "user", "content": "hello"}]


def chat(service, model: str = "whoami", key: str = "k-pacing") -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = httpx.post(
        service.url + "/v1/chat/completions",
        json={"model": model, "messages": ASK},
        headers={"authorization": f"Bearer {key}"},
        timeout=90,
    )
    return response, time.monotonic() - began


def at_once(service, count: int) -> list[tuple[httpx.Response, float]]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: chat(service), range(count)))


def test_requests_over_poe_rpm_wait_for_their_turn(start_service, fake_poe):
    # A minute is a minute: the last two requests wait for the first start to leave it.
    service = start_service(
        {"POE_BASE_URL": fake_poe.url, "POE_RPM": "3", "POE_QUEUE_TIMEOUT": "75"}
    )
    answers = at_once(service, 5)
    assert [r.status_code for r, _ in answers] == [200] * 5
    took = sorted(seconds for _, seconds in answers)
    assert took[2] < 10, took
    assert 50 < took[3] <= took[4] < 75, took


def test_requests_past_the_queue_bound_are_a_429_with_retry_after(start_service, fake_poe):
    service = start_service(
        {"POE_BASE_URL": fake_poe.url, "POE_RPM": "3", "POE_QUEUE_TIMEOUT": "1"}
    )
    answers = at_once(service, 5)
    assert sorted(r.status_code for r, _ in answers) == [200, 200, 200, 429, 429]
    for response, seconds in answers:
        if response.status_code == 429:
            assert seconds < 5  # a wait that cannot fit is refused at once
            after = int(response.headers["retry-after"])
            assert 50 <= after <= 60
            error = response.json()["error"]
            assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
            assert f"try again in {after} s" in error["message"]
    # Every front says it in its own shape; another Poe key is paced on its own.
    anthropic = httpx.post(
        service.url + "/v1/messages",
        json={"model": "whoami", "max_tokens": 10, "messages": ASK},
        headers={"x-api-key": "k-pacing"},
    )
    assert anthropic.status_code == 429 and anthropic.headers["retry-after"]
    assert anthropic.json()["error"]["type"] == "rate_limit_error"
    assert chat(service, key="another-poe-key")[0].status_code == 200


def test_a_poe_429_with_retry_after_is_waited_out(service, fake_poe):
    response, seconds = chat(service, model="busyfor1", key="k-busy")
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "answered after the wait"
    assert fake_poe.state.bot_calls["busyfor1"] == 2
    assert 0.9 < seconds < 10


@pytest.fixture
def keys_service(start_service, fake_poe):
    return start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "AUTH_MODE": "keys",
            "POE_API_KEYS": "poe-server-key-A,poe-server-key-B",
            "ADMIN_PASSWORD": ADMIN[1],
        }
    )


def test_a_poe_key_poe_rate_limits_hands_its_requests_to_the_other(keys_service, fake_poe):
    created = httpx.post(
        keys_service.url + "/admin/api/keys",
        json={"name": "pacing"},
        auth=ADMIN,
        headers={"X-Requested-With": "poe2openai-admin"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    ai = openai.OpenAI(
        base_url=keys_service.url + "/v1", api_key=created.json()["key"], max_retries=0
    )
    # Key A's turn; Poe says 429 to it, and the same request goes on with key B at once.
    began = time.monotonic()
    answer = ai.chat.completions.create(model="busykey-poe-server-key-A", messages=ASK)
    assert answer.choices[0].message.content == "key poe-server-key-B"
    assert fake_poe.state.bot_calls["busykey-poe-server-key-A"] == 2
    assert time.monotonic() - began < 5
    # Key A rests for Poe's Retry-After: the next requests go to B.
    for _ in range(3):
        said = ai.chat.completions.create(model="whoami", messages=ASK)
        assert said.choices[0].message.content == "key poe-server-key-B"
