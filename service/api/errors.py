"""The one error handler: every error a client sees, Sanic's own included, in OpenAI's shape."""

from __future__ import annotations

import logging

from sanic import Request, Sanic
from sanic.exceptions import MethodNotAllowed, NotFound, PayloadTooLarge, SanicException
from sanic.response import HTTPResponse, json

from service.api.middleware import finish_headers
from service.errors import ApiError

log = logging.getLogger("poe2openai.api")


def render(request: Request, exc: Exception) -> HTTPResponse:
    error = to_api_error(request, exc)
    response = json(error.body(), status=error.status, headers=error.headers)
    # Sanic skips response middleware for some errors raised before routing: add headers here.
    finish_headers(request, response)
    return response


def to_api_error(request: Request, exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, NotFound | MethodNotAllowed) and (allowed := _allowed_methods(request)):
        # Sanic answers 404 to methods it does not know (TRACE...) even on existing paths.
        return ApiError(
            f"Method {request.method} is not allowed for {request.path}",
            status=405,
            type="invalid_request_error",
            code="method_not_allowed",
            headers={"allow": ", ".join(allowed)},
        )
    if isinstance(exc, NotFound | MethodNotAllowed):
        return ApiError(
            f"Invalid URL ({request.method} {request.path})",
            status=404,
            type="invalid_request_error",
            code="unknown_url",
        )
    if isinstance(exc, PayloadTooLarge):
        limit = request.app.config.REQUEST_MAX_SIZE
        return ApiError(
            f"The request body is larger than the limit of {limit} bytes (MAX_REQUEST_SIZE)",
            status=413,
            type="invalid_request_error",
            code="request_too_large",
        )
    if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
        return ApiError(
            str(exc) or "Bad request", status=exc.status_code, type="invalid_request_error"
        )
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return ApiError(
        "The server had an error while processing your request",
        status=500,
        type="server_error",
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


def install(app: Sanic) -> None:
    app.error_handler.add(Exception, render)
