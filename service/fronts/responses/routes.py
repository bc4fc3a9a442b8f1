"""POST /v1/responses and /v1/responses/input_tokens (and without /v1): the OpenAI Responses
API on any Poe bot. Errors are OpenAI's error body (fronts/__init__.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from generated.openai import CreateResponse, TokenCountsBody
from service.contracts import given
from service.core import tokens
from service.core.conversation import Conversation
from service.core.engine import Engine
from service.errors import ServiceError, invalid
from service.fronts.answer_headers import answer_headers, whole_answer_headers
from service.fronts.responses.encode import (
    finished,
    new_id,
    output_items,
    response_head,
    usage_body,
)
from service.fronts.responses.request import builtin_tools, to_conversation
from service.fronts.responses.stored import (
    Keeper,
    input_items,
    owner_key,
    previous_not_found,
    references,
    response_not_found,
    store_wanted,
    with_history,
    with_references,
)
from service.fronts.responses.stream import EventWriter
from service.fronts.server_tools import bot_parameters_for
from service.http.json_body import parse_body
from service.http.sse import relay

bp = Blueprint("responses")
log = logging.getLogger("poe2openai.responses")


@bp.post("/v1/responses")
@bp.post("/responses", name="responses_unversioned")
async def create_response(request: Request) -> HTTPResponse | None:
    caller = await request.app.ctx.callers.of(request.headers)
    body = parse_body(request.body, CreateResponse)
    engine: Engine = request.app.ctx.engine
    previous = given(body.previous_response_id)
    store = None
    if previous is not None or references(body):  # the answer needs the store
        store = (await request.app.ctx.stores.ready()).responses
    elif store_wanted(body):
        store = await _store_if_open(request)
    owner = store.owner(owner_key(caller)) if store is not None else ""
    body = await with_references(store, owner, body)
    # The input as it is kept, with ids: only for a turn that continues or is kept.
    items = input_items(body) if store is not None else []
    asked = body
    if previous is not None:
        history = await store.continue_from(owner, previous)
        if history is None:
            raise previous_not_found(previous)
        asked = with_history(body, history, items)
    conversation = await _conversation(engine, asked)
    answer = await engine.answer(caller, body.model, conversation, usage=True)
    keeper = Keeper(store, owner, items, previous) if store and store_wanted(body) else None
    head = response_head(body, new_id("resp_"), int(time.time()), store=keeper is not None)
    if body.stream is True:
        writer = EventWriter(
            request,
            head,
            engine.exact_usage,
            answer_headers(answer),
            keep=keeper.keep if keeper is not None else None,
        )
        await relay(request, answer.stream(), writer)
        return None
    whole, usage = await answer.complete()
    assert usage is not None
    reasoning_tokens = (
        await tokens.text_tokens(whole.reasoning, engine.exact_usage) if whole.reasoning else 0
    )
    response = finished(
        head,
        output_items(whole, head["id"]),
        usage_body(usage, reasoning_tokens),
        whole.finish_reason,
    )
    if keeper is not None:
        await keeper.keep(response)
    return json(
        response, headers={**answer_headers(answer), **whole_answer_headers(conversation, whole)}
    )


@bp.get("/v1/responses/<response_id:str>")
@bp.get("/responses/<response_id:str>", name="get_response_unversioned")
async def get_response(request: Request, response_id: str) -> HTTPResponse:
    store, owner = await _stored(request)
    response = await store.get(owner, response_id)
    if response is None:
        raise response_not_found(response_id)
    return json(response)


@bp.delete("/v1/responses/<response_id:str>")
@bp.delete("/responses/<response_id:str>", name="delete_response_unversioned")
async def delete_response(request: Request, response_id: str) -> HTTPResponse:
    store, owner = await _stored(request)
    if not await store.delete(owner, response_id):
        raise response_not_found(response_id)
    return json({"id": response_id, "object": "response", "deleted": True})


@bp.get("/v1/responses/<response_id:str>/input_items")
@bp.get("/responses/<response_id:str>/input_items", name="input_items_unversioned")
async def list_input_items(request: Request, response_id: str) -> HTTPResponse:
    query = _page_query(request)
    store, owner = await _stored(request)
    page = await store.input_items(owner, response_id, **query)
    if page is None:
        raise response_not_found(response_id)
    data = page.data
    return json(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": page.has_more,
        }
    )


async def _store_if_open(request: Request) -> Any:
    """The store for keeping a response; None, and the response answered unkept (it says
    `store: false`), when storage is down: the answer itself does not need it."""
    try:
        return (await request.app.ctx.stores.ready()).responses
    except ServiceError as error:
        log.warning("responses are answered without being stored: %s", error.message)
        return None


async def _stored(request: Request) -> tuple[Any, str]:
    caller = await request.app.ctx.callers.of(request.headers)
    store = (await request.app.ctx.stores.ready()).responses
    return store, store.owner(owner_key(caller))


def _page_query(request: Request) -> dict[str, Any]:
    """`limit` (1-100, default 20), `order` (asc or desc, default desc), `after`."""
    args = request.args
    limit_text = args.get("limit", "20")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
        raise invalid("`limit` must be a whole number from 1 to 100", param="limit")
    order = args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid("`order` must be `asc` or `desc`", param="order")
    return {"limit": int(limit_text), "order": order, "after": args.get("after")}


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
