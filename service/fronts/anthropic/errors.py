"""Errors in Anthropic's shape: `{"type": "error", "error": {"type", "message"}}` with the
error types its SDK maps to exception classes."""

from __future__ import annotations

from typing import Any

from service.errors import ErrorKind, ServiceError

_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.BILLING: "billing_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.METHOD_NOT_ALLOWED: "invalid_request_error",
    ErrorKind.CONFLICT: "invalid_request_error",
    ErrorKind.TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.INTERNAL: "api_error",
    ErrorKind.UPSTREAM: "api_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.NOT_SAVED: "api_error",
}


def error_type(error: ServiceError) -> str:
    return _TYPES[error.kind]


def error_body(error: ServiceError) -> dict[str, Any]:
    """Anthropic's body has no `param`: the message names the field, as Anthropic's do."""
    message = error.message
    if error.param and error.param not in message:
        message = f"{error.param}: {message}"
    return {"type": "error", "error": {"type": error_type(error), "message": message}}
