"""Schemathesis runs the live service against openapi/openai.yaml: every operation, all checks,
negative (invalid input) cases included. Poe is the fake on 127.0.0.1."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from service.contracts import OPENAPI_DIR

schema = schemathesis.openapi.from_path(OPENAPI_DIR / "openai.yaml")


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
    case.call_and_validate(base_url=service.url, timeout=30)
