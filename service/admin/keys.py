"""The admin API's client keys (/admin/api/keys, openapi/admin.yaml): issue, list, change,
revoke. Same Basic auth and cross-site rules as the rest of the admin API (api.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sanic import Request
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from generated.admin import KeyCreate, KeyUpdate
from service.admin.api import bp, guard, secured
from service.errors import invalid, not_found
from service.http.json_body import parse_body


@bp.get("/admin/api/keys")
async def list_keys(request: Request) -> HTTPResponse:
    guard(request)
    keys = await (await request.app.ctx.stores.ready()).keys.list()
    return secured(json_response({"data": [key.record() for key in keys]}))


@bp.post("/admin/api/keys")
async def create_key(request: Request) -> HTTPResponse:
    guard(request, changes_state=True)
    fields = _fields(parse_body(request.body, KeyCreate))
    name = fields.pop("name")
    expires_at = fields.pop("expires_at", None)
    store = (await request.app.ctx.stores.ready()).keys
    key, secret = await store.create(name, fields, expires_at)
    return secured(json_response({**key.record(), "key": secret}, status=201))


@bp.get("/admin/api/keys/<key_id:str>")
async def get_key(request: Request, key_id: str) -> HTTPResponse:
    guard(request)
    key = await (await request.app.ctx.stores.ready()).keys.get(key_id)
    if key is None:
        raise _no_key(key_id)
    return secured(json_response(key.record()))


@bp.patch("/admin/api/keys/<key_id:str>")
async def update_key(request: Request, key_id: str) -> HTTPResponse:
    guard(request, changes_state=True)
    changes = _fields(parse_body(request.body, KeyUpdate))
    key = await (await request.app.ctx.stores.ready()).keys.update(key_id, changes)
    if key is None:
        raise _no_key(key_id)
    return secured(json_response(key.record()))


@bp.delete("/admin/api/keys/<key_id:str>")
async def delete_key(request: Request, key_id: str) -> HTTPResponse:
    guard(request, changes_state=True)
    if not await (await request.app.ctx.stores.ready()).keys.delete(key_id):
        raise _no_key(key_id)
    return secured(empty())


def _fields(body: BaseModel) -> dict[str, Any]:
    """The fields the body set (null included: it clears a limit); unknown ones are refused,
    so a misspelt limit is never silently no limit."""
    unknown = sorted(body.model_extra or {})
    if unknown:
        raise invalid(f"Unknown field `{unknown[0]}`", param=unknown[0], code="unknown_field")
    fields = body.model_dump(mode="json")
    for name, value in fields.items():  # whole numbers, however the JSON wrote them
        if isinstance(value, float):
            fields[name] = int(value)
    return fields


def _no_key(key_id: str) -> Exception:
    return not_found(f"No key `{key_id}`", param="key_id", code="key_not_found")
