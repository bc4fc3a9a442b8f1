"""Schemathesis runs the live service against openapi/openai.yaml: every operation, all checks,
negative (invalid input) cases included. Poe is the fake on 127.0.0.1. The Responses operations
are test_responses_contract.py's."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.contracts import OPENAPI_DIR

schema = schemathesis.openapi.from_path(OPENAPI_DIR / "openai.yaml").exclude(
    path_regex="^/v1/responses"
)


def _non_text_parts(body: object) -> bool:
    """Image, audio and file parts: valid to the contract, yet their content may be refused with
    a 400 that names the reason; everything else must be accepted when valid."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return False
    for message in body["messages"]:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(p, dict) and p.get("type") not in ("text", "refusal") for p in content
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
def test_service_honours_its_contract(case, service):
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and case.operation.path == "/v1/chat/completions" and _non_text_parts(case.body):
        response = case.call_and_validate(
            base_url=service.url, timeout=30, excluded_checks=[positive_data_acceptance]
        )
        if response.status_code == 400:
            error = response.json()["error"]
            # What the contract cannot say about a file part (its bytes decode, its type is one
            # Poe takes, it fits, its URL is http(s)) is refused naming the part.
            assert ".content[" in (error["param"] or ""), error
        return
    if positive and case.operation.path == "/v1/images/generations" and _many_images(case.body):
        response = case.call_and_validate(
            base_url=service.url, timeout=30, excluded_checks=[positive_data_acceptance]
        )
        if response.status_code == 400:
            # Whether a bot makes several images at once is in Poe's list, not the contract.
            assert response.json()["error"]["param"] == "n", response.text
        return
    case.call_and_validate(base_url=service.url, timeout=30)


def _many_images(body: object) -> bool:
    return isinstance(body, dict) and isinstance(body.get("n"), int | float) and body["n"] > 1
