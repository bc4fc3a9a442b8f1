"""Schemathesis runs the live service against openapi/anthropic.yaml: every operation, all
checks, negative (invalid input) cases included. Poe is the fake on 127.0.0.1."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.contracts import OPENAPI_DIR

schema = schemathesis.openapi.from_path(OPENAPI_DIR / "anthropic.yaml")
_MESSAGES = ("/v1/messages", "/v1/messages/count_tokens")


def _refusable(body: object) -> bool:
    """Images and documents (valid to the contract, yet their bytes may not decode or be a type
    Poe takes) and server tools (refused unless the bot declares a matching parameter): a 400
    that names the reason is a right answer to them."""
    if not isinstance(body, dict):
        return False
    tools = body.get("tools")
    if isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("type") not in (None, "custom") for t in tools
    ):
        return True
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") in ("image", "document", "tool_result")
            for b in content
        ):
            return True
    return False


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_service_honours_its_anthropic_contract(case, service):
    excluded = []
    if case.operation.path.startswith("/v1/models") and "anthropic-version" not in (
        case.headers or {}
    ):
        # The header chooses the answer's shape on a path shared with the OpenAI front: without
        # it, the answer is OpenAI's (openai.yaml checks that), never an error of this contract.
        case.call_and_validate(base_url=service.url, timeout=30, checks=[not_a_server_error])
        return
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and case.operation.path in _MESSAGES and _refusable(case.body):
        excluded.append(positive_data_acceptance)
        response = case.call_and_validate(
            base_url=service.url, timeout=30, excluded_checks=excluded
        )
        if response.status_code == 400:
            assert response.json()["error"]["type"] == "invalid_request_error"
        return
    case.call_and_validate(base_url=service.url, timeout=30, excluded_checks=excluded)
