"""No one request stalls the others: token counting of large texts, the tokenizer's start-up
load and models.yaml's reading and writing all happen off the event loop, within bounds."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

PASSWORD = "pw-for-the-event-loop-tests"
AUTH = ("admin", PASSWORD)
CSRF = {"x-requested-with": "poe2openai-admin"}


def slowest_health_check_while(service, work) -> tuple[float, object]:
    """Run `work` in a thread and probe /healthz until it ends: the slowest probe's time."""
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(work()))
    worker.start()
    slowest = 0.0
    with httpx.Client(base_url=service.url, timeout=30) as client:
        while worker.is_alive():
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.01)
    worker.join()
    return slowest, result[0]


def chat(service, text: str) -> httpx.Response:
    return httpx.post(
        service.url + "/v1/chat/completions",
        headers={"authorization": "Bearer k"},
        json={"model": "echobot", "messages": [{"role": "user", "content": text}]},
        timeout=60,
    )


def test_counting_a_large_message_does_not_stall_other_requests(service):
    # ~0.9 MB without spaces: about a second of the encoder per count (prompt and echo),
    # which used to run on the event loop and froze /healthz for as long.
    text = "a" * 900_000
    chat(service, "warm")  # the vocabulary is loaded
    slowest, response = slowest_health_check_while(service, lambda: chat(service, text))
    assert response.status_code == 200
    usage = response.json()["usage"]
    assert 0 < usage["prompt_tokens"] < len(text) and 0 < usage["completion_tokens"] < len(text)
    assert slowest < 0.5, f"/healthz took {slowest:.2f} s while a large message was counted"


def test_a_text_too_large_to_count_is_estimated_from_its_length(service):
    text = "word " * 1_000_000  # 5 MB: seconds of CPU to count exactly
    started = time.perf_counter()
    response = chat(service, text)
    assert response.status_code == 200
    assert response.json()["usage"]["completion_tokens"] == (len(text.strip()) + 3) // 4
    assert time.perf_counter() - started < 20


def test_the_tokenizer_loads_right_after_start_without_waiting_for_a_request(
    start_service, fake_poe
):
    running = start_service({"POE_BASE_URL": fake_poe.url})
    deadline = time.monotonic() + 15
    while "usage tokenizer o200k_base loaded" not in running.log():
        assert time.monotonic() < deadline, running.log()
        time.sleep(0.1)


def test_no_tokenizer_is_loaded_when_usage_is_estimated(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "USAGE_TOKENIZER": "estimate"})
    assert chat(running, "hello there").status_code == 200
    time.sleep(1)
    assert "tokenizer" not in running.log()


@pytest.fixture
def admin_with(start_service, fake_poe, tmp_path):
    """A service started on a CONFIG_DIR whose models.yaml is `text` (or a folder)."""

    def start(text: str | None, folder: bool = False):
        if folder:
            (tmp_path / "models.yaml").mkdir()
        elif text is not None:
            (tmp_path / "models.yaml").write_text(text)
        return start_service(
            {"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": PASSWORD, "CONFIG_DIR": str(tmp_path)}
        )

    return start


def get_config(running) -> httpx.Response:
    return httpx.get(running.url + "/admin/api/config", auth=AUTH, timeout=30)


def put_config(running, body: bytes, revision: str) -> httpx.Response:
    return httpx.put(
        running.url + "/admin/api/config",
        auth=AUTH,
        content=body,
        headers={**CSRF, "if-match": revision, "content-type": "application/json"},
        timeout=30,
    )


REPAIR = {"models": {"echobot": {"mapping": "repaired-echo"}}}

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['x'] * 9)}]\n"
    for prev, name in zip([None, "a", "b", "c", "d", "e"], "abcdef", strict=True)
)


@pytest.mark.parametrize(
    ("text", "folder"),
    [
        ("models:\n" + "".join("  " * i + f"  k{i}:\n" for i in range(5000)) + "", False),
        (BOMB + "models: {echobot: {mapping: bombed, extra_body: {x: *f}}}\n", False),
        (None, True),
    ],
    ids=["5000-deep", "alias-bomb", "a-folder"],
)
def test_an_unusable_models_yaml_is_reported_served_without_and_repaired(admin_with, text, folder):
    running = admin_with(text, folder)  # starts: no exit 1
    state = get_config(running)
    assert state.status_code == 200 and "overlay is off" in state.json()["problem"]
    assert chat(running, "still served").json()["choices"][0]["message"]["content"] == (
        "still served"
    )
    saved = put_config(running, json.dumps(REPAIR).encode(), state.headers["etag"])
    assert saved.status_code == 200, saved.text
    assert saved.json()["problem"] is None
    ids = [m["id"] for m in httpx.get(running.url + "/v1/models").json()["data"]]
    assert "repaired-echo" in ids


def test_a_config_over_the_size_limit_is_a_413_and_nothing_is_saved(admin_with):
    running = admin_with("models: {echobot: {mapping: kept}}\n")
    revision = get_config(running).headers["etag"]
    big = {"models": {f"bot-{i}": {"display_name": "x" * 200} for i in range(6000)}}
    refused = put_config(running, json.dumps(big).encode(), revision)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "config_too_large"
    assert get_config(running).json()["config"] == {"models": {"echobot": {"mapping": "kept"}}}
