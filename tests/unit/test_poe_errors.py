from __future__ import annotations

import pytest

from service.errors import from_poe
from service.poe.errors import PoeFailure, from_error_event, from_status


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (
            {"text": "You have exceeded rate limit to query bot using User API Key."},
            PoeFailure.RATE_LIMITED,
        ),
        (
            {"text": "This bot needs more points to answer your request."},
            PoeFailure.INSUFFICIENT_POINTS,
        ),
        ({"text": "You do not have enough points to continue."}, PoeFailure.INSUFFICIENT_POINTS),
        ({"text": "x", "error_type": "insufficient_fund"}, PoeFailure.INSUFFICIENT_POINTS),
        ({"text": "x", "error_type": "user_message_too_long"}, PoeFailure.TOO_LONG),
        ({"text": "Access denied"}, PoeFailure.FORBIDDEN),
        ({"text": "Internal server error"}, PoeFailure.UPSTREAM),
    ],
)
def test_error_event_kinds(data, kind):
    assert from_error_event(data).kind is kind


@pytest.mark.parametrize(
    ("status", "http", "code"),
    [
        (401, 401, "invalid_api_key"),
        (403, 403, "forbidden"),
        (404, 404, "model_not_found"),
        (429, 429, "rate_limit_exceeded"),
        (402, 402, "insufficient_quota"),
        (500, 502, "upstream_error"),
        (503, 502, "upstream_error"),
    ],
)
def test_status_mapping(status, http, code):
    error = from_poe(from_status(status, "detail", "12"))
    assert (error.status, error.code) == (http, code)
    if status == 429:
        assert error.headers["retry-after"] == "12"


def test_should_retry_header():
    assert from_poe(from_status(500, "")).headers["x-should-retry"] == "true"
    assert from_poe(from_status(401, "")).headers["x-should-retry"] == "false"
    no_retry = from_error_event({"text": "Internal server error", "allow_retry": False})
    assert from_poe(no_retry).headers["x-should-retry"] == "false"
