"""Schemathesis runs the live service against the Responses operations of openapi/openai.yaml
(createResponse, input token counts): all checks, negative (invalid input) cases included.
Poe is the fake on 127.0.0.1. The rest of openai.yaml is test_openai_contract.py's."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.contracts import OPENAPI_DIR

RESPONSES_PATHS = "^/v1/responses"
schema = schemathesis.openapi.from_path(OPENAPI_DIR / "openai.yaml").include(
    path_regex=RESPONSES_PATHS
)


def _refused_param(body: object) -> tuple[str, ...]:
    """Where a 400 may rightly point for a body the contract allows: what needs stored
    responses (not there yet), built-in tools (unless the bot declares a matching parameter),
    and file parts and stored items in the input (their bytes may not decode, their type may
    not be one Poe takes, OpenAI file ids and item references cannot be honoured)."""
    if not isinstance(body, dict):
        return ()
    params: list[str] = []
    if body.get("previous_response_id") is not None:
        params.append("previous_response_id")
    if body.get("background") is True:
        params.append("background")
    tools = body.get("tools")
    if isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("type") != "function" for t in tools
    ):
        params.append("tools[")
    items = body.get("input")
    if isinstance(items, list) and any(_refusable_item(item) for item in items):
        params.append("input[")
    if isinstance(items, list) and not body.get("instructions") and all(_dropped(i) for i in items):
        params.append("input")  # nothing left for the bot
    return tuple(params)


def _dropped(item: object) -> bool:
    return isinstance(item, dict) and item.get("type") not in (
        None,
        "message",
        "function_call",
        "function_call_output",
    )


def _refusable_item(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    if item.get("type") == "item_reference":
        return True
    content = item.get("content", item.get("output"))
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in ("input_image", "input_file") for p in content
    )


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
def test_service_honours_its_responses_contract(case, service):
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    refused = _refused_param(case.body) if positive else ()
    if refused:
        response = case.call_and_validate(
            base_url=service.url, timeout=30, excluded_checks=[positive_data_acceptance]
        )
        if response.status_code == 400:
            param = response.json()["error"]["param"] or ""
            assert param.startswith(refused), response.text
        return
    case.call_and_validate(base_url=service.url, timeout=30)
