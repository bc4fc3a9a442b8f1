"""GET /v1/models and /v1/models/{model} (and the same without /v1), for every front.

A request with an `anthropic-version` header (Claude Code's model discovery, the anthropic
SDK's `models.list`) gets Anthropic's list shape; every other client gets OpenAI's.
"""

from __future__ import annotations

from urllib.parse import unquote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from service.core.engine import may_use
from service.errors import from_poe, model_not_allowed, model_not_found
from service.fronts.anthropic.models import anthropic_model, anthropic_model_list, wants_anthropic
from service.poe.errors import PoeError

bp = Blueprint("models")


@bp.get("/v1/models")
@bp.get("/models", name="models_list_unversioned")
async def list_models(request: Request) -> HTTPResponse:
    caller = await request.app.ctx.callers.if_presented(request.headers)
    overlay = (await request.app.ctx.models_config.current()).overlay
    catalog = request.app.ctx.catalog
    try:
        models = await catalog.visible(overlay)
    except PoeError as exc:
        raise from_poe(exc) from None
    if caller is not None:  # an issued key with a models list sees only those
        models = [m for m in models if may_use(caller, catalog.resolve(m["id"], overlay))]
    if wants_anthropic(request):
        return json(anthropic_model_list(models))
    return json({"object": "list", "data": models})


@bp.get("/v1/models/<model:str>")
@bp.get("/models/<model:str>", name="models_retrieve_unversioned")
async def retrieve_model(request: Request, model: str) -> HTTPResponse:
    model = unquote(model)  # Sanic leaves path parameters percent-encoded: `My%20Echo`
    overlay = (await request.app.ctx.models_config.current()).overlay
    try:
        found = await request.app.ctx.catalog.find(model, overlay)
    except PoeError as exc:
        raise from_poe(exc) from None
    if found is None:
        raise model_not_found(model, request.app.ctx.catalog.nearest(model, overlay))
    caller = await request.app.ctx.callers.if_presented(request.headers)
    if caller is not None and not may_use(caller, request.app.ctx.catalog.resolve(model, overlay)):
        raise model_not_allowed(model)
    return json(anthropic_model(found) if wants_anthropic(request) else found)
