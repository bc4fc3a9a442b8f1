"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, the four keys
the openai SDKs read."""

from __future__ import annotations

from typing import Any

from service.errors import ErrorKind, ServiceError

_TYPES = {
    ErrorKind.BILLING: "insufficient_quota",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.INTERNAL: "server_error",
    ErrorKind.UPSTREAM: "upstream_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.NOT_SAVED: "server_error",
}


def error_body(error: ServiceError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.message,
            "type": _TYPES.get(error.kind, "invalid_request_error"),
            "param": error.param,
            "code": error.code,
        }
    }
