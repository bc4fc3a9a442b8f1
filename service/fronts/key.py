"""GET /v1/key (and /key): the caller's own key, as OpenRouter's key endpoint tells a client.

With issued keys: the key's name, limits and usage today and this month (UTC); asking counts
against no limit. In passthrough mode the caller's key is its own Poe key: the points left on
its Poe account.
"""

from __future__ import annotations

import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from service.access.caller import presented_key
from service.access.usage import day_start, month_start
from service.errors import from_poe
from service.poe.errors import PoeError

bp = Blueprint("key")


@bp.get("/v1/key")
@bp.get("/key", name="key_unversioned")
async def get_key(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    client = await ctx.callers.identify(request.headers)
    if client is None:
        try:
            balance = await ctx.poe.balance(presented_key(request.headers))
        except PoeError as exc:
            raise from_poe(exc) from None
        return json({"object": "key", "poe": {"current_point_balance": balance}})
    usage = (await ctx.stores.ready()).usage
    await usage.flush()  # the requests that just ended count
    now = time.time()
    return json(
        {
            "object": "key",
            "id": client.id,
            "name": client.name,
            "prefix": client.prefix,
            "created_at": client.created_at,
            "expires_at": client.expires_at,
            "limits": client.limits,  # only those set
            "usage": {
                "today": (await usage.totals(client.id, day_start(now))).body(),
                "month": (await usage.totals(client.id, month_start(now))).body(),
            },
            "open_requests": ctx.callers.open_requests(client.id),
        }
    )
