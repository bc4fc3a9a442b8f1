"""GET /metrics: who may read it, and each family moving after the traffic that should move it
(a real service against the fake Poe; with WORKERS=2 the workers' counts are summed)."""

from __future__ import annotations

import base64
import threading
import time

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.service import RunningService

TOKEN = "metrics-token-for-tests"
ADMIN = ("admin", "admin-password-for-tests")
ASK = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def metered(fake_poe):
    running = RunningService(
        {
            "POE_BASE_URL": fake_poe.url,
            "POE_FILE_UPLOAD_URL": fake_poe.url + "/file_upload",
            "METRICS_TOKEN": TOKEN,
            "USAGE_TOKENIZER": "estimate",
        }
    ).start()
    yield running
    running.stop()


@pytest.fixture
def ai(metered) -> openai.OpenAI:
    return openai.OpenAI(base_url=metered.url + "/v1", api_key="k", max_retries=0)


def scrape(service, **kwargs) -> dict[tuple[str, frozenset], float]:
    kwargs.setdefault("headers", {"Authorization": f"Bearer {TOKEN}"})
    answer = httpx.get(service.url + "/metrics", timeout=10, **kwargs)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before, after, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_a_chat_moves_requests_durations_and_tokens(metered, ai):
    before = scrape(metered)
    ai.chat.completions.create(model="EchoBot", messages=ASK)
    after = scrape(metered)
    assert moved(before, after, "poe2openai_requests_total", front="chat", model="echobot",
                 status="200") == 1  # fmt: skip
    assert moved(before, after, "poe2openai_request_duration_seconds_count", front="chat") == 1
    assert moved(before, after, "poe2openai_tokens_total", direction="input", model="echobot") > 0
    assert moved(before, after, "poe2openai_tokens_total", direction="output", model="echobot") > 0
    # The scrape itself is a request too, of no front.
    assert value(after, "poe2openai_requests_total", front="other", model="none", status="200")


def test_a_stream_moves_time_to_first_token_and_is_open_while_it_lasts(metered, ai):
    before = scrape(metered)
    list(ai.chat.completions.create(model="streambot", messages=ASK, stream=True))
    after = scrape(metered)
    assert moved(before, after, "poe2openai_time_to_first_token_seconds_count", front="chat") == 1
    assert value(after, "poe2openai_open_streams") == 0

    slow = threading.Thread(
        target=lambda: list(ai.chat.completions.create(model="slow", messages=ASK, stream=True))
    )
    slow.start()
    try:
        deadline = time.monotonic() + 5
        while value(scrape(metered), "poe2openai_open_streams") != 1:
            assert time.monotonic() < deadline, "the slow stream never showed as open"
            time.sleep(0.05)
    finally:
        slow.join()
    assert value(scrape(metered), "poe2openai_open_streams") == 0


def test_a_model_nobody_knows_is_other_and_its_failure_is_counted(metered, ai):
    before = scrape(metered)
    with pytest.raises(openai.APIStatusError) as refused:
        ai.chat.completions.create(model="status404", messages=ASK)
    after = scrape(metered)
    status = str(refused.value.status_code)
    assert moved(before, after, "poe2openai_requests_total", front="chat", model="other",
                 status=status) == 1  # fmt: skip
    assert moved(before, after, "poe2openai_upstream_failures_total", kind="not_found") == 1
    assert not any(labels and ("model", "status404") in labels for _, labels in after)


def test_retries_and_the_failures_they_hide_are_counted(metered, ai):
    before = scrape(metered)
    ai.chat.completions.create(model="flaky", messages=ASK)
    after = scrape(metered)
    assert moved(before, after, "poe2openai_upstream_retries_total") == 2
    assert moved(before, after, "poe2openai_upstream_failures_total", kind="upstream") == 2


def test_a_file_sent_twice_is_a_miss_then_a_hit(metered, ai):
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"metrics" * 9).decode()
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}
    messages = [{"role": "user", "content": [image, {"type": "text", "text": "what is it?"}]}]
    before = scrape(metered)
    ai.chat.completions.create(model="echobot", messages=messages)
    middle = scrape(metered)
    ai.chat.completions.create(model="echobot", messages=messages)
    after = scrape(metered)
    assert moved(before, middle, "poe2openai_upload_cache_total", result="miss") == 1
    assert moved(middle, after, "poe2openai_upload_cache_total", result="hit") == 1


def test_other_fronts_have_their_own_label(metered):
    before = scrape(metered)
    httpx.post(
        metered.url + "/v1/messages",
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        json={"model": "echobot", "max_tokens": 50, "messages": ASK},
        timeout=10,
    ).raise_for_status()
    httpx.get(metered.url + "/v1/models", headers={"Authorization": "Bearer k"}, timeout=10)
    after = scrape(metered)
    assert moved(before, after, "poe2openai_requests_total", front="messages", model="echobot",
                 status="200") == 1  # fmt: skip
    assert moved(before, after, "poe2openai_requests_total", front="models", model="none",
                 status="200") == 1  # fmt: skip


def test_every_family_is_shown(metered):
    text = httpx.get(
        metered.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "poe2openai_requests",
        "poe2openai_request_duration_seconds",
        "poe2openai_time_to_first_token_seconds",
        "poe2openai_tokens",
        "poe2openai_points",
        "poe2openai_open_streams",
        "poe2openai_upstream_failures",
        "poe2openai_upstream_retries",
        "poe2openai_limit_rejections",
        "poe2openai_upload_cache",
        "poe2openai_poe_points_balance",
    } <= names


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["missing", "wrong", "not-a-bearer"],
)
def test_with_a_token_only_the_token_opens_it(metered, headers):
    refused = httpx.get(metered.url + "/metrics", headers=headers, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "metrics_unauthorized"
    assert TOKEN not in refused.text


def test_without_a_token_the_admin_credentials_open_it(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": ADMIN[1]})
    assert scrape(running, headers={}, auth=ADMIN)
    refused = httpx.get(running.url + "/metrics", auth=("admin", "wrong"), timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "metrics_unauthorized"
    assert httpx.get(running.url + "/metrics", timeout=10).status_code == 401


def test_without_token_or_admin_it_is_off(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url})
    off = httpx.get(running.url + "/metrics", auth=ADMIN, timeout=10)
    assert off.status_code == 404
    assert off.json()["error"]["code"] == "metrics_disabled"


@pytest.fixture(scope="module")
def multiproc_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multiproc")
    # Left by an earlier run: summed into this one's if it were not removed at start.
    (folder / "counter_1.db").write_bytes(b"not a metrics file")
    return folder


@pytest.fixture(scope="module")
def two_workers(fake_poe, multiproc_dir):
    running = RunningService(
        {
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
            "POE_BASE_URL": fake_poe.url,
            "AUTH_MODE": "keys",
            "POE_API_KEY": "poe-server-key",
            "ADMIN_PASSWORD": ADMIN[1],
            "WORKERS": "2",
            "USAGE_TOKENIZER": "estimate",
        }
    ).start(timeout=60)
    yield running
    running.stop()


def test_two_workers_counts_are_summed(two_workers, multiproc_dir):
    created = httpx.post(
        two_workers.url + "/admin/api/keys",
        auth=ADMIN,
        headers={"X-Requested-With": "poe2openai-admin"},
        json={"name": "metrics", "models": ["EchoBot"]},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    before = scrape(two_workers, headers={}, auth=ADMIN)
    # New connections each time: the kernel spreads them over both workers.
    for _ in range(12):
        answer = httpx.post(
            two_workers.url + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}", "Connection": "close"},
            json={"model": "echobot", "messages": ASK},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    refused = httpx.post(
        two_workers.url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "streambot", "messages": ASK},
        timeout=10,
    )
    assert refused.status_code == 403
    after = scrape(two_workers, headers={}, auth=ADMIN)
    assert moved(before, after, "poe2openai_requests_total", front="chat", model="echobot",
                 status="200") == 12  # fmt: skip
    assert moved(before, after, "poe2openai_limit_rejections_total", limit="models") == 1
    assert moved(before, after, "poe2openai_request_duration_seconds_count", front="chat") == 13
    assert not (multiproc_dir / "counter_1.db").exists()
    # Both workers counted (a file each), and every scrape, whichever worker answers, sums both.
    writers = {path.stem.rsplit("_", 1)[1] for path in multiproc_dir.glob("counter_*.db")}
    assert len(writers) >= 2, writers
    for _ in range(4):
        again = scrape(two_workers, headers={"Connection": "close"}, auth=ADMIN)
        total = value(again, "poe2openai_requests_total", front="chat", model="echobot",
                      status="200")  # fmt: skip
        assert total == value(after, "poe2openai_requests_total", front="chat", model="echobot",
                              status="200")  # fmt: skip
