"""GET /metrics (metrics.py, Prometheus' text format) and who may read it: with METRICS_TOKEN
set, a request bearing it; else the admin's Basic credentials (slowed on guessing like the
admin page's); else nobody (404: off). Tokens and passwords are compared in constant time."""

from __future__ import annotations

import hmac

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, raw

from service.admin.api import check_admin_credentials
from service.errors import ErrorKind, ServiceError, not_found
from service.ops import metrics

bp = Blueprint("metrics")


def install(app: Sanic) -> None:
    app.blueprint(bp)

    @app.after_server_start
    async def _label_models(app: Sanic) -> None:
        metrics.model_label.catalog = app.ctx.catalog

    @app.after_server_stop
    async def _leave(app: Sanic) -> None:
        metrics.worker_stopped()


@bp.get("/metrics")
async def scrape(request: Request) -> HTTPResponse:
    await _authorize(request)
    return raw(
        metrics.exposition(),
        content_type=metrics.CONTENT_TYPE,
        headers={"cache-control": "no-store"},
    )


def _unauthorized(message: str, challenge: str) -> ServiceError:
    return ServiceError(
        ErrorKind.AUTHENTICATION,
        message,
        code="metrics_unauthorized",
        headers={"www-authenticate": challenge},
    )


async def _authorize(request: Request) -> None:
    settings = request.app.ctx.settings
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip().encode()
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token:
        expected = token.encode()
        given = credentials if scheme == "bearer" else b""
        if not hmac.compare_digest(given, expected):
            raise _unauthorized("The metrics token is missing or wrong", 'Bearer realm="metrics"')
        return
    if not settings.admin_enabled:
        raise not_found(
            "Metrics are off: set METRICS_TOKEN (or ADMIN_PASSWORD, to read them with the "
            "admin credentials) to turn them on",
            code="metrics_disabled",
        )
    await check_admin_credentials(
        request,
        lambda message, challenge: _unauthorized(message, challenge["www-authenticate"]),
    )
