"""POST /v1/chat/completions (and /chat/completions): validate, translate, stream or fold."""

from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import aclosing
from typing import Any

from pydantic import ValidationError
from pydantic.experimental.missing_sentinel import MISSING
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from generated.openai import CreateChatCompletionRequest
from service import tokens
from service.api.sse import ChunkWriter
from service.errors import AuthenticationFailed, InvalidRequest, from_poe
from service.poe.errors import PoeError
from service.translate.request import to_poe_query
from service.translate.stream import AnswerTranslator

bp = Blueprint("chat")
log = logging.getLogger("poe2openai.api")


def poe_key(request: Request) -> str:
    """The caller's Poe key: `Authorization: Bearer`, or the `api-key` / `x-api-key` aliases."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    key = key or request.headers.get("api-key", "") or request.headers.get("x-api-key", "")
    if not key.strip():
        raise AuthenticationFailed(
            "Missing API key: send your Poe API key (poe.com/api_key) "
            "as `Authorization: Bearer <key>`"
        )
    return key.strip()


def parse_request(body: bytes) -> tuple[CreateChatCompletionRequest, dict[str, Any]]:
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidRequest("The request body is not valid JSON", code="invalid_json") from None
    try:
        return CreateChatCompletionRequest.model_validate(data, strict=True), data
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        param = _param_path(data, err["loc"])
        raise InvalidRequest(f"Invalid value for `{param}`: {err['msg']}", param=param) from None


def _param_path(data: Any, loc: tuple[Any, ...]) -> str:
    """`messages[0].content` from a pydantic location, skipping union-variant names."""
    path, current = "", data
    for i, item in enumerate(loc):
        if isinstance(item, int) and isinstance(current, list) and item < len(current):
            path, current = f"{path}[{item}]", current[item]
        elif (
            isinstance(item, str)
            and isinstance(current, dict)
            and (item in current or i == len(loc) - 1)
        ):
            path = f"{path}.{item}" if path else item
            current = current.get(item)
    return path or "body"


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions", name="chat_unversioned")
async def create_chat_completion(request: Request) -> HTTPResponse | None:
    key = poe_key(request)
    chat, _ = parse_request(request.body)
    bot, model_settings = request.app.ctx.catalog.resolve(
        chat.model, request.app.ctx.store.current().overlay
    )
    query = to_poe_query(chat, default_parameters=model_settings.get("parameters"))
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    events = request.app.ctx.poe.stream(bot, query, key)
    prompt = [m["content"] for m in query["query"]]
    if chat.stream is True:
        options = chat.stream_options
        include_usage = bool(options and options is not MISSING and options.include_usage)
        writer = ChunkWriter(
            request,
            completion_id=completion_id,
            created=created,
            model=chat.model,
            include_usage=include_usage,
        )
        hold_back = model_settings.get("replace_response") is True
        await _stream(request, bot, events, writer, prompt if include_usage else None, hold_back)
        return None
    translator = AnswerTranslator()
    try:
        async with aclosing(events):
            async for event in events:
                translator.feed(event)
    except PoeError as err:
        raise from_poe(err, chat.model) from None
    translator.finish()
    message = {"role": "assistant", "content": translator.content, "refusal": None}
    return json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": chat.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            ],
            "usage": await tokens.usage(prompt, translator.content),
        }
    )


async def _stream(
    request: Request,
    bot: str,
    events: Any,
    writer: ChunkWriter,
    prompt: list[str] | None,
    hold_back: bool,
) -> None:
    """Send the answer as it arrives; with `hold_back` (the per-model replace_response switch)
    send it once at the end, exactly as the bot left it, for bots that rewrite their answer."""
    keepalive = request.app.ctx.keepalive
    keepalive.writers.add(writer)
    translator = AnswerTranslator()
    try:
        try:
            async with aclosing(events):
                async for event in events:
                    text = translator.feed(event)
                    if text and not hold_back:
                        await writer.delta({"content": text})
        except PoeError as err:
            error = from_poe(err, bot)
            if not writer.started:
                raise error from None
            log.warning("Poe failed mid-answer: %s", err.message)
            await writer.error(error)
            return
        tail = translator.finish()
        if hold_back:
            tail = translator.content
        if tail:
            await writer.delta({"content": tail})
        usage = await tokens.usage(prompt, translator.content) if prompt is not None else None
        await writer.finish("stop", usage)
    finally:
        keepalive.writers.discard(writer)
