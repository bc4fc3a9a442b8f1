"""A small Poe-protocol server for `poe2openai --demo`: answers without a Poe key or network.

It speaks the same wire format as Poe (`POST /bot/{name}` answering server-sent events, and the
official `GET /v1/models` list), so the whole proxy path runs exactly as in production.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

Event = tuple[str, dict[str, Any]]
Bot = Callable[[dict[str, Any]], AsyncIterator[Event]]

_CREATED_MS = 1_767_225_600_000  # 2026-01-01, in milliseconds as Poe sends it


def _last_user_text(query: dict[str, Any]) -> str:
    for message in reversed(query.get("query") or []):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


async def echo_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Answers with the last user message, in one piece."""
    yield "meta", {"content_type": "text/markdown", "suggested_replies": False}
    yield "text", {"text": _last_user_text(query) or "(empty message)"}


async def stream_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Streams a short answer word by word, the way real bots do."""
    words = f"You said: {_last_user_text(query)}. This answer arrives one word at a time."
    yield "meta", {"content_type": "text/markdown", "suggested_replies": True}
    for i, word in enumerate(words.split(" ")):
        await asyncio.sleep(0.05)
        yield "text", {"text": word if i == 0 else " " + word}
    yield "suggested_reply", {"text": "Tell me more"}


async def replace_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Writes a draft, then replaces it (Poe's `replace_response`)."""
    yield "text", {"text": "A first draft..."}
    await asyncio.sleep(0.3)
    yield "replace_response", {"text": "The final answer, after a rewrite."}


async def file_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Sends an image the way image bots do: a `file` event the text refers to."""
    url = query.get("_demo_base", "") + "/files/square.svg"
    yield (
        "file",
        {"url": url, "content_type": "image/svg+xml", "name": "square.svg", "inline_ref": "img1"},
    )
    yield "text", {"text": "Here is a square: ![a square][img1]"}


async def error_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Answers a little, then fails the way Poe reports failures: an `error` event."""
    yield "text", {"text": "Starting to answer"}
    yield "error", {"text": "The demo bot failed on purpose", "allow_retry": False}


async def json_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Structured output in a `json` event, with suggested replies and private data around."""
    yield "data", {"metadata": "never shown to clients"}
    yield (
        "json",
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "Text carried in a json event."},
                    "finish_reason": None,
                }
            ]
        },
    )
    yield "suggested_reply", {"text": "What else?"}


async def thinking_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Thinks first, the way Poe's reasoning models stream it (a quoted block)."""
    text = (
        "*Thinking...*\n\n> The user said something.\n> A short answer will do.\n\n"
        f"You said: {_last_user_text(query)}"
    )
    for start in range(0, len(text), 8):
        await asyncio.sleep(0.02)
        yield "text", {"text": text[start : start + 8]}


async def tools_bot(query: dict[str, Any]) -> AsyncIterator[Event]:
    """Native tool calling: calls the first tool offered, then answers from its result."""
    results = query.get("tool_results") or []
    if results:
        yield "text", {"text": f"The tool answered: {results[0].get('content')}"}
        return
    tools = query.get("tools") or []
    if not tools:
        yield "text", {"text": "Offer me a tool (`tools`) and I will call it."}
        return
    function = tools[0]["function"]
    properties = (function.get("parameters") or {}).get("properties") or {}
    arguments = json.dumps(
        {
            name: "demo"
            for name, schema in properties.items()
            if (schema or {}).get("type") == "string"
        }
    )
    call = {
        "index": 0,
        "id": "call_demo1",
        "type": "function",
        "function": {"name": function["name"], "arguments": ""},
    }
    yield "json", {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}
    yield (
        "json",
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]},
                }
            ]
        },
    )
    yield "json", {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}


BOTS: dict[str, tuple[Bot, str]] = {
    "echo": (echo_bot, "Repeats your last message."),
    "stream": (stream_bot, "Streams its answer word by word."),
    "replace": (replace_bot, "Writes a draft, then replaces it (replace_response)."),
    "image": (file_bot, "Answers with an image file (file event + inline reference)."),
    "error": (error_bot, "Fails mid-answer (error event)."),
    "json": (json_bot, "Answers inside a json event, with suggested replies and data events."),
    "thinking": (thinking_bot, "Thinks before answering (reasoning_content)."),
    "tools": (tools_bot, "Calls the first tool you offer, then answers from its result."),
}

_SQUARE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    b'<rect width="64" height="64" fill="#6b5bd6"/></svg>'
)


DEMO_POINTS = 1_000_000


def _model_entry(name: str, description: str) -> dict[str, Any]:
    return {
        "id": name,
        "object": "model",
        "created": _CREATED_MS,
        "owned_by": "poe2openai demo",
        "description": description,
        "root": name,
        "architecture": {
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "modality": "text->text",
        },
        "supported_features": ["tools"] if name == "tools" else [],
        "pricing": None,
        "context_window": {"context_length": 8192, "max_output_tokens": 1024},
        "context_length": 8192,
        "metadata": {"display_name": name.capitalize(), "url": f"https://poe.com/{name}"},
        "reasoning": None,
        "parameters": [],
    }


def sse_frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\r\ndata: {json.dumps(data)}\r\n\r\n".encode()


async def _models(request: web.Request) -> web.Response:
    data = [_model_entry(name, desc) for name, (_, desc) in BOTS.items()]
    return web.json_response({"object": "list", "data": data})


async def _bot(request: web.Request) -> web.StreamResponse:
    entry = BOTS.get(request.match_info["name"].lower())
    if entry is None:
        return web.json_response({"detail": "Bot not found"}, status=404)
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return web.json_response({"detail": "Missing API key"}, status=401)
    query = await request.json()
    query["_demo_base"] = f"{request.scheme}://{request.host}"
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    async for event, data in entry[0](query):
        await response.write(sse_frame(event, data))
    await response.write(sse_frame("done", {}))
    return response


async def _balance(request: web.Request) -> web.Response:
    # Points left on the demo's account (GET /v1/key in passthrough mode asks it).
    return web.json_response({"current_point_balance": DEMO_POINTS})


async def _file(request: web.Request) -> web.Response:
    return web.Response(body=_SQUARE_SVG, content_type="image/svg+xml")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/files/square.svg", _file)
    app.router.add_get("/usage/current_balance", _balance)
    app.router.add_post("/bot/{name}", _bot)
    return app


class DemoUpstream:
    """Runs the demo app on a socket bound up front, so its URL is known before start-up."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(make_app(), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
