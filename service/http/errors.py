"""The one error handler: every error a client sees, Sanic's own included, as a ServiceError
rendered by the front the request is for (OpenAI's shape unless a front claims the request)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import MethodNotAllowed, NotFound, PayloadTooLarge, SanicException
from sanic.response import HTTPResponse, json

from service.errors import ErrorKind, ServiceError
from service.http.middleware import finish_headers
from service.http.request_log import note_error

log = logging.getLogger("poe2openai.http")

STATIC_PREFIX = "/docs/assets/"

# The error body of the API a request speaks.
ErrorBody = Callable[[ServiceError], dict[str, Any]]


def to_service_error(request: Request, exc: Exception) -> ServiceError:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, NotFound | MethodNotAllowed) and (allowed := _allowed_methods(request)):
        # Sanic answers 404 to methods it does not know (TRACE...) even on existing paths.
        return ServiceError(
            ErrorKind.METHOD_NOT_ALLOWED,
            f"Method {request.method} is not allowed for {request.path}",
            code="method_not_allowed",
            headers={"allow": ", ".join(allowed)},
        )
    static = request.path.startswith(STATIC_PREFIX)
    if isinstance(exc, NotFound | MethodNotAllowed) or (
        static and isinstance(exc, OSError | ValueError)
    ):
        # A static path that names a folder or holds a NUL: Sanic raises, the file is not there.
        return ServiceError(
            ErrorKind.NOT_FOUND,
            f"Invalid URL ({request.method} {request.path})",
            code="unknown_url",
        )
    if isinstance(exc, PayloadTooLarge):
        limit = request.app.config.REQUEST_MAX_SIZE
        return ServiceError(
            ErrorKind.TOO_LARGE,
            f"The request body is larger than the limit of {limit} bytes (MAX_REQUEST_SIZE)",
            code="request_too_large",
        )
    if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
        return ServiceError(
            ErrorKind.INVALID_REQUEST, str(exc) or "Bad request", status=exc.status_code
        )
    if _from_storage(exc):
        # The driver's own message, never SQLAlchemy's, which quotes the statement's values.
        cause = getattr(exc, "orig", None) or exc
        log.error(
            "the database failed on %s %s: %s: %s",
            request.method, request.path, type(cause).__name__, str(cause).split("\n")[0][:200],
        )  # fmt: skip
        return ServiceError(
            ErrorKind.INTERNAL,
            "The service's storage is not available (the database failed); try again shortly",
            status=503,
            code="storage_unavailable",
            should_retry=True,
        )
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return ServiceError(
        ErrorKind.INTERNAL,
        "The server had an error while processing your request",
        code="internal_error",
    )


def _allowed_methods(request: Request) -> list[str]:
    # Sanic leaves `allowed_methods` empty for routes with path parameters: ask the router.
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        try:
            request.app.router.get(request.path, method, request.headers.get("host"))
        except SanicException:
            continue
        allowed.append(method)
    return allowed


def install(app: Sanic, body_for: Callable[[Request], ErrorBody]) -> None:
    """`body_for(request)`: the error body of the API the request speaks."""

    def render(request: Request, exc: Exception) -> HTTPResponse:
        error = to_service_error(request, exc)
        note_error(error)
        body = body_for(request)(error)
        response = json(body, status=error.status, headers=error.headers)
        # Sanic skips response middleware for some errors raised before routing: add them here.
        finish_headers(request, response)
        if body.get("type") == "error":  # Anthropic's shape; its SDK reads `request-id`
            response.headers["request-id"] = response.headers["x-request-id"]
        return response

    app.error_handler.add(Exception, render)


_STORAGE_MODULES = ("sqlalchemy.", "asyncpg", "sqlite3", "aiosqlite")


def _from_storage(exc: BaseException) -> bool:
    """A database error (lost connection, server gone, disk full) after the database opened:
    told by the error's module, so SQLAlchemy is not imported before the database is needed."""
    return any(cls.__module__.startswith(_STORAGE_MODULES) for cls in type(exc).__mro__)
