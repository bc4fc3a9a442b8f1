"""The admin API's usage figures (/admin/api/usage) and the Poe balance of the service's own
key (/admin/api/poe/balance); same Basic auth as the rest of the admin API (api.py)."""

from __future__ import annotations

import time
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from service.admin.api import bp, guard, secured
from service.errors import from_poe, invalid, not_found
from service.poe.errors import PoeError

DEFAULT_SPAN = 30 * 86_400  # seconds before `until` a report starts by default
BALANCE_TTL = 60.0  # seconds a balance Poe reported is shown before Poe is asked again
_MAX_TIME = 32_503_680_000
_PARAMETERS = {"group_by", "since", "until"}


@bp.get("/admin/api/usage")
async def get_usage(request: Request) -> HTTPResponse:
    guard(request)
    unknown = sorted(set(request.args) - _PARAMETERS)
    if unknown:  # a misspelt parameter is never silently the default
        raise invalid(f"Unknown parameter `{unknown[0]}`", param=unknown[0], code="unknown_field")
    group_by = request.args.get("group_by", "day")
    if group_by not in ("key", "model", "day"):
        raise invalid("`group_by` is one of key, model, day", param="group_by")
    until = _time(request, "until", int(time.time()) + 1)
    since = _time(request, "since", max(0, until - DEFAULT_SPAN))
    usage = (await request.app.ctx.stores.ready()).usage
    await usage.flush()  # this worker's latest records count
    data = await usage.summary(group_by, since * 1000, until * 1000)
    body = {"group_by": group_by, "since": since, "until": until, "data": data}
    return secured(json_response(body))


@bp.get("/admin/api/poe/balance")
async def get_poe_balance(request: Request) -> HTTPResponse:
    guard(request)
    ctx = request.app.ctx
    keys = ctx.settings.server_poe_keys
    if not keys:
        raise not_found(
            "The service holds no Poe key (POE_API_KEY): each client's own key is its balance",
            code="no_server_key",
        )
    cached: dict[str, Any] | None = getattr(ctx, "poe_balance", None)
    if cached is None or time.time() - cached["checked_at"] >= BALANCE_TTL:
        try:
            balance = await ctx.poe.balance(keys[0])
        except PoeError as exc:
            raise from_poe(exc) from None
        cached = {"current_point_balance": balance, "checked_at": int(time.time())}
        ctx.poe_balance = cached
    return secured(json_response(cached))


def _time(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= _MAX_TIME:
        raise invalid(f"`{name}` is a Unix time in seconds", param=name)
    return value
