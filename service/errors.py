"""Errors a client can see, rendered in OpenAI's shape, and the mapping from Poe failures.

Handlers raise an `ApiError`; the one error handler in `api/errors.py` renders it. The body
always has the four keys OpenAI's SDKs expect: message, type, param, code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from service.poe.errors import PoeError, PoeFailure


class ApiError(Exception):
    status: int = 500
    type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        type: str | None = None,
        headers: Mapping[str, str] | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        self.headers = dict(headers or {})
        if should_retry is not None:
            # The openai SDKs obey this header over their own status-based retry rule.
            self.headers["x-should-retry"] = "true" if should_retry else "false"

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(ApiError):
    status = 400
    type = "invalid_request_error"


def invalid_request(exc: ValidationError, data: Any) -> InvalidRequest:
    """A 400 naming the bad field (`messages[0].content`) from pydantic's first error."""
    err = exc.errors(include_url=False)[0]
    param = param_path(data, err["loc"])
    return InvalidRequest(f"Invalid value for `{param}`: {err['msg']}", param=param)


def param_path(data: Any, loc: tuple[Any, ...]) -> str:
    """The path of a pydantic error location in the data, skipping union-variant names (which
    are not keys of the data)."""
    path, current = "", data
    for i, item in enumerate(loc):
        if isinstance(item, int) and isinstance(current, list) and item < len(current):
            path, current = f"{path}[{item}]", current[item]
        elif (
            isinstance(item, str)
            and isinstance(current, dict)
            and (item in current or i == len(loc) - 1)
        ):
            path = f"{path}.{item}" if path else item
            current = current.get(item)
    return path or "body"


class AuthenticationFailed(ApiError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class NotFound(ApiError):
    status = 404
    type = "invalid_request_error"


class ModelNotFound(NotFound):
    code = "model_not_found"

    def __init__(self, model: str) -> None:
        super().__init__(f"The model `{model}` does not exist", param="model")


# Poe failure kind -> (status, type, code). Kinds are decided once, in service/poe/errors.py.
_POE_FAILURES: dict[PoeFailure, tuple[int, str, str | None]] = {
    PoeFailure.UNREACHABLE: (502, "upstream_error", "upstream_unreachable"),
    PoeFailure.TIMEOUT: (504, "timeout_error", "upstream_timeout"),
    PoeFailure.AUTH: (401, "invalid_request_error", "invalid_api_key"),
    PoeFailure.FORBIDDEN: (403, "permission_error", "forbidden"),
    PoeFailure.NOT_FOUND: (404, "invalid_request_error", "model_not_found"),
    PoeFailure.RATE_LIMITED: (429, "rate_limit_error", "rate_limit_exceeded"),
    PoeFailure.INSUFFICIENT_POINTS: (402, "insufficient_quota", "insufficient_quota"),
    PoeFailure.TOO_LONG: (400, "invalid_request_error", "context_length_exceeded"),
    PoeFailure.BAD_REQUEST: (400, "invalid_request_error", "upstream_rejected"),
    PoeFailure.UPSTREAM: (502, "upstream_error", "upstream_error"),
}

_RETRYABLE = {
    PoeFailure.UNREACHABLE,
    PoeFailure.TIMEOUT,
    PoeFailure.RATE_LIMITED,
    PoeFailure.UPSTREAM,
}


def from_poe(err: PoeError, bot: str | None = None) -> ApiError:
    status, type_, code = _POE_FAILURES[err.kind]
    headers = {}
    if err.kind is PoeFailure.RATE_LIMITED:
        headers["retry-after"] = str(err.retry_after or 10)
    retry = err.kind in _RETRYABLE and err.retryable
    param = "model" if err.kind is PoeFailure.NOT_FOUND else None
    message = err.message
    if err.kind is PoeFailure.NOT_FOUND and bot:
        message = f"The model `{bot}` does not exist on Poe ({err.message})"
    return ApiError(
        message,
        status=status,
        type=type_,
        code=code,
        param=param,
        headers=headers,
        should_retry=retry,
    )
