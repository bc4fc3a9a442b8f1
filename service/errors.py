"""Errors a client can see, as neutral kinds; each front renders them in its own API's shape.

Code below the fronts raises a `ServiceError` with a kind (which decides the HTTP status), a
message, and optionally the request field it is about (`param`) and a machine-readable `code`.
A front's renderer turns the kind into its API's error `type` (OpenAI: `invalid_request_error`,
`rate_limit_error`...; Anthropic: `authentication_error`, `billing_error`...).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from service.poe.errors import PoeError, PoeFailure


class ErrorKind(enum.Enum):
    INVALID_REQUEST = 400
    AUTHENTICATION = 401
    BILLING = 402  # out of Poe points
    PERMISSION = 403
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    CONFLICT = 409
    TOO_LARGE = 413
    RATE_LIMITED = 429
    INTERNAL = 500
    UPSTREAM = 502  # Poe failed or could not be reached
    TIMEOUT = 504
    NOT_SAVED = 507

    @property
    def status(self) -> int:
        return self.value


class ServiceError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        should_retry: bool | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self._status = status  # for HTTP-level 4xx (408, 416...) that have no kind of their own
        self.message = message
        self.param = param
        self.code = code
        self.headers = dict(headers or {})
        if should_retry is not None:
            # The openai and anthropic SDKs obey this header over their status-based retry rule.
            self.headers["x-should-retry"] = "true" if should_retry else "false"

    @property
    def status(self) -> int:
        return self._status or self.kind.status

    def __repr__(self) -> str:
        return f"ServiceError({self.kind.name}, {self.message!r}, code={self.code!r})"


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ServiceError:
    return ServiceError(ErrorKind.INVALID_REQUEST, message, param=param, code=code)


def not_found(message: str, *, param: str | None = None, code: str | None = None) -> ServiceError:
    return ServiceError(ErrorKind.NOT_FOUND, message, param=param, code=code)


def model_not_allowed(model: str) -> ServiceError:
    return ServiceError(
        ErrorKind.PERMISSION,
        f"This API key may not use the model `{model}`",
        param="model",
        code="model_not_allowed",
    )


def model_not_found(model: str, nearest: list[str] | None = None) -> ServiceError:
    return not_found(
        f"The model `{model}` does not exist{close_names(nearest)}",
        param="model",
        code="model_not_found",
    )


def close_names(nearest: list[str] | None) -> str:
    """`; models with close names: a, b` for a 404's message, or nothing."""
    if not nearest:
        return ""
    return "; models with close names: " + ", ".join(f"`{n}`" for n in nearest)


def invalid_json() -> ServiceError:
    return invalid("The request body is not valid JSON", code="invalid_json")


def invalid_request(exc: ValidationError, data: Any) -> ServiceError:
    """A 400 naming the bad field (`messages[0].content`) from pydantic's most telling error."""
    err = _most_specific(exc.errors(include_url=False))
    param = param_path(data, err["loc"])
    return invalid(f"Invalid value for `{param}`: {err['msg']}", param=param)


def _most_specific(errors: list[Any]) -> Any:
    """Of the errors of a union without a discriminator (a Responses input item: a message
    without `type`, or a function call...), the one of the variant the client meant: variants
    whose `type` or `role` did not match are not it, and of the rest the deepest error names
    the field at fault (`input[0].call_id` rather than `input`, which is not a string either)."""
    if len(errors) == 1:
        return errors[0]
    rejected = [
        err["loc"][:-1]
        for err in errors
        if err["type"] == "literal_error" and err["loc"] and err["loc"][-1] in ("type", "role")
    ]
    meant = [e for e in errors if not any(e["loc"][: len(r)] == r for r in rejected)] or errors
    return max(meant, key=lambda err: len(err["loc"]))  # the first of the deepest


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


# Poe failure kind -> (error kind, code). Poe kinds are decided once, in service/poe/errors.py.
_POE_FAILURES: dict[PoeFailure, tuple[ErrorKind, str]] = {
    PoeFailure.UNREACHABLE: (ErrorKind.UPSTREAM, "upstream_unreachable"),
    PoeFailure.TIMEOUT: (ErrorKind.TIMEOUT, "upstream_timeout"),
    PoeFailure.AUTH: (ErrorKind.AUTHENTICATION, "invalid_api_key"),
    PoeFailure.FORBIDDEN: (ErrorKind.PERMISSION, "forbidden"),
    PoeFailure.NOT_FOUND: (ErrorKind.NOT_FOUND, "model_not_found"),
    PoeFailure.RATE_LIMITED: (ErrorKind.RATE_LIMITED, "rate_limit_exceeded"),
    PoeFailure.INSUFFICIENT_POINTS: (ErrorKind.BILLING, "insufficient_quota"),
    PoeFailure.TOO_LONG: (ErrorKind.INVALID_REQUEST, "context_length_exceeded"),
    PoeFailure.BAD_REQUEST: (ErrorKind.INVALID_REQUEST, "upstream_rejected"),
    PoeFailure.UPSTREAM: (ErrorKind.UPSTREAM, "upstream_error"),
}

_RETRYABLE = {
    PoeFailure.UNREACHABLE,
    PoeFailure.TIMEOUT,
    PoeFailure.RATE_LIMITED,
    PoeFailure.UPSTREAM,
}


def from_poe(
    err: PoeError, bot: str | None = None, nearest: list[str] | None = None
) -> ServiceError:
    kind, code = _POE_FAILURES[err.kind]
    headers = {}
    if err.kind is PoeFailure.RATE_LIMITED:
        headers["retry-after"] = str(err.retry_after or 10)
    param = "model" if err.kind is PoeFailure.NOT_FOUND else None
    message = err.message
    if err.kind is PoeFailure.NOT_FOUND and bot:
        message = f"The model `{bot}` does not exist on Poe ({err.message}){close_names(nearest)}"
    return ServiceError(
        kind,
        message,
        code=code,
        param=param,
        headers=headers,
        should_retry=err.kind in _RETRYABLE and err.retryable,
    )
