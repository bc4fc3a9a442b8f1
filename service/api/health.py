"""GET /healthz: liveness for Docker and orchestrators. It asks nothing of Poe on purpose:
an upstream outage must not make an orchestrator restart a healthy proxy."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

bp = Blueprint("health")


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    return json({"status": "ok"})
