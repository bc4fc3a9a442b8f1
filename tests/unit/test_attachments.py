"""Attachments: decoding OpenAI parts, Poe's upload endpoint, the upload cache.

Uploads go over real HTTP (the service's own httpx client on the aiohttp transport) to a small
fake of Poe's upload endpoint on 127.0.0.1, in the test's event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from generated.openai import CreateChatCompletionRequest
from service.core.conversation import FilePart
from service.core.files import AttachmentResolver, clean_filename, decode_part, parse_data_uri
from service.errors import ServiceError
from service.fronts.openai.chat_request import to_conversation
from service.http.json_body import parse_body
from service.poe.client import PoeClient
from service.poe.errors import PoeError, PoeFailure
from service.poe.upload import upload_bytes, upload_url
from service.settings import Settings
from service.storage.upload_cache import UploadCache

KEY = "poe-secret-key-0123456789"
SECRET = SecretStr(KEY)
OTHER_KEY = "poe-other-users-key-9876543210"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PARAM = "messages[0].content[1].image_url.url"

pytestmark = pytest.mark.anyio


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{b64(data)}"


# -- the fake upload endpoint -----------------------------------------------------------------


@dataclass
class FakeUpload:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    reason: str = ""
    answer: dict[str, Any] | None = None  # a 200 body other than the usual one
    gate: asyncio.Event | None = None  # when set, requests wait for it
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a request came in

    async def handle(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        call: dict[str, Any] = {"auth": auth, "type": request.content_type}
        self.calls.append(call)
        self.arrived.set()
        form = await request.post()
        if "file" in form:
            upload = form["file"]
            call.update(
                field="file",
                filename=upload.filename,
                part_type=upload.content_type,
                data=upload.file.read(),
            )
        else:
            call.update(form=dict(form))
        if self.gate is not None:
            await self.gate.wait()
        if auth.lower().startswith("bearer") or auth not in (KEY, OTHER_KEY):
            return web.json_response({"error": f"invalid key {auth}"}, status=401)
        if self.status != 200:
            return web.Response(status=self.status, text=self.reason)
        if self.answer is not None:
            return web.json_response(self.answer)
        if call.get("field") == "file":
            name, mime = call["filename"], call["part_type"]
        else:
            name, mime = call["form"].get("download_filename", "x"), "image/jpeg"
        n = len(self.calls)
        return web.json_response(
            {"attachment_url": f"https://pfst.cf2.poecdn.net/base/{n}/{name}", "mime_type": mime}
        )


@pytest.fixture
async def poe_upload(anyio_backend: str) -> AsyncIterator[FakeUpload]:
    fake = FakeUpload()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/upload", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}/upload"
    yield fake
    if fake.gate is not None:
        fake.gate.set()
    await runner.cleanup()


@pytest.fixture
async def http(anyio_backend: str) -> AsyncIterator[Any]:
    client = PoeClient(Settings())
    yield client.http
    await client.aclose()


@pytest.fixture
def resolver(http: Any, poe_upload: FakeUpload) -> AttachmentResolver:
    return AttachmentResolver(http, poe_upload.url, max_bytes=1024 * 1024, timeout=5)


def image_part(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}


def file_part(part: dict[str, Any], message: int = 0, index: int = 1) -> FilePart:
    """An OpenAI content part as the chat front hands it to the core: part `index` of message
    `message` (raises the front's 400 for a part it refuses)."""
    content = [{"type": "text", "text": "x"}] * index + [part]
    messages = [{"role": "user", "content": "-"}] * message + [{"role": "user", "content": content}]
    body = json.dumps({"model": "m", "messages": messages}).encode()
    chat = parse_body(body, CreateChatCompletionRequest)
    found = to_conversation(chat).turns[message].parts[index]
    assert isinstance(found, FilePart)
    return found


def decoded(part: dict[str, Any], max_bytes: int = 10_000) -> Any:
    return decode_part(file_part(part, 2, 0), max_bytes)


# -- decoding ---------------------------------------------------------------------------------


def test_data_uri_decodes_bytes_and_type():
    assert parse_data_uri(data_uri(PNG), 10_000, PARAM) == (PNG, "image/png")


@pytest.mark.parametrize(
    ("uri", "mime"),
    [
        (data_uri(PNG, "image/jpg"), "image/jpeg"),  # common misspelling
        (data_uri(b"x = 1\n", "text/x-python"), "text/plain"),
        (data_uri(b"a,b\n", "text/csv;charset=utf-8"), "text/csv"),
        (data_uri(b"RIFF\0\0\0\0WAVEfmt ", "audio/x-wav"), "audio/wav"),
        (f"data:;base64,{b64(PNG)}", "image/png"),  # no type: told by the bytes
        (data_uri(b"%PDF-1.7 ...", "application/octet-stream"), "application/pdf"),
        (data_uri(PNG, "IMAGE/PNG"), "image/png"),
    ],
)
def test_data_uri_types(uri, mime):
    assert parse_data_uri(uri, 10_000, PARAM)[1] == mime


def test_data_uri_lenient_base64():
    text = b64(PNG)
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert parse_data_uri(f"data:image/png;base64,{wrapped}", 10_000, PARAM)[0] == PNG
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff\xfe" * 10).decode().rstrip("=")
    assert parse_data_uri(f"data:image/png;base64,{urlsafe}", 10_000, PARAM)[0] == (
        b"\xfb\xff\xfe" * 10
    )


@pytest.mark.parametrize(
    ("uri", "max_bytes", "code", "words"),
    [
        ("data:image/png;base64,iVBOR@@@!!", 10_000, "invalid_base64", "not valid base64"),
        ("data:image/png;base64,abcde", 10_000, "invalid_base64", "not valid base64"),
        ("data:image/png,hello", 10_000, "invalid_base64", "base64"),
        ("data:image/png;base64", 10_000, None, "`,`"),
        ("https://example.com/x.png", 10_000, None, "data URL"),
        ("data:image/png;base64,", 10_000, None, "empty"),
        (data_uri(PNG), len(PNG) - 1, "file_too_large", "limit"),  # just over: exact check
        (data_uri(PNG * 50), 1000, "file_too_large", "limit"),  # far over: refused undecoded
        (data_uri(b"PK\x03\x04", "application/zip"), 10_000, "unsupported_file_type", "zip"),
        (data_uri(b"\x00\x01\x02\xff", ""), 10_000, "unsupported_file_type", "type"),
    ],
)
def test_data_uri_refused(uri, max_bytes, code, words):
    with pytest.raises(ServiceError) as caught:
        parse_data_uri(uri, max_bytes, PARAM)
    err = caught.value
    assert err.status == 400
    assert err.param == PARAM
    assert err.code == code
    assert words in err.message


def test_too_large_names_both_sizes():
    with pytest.raises(ServiceError) as caught:
        parse_data_uri(data_uri(b"x" * 3_000_000, "text/plain"), 2 * 1024 * 1024, PARAM)
    assert "2.9 MiB" in caught.value.message
    assert "2.0 MiB" in caught.value.message


def audio(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "input_audio", "input_audio": data}


def test_input_audio():
    wav = b"RIFF\0\0\0\0WAVEfmt " + bytes(100)
    assert decoded(audio({"data": b64(wav), "format": "wav"})) == (wav, "audio/wav", "audio.wav")
    mp3 = decoded(audio({"data": b64(b"ID3abc"), "format": "MP3"}))
    assert (mp3.mime, mp3.filename) == ("audio/mpeg", "audio.mp3")


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"data": b64(b"x"), "format": "pcm16"}, "messages[2].content[0].input_audio.format"),
        ({"data": "%%%", "format": "wav"}, "messages[2].content[0].input_audio.data"),
        ({"format": "wav"}, "messages[2].content[0].input_audio.data"),  # by the contract
    ],
)
def test_input_audio_refused(data, param):
    with pytest.raises(ServiceError) as caught:
        decoded(audio(data))
    assert caught.value.param == param


def file(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "file", "file": data}


def test_file_parts():
    pdf = b"%PDF-1.7\n" + bytes(200)
    as_uri = decoded(file({"file_data": data_uri(pdf, "application/pdf"), "filename": "r.pdf"}))
    assert as_uri == (pdf, "application/pdf", "r.pdf")
    raw = decoded(file({"file_data": b64(pdf), "filename": "../../Q3 report.pdf"}))
    assert raw == (pdf, "application/pdf", "Q3 report.pdf")
    sniffed = decoded(file({"file_data": b64(pdf)}))
    assert (sniffed.mime, sniffed.filename) == ("application/pdf", "file.pdf")
    code = decoded(file({"file_data": b64(b"fn main() {}\n"), "filename": "main.rs"}))
    assert (code.mime, code.filename) == ("text/plain", "main.rs")
    image = decoded(file({"file_data": b64(PNG)}))
    assert image.filename == "image.png"


@pytest.mark.parametrize(
    ("data", "param", "code"),
    [
        ({"file_id": "file-abc123"}, "messages[0].content[0].file.file_id", "unsupported_content"),
        ({"filename": "a.txt"}, "messages[0].content[0].file", "missing_file_data"),
        (
            {"file_data": b64(b"\x00\xff\x00\xfe"), "filename": "a.exe"},
            "messages[0].content[0].file.file_data",
            "unsupported_file_type",
        ),
    ],
)
def test_file_parts_refused(data, param, code):
    with pytest.raises(ServiceError) as caught:
        decode_part(file_part(file(data), 0, 0), 10_000)
    assert (caught.value.param, caught.value.code) == (param, code)


def test_clean_filename():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename('C:\\Users\\me\\a"b\r\n.png') == "ab.png"
    assert clean_filename("x" * 300 + ".png").endswith(".png")
    assert len(clean_filename("x" * 300 + ".png")) <= 200
    assert clean_filename("") is None
    assert clean_filename("a/..") is None
    assert clean_filename(None) is None


# -- the upload endpoint ----------------------------------------------------------------------


async def test_upload_bytes(http, poe_upload):
    attachment = await upload_bytes(http, poe_upload.url, SECRET, PNG, "cat.png", "image/png", 5)
    assert attachment == {
        "url": "https://pfst.cf2.poecdn.net/base/1/cat.png",
        "content_type": "image/png",
        "name": "cat.png",
    }
    [call] = poe_upload.calls
    assert call["auth"] == KEY  # as is: no `Bearer`
    assert call["type"] == "multipart/form-data"
    assert (call["field"], call["filename"], call["part_type"]) == ("file", "cat.png", "image/png")
    assert call["data"] == PNG


async def test_upload_url(http, poe_upload):
    source = "https://example.com/pics/cat.jpg?size=large"
    attachment = await upload_url(http, poe_upload.url, SECRET, source, "cat.jpg", 5)
    assert attachment["url"].startswith("https://pfst.cf2.poecdn.net/")
    assert attachment["content_type"] == "image/jpeg"
    [call] = poe_upload.calls
    assert call["auth"] == KEY
    assert call["type"] == "application/x-www-form-urlencoded"
    assert call["form"] == {"download_url": source, "download_filename": "cat.jpg"}

    await upload_url(http, poe_upload.url, SECRET, source, None, 5)
    assert poe_upload.calls[1]["form"] == {"download_url": source}


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (413, "File too large: the limit is 50 MB", PoeFailure.BAD_REQUEST),
        (400, "Unsupported file type", PoeFailure.BAD_REQUEST),
        (402, "You need more points", PoeFailure.INSUFFICIENT_POINTS),
        (429, "Rate limit exceeded", PoeFailure.RATE_LIMITED),
        (500, "Internal error", PoeFailure.UPSTREAM),
        (404, "Not found", PoeFailure.UPSTREAM),
    ],
)
async def test_refused_upload(http, poe_upload, status, reason, kind):
    poe_upload.status, poe_upload.reason = status, f"{reason} (key {KEY})"
    with pytest.raises(PoeError) as caught:
        await upload_bytes(http, poe_upload.url, SECRET, PNG, "cat.png", "image/png", 5)
    err = caught.value
    assert (err.kind, err.status) == (kind, status)
    assert reason in err.message
    assert "cat.png" in err.message
    assert KEY not in err.message
    assert KEY not in str(err)


async def test_wrong_key(http, poe_upload):
    with pytest.raises(PoeError) as caught:
        await upload_bytes(
            http, poe_upload.url, SecretStr("other-key-987"), PNG, "a.png", "image/png", 5
        )
    assert caught.value.kind is PoeFailure.AUTH
    assert "other-key-987" not in caught.value.message


async def test_download_url_not_found_is_the_clients_fault(http, poe_upload):
    poe_upload.status, poe_upload.reason = 404, "Could not download the file"
    with pytest.raises(PoeError) as caught:
        await upload_url(http, poe_upload.url, SECRET, "https://example.com/gone.png", None, 5)
    assert caught.value.kind is PoeFailure.BAD_REQUEST
    assert "Could not download" in caught.value.message


@pytest.mark.parametrize(
    "answer", [{"mime_type": "image/png"}, {"attachment_url": ""}, {"error": "nope"}]
)
async def test_answer_without_attachment_url(http, poe_upload, answer):
    poe_upload.answer = answer
    with pytest.raises(PoeError) as caught:
        await upload_bytes(http, poe_upload.url, SECRET, PNG, "a.png", "image/png", 5)
    assert caught.value.kind is PoeFailure.UPSTREAM
    assert "attachment URL" in caught.value.message


async def test_upload_timeout(http, poe_upload):
    poe_upload.gate = asyncio.Event()  # never opened
    with pytest.raises(PoeError) as caught:
        await upload_bytes(http, poe_upload.url, SECRET, PNG, "a.png", "image/png", 0.3)
    assert caught.value.kind is PoeFailure.TIMEOUT
    assert KEY not in caught.value.message


async def test_upload_unreachable(http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(PoeError) as caught:
        await upload_bytes(
            http, f"http://127.0.0.1:{port}/upload", SECRET, PNG, "a", "image/png", 5
        )
    assert caught.value.kind is PoeFailure.UNREACHABLE
    assert KEY not in caught.value.message


# -- resolving parts --------------------------------------------------------------------------


async def test_poe_cdn_url_is_attached_as_is(resolver, poe_upload):
    url = "https://pfst.cf2.poecdn.net/base/image/abc123/cat.webp"
    attachment = await resolver.resolve(file_part(image_part(url), 0, 1), SECRET)
    assert attachment == {"url": url, "content_type": "image/webp", "name": "cat.webp"}
    nameless = await resolver.resolve(
        file_part(image_part("https://pfst.cf2.poecdn.net/base/image/abc123")), SECRET
    )
    assert (nameless["content_type"], nameless["name"]) == ("image/jpeg", "abc123")
    assert poe_upload.calls == []


async def test_other_urls_are_uploaded_once(resolver, poe_upload):
    part = image_part("https://example.com/img/Cute%20cat.png")
    first = await resolver.resolve(file_part(part, 0, 1), SECRET)
    assert first["url"].startswith("https://pfst.cf2.poecdn.net/")
    assert first["name"] == "Cute cat.png"
    assert poe_upload.calls[0]["form"]["download_url"] == "https://example.com/img/Cute%20cat.png"
    second = await resolver.resolve(file_part(part, 3, 0), SECRET)
    assert second == first
    assert len(poe_upload.calls) == 1  # the cache answered


async def test_data_uri_uploaded_once_by_content(resolver, poe_upload):
    part = image_part(data_uri(PNG))
    first = await resolver.resolve(file_part(part, 0, 1), SECRET)
    assert first == {
        "url": "https://pfst.cf2.poecdn.net/base/1/image.png",
        "content_type": "image/png",
        "name": "image.png",
    }
    assert poe_upload.calls[0]["data"] == PNG
    # The same bytes as a file part, under another name: no second upload, its own name.
    scan = {"type": "file", "file": {"file_data": b64(PNG), "filename": "scan.png"}}
    second = await resolver.resolve(file_part(scan, 1, 0), SECRET)
    assert second == {**first, "name": "scan.png"}
    assert len(poe_upload.calls) == 1


async def test_audio_and_file_parts_are_uploaded(resolver, poe_upload):
    wav = b"RIFF\0\0\0\0WAVEfmt " + bytes(64)
    audio = {"type": "input_audio", "input_audio": {"data": b64(wav), "format": "wav"}}
    got = await resolver.resolve(file_part(audio, 0, 0), SECRET)
    assert (got["content_type"], got["name"]) == ("audio/wav", "audio.wav")
    pdf = b"%PDF-1.4\n" + bytes(64)
    pdf_part = {"type": "file", "file": {"file_data": data_uri(pdf, "application/pdf")}}
    got = await resolver.resolve(file_part(pdf_part, 0, 1), SECRET)
    assert (got["content_type"], got["name"]) == ("application/pdf", "file.pdf")
    assert [c["part_type"] for c in poe_upload.calls] == ["audio/wav", "application/pdf"]


async def test_file_id_url_is_fetched_by_poe(resolver, poe_upload):
    part = {"type": "file", "file": {"file_id": "https://example.com/a.pdf", "filename": "A.pdf"}}
    got = await resolver.resolve(file_part(part, 0, 0), SECRET)
    assert got["name"] == "A.pdf"
    assert poe_upload.calls[0]["form"]["download_url"] == "https://example.com/a.pdf"


@pytest.mark.parametrize(
    ("part", "param"),
    [
        (image_part("ftp://example.com/a.png"), "messages[0].content[1].image_url.url"),
        (image_part("data:image/png;base64,@@"), "messages[0].content[1].image_url.url"),
        (image_part(""), "messages[0].content[1].image_url.url"),
        ({"type": "file", "file": {"file_id": "file-123"}}, "messages[0].content[1].file.file_id"),
        ({"type": "input_audio"}, "messages[0].content[1].input_audio"),  # by the contract
    ],
)
async def test_bad_parts_are_refused_naming_them(resolver, poe_upload, part, param):
    with pytest.raises(ServiceError) as caught:
        await resolver.resolve(file_part(part, 0, 1), SECRET)  # by the front or the resolver
    assert caught.value.param == param
    assert poe_upload.calls == []


async def test_large_data_uri_decoded_off_the_loop(http, poe_upload):
    resolver = AttachmentResolver(http, poe_upload.url, max_bytes=4 * 1024 * 1024, timeout=5)
    big = PNG + os.urandom(2 * 1024 * 1024)
    got = await resolver.resolve(file_part(image_part(data_uri(big))), SECRET)
    assert got["content_type"] == "image/png"
    assert poe_upload.calls[0]["data"] == big


async def test_resolve_all_keeps_order(resolver, poe_upload):
    parts = [
        file_part(
            {"type": "file", "file": {"file_data": b64(PNG + bytes([i])), "filename": f"{i}.png"}}
        )
        for i in range(4)
    ]
    got = await resolver.resolve_all(parts, SECRET)
    assert [a["name"] for a in got] == ["0.png", "1.png", "2.png", "3.png"]
    assert all(a["url"].endswith(a["name"]) for a in got)
    assert len(poe_upload.calls) == 4


async def test_resolve_all_raises_the_error_itself(resolver, poe_upload):
    parts = [file_part(image_part(data_uri(PNG))), file_part(image_part("ftp://x/y.png"), 1, 0)]
    with pytest.raises(ServiceError) as caught:
        await resolver.resolve_all(parts, SECRET)
    assert caught.value.param == "messages[1].content[0].image_url.url"


async def test_from_settings(http, poe_upload):
    settings = SimpleNamespace(
        poe_file_upload_url=poe_upload.url,
        poe_upload_max_bytes=100,
        poe_upload_timeout=3.0,
        poe_base_url="https://api.poe.com",
    )
    resolver = AttachmentResolver.from_settings(http, settings)
    assert resolver.poe_base_url == "https://api.poe.com"  # bots' files are fetched from there
    assert (resolver.upload_endpoint, resolver.max_bytes, resolver.timeout) == (
        poe_upload.url,
        100,
        3.0,
    )
    with pytest.raises(ServiceError) as caught:
        await resolver.resolve(file_part(image_part(data_uri(PNG))), SECRET)
    assert caught.value.code == "file_too_large"


# -- single flight ----------------------------------------------------------------------------


async def test_concurrent_identical_uploads_share_one(resolver, poe_upload):
    poe_upload.gate = asyncio.Event()
    part = image_part(data_uri(PNG))
    first = asyncio.create_task(resolver.resolve(file_part(part, 0, 0), SECRET))
    second = asyncio.create_task(resolver.resolve(file_part(part, 1, 0), SECRET))
    await poe_upload.arrived.wait()
    await asyncio.sleep(0.05)
    poe_upload.gate.set()
    assert await first == await second
    assert len(poe_upload.calls) == 1


async def test_failed_upload_fails_every_waiter_and_is_not_cached(resolver, poe_upload):
    poe_upload.gate = asyncio.Event()
    poe_upload.status, poe_upload.reason = 500, "boom"
    part = image_part(data_uri(PNG))
    tasks = [asyncio.create_task(resolver.resolve(file_part(part), SECRET)) for _ in range(3)]
    await poe_upload.arrived.wait()
    poe_upload.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, PoeError) and r.kind is PoeFailure.UPSTREAM for r in results)
    assert len(poe_upload.calls) == 1
    assert len(resolver.cache) == 0

    poe_upload.gate, poe_upload.status = None, 200
    await resolver.resolve(file_part(part), SECRET)
    assert len(poe_upload.calls) == 2


async def test_a_caller_going_away_does_not_cancel_the_shared_upload(resolver, poe_upload):
    poe_upload.gate = asyncio.Event()
    part = image_part(data_uri(PNG))
    leaver = asyncio.create_task(resolver.resolve(file_part(part), SECRET))
    stayer = asyncio.create_task(resolver.resolve(file_part(part), SECRET))
    await poe_upload.arrived.wait()
    leaver.cancel()
    poe_upload.gate.set()
    assert (await stayer)["content_type"] == "image/png"
    assert leaver.cancelled()
    assert len(poe_upload.calls) == 1


# -- the cache --------------------------------------------------------------------------------


def attachment(n: int) -> dict[str, str]:
    return {"url": f"https://pfst.cf2.poecdn.net/{n}", "content_type": "image/png", "name": "a"}


def stored(n: int) -> dict[str, str]:
    """What the cache keeps of `attachment(n)`: not the client's file name."""
    return {"url": f"https://pfst.cf2.poecdn.net/{n}", "content_type": "image/png"}


async def test_cache_survives_a_restart(tmp_path, http, poe_upload):
    path = tmp_path / "config" / "uploads.json"
    cache = UploadCache(path, save_delay=0.05)
    resolver = AttachmentResolver(http, poe_upload.url, cache=cache, timeout=5)
    first = await resolver.resolve(file_part(image_part(data_uri(PNG))), SECRET)
    url_first = await resolver.resolve(file_part(image_part("https://example.com/a.png")), SECRET)
    for _ in range(100):  # saved by itself, shortly after the new entries
        if path.exists() and len(json.loads(path.read_text())["entries"]) == 2:
            break
        await asyncio.sleep(0.02)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert KEY not in text
    assert "example.com" not in text  # client URLs are kept as digests only

    restarted = AttachmentResolver(http, poe_upload.url, cache=UploadCache(path), timeout=5)
    assert await restarted.resolve(file_part(image_part(data_uri(PNG))), SECRET) == first
    assert (
        await restarted.resolve(file_part(image_part("https://example.com/a.png")), SECRET)
        == url_first
    )
    assert len(poe_upload.calls) == 2


async def test_each_caller_has_a_cache_of_their_own(resolver, poe_upload):
    """A shared cache let one user reuse another's upload unsent, and time whether a file had
    ever been sent by anyone."""
    other = SecretStr(OTHER_KEY)
    parts = [image_part(data_uri(PNG)), image_part("https://example.com/a.png")]
    for part in parts:
        mine = await resolver.resolve(file_part(part), SECRET)
        assert await resolver.resolve(file_part(part), SECRET) == mine  # a hit: no upload
        await resolver.resolve(file_part(part), other)  # uploaded again, for the other caller
    assert len(poe_upload.calls) == 4
    assert [call["auth"] for call in poe_upload.calls] == [KEY, OTHER_KEY] * 2


async def test_the_cache_file_holds_no_key_digest_or_file_name(tmp_path, http, poe_upload):
    path = tmp_path / "uploads.json"
    cache = UploadCache(path)
    resolver = AttachmentResolver(http, poe_upload.url, cache=cache, timeout=5)
    pdf = b"%PDF-1.7\n" + bytes(200)
    part = file({"file_data": data_uri(pdf, "application/pdf"), "filename": "merger-plans.pdf"})
    await resolver.resolve(file_part(part), SECRET)
    await resolver.resolve(file_part(image_part("https://example.com/a.png")), SECRET)
    await cache.flush()
    text = path.read_text()
    url_digest = hashlib.sha256(b"https://example.com/a.png").hexdigest()
    for secret in (KEY, hashlib.sha256(KEY.encode()).hexdigest(), "example.com", url_digest):
        assert secret not in text
    assert hashlib.sha256(pdf).hexdigest() not in text  # nor which files were sent
    entries = json.loads(text)["entries"]
    assert len(entries) == 2 and all(set(att) == {"url", "content_type"} for *_, att in entries)
    restarted = AttachmentResolver(http, poe_upload.url, cache=UploadCache(path), timeout=5)
    again = await restarted.resolve(file_part(part), SECRET)
    assert again["name"] == "merger-plans.pdf" and len(poe_upload.calls) == 2


def test_entries_of_the_shared_cache_format_are_not_reused(tmp_path):
    path = tmp_path / "uploads.json"
    old = {"version": 1, "entries": [["sha256:ab", time.time(), stored(1)]]}
    path.write_text(json.dumps(old))
    assert len(UploadCache(path)) == 0


async def test_flush_writes_at_once(tmp_path):
    path = tmp_path / "uploads.json"
    cache = UploadCache(path, save_delay=3600)
    cache.put("sha256:1", attachment(1))
    await cache.flush()
    assert UploadCache(path).get("sha256:1") == stored(1)


async def test_bounded_size_evicts_oldest(tmp_path):
    now = [1000.0]
    path = tmp_path / "uploads.json"
    cache = UploadCache(path, max_entries=3, clock=lambda: now[0])
    for n in range(5):
        now[0] += 1
        cache.put(f"sha256:{n}", attachment(n))
    assert len(cache) == 3
    assert cache.get("sha256:0") is None
    assert cache.get("sha256:1") is None
    assert cache.get("sha256:4") == stored(4)
    await cache.flush()
    reloaded = UploadCache(path, max_entries=3, clock=lambda: now[0])
    assert [reloaded.get(f"sha256:{n}") is not None for n in range(5)] == [0, 0, 1, 1, 1]


async def test_expired_entries_are_not_used(tmp_path, http, poe_upload):
    now = [1000.0]
    path = tmp_path / "uploads.json"
    cache = UploadCache(path, max_age=60, clock=lambda: now[0])
    resolver = AttachmentResolver(http, poe_upload.url, cache=cache, timeout=5)
    await resolver.resolve(file_part(image_part(data_uri(PNG))), SECRET)
    await cache.flush()
    now[0] += 59
    await resolver.resolve(file_part(image_part(data_uri(PNG))), SECRET)
    assert len(poe_upload.calls) == 1
    now[0] += 2
    assert len(UploadCache(path, max_age=60, clock=lambda: now[0])) == 0  # dropped on load
    await resolver.resolve(file_part(image_part(data_uri(PNG))), SECRET)
    assert len(poe_upload.calls) == 2


async def test_workers_sharing_the_file_keep_each_others_entries(tmp_path):
    path = tmp_path / "uploads.json"
    one, two = UploadCache(path), UploadCache(path)
    one.put("sha256:a", attachment(1))
    two.put("sha256:b", attachment(2))
    await one.flush()
    await two.flush()
    merged = UploadCache(path)
    assert merged.get("sha256:a") == stored(1)
    assert merged.get("sha256:b") == stored(2)
    assert two.get("sha256:a") == stored(1)  # picked up on save


@pytest.mark.parametrize("content", [b"", b"not json", b'{"entries": 3}', b'{"entries": [[1]]}'])
def test_a_bad_cache_file_is_ignored(tmp_path, content):
    path = tmp_path / "uploads.json"
    path.write_bytes(content)
    assert len(UploadCache(path)) == 0


async def test_unwritable_cache_dir_keeps_working_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = UploadCache(blocker / "uploads.json")  # its folder cannot exist
    cache.put("sha256:1", attachment(1))
    await cache.flush()
    assert cache.get("sha256:1") == stored(1)
