"""POST /v1/chat/completions (and /chat/completions): parse, answer, encode."""

from __future__ import annotations

import time
import uuid

from pydantic import MISSING
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from generated.openai import CreateChatCompletionRequest
from service.access.caller import caller_from_headers
from service.fronts.answer_headers import whole_answer_headers
from service.fronts.openai.chat_encode import ChunkWriter, finish_reason, message, usage_body
from service.fronts.openai.chat_request import to_conversation
from service.http.json_body import parse_body
from service.http.sse import relay

bp = Blueprint("chat")


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions", name="chat_unversioned")
async def create_chat_completion(request: Request) -> HTTPResponse | None:
    caller = caller_from_headers(request.headers)
    chat = parse_body(request.body, CreateChatCompletionRequest)
    conversation = to_conversation(chat)
    streaming = chat.stream is True
    options = chat.stream_options if streaming else None
    include_usage = bool(options and options is not MISSING and options.include_usage)
    engine = request.app.ctx.engine
    answer = await engine.answer(
        caller, chat.model, conversation, usage=include_usage or not streaming
    )
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    if streaming:
        writer = ChunkWriter(
            request,
            completion_id=completion_id,
            created=created,
            model=chat.model,
            include_usage=include_usage,
        )
        await relay(request, answer.stream(), writer)
        return None
    whole, usage = await answer.complete()
    assert usage is not None
    return json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": chat.model,
            "choices": [
                {
                    "index": 0,
                    "message": message(whole),
                    "logprobs": None,
                    "finish_reason": finish_reason(whole.finish_reason),
                }
            ],
            "usage": usage_body(usage),
        },
        headers=whole_answer_headers(conversation, whole),
    )
