"""GET /openapi.json (the OpenAI contract), GET /openapi/anthropic.json (the Anthropic Messages
contract) and GET /docs (Swagger UI over both, served locally)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, raw

from service import contracts

bp = Blueprint("docs")
_STATIC = Path(str(files("service").joinpath("static")))


def contract_bytes(name: str) -> bytes:
    # YAML turns unquoted dates into date objects: default=str keeps them strings.
    return json.dumps(contracts.load(name), default=str).encode()


@bp.get("/openapi.json")
async def openapi_json(request: Request) -> HTTPResponse:
    return raw(request.app.ctx.openapi_json, content_type="application/json")


@bp.get("/openapi/anthropic.json")
async def anthropic_json(request: Request) -> HTTPResponse:
    return raw(request.app.ctx.anthropic_json, content_type="application/json")


@bp.get("/docs")
async def docs_page(request: Request) -> HTTPResponse:
    return _page(request.app.ctx.docs_html)


@bp.get("/docs/anthropic")
async def anthropic_docs_page(request: Request) -> HTTPResponse:
    return _page(request.app.ctx.anthropic_docs_html)


def _page(html: bytes) -> HTTPResponse:
    return raw(
        html,
        content_type="text/html; charset=utf-8",
        headers={"content-security-policy": _DOCS_CSP},
    )


# Everything /docs needs comes from this service; the policy makes the browser enforce it.
_DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def install(app: Sanic) -> None:
    app.ctx.openapi_json = contract_bytes("openai.yaml")
    app.ctx.anthropic_json = contract_bytes("anthropic.yaml")
    app.ctx.docs_html = (_STATIC / "docs.html").read_bytes()
    app.ctx.anthropic_docs_html = app.ctx.docs_html.replace(
        b'data-spec="/openapi.json"', b'data-spec="/openapi/anthropic.json"'
    )
    app.static("/docs/assets", _STATIC / "swagger-ui", name="docs_assets")
    app.blueprint(bp)
