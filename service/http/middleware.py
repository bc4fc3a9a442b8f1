"""Headers every response carries: `x-request-id` and CORS, plus the preflight answers.

Browser clients (Chatbox web, Obsidian plugins, the Node SDK in a browser) need CORS headers on
every response, errors included: without them the browser hides the error body. The allowed
request headers must name `Authorization` explicitly (a `*` does not cover it), so preflights
reflect what the browser asks for on top of a fixed list.
"""

from __future__ import annotations

import re
import uuid

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse, HTTPResponse

_ALLOW_HEADERS = (
    "authorization, content-type, api-key, x-api-key, openai-organization, openai-project, "
    "openai-beta, x-request-id, x-stainless-arch, x-stainless-lang, x-stainless-os, "
    "x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, "
    "x-stainless-runtime-version, x-stainless-timeout, x-stainless-async, "
    "x-stainless-helper-method, x-stainless-raw-response, x-stainless-poll-helper, "
    "if-match, if-none-match"
)
_EXPOSE_HEADERS = (
    "x-request-id, retry-after, retry-after-ms, x-should-retry, etag, openai-processing-ms, "
    "x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, "
    "x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens, "
    "x-poe2openai-output-valid"
)
ADMIN_PREFIX = "/admin"
_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
# A client-supplied request id is echoed only when it cannot inject anything into logs.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id(request: Request) -> str:
    rid = getattr(request.ctx, "request_id", None)
    if rid is None:
        supplied = request.headers.get("x-request-id")
        if supplied and _SAFE_REQUEST_ID.fullmatch(supplied):
            rid = supplied
        else:
            rid = "req_" + uuid.uuid4().hex
        request.ctx.request_id = rid
    return rid


def _allowed_origin(request: Request, allow: tuple[str, ...]) -> str | None:
    if allow == ("*",):
        return "*"
    origin = request.headers.get("origin")
    return origin if origin in allow else None


def finish_headers(request: Request, response: BaseHTTPResponse) -> None:
    headers = response.headers
    if "x-request-id" not in headers:
        headers["x-request-id"] = request_id(request)
    if request.path.startswith(ADMIN_PREFIX):
        return  # the admin is same-origin only: no CORS, so no cross-site reads or writes
    origin = _allowed_origin(request, request.app.ctx.cors_origins)
    if origin and "access-control-allow-origin" not in headers:
        headers["access-control-allow-origin"] = origin
        headers["access-control-expose-headers"] = _EXPOSE_HEADERS
        if origin != "*":
            headers["vary"] = "Origin"


async def preflight(request: Request, **_: str) -> HTTPResponse:
    requested = request.headers.get("access-control-request-headers", "")
    allow_headers = f"{_ALLOW_HEADERS}, {requested}" if requested else _ALLOW_HEADERS
    return HTTPResponse(
        status=204,
        headers={
            "access-control-allow-methods": _ALLOW_METHODS,
            "access-control-allow-headers": allow_headers,
            "access-control-max-age": "86400",
        },
    )


def install(app: Sanic, cors_origins: str) -> None:
    app.ctx.cors_origins = tuple(o.strip() for o in cors_origins.split(",") if o.strip())

    @app.on_response(priority=-100)
    async def _finish(request: Request, response: BaseHTTPResponse) -> None:
        finish_headers(request, response)


def add_preflight_routes(app: Sanic) -> None:
    """An OPTIONS route beside every route that lacks one (call after all routes exist)."""
    seen: set[str] = set()
    for route in list(app.router.routes):
        uri = "/" + route.path.lstrip("/")
        if uri in seen or "OPTIONS" in route.methods or uri.startswith(ADMIN_PREFIX):
            continue
        seen.add(uri)
        name = "preflight_" + re.sub(r"\W", "_", uri)
        app.add_route(preflight, uri, methods=["OPTIONS"], name=name)
