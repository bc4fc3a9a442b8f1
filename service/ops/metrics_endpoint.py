"""GET /metrics (metrics.py, Prometheus' text format) and who may read it: with METRICS_TOKEN
set, a request bearing it; else the admin's Basic credentials (slowed on guessing like the
admin page's); else nobody (404: off). Tokens and passwords are compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, raw

from service.admin.throttle import LoginThrottle, LoginThrottled
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
    challenge = 'Basic realm="poe2openai admin", charset="UTF-8"'
    user, password = _basic(credentials) if scheme == "basic" else (b"", b"")
    if not (user or password):
        raise _unauthorized("Admin credentials are missing or wrong", challenge)
    throttle: LoginThrottle = request.app.ctx.login_throttle
    try:
        attempt = await throttle.admit(request.remote_addr or request.ip or "?", user)
    except LoginThrottled as exc:
        raise ServiceError(
            ErrorKind.RATE_LIMITED,
            "Too many login attempts are waiting; try again in a few seconds",
            code="too_many_logins",
            headers={"retry-after": str(exc.retry_after)},
        ) from None
    user_ok = hmac.compare_digest(user, settings.admin_username.encode())
    password_ok = hmac.compare_digest(password, settings.admin_password.get_secret_value().encode())
    if not (user_ok and password_ok):
        raise _unauthorized("Admin credentials are missing or wrong", challenge)
    throttle.succeeded(attempt)


def _basic(encoded: bytes) -> tuple[bytes, bytes]:
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b"", b""
    user, _, password = decoded.partition(b":")
    return user, password
