"""File parts of a conversation (images, audio, documents) -> Poe attachments, uploading only
what must be.

- an http(s) URL: a Poe CDN URL is attached as it is; any other URL is fetched by Poe itself
  (upload by `download_url`), cached by URL.
- a base64 `data:` URL or base64 data: decoded here, uploaded as bytes, cached by the SHA-256
  of the bytes.

Accepted types (anything else is a 400 naming the part): images png, jpeg, gif, webp, heic,
heif; pdf; text (plain, markdown, csv, json; any other `text/*` and a few text-like application
types such as yaml, xml or javascript are sent as text/plain); audio wav, mpeg (mp3), ogg, webm,
mp4 (m4a), aac, flac; video mp4, webm. A part without a type (`data:;base64,`, octet-stream,
or raw base64 in a file part) gets one from its file name, its first bytes, or, when it decodes
as UTF-8, text/plain.

Uploads are cached per caller (service/storage/upload_cache.py): a caller never gets, or can
time, what another caller uploaded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import mimetypes
import re
from collections.abc import Callable, Coroutine, Iterable
from pathlib import PurePosixPath
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit

import httpx
from pydantic import SecretStr

from service.core.conversation import FilePart
from service.errors import ServiceError, invalid
from service.poe.cdn import download
from service.poe.upload import upload_bytes, upload_url
from service.storage.upload_cache import UploadCache

log = logging.getLogger("poe2openai.attachments")
Result = TypeVar("Result")

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 60.0

# Accepted MIME type -> extension for a made-up file name.
_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/csv": "csv",
    "application/json": "json",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/flac": "flac",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
    "text/x-markdown": "text/markdown",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/opus": "audio/ogg",
    "audio/m4a": "audio/mp4",
    "audio/x-m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "audio/x-flac": "audio/flac",
}
_TEXT_LIKE = {
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/toml",
    "application/javascript",
    "application/x-javascript",
    "application/typescript",
    "application/x-sh",
    "application/sql",
}
_EXTENSION_TYPES = {ext: mime for mime, ext in _TYPES.items() if not mime.startswith("video/")}
_EXTENSION_TYPES.update(
    jpeg="image/jpeg",
    markdown="text/markdown",
    mp4="video/mp4",
    webm="video/webm",
    oga="audio/ogg",
    opus="audio/ogg",
)
# Audio format names (OpenAI's input_audio `format`) -> MIME type.
AUDIO_FORMATS = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mpeg": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "webm": "audio/webm",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
}
_POE_CDN = ".poecdn.net"
_OCTET_STREAM = "application/octet-stream"
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\]')
# Decoding and hashing a few MB takes milliseconds: above this, do it off the event loop.
_OFF_LOOP_BYTES = 256 * 1024


class DecodedFile(NamedTuple):
    data: bytes
    mime: str
    filename: str


# -- decoding ---------------------------------------------------------------------------------


def parse_data_uri(uri: str, max_bytes: int, param: str) -> tuple[bytes, str]:
    """`data:<type>;base64,<data>` -> (bytes, MIME type), or a 400 naming `param`."""
    return _parse_data_uri(uri, max_bytes, param, None)


def decode_part(part: FilePart, max_bytes: int) -> DecodedFile:
    """A part's base64 data or `data:` URL, decoded. A declared type wins over the data URL's;
    a file without either gets one from its name or its bytes."""
    data, media_type, param = part.url or part.data, part.media_type, part.param
    filename = clean_filename(part.filename)
    if not data:
        raise invalid("This part carries no file", param=param)
    if data[:5].lower() == "data:":
        decoded, mime = _parse_data_uri(data, max_bytes, param, filename)
        mime = (_declared_type(media_type, param) if media_type else None) or mime
    else:
        decoded = _decode_base64(data, max_bytes, param)
        declared = _declared_type(media_type, param) if media_type else None
        mime = declared or _guess_type(decoded, filename, param)
    return DecodedFile(decoded, mime, filename or default_filename(mime))


def clean_filename(name: object) -> str | None:
    """A name safe for a multipart header: no folders, no control characters, not too long."""
    if not isinstance(name, str):
        return None
    name = _UNSAFE_NAME.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 190 - len(ext)] + dot + ext if dot and len(ext) <= 10 else name[:200]
    return name if name.strip(".") else None


def _parse_data_uri(uri: str, max_bytes: int, param: str, name: str | None) -> tuple[bytes, str]:
    if uri[:5].lower() != "data:":
        raise invalid("Expected a base64 data URL (`data:<type>;base64,...`)", param=param)
    comma = uri.find(",", 5, 1024)
    if comma < 0:
        raise invalid("This data URL has no `,` before its data", param=param)
    mime, *flags = (p.strip().lower() for p in uri[5:comma].split(";"))
    if "base64" not in flags:
        raise invalid(
            "Only base64 data URLs are supported: `data:<type>;base64,<data>`",
            param=param,
            code="invalid_base64",
        )
    declared = _declared_type(mime, param)
    data = _decode_base64(uri[comma + 1 :], max_bytes, param)
    return data, declared or _guess_type(data, name, param)


def _decode_base64(text: str, max_bytes: int, param: str) -> bytes:
    # 4 characters per 3 bytes; the slack covers line breaks some encoders add.
    if len(text) > (max_bytes // 3 + 1) * 4 * 1.05 + 64:
        raise _too_large(len(text) * 3 // 4, max_bytes, param)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # Lenient second try: line breaks, URL-safe alphabet, missing padding.
        cleaned = "".join(text.split()).translate({ord("-"): "+", ord("_"): "/"})
        try:
            data = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise invalid("This is not valid base64", param=param, code="invalid_base64") from None
    if not data:
        raise invalid("The file is empty", param=param)
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes, param)
    return data


def _too_large(size: int, limit: int, param: str) -> ServiceError:
    return invalid(
        f"The file is {_mib(size)} once decoded; the limit is {_mib(limit)}",
        param=param,
        code="file_too_large",
    )


def _mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB" if size >= 104858 else f"{size} bytes"


def _normalize(mime: str) -> str:
    mime = mime.split(";", 1)[0].strip().lower()
    mime = _ALIASES.get(mime, mime)
    if mime not in _TYPES and (mime.startswith("text/") or mime in _TEXT_LIKE):
        return "text/plain"
    return mime


def _declared_type(mime: str, param: str) -> str | None:
    """The accepted type a client declared; None when it declared none (or octet-stream)."""
    normalized = _normalize(mime)
    if not normalized or normalized == _OCTET_STREAM:
        return None
    if normalized not in _TYPES:
        raise _unsupported(mime, param)
    return normalized


def _guess_type(data: bytes, name: str | None, param: str) -> str:
    by_name = _type_from_name(name)
    if by_name in _TYPES:
        return by_name
    sniffed = _sniff(data)
    if sniffed:
        return sniffed
    with contextlib.suppress(UnicodeDecodeError):
        data.decode("utf-8")
        return "text/plain"
    if by_name:
        raise _unsupported(by_name, param)
    raise invalid(
        "Cannot tell this file's type: use a data URL with a MIME type, or a file name",
        param=param,
        code="unsupported_file_type",
    )


def default_filename(mime: str) -> str:
    """`image.png`, `audio.mp3`, `file.pdf`: for a part that came without a name."""
    stem = (
        "image" if mime.startswith("image/") else "audio" if mime.startswith("audio/") else "file"
    )
    return f"{stem}.{_TYPES.get(mime, 'bin')}"


def _unsupported(mime: str, param: str) -> ServiceError:
    return invalid(
        f"Files of type `{mime}` are not supported: send an image (png, jpeg, gif, webp, "
        "heic), a pdf, text, audio (wav, mp3, ogg, webm, m4a, aac, flac) or video (mp4, webm)",
        param=param,
        code="unsupported_file_type",
    )


def _type_from_name(name: str | None) -> str | None:
    if not name or "." not in name:
        return None
    ext = name.rsplit(".", 1)[1].lower()
    if ext in _EXTENSION_TYPES:
        return _EXTENSION_TYPES[ext]
    guessed = mimetypes.guess_type(f"x.{ext}", strict=False)[0]
    return _normalize(guessed) if guessed else None


def _sniff(data: bytes) -> str | None:
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"mif1", b"msf1"):
            return "image/heic"
        return "audio/mp4" if brand.startswith(b"M4A") else "video/mp4"
    return None


# -- tying it together ------------------------------------------------------------------------


class AttachmentResolver:
    """One file part -> one Poe attachment `{"url", "content_type", "name"}`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        upload_endpoint: str,
        *,
        cache: UploadCache | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        poe_base_url: str = "",
    ) -> None:
        self.http = http
        self.upload_endpoint = upload_endpoint
        self.poe_base_url = poe_base_url  # bots' files are fetched from there or Poe's CDN
        self.cache = cache if cache is not None else UploadCache()
        self.max_bytes = max_bytes
        self.timeout = timeout

    @classmethod
    def from_settings(
        cls, http: httpx.AsyncClient, settings: Any, cache: UploadCache | None = None
    ) -> AttachmentResolver:
        return cls(
            http,
            settings.poe_file_upload_url,
            cache=cache,
            max_bytes=settings.poe_upload_max_bytes,
            timeout=settings.poe_upload_timeout,
            poe_base_url=settings.poe_base_url,
        )

    async def resolve(self, part: FilePart, key: SecretStr) -> dict[str, str]:
        """One file part -> `{"url", "content_type", "name"}`. Raises ServiceError (a 400 naming
        `part.param`) or PoeError."""
        if part.url is not None and part.url[:5].lower() != "data:":
            name = clean_filename(part.filename)
            return await self._from_url(part.url, key, name, part.fallback_type, part.param)
        size = len(part.url or part.data or "")
        decoded = await _off_loop(size, _hashed, decode_part, part, self.max_bytes)
        return await self._upload(decoded, key)

    async def resolve_all(self, parts: Iterable[FilePart], key: SecretStr) -> list[dict]:
        """Several parts at once, uploaded concurrently, in order."""
        return await _all_at_once(self.resolve(part, key) for part in parts)

    async def fetch_all(self, urls: Iterable[str]) -> list[bytes]:
        """Files a bot produced, fetched concurrently from Poe's CDN, in order, each within
        the same size and time bounds as an upload (raises PoeError)."""
        return await _all_at_once(
            download(
                self.http,
                url,
                poe_base_url=self.poe_base_url,
                max_bytes=self.max_bytes,
                timeout=self.timeout,
            )
            for url in urls
        )

    async def _upload(self, decoded: tuple[DecodedFile, str], key: SecretStr) -> dict[str, str]:
        file, digest = decoded
        attachment = await self.cache.get_or_upload(
            self.cache.key_for(key, f"sha256:{digest}"),
            lambda: upload_bytes(
                self.http,
                self.upload_endpoint,
                key,
                file.data,
                file.filename,
                file.mime,
                self.timeout,
            ),
        )
        return {**attachment, "name": file.filename}

    async def _from_url(
        self, url: str, key: SecretStr, name: str | None, fallback_type: str, param: str
    ) -> dict[str, str]:
        if not _is_http(url):
            raise invalid(
                "Expected an http(s) URL or a base64 data URL", param=param, code="invalid_url"
            )
        parts = urlsplit(url)
        from_path = clean_filename(unquote(PurePosixPath(parts.path).name))
        if parts.scheme.lower() == "https" and (parts.hostname or "").endswith(_POE_CDN):
            mime = _type_from_name(name or from_path)
            return {
                "url": url,
                "content_type": mime if mime in _TYPES else fallback_type,
                "name": name or from_path or default_filename(fallback_type),
            }
        filename = name or from_path
        attachment = await self.cache.get_or_upload(
            self.cache.key_for(key, f"url:{url}"),
            lambda: upload_url(self.http, self.upload_endpoint, key, url, filename, self.timeout),
        )
        mime = _normalize(attachment.get("content_type") or "")
        return {**attachment, "name": filename or default_filename(mime)}


async def _all_at_once(jobs: Iterable[Coroutine[Any, Any, Result]]) -> list[Result]:
    """Run concurrently; the results in order, or the first failure (not an exception group:
    the client gets one error)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(job) for job in jobs]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


def _is_http(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hashed(decode: Callable[..., DecodedFile], *args: Any) -> tuple[DecodedFile, str]:
    file = decode(*args)
    return file, _digest(file.data)


async def _off_loop(size: int, fn: Callable[..., Any], *args: Any) -> Any:
    if size > _OFF_LOOP_BYTES:
        return await asyncio.to_thread(fn, *args)
    return fn(*args)
