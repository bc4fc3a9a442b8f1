"""Schemathesis runs the live service against openapi/openai.yaml: every operation, all checks,
negative (invalid input) cases included. Poe is the fake on 127.0.0.1."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.contracts import OPENAPI_DIR

schema = schemathesis.openapi.from_path(OPENAPI_DIR / "openai.yaml")


# What the contract cannot say about a file part: its bytes must decode, be of a type Poe takes,
# fit the size limit; its URL must be http(s); `file_id`s of OpenAI's file store do not exist.
FILE_PART_REFUSALS = {
    "invalid_base64",
    "unsupported_file_type",
    "file_too_large",
    "invalid_url",
    "unsupported_content",
    "upstream_rejected",
}


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
    if case.operation.path == "/v1/chat/completions" and _non_text_parts(case.body):
        response = case.call_and_validate(
            base_url=service.url, timeout=30, excluded_checks=[positive_data_acceptance]
        )
        if response.status_code == 400:
            error = response.json()["error"]
            assert error["code"] in FILE_PART_REFUSALS, error
        return
    case.call_and_validate(base_url=service.url, timeout=30)
