"""The admin page (/admin) and its API (/admin/api/*, openapi/admin.yaml).

Exposed on the internet, so: off unless ADMIN_PASSWORD is set (no default password), HTTP
Basic credentials compared in constant time, password guessing slowed per address and per user
name (throttle.py), state-changing requests refused unless they carry a header a cross-site form
cannot send and (when the browser says) come from our own origin, and no CORS on any admin route.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

from service import __version__
from service.admin.throttle import LoginThrottle, LoginThrottled
from service.admin.views import admin_view, custom_view
from service.errors import ErrorKind, ServiceError, from_poe, invalid, not_found
from service.http.json_body import load_json
from service.poe.errors import PoeError
from service.storage.models_config import MAX_CONFIG_BYTES, config_too_large

bp = Blueprint("admin")

PAGE_DIR = Path(__file__).resolve().parents[2] / "admin"
_PAGE_FILES = {
    "index.html": "text/html; charset=utf-8",
    "admin.js": "text/javascript; charset=utf-8",
    "admin.css": "text/css; charset=utf-8",
}
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "poe2openai-admin"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def _unauthorized(message: str, headers: dict[str, str]) -> ServiceError:
    return ServiceError(
        ErrorKind.AUTHENTICATION, message, code="admin_unauthorized", headers=headers
    )


def _cross_site(message: str) -> ServiceError:
    return ServiceError(ErrorKind.PERMISSION, message, code="cross_site_request")


@bp.on_request
async def _authenticate(request: Request) -> None:
    """Every admin route: the admin must be on and the credentials right (after the throttle's
    delay). Async, so that a delayed answer never blocks the loop; `guard` checks the result."""
    settings = request.app.ctx.settings
    if not settings.admin_enabled:
        raise not_found(
            "The admin page is off: set ADMIN_PASSWORD (and optionally "
            "ADMIN_USERNAME) to turn it on",
            code="admin_disabled",
        )
    await check_admin_credentials(request, _unauthorized)
    request.ctx.admin_authenticated = True


def guard(request: Request, changes_state: bool = False) -> None:
    if not getattr(request.ctx, "admin_authenticated", False):  # set by _authenticate
        raise _unauthorized("Admin credentials are missing or wrong", headers={})
    if changes_state:
        if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
            raise _cross_site(
                f"State-changing admin requests need `X-Requested-With: {CSRF_VALUE}`"
            )
        origin = request.headers.get("origin")
        if origin and not same_origin(origin, request):
            raise _cross_site("Cross-site admin requests are refused")


def same_origin(origin: str, request: Request) -> bool:
    """Scheme, host and port of the browser's Origin against the request's own. Sanic's
    request.scheme and request.host follow X-Forwarded-Proto / -Host only when the app trusts a
    proxy (SANIC_PROXIES_COUNT, SANIC_FORWARDED_SECRET), so a client cannot claim them."""
    own = _origin_of(f"{request.scheme}://{request.host}")
    return own is not None and _origin_of(origin) == own


def _origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is no number
        return None
    if scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
        return None  # "null" (sandboxed frames, some redirects) and anything odd are refused
    return scheme, parts.hostname.lower(), port


async def check_admin_credentials(
    request: Request, refused: Callable[[str, dict[str, str]], ServiceError]
) -> None:
    """The request's HTTP Basic credentials are the admin's (after the login throttle's
    delay), or `refused(message, challenge headers)` is raised: for the admin API and for
    whatever else the admin may read (/metrics)."""
    settings = request.app.ctx.settings
    user, password = _basic_credentials(request)
    challenge = {"www-authenticate": 'Basic realm="poe2openai admin", charset="UTF-8"'}
    if not (user or password):  # a browser's first request: no guess, nothing to slow
        raise refused("Admin credentials are missing or wrong", challenge)
    throttle: LoginThrottle = request.app.ctx.login_throttle
    # Sanic takes the client address from X-Forwarded-For only when told to trust a proxy.
    address = request.remote_addr or request.ip or "?"
    try:
        attempt = await throttle.admit(address, user)
    except LoginThrottled as exc:
        raise ServiceError(
            ErrorKind.RATE_LIMITED,
            "Too many login attempts are waiting; try again in a few seconds",
            code="too_many_logins",
            headers={"retry-after": str(exc.retry_after)},
        ) from None
    # Both comparisons always run, on bytes, in constant time.
    user_ok = hmac.compare_digest(user, settings.admin_username.encode())
    password_ok = hmac.compare_digest(password, settings.admin_password.get_secret_value().encode())
    if not (user_ok and password_ok):
        raise refused("Admin credentials are missing or wrong", challenge)
    throttle.succeeded(attempt)


def _basic_credentials(request: Request) -> tuple[bytes, bytes]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return b"", b""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b"", b""
    user, _, password = decoded.partition(b":")
    return user, password


def secured(response: HTTPResponse) -> HTTPResponse:
    response.headers.update(_SECURITY_HEADERS)
    return response


def _document(state: Any) -> HTTPResponse:
    body = {"revision": state.revision, "config": state.config, "problem": state.problem}
    return secured(json_response(body, headers={"etag": state.revision}))


@bp.get("/admin")
async def page(request: Request) -> HTTPResponse:
    return await asset(request, "index.html")


@bp.get("/admin/<name:str>")
async def asset(request: Request, name: str) -> HTTPResponse:
    guard(request)
    body = request.app.ctx.admin_page.get(name)
    if body is None:
        raise not_found(f"Invalid URL ({request.method} {request.path})", code="unknown_url")
    return secured(raw(body, content_type=_PAGE_FILES[name]))


@bp.get("/admin/api/config")
async def get_config(request: Request) -> HTTPResponse:
    guard(request)
    return _document(await request.app.ctx.models_config.current())


@bp.put("/admin/api/config")
async def put_config(request: Request) -> HTTPResponse:
    guard(request, changes_state=True)
    if_match = request.headers.get("if-match")
    if not if_match:
        raise ServiceError(
            ErrorKind.INVALID_REQUEST,
            "Send the revision you edited as If-Match (the ETag of GET /admin/api/config)",
            status=428,
            code="revision_required",
        )
    if len(request.body) > MAX_CONFIG_BYTES:  # refused before it is parsed
        raise config_too_large(f"larger than {MAX_CONFIG_BYTES:,} bytes")
    config = load_json(request.body)
    if not isinstance(config, dict):
        raise invalid("The configuration must be a JSON object", param="config")
    return _document(await request.app.ctx.models_config.save(config, if_match))


@bp.get("/admin/api/models")
async def list_admin_models(request: Request) -> HTTPResponse:
    guard(request)
    overlay = (await request.app.ctx.models_config.current()).overlay
    catalog = request.app.ctx.catalog
    try:
        entries = await catalog.models()
    except PoeError as exc:
        raise from_poe(exc) from None
    data = [admin_view(entry, overlay) for entry in entries]
    data += [custom_view(custom, overlay.enabled) for custom in overlay.custom]
    return secured(json_response({"data": data, "stale": catalog.stale}))


@bp.post("/admin/api/models/refresh")
async def refresh_models(request: Request) -> HTTPResponse:
    guard(request, changes_state=True)
    try:
        count = await request.app.ctx.catalog.refresh_now()
    except PoeError as exc:
        raise from_poe(exc) from None
    return secured(json_response({"count": count}))


@bp.get("/admin/api/status")
async def status(request: Request) -> HTTPResponse:
    guard(request)
    settings = request.app.ctx.settings
    key = settings.poe_api_key.get_secret_value() if settings.poe_api_key else None
    return secured(
        json_response(
            {
                "version": __version__,
                "config_dir": str(settings.config_dir),
                "overlay_enabled": (await request.app.ctx.models_config.current()).overlay.enabled,
                "poe_api_key": mask(key) if key else None,
            }
        )
    )


def mask(secret: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    return f"{secret[:3]}…{secret[-4:]}" if len(secret) > 12 else "…"


def load_page() -> dict[str, bytes]:
    return {
        name: (PAGE_DIR / name).read_bytes() for name in _PAGE_FILES if (PAGE_DIR / name).exists()
    }
