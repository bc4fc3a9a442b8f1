"""GET /healthz: liveness for Docker and orchestrators. It asks nothing of Poe on purpose:
an upstream outage must not make an orchestrator restart a healthy proxy. The counts help an
operator (and the fault tests) see that finished streams leave nothing behind."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

bp = Blueprint("health")


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    return json(
        {
            "status": "ok",
            "open_streams": len(request.app.ctx.keepalive.streams),
            "tasks": len(asyncio.all_tasks()),
        }
    )
