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
    overlay = request.app.ctx.store.current().overlay
    try:
        models = await request.app.ctx.catalog.visible(overlay)
    except PoeError as exc:
        raise from_poe(exc) from None
    return json({"object": "list", "data": models})


@bp.get("/v1/models/<model:str>")
@bp.get("/models/<model:str>", name="models_retrieve_unversioned")
async def retrieve_model(request: Request, model: str) -> HTTPResponse:
    overlay = request.app.ctx.store.current().overlay
    try:
        found = await request.app.ctx.catalog.find(model, overlay)
    except PoeError as exc:
        raise from_poe(exc) from None
    if found is None:
        raise ModelNotFound(model)
    return json(found)
