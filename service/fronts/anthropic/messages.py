"""POST /v1/messages and /v1/messages/count_tokens (and without /v1): the Anthropic Messages
API on any Poe bot."""

from __future__ import annotations

import uuid

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from generated.anthropic import CountTokensRequest, CreateMessageRequest
from service.core.conversation import Conversation
from service.core.engine import Engine
from service.fronts.answer_headers import answer_headers, whole_answer_headers
from service.fronts.anthropic.encode import BlockWriter, message_body
from service.fronts.anthropic.request import server_tools, to_conversation
from service.fronts.server_tools import bot_parameters_for
from service.http.json_body import parse_body
from service.http.middleware import request_id
from service.http.sse import relay

bp = Blueprint("anthropic")


@bp.post("/v1/messages")
@bp.post("/messages", name="messages_unversioned")
async def create_message(request: Request) -> HTTPResponse | None:
    caller = await request.app.ctx.callers.of(request.headers)
    body = parse_body(request.body, CreateMessageRequest)
    engine: Engine = request.app.ctx.engine
    conversation = await _conversation(engine, body)
    answer = await engine.answer(caller, body.model, conversation, usage=True)
    message_id = "msg_" + uuid.uuid4().hex
    headers = {"request-id": request_id(request)}
    headers |= answer_headers(answer)
    if body.stream is True:
        writer = BlockWriter(
            request,
            message_id=message_id,
            model=body.model,
            input_tokens=await answer.input_tokens(),
            headers=headers,
        )
        await relay(request, answer.stream(), writer)
        return None
    whole, usage = await answer.complete()
    assert usage is not None
    headers.update(whole_answer_headers(conversation, whole))
    return json(message_body(message_id, body.model, whole, usage), headers=headers)


@bp.post("/v1/messages/count_tokens")
@bp.post("/messages/count_tokens", name="count_tokens_unversioned")
async def count_tokens(request: Request) -> HTTPResponse:
    # Counted here: no key is needed, as nothing is asked of Poe.
    body = parse_body(request.body, CountTokensRequest)
    engine: Engine = request.app.ctx.engine
    count = await engine.count_input(body.model, await _conversation(engine, body))
    return json({"input_tokens": count}, headers={"request-id": request_id(request)})


async def _conversation(
    engine: Engine, body: CreateMessageRequest | CountTokensRequest
) -> Conversation:
    """Server tools (web search...) reach the bot as the parameter it declares for them on Poe
    (fronts/server_tools.py)."""
    wanted = [(index, body.tools[index].type, parameter) for index, parameter in server_tools(body)]
    return to_conversation(body, await bot_parameters_for(engine, body.model, wanted))
