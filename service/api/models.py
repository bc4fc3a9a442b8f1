"""GET /v1/models and /v1/models/{model} (and the same without /v1)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from service.errors import ModelNotFound, from_poe
from service.poe.errors import PoeError

bp = Blueprint("models")


@bp.get("/v1/models")
@bp.get("/models", name="models_list_unversioned")
async def list_models(request: Request) -> HTTPResponse:
    try:
        entries = await request.app.ctx.catalog.models()
    except PoeError as exc:
        raise from_poe(exc) from None
    return json({"object": "list", "data": [entry.openai for entry in entries]})


@bp.get("/v1/models/<model:str>")
@bp.get("/models/<model:str>", name="models_retrieve_unversioned")
async def retrieve_model(request: Request, model: str) -> HTTPResponse:
    try:
        entry = await request.app.ctx.catalog.get(model)
    except PoeError as exc:
        raise from_poe(exc) from None
    if entry is None:
        raise ModelNotFound(model)
    return json(entry.openai)
