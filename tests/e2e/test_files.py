"""Images, audio and files in requests: uploaded to Poe (cached) and attached to their message."""

from __future__ import annotations

import base64
import json
import threading

import httpx
import openai
import pytest

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
CDN = "https://pfst.cf2.poecdn.net/base/image/already-there.png"


@pytest.fixture
def client(service) -> openai.OpenAI:
    return openai.OpenAI(base_url=service.url + "/v1", api_key="k", max_retries=0)


def sent_query(client, content: list, history: list | None = None) -> list[dict]:
    """The Poe query the bot received (echobot echoes it for a message ending in `query:`)."""
    messages = [
        *(history or []),
        {"role": "user", "content": [*content, {"type": "text", "text": "query:"}]},
    ]
    answer = client.chat.completions.create(model="echobot", messages=messages)
    return json.loads(answer.choices[0].message.content)["query"]


def test_parts_become_attachments_on_their_message(client, fake_poe):
    unique = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"unique-1" * 8).decode()
    query = sent_query(
        client,
        [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{unique}"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/photo.jpg"}},
            {"type": "image_url", "image_url": {"url": CDN}},
            {
                "type": "input_audio",
                "input_audio": {
                    "data": base64.b64encode(b"RIFF....WAVEfmt ").decode(),
                    "format": "wav",
                },
            },
            {
                "type": "file",
                "file": {
                    "filename": "notes.txt",
                    "file_data": base64.b64encode(b"hello notes").decode(),
                },
            },
        ],
    )
    attachments = query[-1]["attachments"]
    assert [a["content_type"] for a in attachments] == [
        "image/png",
        "image/jpeg",
        "image/png",
        "audio/wav",
        "text/plain",
    ]
    assert attachments[2]["url"] == CDN  # Poe's own CDN: attached as it is
    assert all(a["url"].startswith("https://pfst.cf2.poecdn.net/") for a in attachments)
    kinds = [u["kind"] for u in fake_poe.state.uploads]
    assert sorted(kinds) == ["bytes", "bytes", "bytes", "url"]
    url_upload = next(u for u in fake_poe.state.uploads if u["kind"] == "url")
    assert url_upload["url"] == "https://example.com/photo.jpg"


def test_same_image_is_uploaded_once_and_earlier_turns_keep_theirs(client, fake_poe):
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    first = sent_query(client, [image])
    uploads = len(fake_poe.state.uploads)
    history = [
        {"role": "user", "content": [image, {"type": "text", "text": "what is it?"}]},
        {"role": "assistant", "content": "A tiny PNG."},
    ]
    second = sent_query(client, [{"type": "text", "text": "and now?"}], history)
    assert len(fake_poe.state.uploads) == uploads  # cached by content hash
    assert second[0]["attachments"] == first[-1]["attachments"]
    assert second[-1]["attachments"] == []


def test_one_image_sent_twice_at_once_is_uploaded_once(service, fake_poe):
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"concurrent" * 10).decode()
    body = {
        "model": "echobot",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
                    {"type": "text", "text": "hi"},
                ],
            }
        ],
    }
    results = []

    def send() -> None:
        results.append(
            httpx.post(
                service.url + "/v1/chat/completions",
                json=body,
                headers={"authorization": "Bearer k"},
                timeout=30,
            ).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 4
    assert len(fake_poe.state.uploads) == 1


def test_uploads_survive_a_restart(start_service, fake_poe):
    env = {"POE_BASE_URL": fake_poe.url, "POE_FILE_UPLOAD_URL": fake_poe.url + "/file_upload"}
    body = {
        "model": "echobot",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/restart.png"}}
                ],
            }
        ],
    }
    first = start_service(env)
    httpx.post(first.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"})
    first.stop()  # a clean stop writes the cache file
    second = start_service({**env, "CONFIG_DIR": str(first.config_dir)})
    httpx.post(
        second.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
    )
    assert len(fake_poe.state.uploads) == 1
