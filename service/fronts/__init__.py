"""One thin package per API a client speaks; each parses its requests into the core's
conversation and encodes the core's answer events in its own shape."""

from __future__ import annotations

from sanic import Request

from service.fronts.anthropic.errors import error_body as anthropic_error_body
from service.fronts.anthropic.models import wants_anthropic
from service.fronts.openai.errors import error_body as openai_error_body
from service.http.errors import ErrorBody

_ANTHROPIC_PATHS = ("/v1/messages", "/messages")


def error_body_for(request: Request) -> ErrorBody:
    """Errors in the shape of the API the request speaks: Anthropic's for the Messages API
    (and a model list asked for with `anthropic-version`), OpenAI's for everything else."""
    path = request.path
    if path.startswith(_ANTHROPIC_PATHS) or (
        path.startswith(("/v1/models", "/models")) and wants_anthropic(request)
    ):
        return anthropic_error_body
    return openai_error_body
