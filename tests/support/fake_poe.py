"""A real Poe-protocol server for tests: fastapi_poe bots under uvicorn on 127.0.0.1, plus plain
routes for what a bot cannot do (the official model list, non-200 answers).

Tests steer it through `FakePoe.state`; it runs in a thread of the test process.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import socket
import threading
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import Any

import fastapi_poe as fp
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from sse_starlette import ServerSentEvent

from tests.support.schema_instance import instance, wrong_instance

MODEL_LIST: list[dict[str, Any]] = [
    {
        "id": "claude-sonnet-4.6",
        "object": "model",
        "created": 1770262891433,
        "owned_by": "Anthropic",
        "description": "Anthropic's Claude Sonnet 4.6",
        "root": "claude-sonnet-4.6",
        "architecture": {
            "input_modalities": ["text", "image"],
            "output_modalities": ["text"],
            "modality": "text,image->text",
        },
        "supported_features": ["web_search", "tools"],
        "pricing": {"prompt": "0.0000026", "completion": "0.000013"},
        "context_window": {"context_length": 983040, "max_output_tokens": 128000},
        "context_length": 983040,
        "metadata": {
            "display_name": "Claude-Sonnet-4.6",
            "url": "https://poe.com/claude-sonnet-4.6",
        },
        "reasoning": {"budget": None, "required": False, "supports_reasoning_effort": False},
        "parameters": [
            {"name": "web_search", "schema": {"type": "boolean"}, "default_value": False}
        ],
    },
    {
        # A sparse entry: every field but id is optional on Poe's side.
        "id": "echobot",
        "object": "model",
        "created": 1723456789000,
        "owned_by": "poe2openai tests",
        "pricing": None,
        "reasoning": None,
        "metadata": {"display_name": "EchoBot"},
        "parameters": [
            {"name": "web_search", "schema": {"type": "boolean"}},
            {"name": "reasoning_effort", "schema": {"type": "string"}},
            {"name": "thinking_budget", "schema": {"type": "integer"}},
        ],
    },
]


class EchoBot(fp.PoeBot):
    """Echoes the last message; one ending in `query:` gets the query body back as JSON."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[fp.PartialResponse]:
        last = request.query[-1].content
        if last.endswith("query:"):
            body = request.model_dump(
                mode="json", include={"query", "temperature", "stop_sequences", "logit_bias"}
            )
            yield fp.PartialResponse(text=json.dumps(body))
        else:
            yield fp.PartialResponse(text=last)


class StreamBot(fp.PoeBot):
    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        yield fp.MetaResponse(text="", content_type="text/markdown", suggested_replies=True)
        for piece in ("Hello", ", ", "wörld", " ✓"):
            yield fp.PartialResponse(text=piece)
        yield fp.PartialResponse(text="Try this", is_suggested_reply=True)
        yield ServerSentEvent(event="data", data=json.dumps({"metadata": "private"}))


class ReplaceBot(fp.PoeBot):
    """`extend`: a replacement that extends the text; otherwise one that rewrites it."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        if request.query[-1].content == "extend":
            yield fp.PartialResponse(text="Hello")
            yield fp.PartialResponse(text="Hello world", is_replace_response=True)
            yield fp.PartialResponse(text="!")
        else:
            yield fp.PartialResponse(text="Draft answer")
            yield fp.PartialResponse(text="Final", is_replace_response=True)
            yield fp.PartialResponse(text=" answer")


class FileBot(fp.PoeBot):
    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        yield ServerSentEvent(
            event="file",
            data=json.dumps(
                {
                    "url": "https://pfst.cf2.poecdn.net/base/image/cat.png",
                    "content_type": "image/png",
                    "name": "cat.png",
                    "inline_ref": "ref1",
                }
            ),
        )
        yield fp.PartialResponse(text="Here is a cat: ![a cat][ref1] and a report.")
        yield ServerSentEvent(
            event="file",
            data=json.dumps(
                {
                    "url": "https://pfst.cf2.poecdn.net/base/text/report.pdf",
                    "content_type": "application/pdf",
                    "name": "report.pdf",
                }
            ),
        )


class JsonBot(fp.PoeBot):
    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        yield fp.PartialResponse(text="Before json. ")
        chunk = {
            "choices": [{"index": 0, "delta": {"content": "Inside json."}, "finish_reason": None}]
        }
        yield ServerSentEvent(event="json", data=json.dumps(chunk))


THINKING = "*Thinking...*\n\n> Let me think.\n> Still thinking.\n\nThe answer is 42."


class ThinkBot(fp.PoeBot):
    """Thinks in Poe's blockquote style, streamed in small pieces (splits land anywhere)."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        for start in range(0, len(THINKING), 5):
            yield fp.PartialResponse(text=THINKING[start : start + 5])


def _json_chunk(delta: dict, finish: str | None = None) -> ServerSentEvent:
    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return ServerSentEvent(event="json", data=json.dumps(chunk))


class ToolBot(fp.PoeBot):
    """Native tools: asks for get_weather, then answers from the tool result. Given earlier
    rounds written as text, it calls once more in that text form, as models do."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        earlier = [
            m.content for m in request.query if m.role == "bot" and "<tool_call>" in m.content
        ]
        if request.tool_results and earlier:
            text = (
                "One more city.\n<tool_call>"
                '{"name": "get_weather", "arguments": {"city": "Rome", "days": "2"}}</tool_call>'
            )
            for start in range(0, len(text), 5):
                yield fp.PartialResponse(text=text[start : start + 5])
            return
        if request.tool_results:
            result = request.tool_results[0]
            yield fp.PartialResponse(
                text=f"Tool {result.name} said: {result.content} "
                f"(calls seen: {len(request.tool_calls or [])})"
            )
            return
        names = [t.function.name for t in request.tools or []]
        assert "get_weather" in names, names
        yield _json_chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_w1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        )
        for fragment in ('{"city": ', '"Paris", ', '"days": 3}'):
            # Poe repeats id/name on later deltas in some bots: the proxy must not.
            yield _json_chunk(
                {"tool_calls": [{"index": 0, "id": "call_w1", "function": {"arguments": fragment}}]}
            )
        yield _json_chunk({}, "tool_calls")


class PromptToolBot(fp.PoeBot):
    """A bot without native tools: follows the proxy's tool prompt in plain text."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        conversation = "\n".join(m.content for m in request.query if m.role != "system")
        if "<tool_result" in conversation:
            yield fp.PartialResponse(text="It is sunny in Paris.")
            return
        assert "<tool_call>" in request.query[0].content  # the instructions came as system text
        text = (
            'Let me check.<tool_call>{"name": "get_weather", "arguments": '
            '{"city": "Paris", "days": "3"}}</tool_call>'
        )
        for start in range(0, len(text), 7):
            yield fp.PartialResponse(text=text[start : start + 7])


class ThinkToolBot(fp.PoeBot):
    """Native tools: thinks, says a sentence, then calls get_weather; answers the result."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        if request.tool_results:
            yield fp.PartialResponse(text=f"It is {request.tool_results[0].content}.")
            return
        for piece in ("*Thinking...*\n\n> Which ", "city?\n\nLet me ", "look."):
            yield fp.PartialResponse(text=piece)
        call = {"index": 0, "id": "call_t1", "type": "function"}
        yield _json_chunk(
            {"tool_calls": [{**call, "function": {"name": "get_weather", "arguments": ""}}]}
        )
        for fragment in ('{"city": ', '"Paris"}'):
            yield _json_chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})
        yield _json_chunk({}, "tool_calls")


class CutBot(fp.PoeBot):
    """Says its answer was cut at a length limit (an OpenAI-style `finish_reason: length`)."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        yield fp.PartialResponse(text="The answer was")
        yield _json_chunk({}, "length")


# Errors a bot reports inside a 200 stream, chosen by the last message.
ERRORS = {
    "rate": {
        "text": "You have exceeded rate limit to query bot using User API Key. Try again later.",
        "allow_retry": False,
    },
    "points": {
        "text": "This bot needs more points to answer your request.",
        "allow_retry": False,
        "error_type": "insufficient_fund",
    },
    "long": {
        "text": "Your message is too long.",
        "allow_retry": False,
        "error_type": "user_message_too_long",
    },
    "denied": {"text": "Access denied", "allow_retry": False},
    "internal": {"text": "Internal server error", "allow_retry": True},
    "fatal": {"text": "The bot crashed", "allow_retry": False},
}


class ErrorBot(fp.PoeBot):
    """Reports the error named by the last message; `after:<name>` writes some text first."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        name = request.query[-1].content
        if name.startswith("after:"):
            name = name.removeprefix("after:")
            yield fp.PartialResponse(text="Partial answer")
        yield ServerSentEvent(event="error", data=json.dumps(ERRORS[name]))


@dataclass
class FakePoeState:
    models: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(MODEL_LIST))
    # "ok", or an HTTP status to answer the model list with, or "garbage"
    models_mode: str | int = "ok"
    models_calls: int = 0
    bot_calls: dict[str, int] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)  # what Poe's upload endpoint got
    open_streams: int = 0  # fault-route streams still open (a proxy must close them)


class TwoCallsBot(fp.PoeBot):
    """Native tools: says what its system message told it, then calls two functions at once."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        system = request.query[0].content if request.query[0].role == "system" else ""
        yield fp.PartialResponse(text=f"system: {system}")
        for index, (call_id, city) in enumerate([("call_a", "Paris"), ("call_b", "Rome")]):
            yield _json_chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": json.dumps({"city": city}),
                            },
                        }
                    ]
                }
            )
        yield _json_chunk({}, "tool_calls")


SCHEMA_LINE = "JSON schema: "
PREAMBLE = "Sure! Here is the JSON you asked for:\n\n"
REMARK = "\n\nLet me know if you need anything else."
PROSE = "I would rather say it in words: it is sunny in Paris, 24 degrees."


def structured_answer(system: str, last: str) -> str:
    """What StructuredBot says, given its system message and the last user text."""
    lines = system.splitlines()
    schema_text = next((ln[len(SCHEMA_LINE) :] for ln in lines if ln.startswith(SCHEMA_LINE)), "")
    if "prose" in last or not (schema_text or any("JSON object" in ln for ln in lines)):
        return PROSE
    if schema_text:
        schema = json.loads(schema_text)
        value = wrong_instance(schema) if "wrong" in last else instance(schema)
    else:
        value = ["not", "an object"] if "wrong" in last else {"answer": last}
    return PREAMBLE + "```json\n" + json.dumps(value, indent=2) + "\n```" + REMARK


class StructuredBot(fp.PoeBot):
    """Answers the proxy's structured-output instruction as a person would: a preamble, the
    value in a ```json fence, a trailing remark, streamed in 3-7 character pieces (so the fence
    and the value are split anywhere). The value is built from the schema on the `JSON schema: `
    line of its system messages, or is `{"answer": <last user text>}` when that message asks
    for a `JSON object`. The last user text steers it: `wrong` gives a value the schema refuses,
    `prose` (or no JSON instruction at all) a sentence without JSON."""

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        system = "\n".join(m.content for m in request.query if m.role == "system")
        last = next(m.content for m in reversed(request.query) if m.role == "user")
        text = structured_answer(system, last)
        start = 0
        for size in itertools.cycle((3, 5, 7, 4, 6)):
            if start >= len(text):
                break
            yield fp.PartialResponse(text=text[start : start + size])
            start += size


IMAGE_BOT = {
    "id": "imagebot",
    "object": "model",
    "created": 1723456789000,
    "owned_by": "Fake",
    "architecture": {"output_modalities": ["image"]},
    "parameters": [
        {
            "name": "aspect_ratio",
            "schema": {"type": "string", "enum": ["1:1", "16:9", "9:16", "3:2"]},
        },
        {"name": "quality", "schema": {"type": "string", "enum": ["low", "medium", "high"]}},
        {"name": "num_images", "schema": {"type": "integer", "minimum": 1, "maximum": 4}},
    ],
}


def _echo_entry(bot_id: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": bot_id,
        "object": "model",
        "created": 1723456789000,
        "owned_by": "poe2openai tests",
        "metadata": {"display_name": bot_id},
        "parameters": parameters,
    }


# Echo bots (a message ending in `query:` gets the query back) declaring parameters the way
# Poe's list does for real bots: GPT-5.4's effort enum and verbosity, a Claude's thinking
# budget (a `number` with a range), Gemini's thinking_level and Qwen's enable_web_search.
PARAMETER_BOTS = [
    _echo_entry(
        "echo-gpt",
        [
            {"name": "web_search", "schema": {"type": "boolean"}, "default_value": False},
            {
                "name": "reasoning_effort",
                "schema": {"enum": ["none", "low", "medium", "high", "xhigh"]},
                "default_value": "none",
            },
            {"name": "verbosity", "schema": {"enum": ["low", "medium", "high"]}},
        ],
    ),
    _echo_entry(
        "echo-claude",
        [
            {
                "name": "thinking_budget",
                "schema": {"type": "number", "minimum": 0, "maximum": 31999},
                "default_value": 0,
            },
            {"name": "web_search", "schema": {"type": "boolean"}, "default_value": False},
        ],
    ),
    _echo_entry(
        "echo-gemini",
        [
            {
                "name": "thinking_level",
                "schema": {"enum": ["low", "high"]},
                "default_value": "low",
            },
            {"name": "enable_web_search", "schema": {"type": "boolean"}, "default_value": True},
        ],
    ),
]
# Served like the echo bots above, but in no model list: a private bot.
PRIVATE_ECHO = "private-echo"
BALANCE = 987_654  # points the fake account has left (/usage/current_balance)

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class ImageBot(fp.PoeBot):
    """An image bot: one `file` event per image asked for (`num_images`), served by this
    server, and a text saying which parameters it got. Prompts steer it: `elsewhere` gives a
    URL off Poe's hosts, `huge` a file over 20 MiB, `nothing` no image at all."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[Any]:
        last = request.query[-1]
        if last.content == "nothing":
            yield fp.PartialResponse(text="I cannot draw that.")
            return
        count = int(last.parameters.get("num_images", 1))
        refs = []
        for i in range(count):
            if last.content == "elsewhere":
                url = "http://169.254.169.254/latest/meta-data/image.png"
            else:
                name = "huge.png" if last.content == "huge" else f"image-{i}.png"
                url = f"{self.base_url}/files/{name}"
            yield ServerSentEvent(
                event="file",
                data=json.dumps(
                    {
                        "url": url,
                        "content_type": "image/png",
                        "name": f"image-{i}.png",
                        "inline_ref": f"img{i}",
                    }
                ),
            )
            refs.append(f"![image {i}][img{i}]")
        said = "parameters " + json.dumps(last.parameters, sort_keys=True)
        yield fp.PartialResponse(text=said + "\n" + " ".join(refs))


class FakePoe:
    def __init__(self) -> None:
        self.state = FakePoeState()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sock = sock
        self.app = self._build()
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _build(self) -> FastAPI:
        app = FastAPI()
        state = self.state

        @app.get("/v1/models")
        async def models() -> Response:
            state.models_calls += 1
            if state.models_mode == "garbage":
                return PlainTextResponse("<html>not json</html>")
            if state.models_mode != "ok":
                return JSONResponse({"detail": "down"}, status_code=int(state.models_mode))
            return JSONResponse({"object": "list", "data": state.models})

        add_fault_routes(app, state)
        bots = [
            EchoBot(path="/bot/echobot"),
            StreamBot(path="/bot/streambot"),
            ReplaceBot(path="/bot/replacebot"),
            FileBot(path="/bot/filebot"),
            JsonBot(path="/bot/jsonbot"),
            ErrorBot(path="/bot/errorbot"),
            ThinkBot(path="/bot/thinkbot"),
            ToolBot(path="/bot/toolbot"),
            PromptToolBot(path="/bot/prompttoolbot"),
            ImageBot(self.url, path="/bot/imagebot"),
            TwoCallsBot(path="/bot/twotoolbot"),
            *(EchoBot(path=f"/bot/{entry['id']}") for entry in PARAMETER_BOTS),
            EchoBot(path=f"/bot/{PRIVATE_ECHO}"),
            StructuredBot(path="/bot/structbot"),
            ThinkToolBot(path="/bot/thinktoolbot"),
            CutBot(path="/bot/cutbot"),
        ]
        return fp.make_app(bots, allow_without_key=True, app=app)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> FakePoe:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Poe did not start")
            time.sleep(0.02)
        return self

    def open_connections(self) -> int:
        """TCP connections to this server that are open right now."""
        return len(self._server.server_state.connections)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def reset(self) -> None:
        fresh = FakePoeState()
        for name in ("models", "models_mode", "models_calls", "bot_calls", "uploads"):
            setattr(self.state, name, getattr(fresh, name))


def _frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\r\ndata: {json.dumps(data)}\r\n\r\n".encode()


def add_fault_routes(app: FastAPI, state: FakePoeState) -> None:
    """What a fastapi_poe bot cannot do: non-200 answers, garbage, drops, stalls, hangs."""

    def count(name: str) -> int:
        state.bot_calls[name] = state.bot_calls.get(name, 0) + 1
        return state.bot_calls[name]

    @app.get("/files/{name}")
    async def files(name: str) -> Response:
        state.bot_calls[f"files/{name}"] = state.bot_calls.get(f"files/{name}", 0) + 1
        if name == "huge.png":
            return Response(PNG_1PX + bytes(21 * 1024 * 1024), media_type="image/png")
        return Response(PNG_1PX, media_type="image/png")

    @app.get("/usage/current_balance")
    async def current_balance(request: Request) -> Response:
        # The points left on a key's account: the number in a key `poe-points-N`, else
        # BALANCE; a key starting `invalid` is refused as Poe refuses a bad key.
        auth = request.headers.get("authorization", "").removeprefix("Bearer ")
        state.bot_calls["usage/current_balance"] = (
            state.bot_calls.get("usage/current_balance", 0) + 1
        )
        if auth.startswith("invalid") or not auth:
            return JSONResponse({"detail": f"Invalid API key {auth}"}, status_code=401)
        points = int(auth.rpartition("-")[2]) if auth.startswith("poe-points-") else BALANCE
        return JSONResponse({"current_point_balance": points})

    @app.post("/file_upload")
    async def file_upload(request: Request) -> Response:
        # Poe's upload endpoint: `Authorization: <key>` without Bearer; multipart `file` or a
        # form with `download_url`.
        auth = request.headers.get("authorization", "")
        form = await request.form()
        upload = form.get("file")
        if upload is not None:
            data = await upload.read()
            call = {
                "kind": "bytes",
                "name": upload.filename,
                "type": upload.content_type,
                "size": len(data),
            }
        else:
            call = {
                "kind": "url",
                "url": form.get("download_url"),
                "name": form.get("download_filename"),
            }
        state.uploads.append(call)
        if not auth or auth.lower().startswith("bearer"):
            return JSONResponse({"error": "bad key"}, status_code=401)
        if "refuse" in str(call.get("url") or call.get("name")):
            return JSONResponse({"error": "The file type is not supported"}, status_code=400)
        name = call["name"] or "download.jpg"
        return JSONResponse(
            {
                "attachment_url": f"https://pfst.cf2.poecdn.net/base/{len(state.uploads)}/{name}",
                "mime_type": call.get("type") or "image/jpeg",
            }
        )

    @app.post("/bot/status{code}")
    async def status(code: int) -> Response:
        count(f"status{code}")
        # Longer than the proxy's queue timeout: passed on, not waited out.
        headers = {"retry-after": "30"} if code == 429 else {}
        return JSONResponse({"detail": f"status {code}"}, status_code=code, headers=headers)

    @app.post("/bot/flaky")
    async def flaky() -> Response:
        # Fails twice with 502, then answers: the proxy's retry must hide the failures.
        if count("flaky") <= 2:
            return JSONResponse({"detail": "bad gateway"}, status_code=502)
        body = _frame("text", {"text": "third time lucky"}) + _frame("done", {})
        return Response(body, media_type="text/event-stream")

    @app.post("/bot/garbage")
    async def garbage() -> Response:
        count("garbage")
        return Response(b"event: text\r\ndata: {not json\r\n\r\n", media_type="text/event-stream")

    @app.post("/bot/truncated")
    async def truncated() -> Response:
        count("truncated")
        return Response(_frame("text", {"text": "cut"}), media_type="text/event-stream")

    def held_open(first: bytes, then_wait: float) -> StreamingResponse:
        async def body():
            state.open_streams += 1
            try:
                if first:
                    yield first
                await asyncio.sleep(then_wait)
                yield _frame("text", {"text": " late"}) + _frame("done", {})
            finally:
                state.open_streams -= 1

        return StreamingResponse(body(), media_type="text/event-stream")

    @app.post("/bot/hang")
    async def hang() -> Response:
        count("hang")
        return held_open(b": ping\r\n\r\n", 30)

    @app.post("/bot/stall")
    async def stall() -> Response:
        count("stall")
        return held_open(_frame("text", {"text": "stalling"}), 30)

    @app.post("/bot/slow")
    async def slow(request: Request) -> Response:
        # Text now, the rest after a pause: long enough for the proxy's keep-alive pings.
        count("slow")
        return held_open(_frame("text", {"text": "slow"}), 1.5)

    @app.post("/bot/echokey{how}")
    async def echo_key(request: Request, how: str) -> Response:
        # A buggy upstream (or a proxy before it) that repeats the request's Authorization.
        auth = request.headers.get("authorization", "")
        if how == "status":
            return PlainTextResponse(f"bad request from {auth}", status_code=400)
        frame = _frame("error", {"text": f"failed for {auth}", "allow_retry": False})
        return Response(frame, media_type="text/event-stream")

    @app.post("/bot/whoami")
    async def whoami(request: Request) -> Response:
        # Which Poe key the proxy sent (server-held keys, used in turn).
        auth = request.headers.get("authorization", "").removeprefix("Bearer ")
        frames = _frame("text", {"text": f"key {auth}"}) + _frame("done", {})
        return Response(frames, media_type="text/event-stream")

    @app.post("/bot/busyfor{seconds}")
    async def busy_for(seconds: int) -> Response:
        # Poe's own rate limit: the first query (since the last reset) is a 429 saying when to
        # come back, the next ones are answered.
        if count(f"busyfor{seconds}") == 1:
            headers = {"retry-after": str(seconds)}
            return JSONResponse({"detail": "rate limited"}, status_code=429, headers=headers)
        frames = _frame("text", {"text": "answered after the wait"}) + _frame("done", {})
        return Response(frames, media_type="text/event-stream")

    @app.post("/bot/busykey-{key}")
    async def busy_key(request: Request, key: str) -> Response:
        # One Poe key over its rate limit (a 429 for a long while), the others answered as
        # /bot/whoami does.
        count(f"busykey-{key}")
        auth = request.headers.get("authorization", "").removeprefix("Bearer ")
        if auth == key:
            headers = {"retry-after": "60"}
            return JSONResponse({"detail": "rate limited"}, status_code=429, headers=headers)
        frames = _frame("text", {"text": f"key {auth}"}) + _frame("done", {})
        return Response(frames, media_type="text/event-stream")

    @app.post("/bot/surrogate")
    async def surrogate() -> Response:
        # json.dumps escapes the lone surrogate as `\ud800`: valid JSON, but not text.
        count("surrogate")
        frames = _frame("text", {"text": "bad \ud800 half"}) + _frame("done", {})
        return Response(frames, media_type="text/event-stream")

    @app.post("/bot/drop")
    async def drop() -> Response:
        count("drop")

        async def body():
            yield _frame("text", {"text": "dropping"})
            raise RuntimeError("connection dropped on purpose")

        return StreamingResponse(body(), media_type="text/event-stream")
