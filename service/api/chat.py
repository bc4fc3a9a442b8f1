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
from service.errors import AuthenticationFailed, InvalidRequest, from_poe, invalid_request
from service.poe.errors import PoeError
from service.translate.request import UPLOADED_PARTS, to_poe_query
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


def parse_request(body: bytes) -> CreateChatCompletionRequest:
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidRequest("The request body is not valid JSON", code="invalid_json") from None
    try:
        return CreateChatCompletionRequest.model_validate(data, strict=True)
    except ValidationError as exc:
        raise invalid_request(exc, data) from None


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions", name="chat_unversioned")
async def create_chat_completion(request: Request) -> HTTPResponse | None:
    ctx = request.app.ctx
    key = poe_key(request)
    chat = parse_request(request.body)
    bot, model_settings, entry = ctx.catalog.resolve(chat.model, ctx.store.current().overlay)
    attachments = await upload_parts(request, chat, key)
    plan = to_poe_query(chat, settings=model_settings, entry=entry, attachments=attachments)
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    events = ctx.poe.stream(bot, plan.query, key)
    translator = AnswerTranslator(
        reasoning=model_settings.get("reasoning") or "reasoning_content",
        prompt_tools=plan.prompt_tools,
        streaming=chat.stream is True,
    )
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
        prompt = plan.prompt_texts if include_usage else None
        await _stream(request, bot, events, translator, writer, prompt, hold_back)
        return None
    try:
        async with aclosing(events):
            async for batch in events:
                for event in batch:
                    translator.feed(event)
    except PoeError as err:
        raise from_poe(err, bot) from None
    translator.finish()
    message = translator.message()
    return json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": chat.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": translator.finish_reason,
                }
            ],
            "usage": await tokens.usage(plan.prompt_texts, _said(message), _exact(request)),
        }
    )


async def _stream(
    request: Request,
    bot: str,
    events: Any,
    translator: AnswerTranslator,
    writer: ChunkWriter,
    prompt: list[str] | None,
    hold_back: bool,
) -> None:
    """Send the answer as it arrives; with `hold_back` (the per-model replace_response switch)
    send it once at the end, exactly as the bot left it, for bots that rewrite their answer."""
    keepalive = request.app.ctx.keepalive
    keepalive.writers.add(writer)
    try:
        try:
            async with aclosing(events):
                async for batch in events:
                    deltas = [d for event in batch for d in translator.feed(event)]
                    if deltas and not hold_back:
                        await writer.deltas(deltas)  # one write per network read
        except PoeError as err:
            error = from_poe(err, bot)
            if not writer.started:
                raise error from None
            log.warning("Poe failed mid-answer: %s", err.message)
            await writer.error(error)
            return
        deltas = translator.finish()
        message = translator.message() if hold_back or prompt is not None else None
        if hold_back:
            deltas = _whole_deltas(message)
        if deltas:
            await writer.deltas(deltas)
        usage = None
        if prompt is not None:
            usage = await tokens.usage(prompt, _said(message), _exact(request))
        await writer.finish(translator.finish_reason, usage)
    finally:
        keepalive.writers.discard(writer)


def _whole_deltas(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A held-back answer, sent once: thinking, text, tool calls, images."""
    deltas: list[dict[str, Any]] = []
    if message.get("reasoning_content"):
        deltas.append({"reasoning_content": message["reasoning_content"]})
    if message.get("content"):
        deltas.append({"content": message["content"]})
    for index, call in enumerate(message.get("tool_calls") or []):
        deltas.append({"tool_calls": [{"index": index, **call}]})
    if message.get("images"):
        deltas.append({"images": message["images"]})
    return deltas


def _exact(request: Request) -> bool:
    return request.app.ctx.settings.usage_tokenizer == "o200k_base"


def _said(message: dict[str, Any]) -> str:
    """Everything the bot produced, for the completion token count."""
    parts = [message.get("reasoning_content") or "", message.get("content") or ""]
    parts += [c["function"]["arguments"] for c in message.get("tool_calls") or []]
    return "\n".join(p for p in parts if p)


async def upload_parts(request: Request, chat: Any, key: str) -> dict[tuple[int, int], dict]:
    """Image, audio and file parts uploaded to Poe (cached), by (message, part) index. Runs
    before anything is sent to the bot, so a refused upload leaves nothing half-sent."""
    wanted = [
        (i, j, part)
        for i, message in enumerate(chat.messages)
        if isinstance(content := getattr(message, "content", None), list)
        for j, part in enumerate(content)
        if part.type in UPLOADED_PARTS
    ]
    if not wanted:
        return {}
    parts = [(part, f"messages[{i}].content[{j}]") for i, j, part in wanted]
    try:
        got = await request.app.ctx.attachments.resolve_all(parts, key)
    except PoeError as err:
        raise from_poe(err) from None
    return {(i, j): attachment for (i, j, _), attachment in zip(wanted, got, strict=True)}
