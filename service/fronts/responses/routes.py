"""POST /v1/responses and /v1/responses/input_tokens (and without /v1): the OpenAI Responses
API on any Poe bot. Errors are OpenAI's error body (fronts/__init__.py)."""

from __future__ import annotations

import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from generated.openai import CreateResponse, TokenCountsBody
from service.core import tokens
from service.core.conversation import Conversation
from service.core.engine import Engine
from service.fronts.answer_headers import answer_headers, whole_answer_headers
from service.fronts.responses.encode import (
    finished,
    new_id,
    output_items,
    response_head,
    usage_body,
)
from service.fronts.responses.request import builtin_tools, to_conversation
from service.fronts.responses.stream import EventWriter
from service.fronts.server_tools import bot_parameters_for
from service.http.json_body import parse_body
from service.http.sse import relay

bp = Blueprint("responses")


@bp.post("/v1/responses")
@bp.post("/responses", name="responses_unversioned")
async def create_response(request: Request) -> HTTPResponse | None:
    caller = await request.app.ctx.callers.of(request.headers)
    body = parse_body(request.body, CreateResponse)
    engine: Engine = request.app.ctx.engine
    conversation = await _conversation(engine, body)
    answer = await engine.answer(caller, body.model, conversation, usage=True)
    head = response_head(body, new_id("resp_"), int(time.time()))
    if body.stream is True:
        writer = EventWriter(request, head, engine.exact_usage, answer_headers(answer))
        await relay(request, answer.stream(), writer)
        return None
    whole, usage = await answer.complete()
    assert usage is not None
    reasoning_tokens = (
        await tokens.text_tokens(whole.reasoning, engine.exact_usage) if whole.reasoning else 0
    )
    return json(
        finished(
            head, output_items(whole), usage_body(usage, reasoning_tokens), whole.finish_reason
        ),
        headers={**answer_headers(answer), **whole_answer_headers(conversation, whole)},
    )


@bp.post("/v1/responses/input_tokens")
@bp.post("/responses/input_tokens", name="input_tokens_unversioned")
async def count_input_tokens(request: Request) -> HTTPResponse:
    # Counted here: no key is needed, as nothing is asked of Poe.
    body = parse_body(request.body, TokenCountsBody)
    engine: Engine = request.app.ctx.engine
    count = await engine.count_input(body.model, await _conversation(engine, body))
    return json({"object": "response.input_tokens", "input_tokens": count})


async def _conversation(engine: Engine, body: CreateResponse | TokenCountsBody) -> Conversation:
    parameters = await bot_parameters_for(engine, body.model, builtin_tools(body), "built-in tool")
    return to_conversation(body, parameters)
