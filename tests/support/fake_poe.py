"""A real Poe-protocol server for tests: fastapi_poe bots under uvicorn on 127.0.0.1, plus plain
routes for what a bot cannot do (the official model list, non-200 answers).

Tests steer it through `FakePoe.state`; it runs in a thread of the test process.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import Any

import fastapi_poe as fp
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response

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
    },
]


class EchoBot(fp.PoeBot):
    async def get_response(self, request: fp.QueryRequest) -> AsyncIterable[fp.PartialResponse]:
        yield fp.PartialResponse(text=request.query[-1].content)


@dataclass
class FakePoeState:
    models: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(MODEL_LIST))
    # "ok", or an HTTP status to answer the model list with, or "garbage"
    models_mode: str | int = "ok"
    models_calls: int = 0


class FakePoe:
    def __init__(self) -> None:
        self.state = FakePoeState()
        self.app = self._build()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sock = sock
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

        bots = [EchoBot(path="/bot/echobot")]
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

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def reset(self) -> None:
        fresh = FakePoeState()
        for name in ("models", "models_mode", "models_calls"):
            setattr(self.state, name, getattr(fresh, name))
